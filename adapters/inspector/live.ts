/**
 * The live side of the inspector: the tree of a running node's actors, made the same way a replay makes
 * it (the fold of its event log, events/replay.ts), so the live page and the replay page show one thing
 * the same way, and the detail of an actor (its context as recorded, secrets redacted; its last cause;
 * its recent events) comes with no extra work on the node's hot path.
 *
 * Cost: nothing while no page is open. The first request starts a follow of each node's log (from the
 * start of its log: the fold forgets what came before the node's last start) and the tree is dropped,
 * and the follows stopped, IDLE_MS after the last request once no stream is open. Actors that reach a
 * final state are dropped from the live tree (a node in service ends millions of calls a day); the
 * replay keeps them.
 */
import process from "node:process";
import type { Envelope } from "../../events/envelope.ts";
import type { EventLog } from "../../events/port.ts";
import { type ActorTree, evolve, initialTree } from "../../events/replay.ts";
import { isFinalState } from "./graphs.ts";
import { BATCH_MS, type SeqVector, type StreamSubscriber } from "./stream.ts";

/** How long the tree is kept after the last request while no stream is open. */
export const IDLE_MS = 30_000;
/** Envelopes kept in memory for recent events and for resuming streams. */
export const RING_SIZE = 20_000;

/** A live tree being kept up to date. */
interface Watch {
  tree: ActorTree;
  abort: AbortController;
  /** The last envelopes, oldest first (a ring: `ringStart` is the oldest). */
  ring: Envelope[];
  ringStart: number;
  /** Resolves once everything the log held when the watch began is folded in. */
  caughtUp: Promise<void>;
  subscribers: Set<StreamSubscriber>;
  timer: ReturnType<typeof setInterval>;
  lastUse: number;
  /** The seq folded in per node. */
  folded: SeqVector;
}

/** The live tree of the nodes that record to `log`, kept only while a page looks at it. */
export class LiveSource {
  readonly #log: EventLog;
  readonly #nodes: readonly string[];
  readonly #idleMs: number;
  #watch: Watch | undefined;

  constructor(log: EventLog, nodes: readonly string[], options: { idleMs?: number } = {}) {
    this.#log = log;
    this.#nodes = nodes;
    this.#idleMs = options.idleMs ?? IDLE_MS;
  }

  /** Whether the source is doing any work now (a page asked recently or a stream is open). */
  get watching(): boolean {
    return this.#watch !== undefined;
  }

  /** The tree now (after catching up with the log), and its version (envelopes folded). */
  async tree(): Promise<{ tree: ActorTree; version: number }> {
    const watch = this.#start();
    await watch.caughtUp;
    return { tree: watch.tree, version: watch.tree.events };
  }

  /** The last `limit` envelopes of one actor that are still in memory, newest last. */
  recent(matches: (envelope: Envelope) => boolean, limit: number): Envelope[] {
    const watch = this.#start();
    const out: Envelope[] = [];
    const ring = watch.ring;
    for (let i = 0; i < ring.length && out.length < limit; i++) {
      const envelope = ring[(watch.ringStart - 1 - i + ring.length * 2) % ring.length] as Envelope;
      if (matches(envelope)) out.push(envelope);
    }
    return out.reverse();
  }

  /** Opens a stream to a page: what it missed since `from` (Last-Event-ID), then what comes. */
  async subscribe(subscriber: StreamSubscriber, from: SeqVector): Promise<void> {
    const watch = this.#start();
    await watch.caughtUp;
    for (const node of this.#nodes) {
      const after = from[node];
      if (after === undefined) continue;
      const oldest = this.#oldestKept(watch, node);
      // What the ring no longer holds comes from the log itself.
      if (oldest === undefined || after + 1 < oldest) {
        for await (const envelope of this.#log.read({ node, fromSeq: after + 1 })) {
          if (oldest !== undefined && envelope.seq >= oldest) break;
          subscriber.push(envelope);
        }
      }
    }
    for (const envelope of this.#ringInOrder(watch)) {
      if (from[envelope.node] !== undefined) subscriber.push(envelope);
    }
    watch.subscribers.add(subscriber);
    subscriber.flush();
  }

  /** Stops watching now (the node is closing). */
  stop(): void {
    const watch = this.#watch;
    if (!watch) return;
    this.#watch = undefined;
    watch.abort.abort();
    clearInterval(watch.timer);
    for (const s of watch.subscribers) s.end();
  }

  #oldestKept(watch: Watch, node: string): number | undefined {
    for (const envelope of this.#ringInOrder(watch)) if (envelope.node === node) return envelope.seq;
    return undefined;
  }

  *#ringInOrder(watch: Watch): Generator<Envelope> {
    const ring = watch.ring;
    for (let i = 0; i < ring.length; i++) yield ring[(watch.ringStart + i) % ring.length] as Envelope;
  }

  #start(): Watch {
    if (this.#watch) {
      this.#watch.lastUse = Date.now();
      return this.#watch;
    }
    const abort = new AbortController();
    const watch: Watch = {
      tree: initialTree(),
      abort,
      ring: [],
      ringStart: 0,
      caughtUp: Promise.resolve(),
      subscribers: new Set(),
      timer: setInterval(() => this.#tick(watch), BATCH_MS),
      lastUse: Date.now(),
      folded: {},
    };
    this.#watch = watch;
    watch.caughtUp = Promise.all(this.#nodes.map((node) => this.#follow(watch, node))).then(() => {});
    return watch;
  }

  /** Follows one node's log into the tree; resolves when what the log held at the start is folded in. */
  async #follow(watch: Watch, node: string): Promise<void> {
    const target = await this.#log.lastSeq(node);
    let resolveCaughtUp: () => void = () => {};
    const caughtUp = new Promise<void>((resolve) => {
      resolveCaughtUp = resolve;
    });
    if (target === 0) resolveCaughtUp();
    void (async () => {
      try {
        for await (const envelope of this.#log.follow({ node, signal: watch.abort.signal })) {
          this.#fold(watch, envelope);
          if (envelope.seq >= target) resolveCaughtUp();
        }
      } catch (err) {
        if (!watch.abort.signal.aborted) {
          process.stderr.write(`inspector: following ${node}'s events stopped: ${(err as Error).message}\n`);
        }
      } finally {
        resolveCaughtUp();
      }
    })();
    return caughtUp;
  }

  #fold(watch: Watch, envelope: Envelope): void {
    evolve(watch.tree, envelope);
    watch.folded[envelope.node] = envelope.seq;
    if (isFinalState(envelope.machine, envelope.to)) dropActor(watch.tree, envelope);
    if (watch.ring.length < RING_SIZE) watch.ring.push(envelope);
    else {
      watch.ring[watch.ringStart] = envelope;
      watch.ringStart = (watch.ringStart + 1) % RING_SIZE;
    }
    for (const s of watch.subscribers) s.push(envelope);
  }

  #tick(watch: Watch): void {
    for (const s of watch.subscribers) {
      if (s.closed) watch.subscribers.delete(s);
      else s.flush();
    }
    if (watch.subscribers.size === 0 && Date.now() - watch.lastUse > this.#idleMs) this.stop();
  }
}

/** Removes an ended actor (and what is left below it) from the live tree. */
function dropActor(tree: ActorTree, envelope: Envelope): void {
  const node = tree.nodes[envelope.node];
  if (!node) return;
  const p = envelope.path;
  switch (envelope.machine) {
    case "system":
      delete tree.nodes[envelope.node];
      return;
    case "destination":
      delete node.destinations[p.destination ?? "?"];
      return;
    case "tunnel":
      delete node.destinations[p.destination ?? "?"]?.tunnels[String(p.tunnel ?? 0)];
      return;
    case "subscriber":
      delete node.subscribers?.[p.subscriber ?? ""];
      return;
    case "ppp":
      if (p.subscriber !== undefined) {
        const s = node.subscribers?.[p.subscriber];
        if (s) s.ppp = undefined;
        return;
      }
      delete node.destinations[p.destination ?? "?"]?.tunnels[String(p.tunnel ?? 0)]?.ppp?.[
        String(p.session ?? 0)
      ];
      return;
    case "session":
      delete node.destinations[p.destination ?? "?"]?.tunnels[String(p.tunnel ?? 0)]?.sessions[
        String(p.session ?? 0)
      ];
      return;
  }
}
