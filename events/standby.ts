/**
 * A standby's view of its primary (issue 4, silent failover): it follows the primary's envelopes in the
 * event log, folds them into the actor tree (the replay fold, `evolve`), and watches for silence. A
 * primary records a heartbeat every HEARTBEAT_MS (a system event, `data.heartbeat`); when nothing at all
 * arrives for `takeoverAfterMs`, the primary is taken for dead and `onSilent` is told. The tree is then
 * what actors/restore.ts resumes.
 *
 * One node name may have several lives in one log (a primary restarted, a standby that took over): the
 * system's first snapshot (`from: null`) starts a new life, and the replay fold itself forgets what the
 * previous life left open (a killed process never recorded its tunnels closing).
 */
import type { Clock } from "../actors/ports.ts";
import type { Envelope } from "./envelope.ts";
import type { EventLog } from "./port.ts";
import { type ActorTree, evolve, initialTree, type NodeView } from "./replay.ts";

/** How often a primary records that it is alive. */
export const HEARTBEAT_MS = 1000;

/** How long a standby waits, by default, without a single envelope before it takes over. */
export const DEFAULT_TAKEOVER_AFTER_MS = 3000;

/** Options of `followPrimary`. */
export interface FollowPrimaryOptions {
  log: EventLog;
  /** The primary's node name (the same config: the same name). */
  node: string;
  /** Measures silence (and runs the silence check). */
  clock: Clock;
  /** Silence after which `onSilent` is told; 0 or undefined: never (takeover by command only). */
  takeoverAfterMs?: number;
  /** The primary has been silent for `takeoverAfterMs` (told once). */
  onSilent?: (silentMs: number) => void;
  /** The follow failed (the log closed or broke); the standby cannot see its primary any more. */
  onError?: (error: unknown) => void;
}

/** What a standby knows of its primary now. */
export interface PrimaryStatus {
  node: string;
  /** The seq of the last envelope folded in (0: none yet). */
  lastSeq: number;
  /** Envelopes folded in. */
  events: number;
  /** Since the last envelope arrived (or since the follow started), ms. */
  silentMs: number;
  /** The primary's last recorded heartbeat time (its clock), if any. */
  heartbeat: number | undefined;
}

/** A running follow of the primary's envelopes. */
export interface PrimaryFollower {
  /** The fold so far (live: it changes as envelopes arrive). */
  readonly tree: ActorTree;
  /** The primary's node in the fold, once it has recorded anything. */
  view(): NodeView | undefined;
  status(): PrimaryStatus;
  /**
   * Stops following, then reads whatever the log stored after the last envelope seen (nothing is missed
   * between the follow and the takeover), and resolves with the final fold.
   */
  stop(): Promise<ActorTree>;
}

/** Starts following `options.node`'s envelopes in `options.log`. */
export function followPrimary(options: FollowPrimaryOptions): PrimaryFollower {
  const { log, node, clock } = options;
  const tree = initialTree();
  const abort = new AbortController();
  let lastHeardAt = clock.now();
  let lastSeq = 0;
  let silenceTimer: unknown;
  let told = false;
  let stopped = false;

  const fold = (envelope: Envelope): void => {
    if (envelope.node !== node || envelope.seq <= lastSeq) return;
    lastSeq = envelope.seq;
    lastHeardAt = clock.now();
    evolve(tree, envelope);
  };

  const loop = (async () => {
    try {
      for await (const envelope of log.follow({ node, signal: abort.signal })) {
        fold(envelope);
        if (abort.signal.aborted) break;
      }
    } catch (error) {
      if (!abort.signal.aborted) options.onError?.(error);
    }
  })();

  const takeoverAfterMs = options.takeoverAfterMs ?? 0;
  const check = (): void => {
    silenceTimer = undefined;
    if (stopped || told) return;
    const silent = clock.now() - lastHeardAt;
    if (silent >= takeoverAfterMs) {
      told = true;
      options.onSilent?.(silent);
      return;
    }
    silenceTimer = clock.setTimeout(check, Math.min(250, takeoverAfterMs - silent));
  };
  if (takeoverAfterMs > 0) silenceTimer = clock.setTimeout(check, Math.min(250, takeoverAfterMs));

  return {
    tree,
    view: () => tree.nodes[node],
    status: () => {
      const heartbeat = tree.nodes[node]?.system?.data.heartbeat;
      return {
        node,
        lastSeq,
        events: tree.events,
        silentMs: clock.now() - lastHeardAt,
        heartbeat: typeof heartbeat === "number" ? heartbeat : undefined,
      };
    },
    async stop() {
      if (!stopped) {
        stopped = true;
        if (silenceTimer !== undefined) clock.clearTimeout(silenceTimer);
        abort.abort();
        await loop;
        for await (const envelope of log.read({ node, fromSeq: lastSeq + 1 })) fold(envelope);
      }
      return tree;
    },
  };
}
