/**
 * The replay side of the inspector: a recorded log held in memory, the tree at any position of it, the
 * spans of the incident timeline (each tunnel and session from its first to its last event, with its
 * outcome) and the density of events over time (the minimap).
 *
 * Seeking folds from checkpoints, never from the start: while loading, a copy of the tree is kept every
 * CHECKPOINT_GAP envelopes, and a seek copies the checkpoint before it and folds fewer envelopes than
 * that gap. Copies share what did not change (events/replay.ts copyTree: copy on write), so a copy costs
 * no more for 250,000 actors than for ten, and the checkpoints together hold about what the envelopes
 * changed, not one tree each. The last tree seeked to is kept too: stepping and playing fold forward
 * from it.
 */
import type { Envelope, EnvelopePath, MachineKind } from "../../events/envelope.ts";
import type { EventLog, ReadOptions } from "../../events/port.ts";
import { type ActorTree, copyTree, evolve, initialTree } from "../../events/replay.ts";
import { isFinalState } from "./graphs.ts";
import { actorText } from "./stream.ts";

/** Envelopes between two checkpoints: what a seek folds at most. */
export const CHECKPOINT_GAP = 10_000;

/** How a span ended. */
export type SpanOutcome = "established" | "closed" | "failed" | "pending";

/** One tunnel's or session's life in the recorded log. */
export interface Span {
  /** "node/destination/tunnel[/session]", as the stream's actor filter names it. */
  actor: string;
  node: string;
  machine: MachineKind;
  path: EnvelopePath;
  first: number;
  last: number;
  /** Index of its first and last envelope in the log. */
  firstIndex: number;
  lastIndex: number;
  outcome: SpanOutcome;
  state: string;
  /** Why it ended, when it ended with a cause ("peer: StopCCN result 4 …"). */
  cause?: string;
  /** When it reached `established`, if it did. */
  establishedAt?: number;
}

interface Checkpoint {
  /** Envelopes folded in. */
  index: number;
  tree: ActorTree;
}

/** A recorded event log, loaded for the replay page. */
export class RecordedLog {
  readonly envelopes: Envelope[] = [];
  /** The running maximum of envelope times (the log's order is by time, merged across nodes). */
  #times: number[] = [];
  readonly #checkpoints: Checkpoint[] = [{ index: 0, tree: initialTree() }];
  readonly #spans = new Map<string, Span>();
  /** Envelope indices per actor (for an actor's recent events at any position). */
  readonly #byActor = new Map<string, number[]>();
  #current: Checkpoint = { index: 0, tree: initialTree() };
  #spanList: Span[] | undefined;

  /** Reads the whole of `log` (or what `options` select) into memory. */
  static async load(log: EventLog, options: ReadOptions = {}): Promise<RecordedLog> {
    const recorded = new RecordedLog();
    for await (const envelope of log.read(options)) recorded.add(envelope);
    return recorded;
  }

  /** Builds one from envelopes in hand (tests, benchmarks). */
  static of(envelopes: Iterable<Envelope>): RecordedLog {
    const recorded = new RecordedLog();
    for (const envelope of envelopes) recorded.add(envelope);
    return recorded;
  }

  #building: ActorTree = initialTree();
  #sinceCheckpoint = 0;

  /** Appends one envelope (in the log's order). */
  add(envelope: Envelope): void {
    const index = this.envelopes.length;
    this.envelopes.push(envelope);
    const last = this.#times[index - 1] ?? -Infinity;
    this.#times.push(Math.max(last, envelope.time));
    evolve(this.#building, envelope);
    this.#sinceCheckpoint++;
    if (this.#sinceCheckpoint >= CHECKPOINT_GAP) {
      this.#checkpoints.push({ index: index + 1, tree: copyTree(this.#building) });
      this.#sinceCheckpoint = 0;
    }
    const actor = actorText(envelope.node, envelope.path, envelope.machine);
    let indices = this.#byActor.get(actor);
    if (!indices) {
      indices = [];
      this.#byActor.set(actor, indices);
    }
    indices.push(index);
    if (envelope.machine === "tunnel" || envelope.machine === "session") this.#span(actor, envelope, index);
    this.#spanList = undefined;
  }

  /** How many envelopes there are. */
  get length(): number {
    return this.envelopes.length;
  }

  /** The first and last times of the log (0, 0 when empty). */
  get bounds(): { start: number; end: number } {
    return { start: this.envelopes[0]?.time ?? 0, end: this.#times[this.#times.length - 1] ?? 0 };
  }

  /** How many checkpoints were kept (the start included). */
  get checkpoints(): number {
    return this.#checkpoints.length;
  }

  /** The position just after the last envelope at or before `time` (0: before everything). */
  indexAt(time: number): number {
    let lo = 0;
    let hi = this.#times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#times[mid] as number) <= time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The time at a position (that of the last envelope folded in; the start for 0). */
  timeAt(index: number): number {
    return index === 0 ? this.bounds.start : (this.#times[Math.min(index, this.#times.length) - 1] as number);
  }

  /**
   * The tree after the first `index` envelopes. The answer is the source's own tree (valid until the next
   * seek): read it, do not keep it.
   */
  treeAt(index: number): ActorTree {
    const target = Math.max(0, Math.min(index, this.envelopes.length));
    const checkpoint = this.#checkpointBefore(target);
    const current = this.#current;
    if (!(current.index <= target && current.index >= checkpoint.index)) {
      this.#current = { index: checkpoint.index, tree: copyTree(checkpoint.tree) };
    }
    const now = this.#current;
    for (let i = now.index; i < target; i++) evolve(now.tree, this.envelopes[i] as Envelope);
    now.index = target;
    return now.tree;
  }

  #checkpointBefore(index: number): Checkpoint {
    let lo = 0;
    let hi = this.#checkpoints.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.#checkpoints[mid] as Checkpoint).index <= index) lo = mid;
      else hi = mid - 1;
    }
    return this.#checkpoints[lo] as Checkpoint;
  }

  /** The last `limit` envelopes of an actor at or before position `index`, oldest first. */
  recent(actor: string, index: number, limit: number): Envelope[] {
    const indices = this.#byActor.get(actor) ?? [];
    let end = indices.length;
    while (end > 0 && (indices[end - 1] as number) >= index) end--;
    return indices.slice(Math.max(0, end - limit), end).map((i) => this.envelopes[i] as Envelope);
  }

  /** Every span, by first event. */
  spans(): Span[] {
    if (!this.#spanList) {
      this.#spanList = [...this.#spans.values()].sort((a, b) => a.firstIndex - b.firstIndex);
    }
    return this.#spanList;
  }

  /** Events and failures per time bucket over the whole log (the minimap). */
  density(buckets: number): { start: number; end: number; events: number[]; failures: number[] } {
    const { start, end } = this.bounds;
    const events = new Array<number>(buckets).fill(0);
    const failures = new Array<number>(buckets).fill(0);
    const width = Math.max(1, end - start);
    const bucketOf = (time: number) => Math.min(buckets - 1, Math.floor(((time - start) / width) * buckets));
    for (const time of this.#times) events[bucketOf(time)]++;
    for (const span of this.spans()) if (span.outcome === "failed") failures[bucketOf(span.last)]++;
    return { start, end, events, failures };
  }

  #span(actor: string, envelope: Envelope, index: number): void {
    let span = this.#spans.get(actor);
    if (!span || (envelope.from === null && span.outcome !== "pending" && span.outcome !== "established")) {
      // A first snapshot of an actor whose earlier life ended: a new life under the same id.
      if (span) this.#spans.set(`${actor}#${span.firstIndex}`, span);
      span = {
        actor,
        node: envelope.node,
        machine: envelope.machine,
        path: envelope.path,
        first: envelope.time,
        last: envelope.time,
        firstIndex: index,
        lastIndex: index,
        outcome: "pending",
        state: envelope.to,
      };
      this.#spans.set(actor, span);
    }
    span.last = envelope.time;
    span.lastIndex = index;
    span.state = envelope.to;
    if (envelope.to === "established" && span.establishedAt === undefined) {
      span.establishedAt = envelope.time;
      span.outcome = "established";
    }
    const why = envelope.data.cause as { reason?: unknown; message?: unknown } | undefined;
    if (why && typeof why === "object") {
      span.cause = `${String(why.reason ?? "")}: ${String(why.message ?? "")}`;
    }
    if (isFinalState(envelope.machine, envelope.to)) {
      span.outcome = span.establishedAt === undefined ? "failed" : "closed";
    }
  }
}
