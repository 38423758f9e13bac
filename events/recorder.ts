/**
 * The recorder: XState's `inspect` callback for the whole actor tree. It turns each `@xstate.snapshot`
 * of a machine actor that changed its state value, its context or its status into one envelope and
 * appends the envelopes to the EventLog in order, without ever blocking the caller or dropping an event:
 * `inspect` only queues; the queue is drained asynchronously in batches (from a microtask, so what one
 * synchronous run recorded goes in one append; a few appends in flight at once, the port keeps their
 * order). When the queue reaches its bound, or (with `maxLagMs`) the oldest envelope
 * has waited too long for the log (a log that cannot keep up, or is unreachable: a JetStream outage
 * leaves appends pending, not failed), the recorder reports backpressure, so the node refuses new
 * tunnels and sessions (admission control) until the log has caught up.
 *
 * Context changes are recorded too: XState replaces the context object only when an `assign` ran, so
 * "did the context change" is one reference comparison, and the changed fields are a shallow compare of
 * that one snapshot. Snapshots that change nothing (an event that was ignored) are not recorded.
 *
 * Sequence numbers are given when an envelope is handed to the log (the first drain asks the log for the
 * node's last seq), so a restarted node continues its sequence; times never decrease within a node.
 */

import { Schema } from "effect";
import type { ActorRefLike, InspectionEvent } from "xstate";
import type { Clock } from "../actors/ports.ts";
import {
  ENVELOPE_VERSION,
  type Envelope,
  type EnvelopePath,
  type MachineKind,
  machineOfPath,
  nodeNameProblem,
  stateValueToString,
} from "./envelope.ts";
import type { EventLog } from "./port.ts";
import { EnvelopePathSchema } from "./schema.ts";

/** Which actor of the tree a snapshot belongs to. */
export interface ActorLocation {
  machine: MachineKind;
  path: EnvelopePath;
}

/**
 * Locates an actor in the tree, or returns undefined for actors that are not recorded (callback and
 * promise actors, helpers). Called once per actor; the answer is kept for the actor's life.
 */
export type PathOf = (actorRef: ActorRefLike, snapshot: unknown) => ActorLocation | undefined;

/**
 * The default PathOf: the `path` every machine keeps in its context (machines/common.ts ActorPath:
 * `{ system, destination?, tunnel?, session? }`); the machine kind is the deepest level it names.
 */
export const pathFromContext: PathOf = (_actorRef, snapshot) => {
  const path = (snapshot as { context?: { path?: unknown } } | undefined)?.context?.path;
  if (
    typeof path !== "object" ||
    path === null ||
    typeof (path as { system?: unknown }).system !== "string"
  ) {
    return undefined;
  }
  const { ppp } = path as { ppp?: boolean };
  const located = envelopePathOf(path as EnvelopePath);
  return { machine: ppp === true ? "ppp" : machineOfPath(located), path: located };
};

/** Where a node says one of its actors sits: its supervisor's path (`system` is the node; `ppp` a session's link). */
export interface NodeActorPath extends EnvelopePath {
  system: string;
  ppp?: boolean;
}

/** What `pathOfNode` needs of a node: `L2tpNode.pathOf`. */
export interface LocatingNode {
  pathOf(actorRef: ActorRefLike): NodeActorPath | undefined;
}

/**
 * The PathOf of one node: the node's own registry (`node.pathOf`) says which actors belong to its tree,
 * so nothing else is recorded. The recorder exists before the node (it is the node's `inspect`), and the
 * system actor starts inside `createNode`: until `node()` returns the node, the context path is used.
 */
export function pathOfNode(node: () => LocatingNode | undefined): PathOf {
  return (actorRef, snapshot) => {
    const current = node();
    if (!current) return pathFromContext(actorRef, snapshot);
    const found = current.pathOf(actorRef);
    if (!found) return undefined;
    const path = envelopePathOf(found);
    return { machine: found.ppp === true ? "ppp" : machineOfPath(path), path };
  };
}

/** The envelope's part of an actor's path: the levels it names, nothing else (no system, no `ppp`). */
function envelopePathOf(found: EnvelopePath): EnvelopePath {
  const path: EnvelopePath = {};
  if (found.destination !== undefined) path.destination = found.destination;
  if (found.tunnel !== undefined) path.tunnel = found.tunnel;
  if (found.session !== undefined) path.session = found.session;
  if (found.subscriber !== undefined) path.subscriber = found.subscriber;
  return path;
}

/** How the recorder is set up. */
export interface RecorderOptions {
  /** This node's name (the system); names the sequence. */
  node: string;
  /** The time of each envelope (`now`) and the retry delays after a failed append (`setTimeout`). */
  clock: Clock;
  log: EventLog;
  /** Locates actors (default pathFromContext). */
  pathOf?: PathOf;
  /** Record context changes without a state change (default true). */
  contextChanges?: boolean;
  /** Queue length at which backpressure turns on (default 10,000 envelopes). */
  highWater?: number;
  /** Queue length at which it turns off again (default highWater / 2). */
  lowWater?: number;
  /**
   * Backpressure also turns on when the oldest unconfirmed envelope is this old (ms, by `clock`), and
   * off once it is below half of it (and the queue at lowWater). Default: off (queue length only).
   */
  maxLagMs?: number;
  /** Envelopes per append (default 256). */
  batchSize?: number;
  /** Appends in flight at once (default 4): keeps a pipelined log (JetStream) busy between batches. */
  maxInFlight?: number;
  /** First and largest delay between retries of a failed append, ms (default 10 and 1000). */
  retryMs?: { initial: number; max: number };
  /** Told when backpressure turns on (true) or off (false). */
  onBackpressure?: (on: boolean) => void;
  /** Told of each failed append (it is retried). */
  onError?: (error: unknown) => void;
  /**
   * Told of each batch as it is handed to the log, its seqs given (before the log confirms it). A resend
   * after a failed append is told only when it carries envelopes not told before, and then whole: a
   * listener skips what it had by seq. The live inspector folds these in memory rather than reading the
   * log back.
   */
  onBatch?: (batch: readonly Envelope[]) => void;
}

/** What the recorder has done so far. */
export interface RecorderStats {
  /** Envelopes made from snapshots. */
  recorded: number;
  /** Envelopes the log confirmed. */
  appended: number;
  /** Envelopes waiting or in flight. */
  queued: number;
  /** The longest the queue has been. */
  maxQueued: number;
  /** Whether the queue is over its bound (admission control should refuse new work). */
  backpressure: boolean;
  /** How long the oldest unconfirmed envelope has waited, ms (0 when none), as of the last check. */
  lagMs: number;
  /** Snapshots that changed nothing and were not recorded. */
  unchanged: number;
  /** Failed appends (each was retried). */
  appendFailures: number;
  /** The last append failure, for people. */
  lastError?: string;
  /** Inspection events the recorder could not handle (a throwing pathOf); they are counted, not thrown. */
  inspectErrors: number;
}

/** The recorder of one node. */
export interface Recorder {
  /** XState's `inspect` callback: `createActor(machine, { inspect: recorder.inspect })`. Never throws. */
  inspect(event: InspectionEvent): void;
  /** Resolves when every envelope recorded so far is in the log. */
  flush(): Promise<void>;
  /** Flushes, then records nothing more (the log stays open: it is the caller's). */
  close(): Promise<void>;
  /**
   * Gives up at once: records nothing more, retries nothing, stops its timers (a process can exit).
   * What was not stored stays counted in `stats.queued`; pending flushes never resolve.
   */
  stop(): void;
  /** Counters; `stats.backpressure` is the admission-control signal. */
  readonly stats: Readonly<RecorderStats>;
  /** The seq of the last envelope handed to the log (0 before the first): what `onBatch` has told. */
  readonly handedSeq: number;
  /** When a live actor (its XState actor ref) entered its current state and by what; undefined for one never recorded. */
  entered(actorRef: object): EnteredState | undefined;
}

/**
 * The envelopes of some nodes' recorders as they are handed to the log, for whoever keeps a live view in
 * memory (the inspector): no second read of what was just written.
 */
export interface EnvelopeFeed {
  /** Calls `listener` with every batch handed to the log from now on, until the answer is called. */
  watch(listener: (batch: readonly Envelope[]) => void): () => void;
  /** The seq of `node`'s last envelope told to watchers so far (0 before its first). */
  handedSeq(node: string): number;
  /** When `node`'s live actor (its XState actor ref) entered its current state and by what, if recorded. */
  entered(node: string, actorRef: object): EnteredState | undefined;
}

/** What the recorder remembers of an actor between snapshots. */
interface ActorMemory {
  location: ActorLocation | null;
  value: string;
  context: unknown;
  status: string;
  /** When the actor entered `value`, and the event that took it there (what a live view seeded late shows). */
  since: number;
  cause: string;
}

/** When an actor entered its current state, and the event that took it there. */
export interface EnteredState {
  since: number;
  cause: string;
}

/** A batch handed to the log, and how it went. */
interface InFlight {
  count: number;
  state: "pending" | "done" | "failed";
}

const validPath = Schema.is(EnvelopePathSchema);

/** Makes the recorder of one node. Throws if the node name is not valid. */
export function createRecorder(options: RecorderOptions): Recorder {
  const problem = nodeNameProblem(options.node);
  if (problem) throw new Error(`createRecorder: ${problem}`);
  const { node, clock, log } = options;
  const pathOf = options.pathOf ?? pathFromContext;
  const contextChanges = options.contextChanges ?? true;
  const highWater = Math.max(1, options.highWater ?? 10_000);
  const lowWater = Math.min(highWater - 1, options.lowWater ?? Math.floor(highWater / 2));
  const maxLagMs = options.maxLagMs !== undefined ? Math.max(1, options.maxLagMs) : undefined;
  const batchSize = Math.max(1, options.batchSize ?? 256);
  const maxInFlight = Math.max(1, options.maxInFlight ?? 4);
  const retryInitial = options.retryMs?.initial ?? 10;
  const retryMax = options.retryMs?.max ?? 1000;

  const actors = new WeakMap<object, ActorMemory>();
  const stats: RecorderStats = {
    recorded: 0,
    appended: 0,
    queued: 0,
    maxQueued: 0,
    backpressure: false,
    lagMs: 0,
    unchanged: 0,
    appendFailures: 0,
    inspectErrors: 0,
  };
  // The queue: pending[head..] are not confirmed yet; pending[head..sent) are in flight.
  let pending: Envelope[] = [];
  let head = 0;
  let sent = 0;
  const inFlight: InFlight[] = [];
  let nextSeq: number | undefined;
  let loadingSeq = false;
  let retryDelay = 0;
  let retryTimer: unknown;
  let lagTimer: unknown;
  let stopped = false;
  let lastTime = Number.NEGATIVE_INFINITY;
  let closed = false;
  const flushWaiters: { target: number; resolve: () => void }[] = [];

  const updateQueued = (now?: number): void => {
    stats.queued = pending.length - head;
    if (stats.queued > stats.maxQueued) stats.maxQueued = stats.queued;
    const oldest = pending[head];
    stats.lagMs = oldest ? Math.max(0, (now ?? clock.now()) - oldest.time) : 0;
    const lagging = maxLagMs !== undefined && stats.lagMs >= maxLagMs;
    const caughtUp = maxLagMs === undefined || stats.lagMs < maxLagMs / 2;
    if (!stats.backpressure && (stats.queued >= highWater || lagging)) {
      stats.backpressure = true;
      options.onBackpressure?.(true);
    } else if (stats.backpressure && stats.queued <= lowWater && caughtUp) {
      stats.backpressure = false;
      options.onBackpressure?.(false);
    }
    watchLag();
  };

  /** While envelopes wait, looks at their age again now and then: an outage records nothing new. */
  const watchLag = (): void => {
    if (maxLagMs === undefined || lagTimer !== undefined || stopped) return;
    if (stats.queued === 0 && !stats.backpressure) return;
    lagTimer = clock.setTimeout(
      () => {
        lagTimer = undefined;
        updateQueued();
      },
      Math.max(1, Math.floor(maxLagMs / 4)),
    );
  };

  const locate = (actorRef: ActorRefLike, snapshot: unknown): ActorLocation | null => {
    const found = pathOf(actorRef, snapshot);
    if (!found) return null;
    if (!validPath(found.path)) {
      throw new Error(`recorder: actor ${String((actorRef as { id?: unknown }).id)} has an invalid path`);
    }
    return found;
  };

  const record = (event: InspectionEvent & { type: "@xstate.snapshot" }): void => {
    const snapshot = event.snapshot as {
      value?: unknown;
      context?: unknown;
      status?: string;
      error?: unknown;
    };
    if (!snapshot || !("value" in snapshot)) return; // not a state machine (callback, promise actors)
    const ref = event.actorRef as object;
    let memory = actors.get(ref);
    if (memory?.location === null) return;
    const value = stateValueToString(snapshot.value);
    const status = snapshot.status ?? "active";
    let data: Record<string, unknown>;
    let from: string | null;
    if (!memory) {
      const location = locate(event.actorRef, snapshot);
      memory = { location, value, context: snapshot.context, status, since: 0, cause: "" };
      actors.set(ref, memory);
      if (!location) return;
      data = contextFields(snapshot.context);
      from = null;
    } else {
      const valueChanged = memory.value !== value;
      const statusChanged = memory.status !== status;
      const contextChanged = memory.context !== snapshot.context;
      data =
        contextChanged && (contextChanges || valueChanged || statusChanged)
          ? changedFields(memory.context, snapshot.context)
          : {};
      if (!valueChanged && !statusChanged && Object.keys(data).length === 0) {
        memory.context = snapshot.context;
        stats.unchanged++;
        return;
      }
      if (statusChanged) {
        data.status = status;
        if (status === "error") data.error = snapshot.error;
      }
      from = memory.value;
      memory.value = value;
      memory.context = snapshot.context;
      memory.status = status;
    }
    const location = memory.location as ActorLocation;
    const now = clock.now();
    lastTime = Math.max(now, lastTime);
    const cause = typeof event.event?.type === "string" ? event.event.type : "unknown";
    if (from !== value) {
      memory.since = lastTime;
      memory.cause = cause;
    }
    pending.push({
      v: ENVELOPE_VERSION,
      node,
      seq: 0, // given when handed to the log
      time: lastTime,
      path: location.path,
      machine: location.machine,
      from,
      to: value,
      cause,
      data,
    });
    stats.recorded++;
    updateQueued(now);
    // Once this synchronous run is over (one datagram, one timer): everything it recorded goes in one
    // append, not one append per transition.
    if (!pumpQueued) {
      pumpQueued = true;
      queueMicrotask(pumpLater);
    }
  };

  let pumpQueued = false;
  const pumpLater = (): void => {
    pumpQueued = false;
    pump();
  };

  const pump = (): void => {
    if (retryTimer !== undefined || stopped) return;
    if (nextSeq === undefined) {
      if (!loadingSeq) {
        loadingSeq = true;
        log.lastSeq(node).then(
          (last) => {
            loadingSeq = false;
            nextSeq = last + 1;
            pump();
          },
          (error) => {
            loadingSeq = false;
            failed(error);
          },
        );
      }
      return;
    }
    while (inFlight.length < maxInFlight && sent < pending.length) {
      const batch = pending.slice(sent, sent + batchSize);
      let fresh = false;
      for (const envelope of batch) {
        if (envelope.seq !== 0) continue;
        envelope.seq = nextSeq++;
        fresh = true;
      }
      sent += batch.length;
      if (fresh && options.onBatch) {
        try {
          options.onBatch(batch); // a retried batch may hold envelopes told before: the listener skips by seq
        } catch {
          stats.inspectErrors++;
        }
      }
      const entry: InFlight = { count: batch.length, state: "pending" };
      inFlight.push(entry);
      log.append(batch).then(
        () => {
          entry.state = "done";
          settle();
        },
        (error) => {
          entry.state = "failed";
          stats.appendFailures++;
          stats.lastError = error instanceof Error ? error.message : String(error);
          options.onError?.(error);
          settle();
        },
      );
    }
  };

  const settle = (): void => {
    while (inFlight[0]?.state === "done") {
      const entry = inFlight.shift() as InFlight;
      head += entry.count;
      stats.appended += entry.count;
      retryDelay = 0;
    }
    if (head > 4096 && head * 2 > pending.length) {
      pending = pending.slice(head);
      sent -= head;
      head = 0;
    }
    updateQueued();
    while (flushWaiters.length > 0 && (flushWaiters[0] as { target: number }).target <= stats.appended) {
      (flushWaiters.shift() as { resolve: () => void }).resolve();
    }
    if (inFlight.some((entry) => entry.state === "failed")) {
      // Wait for every batch in flight to settle, then resend all that is unconfirmed, in order: the
      // log skips what it already stored, so nothing is duplicated and nothing is lost.
      if (inFlight.some((entry) => entry.state === "pending")) return;
      inFlight.length = 0;
      sent = head;
      failed(undefined);
      return;
    }
    pump();
  };

  const failed = (error: unknown): void => {
    if (stopped) return;
    if (error !== undefined) {
      stats.appendFailures++;
      stats.lastError = error instanceof Error ? error.message : String(error);
      options.onError?.(error);
    }
    retryDelay = retryDelay === 0 ? retryInitial : Math.min(retryMax, retryDelay * 2);
    retryTimer = clock.setTimeout(() => {
      retryTimer = undefined;
      pump();
    }, retryDelay);
  };

  return {
    inspect(event: InspectionEvent): void {
      if (event.type !== "@xstate.snapshot" || closed) return;
      try {
        record(event);
      } catch {
        stats.inspectErrors++;
      }
    },
    flush(): Promise<void> {
      const target = stats.recorded;
      if (stats.appended >= target) return Promise.resolve();
      return new Promise((resolve) => flushWaiters.push({ target, resolve }));
    },
    async close(): Promise<void> {
      closed = true;
      await this.flush();
    },
    stop(): void {
      closed = true;
      stopped = true;
      if (retryTimer !== undefined) clock.clearTimeout(retryTimer);
      if (lagTimer !== undefined) clock.clearTimeout(lagTimer);
      retryTimer = undefined;
      lagTimer = undefined;
    },
    stats,
    get handedSeq() {
      return nextSeq === undefined ? 0 : nextSeq - 1;
    },
    entered(actorRef) {
      const memory = actors.get(actorRef);
      return memory?.location ? { since: memory.since, cause: memory.cause } : undefined;
    },
  };
}

/** All context fields of an actor's first snapshot, except its path (the envelope carries it). */
export function contextFields(context: unknown): Record<string, unknown> {
  if (typeof context !== "object" || context === null) return {};
  const data: Record<string, unknown> = {};
  for (const key of Object.keys(context)) {
    if (key !== "path") data[key] = (context as Record<string, unknown>)[key];
  }
  return data;
}

/** The top-level context fields whose value changed (by reference); a removed field is null. */
function changedFields(before: unknown, after: unknown): Record<string, unknown> {
  const a = (typeof before === "object" && before !== null ? before : {}) as Record<string, unknown>;
  const b = (typeof after === "object" && after !== null ? after : {}) as Record<string, unknown>;
  const data: Record<string, unknown> = {};
  for (const key of Object.keys(b)) if (a[key] !== b[key] && key !== "path") data[key] = b[key];
  for (const key of Object.keys(a)) if (!(key in b)) data[key] = null;
  return data;
}
