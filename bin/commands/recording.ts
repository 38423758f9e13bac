/**
 * The event log of the running product, shared by `l2tp run` and `l2tp lab`: one log opened from an
 * `--events` address (`file:DIR`, `memory:`, `nats://host:port[/STREAM]`), one recorder per node on it
 * (XState's `inspect` of every actor of that node, located by the node's own registry), and admission
 * control (`admit`: no new tunnels or sessions while the recorder reports backpressure). Closing
 * flushes every recorder (bounded: an unreachable log cannot hold the exit forever), closes the log,
 * and says how many events were recorded and where.
 */

import type { InspectionEvent } from "xstate";
import type { Clock } from "../../actors/ports.ts";
import { openEventLog } from "../../adapters/event-log/index.ts";
import type { Envelope } from "../../events/envelope.ts";
import type { EventLog } from "../../events/port.ts";
import {
  createRecorder,
  type EnvelopeFeed,
  type LocatingNode,
  pathOfNode,
  type Recorder,
} from "../../events/recorder.ts";

/**
 * Envelopes queued per node before new work is refused. A burst is not a log that cannot keep up:
 * thousands of calls placed at once, or a full tunnel (65,535 sessions) closing in one step, queue tens
 * of thousands of envelopes that a healthy log stores within a second; only a log that stays behind (or
 * is unreachable) should trip admission control. 100,000 envelopes are a few tens of MB.
 */
export const DEFAULT_HIGH_WATER = 100_000;

/**
 * How long the oldest envelope may wait for the log before new work is refused: a log that stays
 * behind, or is unreachable (a JetStream outage leaves appends pending, not failed), trips admission
 * control within this, long before the queue bound.
 */
export const DEFAULT_MAX_LAG_MS = 2000;

/** Where `l2tp run` and `l2tp lab` record unless told otherwise. */
export const DEFAULT_EVENTS = "file:./var/events";

/** The recorder of one node, and the hooks its `createNode` takes. */
export interface NodeRecording {
  readonly node: string;
  readonly recorder: Recorder;
  /** For `createNode(config, { ...deps, inspect, admit })`. */
  readonly inspect: (event: InspectionEvent) => void;
  /** Admission control: false while the log cannot keep up. */
  readonly admit: () => boolean;
  /** Gives the recorder the node's registry (call right after `createNode`). */
  attach(node: LocatingNode): void;
}

/** What a recording did, for the closing line. */
export interface RecordingSummary {
  /** The log, for people ("file:/abs/dir", "memory:", "nats nats://127.0.0.1:4222/L2TP"). */
  where: string;
  /** Envelopes recorded, per node. */
  recorded: Record<string, number>;
  /** Envelopes the log confirmed (all of them unless the log was unreachable at the end). */
  stored: number;
  /** Recorded but not confirmed when the close gave up waiting. */
  unstored: number;
  /** The longest any recorder's queue has been. */
  maxQueued: number;
  /** How many times backpressure turned on (new work refused). */
  backpressureSpells: number;
  /** Failed appends (each was retried). */
  appendFailures: number;
}

/** An open event log with the recorders of the nodes that write to it (and their envelopes as a feed). */
export interface Recording extends EnvelopeFeed {
  readonly log: EventLog;
  readonly where: string;
  /** Makes the recorder of node `name` (one per node). */
  forNode(name: string): NodeRecording;
  /** Flushes every recorder (up to `flushTimeoutMs`, default 10 s), closes the log; idempotent. */
  close(flushTimeoutMs?: number): Promise<RecordingSummary>;
}

/** Options of a recording. */
export interface RecordingOptions {
  clock: Clock;
  /** Told when a node's recorder turns backpressure on or off. */
  onBackpressure?: (node: string, on: boolean) => void;
  /** Queue length at which new work is refused (default DEFAULT_HIGH_WATER envelopes per node). */
  highWater?: number;
  /** Age of the oldest unstored envelope at which new work is refused (default DEFAULT_MAX_LAG_MS). */
  maxLagMs?: number;
}

/** Opens the log an `--events` address names and returns the recording on it. */
export async function openRecording(address: string, options: RecordingOptions): Promise<Recording> {
  // The recorder hands the log up to 4 batches of 256 at once: JetStream may have all of them in flight.
  const log = await openEventLog(address, { nats: { window: 1024 } });
  const nodes: NodeRecording[] = [];
  const spells = { count: 0 };
  const watchers = new Set<(batch: readonly Envelope[]) => void>();
  let closing: Promise<RecordingSummary> | undefined;

  const forNode = (name: string): NodeRecording => {
    if (nodes.some((n) => n.node === name))
      throw new Error(`event log ${log.description}: node ${name} is recorded twice`);
    let located: LocatingNode | undefined;
    const recorder = createRecorder({
      node: name,
      clock: options.clock,
      log,
      pathOf: pathOfNode(() => located),
      highWater: options.highWater ?? DEFAULT_HIGH_WATER,
      maxLagMs: options.maxLagMs ?? DEFAULT_MAX_LAG_MS,
      onBackpressure: (on) => {
        if (on) spells.count++;
        options.onBackpressure?.(name, on);
      },
      onBatch: (batch) => {
        for (const watcher of watchers) watcher(batch);
      },
    });
    const recording: NodeRecording = {
      node: name,
      recorder,
      inspect: (event) => recorder.inspect(event),
      admit: () => !recorder.stats.backpressure,
      attach(node) {
        located = node;
      },
    };
    nodes.push(recording);
    return recording;
  };

  const summarize = (): RecordingSummary => {
    const recorded: Record<string, number> = {};
    let stored = 0;
    let total = 0;
    let maxQueued = 0;
    let appendFailures = 0;
    for (const n of nodes) {
      const stats = n.recorder.stats;
      recorded[n.node] = stats.recorded;
      total += stats.recorded;
      stored += stats.appended;
      maxQueued = Math.max(maxQueued, stats.maxQueued);
      appendFailures += stats.appendFailures;
    }
    return {
      where: log.description,
      recorded,
      stored,
      unstored: total - stored,
      maxQueued,
      backpressureSpells: spells.count,
      appendFailures,
    };
  };

  return {
    log,
    where: log.description,
    forNode,
    watch(listener) {
      watchers.add(listener);
      return () => watchers.delete(listener);
    },
    handedSeq: (name) => nodes.find((n) => n.node === name)?.recorder.handedSeq ?? 0,
    entered: (name, actorRef) => nodes.find((n) => n.node === name)?.recorder.entered(actorRef),
    close(flushTimeoutMs = 10_000) {
      closing ??= (async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const gaveUp = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, flushTimeoutMs);
        });
        await Promise.race([Promise.all(nodes.map((n) => n.recorder.close())), gaveUp]);
        clearTimeout(timer);
        // Whatever the log did not confirm in time is counted as unstored; no retry may hold the exit.
        for (const n of nodes) n.recorder.stop();
        const summary = summarize();
        await log.close().catch(() => undefined);
        return summary;
      })();
      return closing;
    },
  };
}

/** The closing line: "12,345 events recorded (lac 6,000, lns 6,345) in file:/abs/dir". */
export function summaryText(summary: RecordingSummary): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const total = Object.values(summary.recorded).reduce((a, b) => a + b, 0);
  const perNode = Object.entries(summary.recorded)
    .map(([node, count]) => `${node} ${n(count)}`)
    .join(", ");
  const where = summary.where === "memory:" ? "memory: (gone at exit)" : summary.where;
  const parts = [`${n(total)} events recorded${perNode ? ` (${perNode})` : ""} in ${where}`];
  if (summary.unstored > 0)
    parts.push(`${n(summary.unstored)} NOT stored (the log did not confirm them in time)`);
  if (summary.backpressureSpells > 0)
    parts.push(`backpressure ${summary.backpressureSpells}× (new tunnels and sessions refused meanwhile)`);
  return parts.join("; ");
}
