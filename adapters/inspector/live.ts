/**
 * The live side of the inspector: the tree of a running node's actors, in the shape a replay makes (the
 * fold of envelopes, events/replay.ts), so the live page and the replay page show one thing the same
 * way, and the detail of an actor (its context, secrets redacted on the way out; its last cause; its
 * recent events) comes with no extra work on the node's hot path.
 *
 * Cost: nothing while no page is open. The first request seeds the tree from the nodes' live actors
 * (their XState snapshots, `L2tpNode.liveActors`: a node that ran for days is not folded from the start
 * of its log) and from then on folds the recorders' own batches as they are handed to the log
 * (`EnvelopeFeed`: in memory, no second read of what was just written). The batches wait and are folded
 * together when the page asks or its stream is due (BATCH_MS), or once MAX_PENDING envelopes wait: one
 * loop over thousands of envelopes, not a fold squeezed between every few steps of the node's actors
 * (labs of 20,000 calls in one process, unwatched, folded as handed and folded in the tick, alternated:
 * the JavaScript thread per call +4.5 and +8.5 µs over the unwatched labs as handed, +2 and +6.5 in the
 * tick, in two runs of 10 and 12 rounds; small, and the same work). Counts per level and state are
 * kept as envelopes fold (the state an envelope leaves is uncounted, the one it enters counted), so a
 * refresh does not walk the tree. The tree is dropped, and the feed let go, IDLE_MS after the last
 * request once no stream is open. Actors that reach a final state are dropped from the live tree (a
 * node in service ends millions of calls a day); the replay keeps them.
 *
 * The seed is the actors' state at the moment of the first request, and the feed's seq at that moment
 * (`handedSeq`) is where the tree stands in each node's log. Envelopes recorded before that moment but
 * handed to the log after it are folded again over a state that already holds them: an envelope carries
 * the state it enters and the context fields it sets, so folding it twice leaves the same state.
 */
import process from "node:process";
import type { L2tpNode } from "../../actors/node.ts";
import {
  ENVELOPE_VERSION,
  type Envelope,
  type EnvelopePath,
  type MachineKind,
  machineOfPath,
  stateValueToString,
} from "../../events/envelope.ts";
import type { EventLog } from "../../events/port.ts";
import { contextFields, type EnvelopeFeed } from "../../events/recorder.ts";
import {
  type ActorTree,
  type ActorView,
  countEnvelope,
  evolve,
  evolveActor,
  initialTree,
  type NodeView,
  type TunnelView,
  UNKNOWN_DESTINATION,
} from "../../events/replay.ts";
import { isFinalState } from "./graphs.ts";
import { BATCH_MS, type SeqVector, type StreamSubscriber } from "./stream.ts";
import type { LevelCounts } from "./view.ts";

/** How long the tree is kept after the last request while no stream is open. */
export const IDLE_MS = 30_000;
/** Envelopes kept in memory for recent events and for resuming streams. */
export const RING_SIZE = 20_000;
/**
 * Envelopes handed but not folded yet beyond which they are folded at once: what waits between two
 * ticks at a node's full rate (20,000 calls/s are about 120,000 envelopes a second); at a few hundred
 * bytes an envelope, some 15 MB held at most.
 */
export const MAX_PENDING = 50_000;
/**
 * The cause of a seeded actor's first envelope when its recorder does not know what took it to its
 * state (the moment of the seed stands for its since then); a recorded actor shows its own.
 */
export const SEED_CAUSE = "inspector.seed";

/** What the live source needs of a node: its name and its live actors (the seed). */
export type SeedingNode = Pick<L2tpNode, "name" | "liveActors">;

/** A live tree being kept up to date. */
interface Watch {
  tree: ActorTree;
  /** Counts per node, per level and state, kept as envelopes fold. */
  counts: Map<string, LevelCounts>;
  /** Lets go of the feed. */
  unwatch: () => void;
  /** The last envelopes, oldest first (a ring: `ringStart` is the oldest), as recorded (not redacted). */
  ring: Envelope[];
  ringStart: number;
  subscribers: Set<StreamSubscriber>;
  timer: ReturnType<typeof setInterval>;
  lastUse: number;
  /** The seq folded in per node. */
  folded: SeqVector;
  /** The seq each node's seed stands at (the ring holds what came after it). */
  seeded: SeqVector;
  /** Envelopes folded since the seed: the tree's version. */
  version: number;
  /** Batches handed and not folded yet, oldest first, and how many envelopes they hold. */
  pending: (readonly Envelope[])[];
  pendingEnvelopes: number;
}

/** The live tree of `nodes`, whose recorders feed `feed` and store to `log`, kept only while a page looks. */
export class LiveSource {
  readonly #log: EventLog;
  readonly #feed: EnvelopeFeed;
  readonly #nodes: readonly SeedingNode[];
  readonly #idleMs: number;
  #watch: Watch | undefined;

  constructor(
    log: EventLog,
    feed: EnvelopeFeed,
    nodes: readonly SeedingNode[],
    options: { idleMs?: number } = {},
  ) {
    this.#log = log;
    this.#feed = feed;
    this.#nodes = nodes;
    this.#idleMs = options.idleMs ?? IDLE_MS;
  }

  /** Whether the source is doing any work now (a page asked recently or a stream is open). */
  get watching(): boolean {
    return this.#watch !== undefined;
  }

  /** The tree now, and its version (envelopes folded since the seed, seed included). */
  tree(): { tree: ActorTree; version: number } {
    const watch = this.#start();
    return { tree: watch.tree, version: watch.version };
  }

  /** Counts per level and state of every node, or of one. */
  counts(node?: string): LevelCounts {
    const watch = this.#start();
    if (node !== undefined) return withoutZeros(watch.counts.get(node) ?? emptyCounts());
    const total = emptyCounts();
    for (const counts of watch.counts.values()) {
      for (const level of Object.keys(counts) as MachineKind[]) {
        for (const [state, n] of Object.entries(counts[level])) {
          if (n > 0) total[level][state] = (total[level][state] ?? 0) + n;
        }
      }
    }
    return total;
  }

  /**
   * The last `limit` envelopes of `node` that `matches`, newest last, as recorded: from memory, and for
   * an actor older than the page's first request, from the log's last RING_SIZE envelopes before it
   * (read only for this request, never on the node's hot path).
   */
  async recent(node: string, matches: (envelope: Envelope) => boolean, limit: number): Promise<Envelope[]> {
    const watch = this.#start();
    const out: Envelope[] = [];
    const ring = watch.ring;
    for (let i = 0; i < ring.length && out.length < limit; i++) {
      const envelope = ring[(watch.ringStart - 1 - i + ring.length * 2) % ring.length] as Envelope;
      if (envelope.node === node && matches(envelope)) out.push(envelope);
    }
    out.reverse();
    const seeded = watch.seeded[node] ?? 0;
    if (out.length >= limit || seeded === 0) return out;
    const before: Envelope[] = [];
    for await (const envelope of this.#log.read({ node, fromSeq: Math.max(1, seeded - RING_SIZE + 1) })) {
      if (envelope.seq > seeded) break;
      if (matches(envelope)) before.push(envelope);
    }
    return [...before.slice(Math.max(0, before.length - (limit - out.length))), ...out];
  }

  /** Opens a stream to a page: what it missed since `from` (Last-Event-ID), then what comes. */
  async subscribe(subscriber: StreamSubscriber, from: SeqVector): Promise<void> {
    const watch = this.#start();
    for (const { name: node } of this.#nodes) {
      const after = from[node];
      if (after === undefined) continue;
      const oldest = this.#oldestKept(watch, node);
      // What the ring no longer holds (or never held: it starts at the seed) comes from the log itself.
      if (after < (oldest ?? watch.folded[node] ?? 0) - 1) {
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
    watch.unwatch();
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
      this.#catchUp(this.#watch);
      return this.#watch;
    }
    const watch: Watch = {
      tree: initialTree(),
      counts: new Map(),
      unwatch: () => {},
      ring: [],
      ringStart: 0,
      subscribers: new Set(),
      timer: setInterval(() => this.#tick(watch), BATCH_MS),
      lastUse: Date.now(),
      folded: {},
      seeded: {},
      version: 0,
      pending: [],
      pendingEnvelopes: 0,
    };
    // Seed and watch in one synchronous step: no batch is handed to the log between the two.
    for (const node of this.#nodes) this.#seed(watch, node);
    watch.unwatch = this.#feed.watch((batch) => {
      watch.pending.push(batch);
      watch.pendingEnvelopes += batch.length;
      if (watch.pendingEnvelopes >= MAX_PENDING) this.#catchUp(watch);
    });
    this.#watch = watch;
    return watch;
  }

  /** The node's live actors as first envelopes at the feed's seq now. */
  #seed(watch: Watch, node: SeedingNode): void {
    const seq = this.#feed.handedSeq(node.name);
    const time = Date.now();
    watch.counts.set(node.name, emptyCounts());
    for (const actor of node.liveActors()) {
      const { system: _, ppp, ...rest } = actor.path;
      const path = rest as EnvelopePath;
      const state = stateValueToString(actor.snapshot.value);
      // When and by what it entered its state, as its recorder saw it: a list sorted by "since" puts it
      // where it belongs, not at the moment the page first looked.
      const entered = this.#feed.entered(node.name, actor.ref);
      const envelope: Envelope = {
        v: ENVELOPE_VERSION,
        node: node.name,
        seq,
        time: entered?.since ?? time,
        path,
        machine: ppp === true ? "ppp" : machineOfPath(path),
        from: null,
        to: state,
        cause: entered?.cause ?? SEED_CAUSE,
        data: contextFields(actor.snapshot.context),
      };
      this.#foldOne(watch, envelope);
    }
    watch.folded[node.name] = seq;
    watch.seeded[node.name] = seq;
  }

  /** Folds what waits (see the module comment). */
  #catchUp(watch: Watch): void {
    const batches = watch.pending;
    if (batches.length === 0) return;
    watch.pending = [];
    watch.pendingEnvelopes = 0;
    for (const batch of batches) {
      for (const envelope of batch) {
        // One envelope the tree cannot take is said and skipped: the rest of its batch still folds.
        try {
          this.#fold(watch, envelope);
        } catch (err) {
          process.stderr.write(
            `inspector: the live tree could not take envelope ${envelope.node}:${envelope.seq}: ${(err as Error).message}\n`,
          );
        }
      }
    }
  }

  #fold(watch: Watch, envelope: Envelope): void {
    if (envelope.seq <= (watch.folded[envelope.node] ?? 0)) return; // told again (a retried batch), or in the seed
    watch.folded[envelope.node] = envelope.seq;
    this.#foldOne(watch, envelope);
    if (watch.ring.length < RING_SIZE) watch.ring.push(envelope);
    else {
      watch.ring[watch.ringStart] = envelope;
      watch.ringStart = (watch.ringStart + 1) % RING_SIZE;
    }
    for (const s of watch.subscribers) s.push(envelope);
  }

  /** Folds one envelope into the tree and the counts. */
  #foldOne(watch: Watch, envelope: Envelope): void {
    watch.version++;
    let counts = watch.counts.get(envelope.node);
    if (!counts) {
      counts = emptyCounts();
      watch.counts.set(envelope.node, counts);
    }
    const tree = watch.tree;
    if (envelope.machine === "system" && envelope.from === null && tree.nodes[envelope.node]?.system) {
      // A new life of the node: evolve forgets what the previous one left open.
      evolve(tree, envelope);
      watch.counts.set(envelope.node, countNode(tree.nodes[envelope.node] as NodeView));
      return;
    }
    const ending = ended(envelope);
    if (ending && envelope.machine !== "system") {
      // An actor that ends leaves the live tree: its view is dropped as it stands, not brought up to date
      // first (a third of a lab's envelopes end a session). With replay's copy on write of the data, five
      // alternated profiles of a watched lab (3 × 20,000 calls): the fold (live.ts and what it calls)
      // 808-884 → 712-819 ms of samples; the lookups the fold no longer makes, dropActor makes.
      const node = tree.nodes[envelope.node];
      if (node && dropActor(tree, envelope, counts)) {
        countEnvelope(tree, node, envelope);
        return;
      }
    }
    const view = evolveActor(tree, envelope) as LiveView;
    if (ending || (view.counted === undefined && envelope.from !== null)) {
      // Ended now; or a later envelope of an actor the tree no longer has (it ended, before the seed
      // perhaps), which the fold just made again.
      dropActor(tree, envelope, counts);
      return;
    }
    if (view.counted === view.state) return;
    const levelCounts = counts[envelope.machine];
    if (view.counted !== undefined) uncount(levelCounts, view.counted);
    count(levelCounts, view.state);
    view.counted = view.state;
  }

  #tick(watch: Watch): void {
    this.#catchUp(watch);
    for (const s of watch.subscribers) {
      if (s.closed) watch.subscribers.delete(s);
      else s.flush();
    }
    if (watch.subscribers.size === 0 && Date.now() - watch.lastUse > this.#idleMs) this.stop();
  }
}

/** Whether the actor ended with this envelope: a final state, or stopped (a PPP link stopped with its session). */
function ended(envelope: Envelope): boolean {
  const status = envelope.data.status;
  return isFinalState(envelope.machine, envelope.to) || (status !== undefined && status !== "active");
}

function emptyCounts(): LevelCounts {
  return { system: {}, destination: {}, tunnel: {}, session: {}, ppp: {}, subscriber: {} };
}

function count(counts: Record<string, number>, state: string): void {
  counts[state] = (counts[state] ?? 0) + 1;
}

/**
 * A state's count goes down to 0 and stays (a deleted key would turn the counts into a slow dictionary
 * object, looked up on every envelope); `withoutZeros` leaves the zeros out of what a page is sent.
 */
function uncount(counts: Record<string, number>, state: string): void {
  counts[state] = Math.max(0, (counts[state] ?? 0) - 1);
}

/** The counts without the states counted down to 0. */
function withoutZeros(counts: LevelCounts): LevelCounts {
  const out = emptyCounts();
  for (const level of Object.keys(counts) as MachineKind[]) {
    for (const [state, n] of Object.entries(counts[level])) if (n > 0) out[level][state] = n;
  }
  return out;
}

/** The counts of one node's part of the tree, walked (a new life of the node only). */
function countNode(node: NodeView): LevelCounts {
  const counts = emptyCounts();
  const add = (level: Record<string, number>, view: LiveView | undefined) => {
    if (!view) return;
    count(level, view.state);
    view.counted = view.state;
  };
  add(counts.system, node.system);
  for (const s of Object.values(node.subscribers ?? {})) {
    add(counts.subscriber, s.actor);
    add(counts.ppp, s.ppp);
  }
  for (const d of Object.values(node.destinations)) {
    add(counts.destination, d.actor);
    for (const t of Object.values(d.tunnels)) {
      add(counts.tunnel, t.actor);
      for (const s of Object.values(t.sessions)) add(counts.session, s);
      for (const p of Object.values(t.ppp ?? {})) add(counts.ppp, p);
    }
  }
  return counts;
}

/**
 * Removes an ended actor (and what is left below it) from the live tree and from the counts; false,
 * changing nothing, when the tree has no view of the actor itself.
 */
function dropActor(tree: ActorTree, envelope: Envelope, counts: LevelCounts): boolean {
  const node = tree.nodes[envelope.node];
  if (!node) return false;
  const p = envelope.path;
  switch (envelope.machine) {
    case "system":
      if (!node.system) return false;
      delete tree.nodes[envelope.node];
      for (const level of Object.keys(counts) as MachineKind[]) counts[level] = {};
      return true;
    case "destination": {
      const key = p.destination ?? UNKNOWN_DESTINATION;
      const d = node.destinations[key];
      if (!d?.actor) return false;
      uncountView(counts.destination, d.actor);
      for (const t of Object.values(d.tunnels)) uncountTunnel(t, counts);
      delete node.destinations[key];
      return true;
    }
    // Ids index the maps as numbers, as the fold does (events/replay.ts): no text made and parsed again.
    case "tunnel": {
      const tunnels = node.destinations[p.destination ?? UNKNOWN_DESTINATION]?.tunnels;
      const key = p.tunnel ?? 0;
      const t = tunnels?.[key];
      if (!t?.actor) return false;
      uncountTunnel(t, counts);
      delete tunnels[key];
      return true;
    }
    case "subscriber": {
      const s = node.subscribers?.[p.subscriber ?? ""];
      if (!s?.actor) return false;
      uncountView(counts.subscriber, s.actor);
      uncountView(counts.ppp, s.ppp); // its PPP link ends with it
      delete node.subscribers?.[p.subscriber ?? ""];
      return true;
    }
    case "ppp": {
      if (p.subscriber !== undefined) {
        const s = node.subscribers?.[p.subscriber];
        if (!s?.ppp) return false;
        uncountView(counts.ppp, s.ppp);
        s.ppp = undefined;
        return true;
      }
      const links = node.destinations[p.destination ?? UNKNOWN_DESTINATION]?.tunnels[p.tunnel ?? 0]?.ppp;
      const key = p.session ?? 0;
      if (!links?.[key]) return false;
      uncountView(counts.ppp, links[key]);
      delete links[key];
      return true;
    }
    case "session": {
      const t = node.destinations[p.destination ?? UNKNOWN_DESTINATION]?.tunnels[p.tunnel ?? 0];
      const key = p.session ?? 0;
      if (!t?.sessions[key]) return false;
      uncountView(counts.session, t.sessions[key]);
      delete t.sessions[key];
      // A session's PPP link ends with it.
      if (t.ppp?.[key]) {
        uncountView(counts.ppp, t.ppp[key]);
        delete t.ppp[key];
      }
      return true;
    }
  }
}

/** A view of the live tree: the state it is counted under (none once it left the tree). */
type LiveView = ActorView & { counted?: string };

function uncountView(counts: Record<string, number>, view: LiveView | undefined): void {
  if (view?.counted === undefined) return;
  uncount(counts, view.counted);
  view.counted = undefined;
}

function uncountTunnel(t: TunnelView, counts: LevelCounts): void {
  uncountView(counts.tunnel, t.actor);
  for (const s of Object.values(t.sessions)) uncountView(counts.session, s);
  for (const p of Object.values(t.ppp ?? {})) uncountView(counts.ppp, p);
}
