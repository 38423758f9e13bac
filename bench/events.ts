/**
 * bench/events: events per second into the event log (issue 4).
 *
 * Cases: the file log under each fsync policy, JetStream with pipelined acks, and the whole path from
 * XState (an actor whose every event changes state and context, recorded through `inspect`) into the
 * file log and into JetStream. Appends go in batches of 256 with 4 in flight, as the recorder sends them.
 * JetStream: a nats-server of its own (like the integration tests) unless `--nats nats://host:port`,
 * then a three-server cluster of its own with a stream of 3 replicas (the R3 cases, beside the single server).
 * The file logs go to a temporary directory, or under `--dir` (fsync costs depend on that disk).
 *   node_modules/.bin/bun bench/events.ts [--events N] [--nats nats://127.0.0.1:4222] [--dir DIR]
 *   node_modules/.bin/deno run -A bench/events.ts
 * Prints a human line per case, then one JSON line with every figure.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { assign, createActor, setup } from "xstate";
import { type FsyncPolicy, openFileEventLog } from "../adapters/event-log/file.ts";
import { openJetStreamEventLog } from "../adapters/event-log/jetstream.ts";
import type { Envelope } from "../events/envelope.ts";
import type { EventLog } from "../events/port.ts";
import { createRecorder } from "../events/recorder.ts";
import { type NatsServer, startNatsCluster, startNatsServer } from "../test/integration/nats/server.ts";
import { rssBytes, runtimeName } from "./measure.ts";

/** One measured case. */
interface EventsResult {
  name: string;
  perSecond: number;
  events: number;
  seconds: number;
  /** File log cases: the writes it made (records go out grouped, one write per turn or per 64 KiB). */
  writes?: number;
}

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const count = Number(argument("--events") ?? 200_000);
const natsUrl = argument("--nats");
const BATCH = 256;
const IN_FLIGHT = 4;

/** Session-like envelopes of node `bench`, seq from 1: what a busy LNS records. */
function envelopes(n: number): Envelope[] {
  return Array.from({ length: n }, (_, i) => ({
    v: 1,
    node: "bench",
    seq: i + 1,
    time: 1_700_000_000_000 + i,
    path: { destination: "127.0.0.1:1701", tunnel: 1 + (i % 500), session: 1 + (i % 60_000) },
    machine: "session",
    from: "waitConnect",
    to: "established",
    cause: "rx.ICCN",
    data: { peerSessionId: i & 0xffff, txConnectSpeed: 100_000_000, framingType: "sync", secret: "s3cret" },
  }));
}

/** Appends everything in batches with a few appends in flight; returns the elapsed seconds. */
async function appendAll(log: EventLog, all: Envelope[]): Promise<number> {
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < all.length; i += BATCH) {
    pending.push(log.append(all.slice(i, i + BATCH)));
    if (pending.length >= IN_FLIGHT) await pending.shift();
  }
  await Promise.all(pending);
  return (performance.now() - start) / 1000;
}

/** An actor whose every event changes its state and a context field, recorded into `log`. */
async function recordAll(log: EventLog, n: number): Promise<number> {
  const recorder = createRecorder({
    node: "bench",
    clock: {
      now: () => Date.now(),
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as number),
    },
    log,
    batchSize: BATCH,
    maxInFlight: IN_FLIGHT,
  });
  const machine = setup({
    types: {
      context: {} as {
        path: { system: string; destination: string; tunnel: number; session: number };
        n: number;
      },
    },
  }).createMachine({
    context: { path: { system: "bench", destination: "127.0.0.1:1701", tunnel: 1, session: 1 }, n: 0 },
    initial: "a",
    states: {
      a: { on: { t: { target: "b", actions: assign({ n: ({ context }) => context.n + 1 }) } } },
      b: { on: { t: { target: "a", actions: assign({ n: ({ context }) => context.n + 1 }) } } },
    },
  });
  const actor = createActor(machine, { inspect: recorder.inspect });
  const start = performance.now();
  actor.start();
  for (let i = 1; i < n; i++) {
    actor.send({ type: "t" });
    // Admission control: a node refuses new work while the recorder reports backpressure.
    if (i % 1000 === 0 && recorder.stats.backpressure) await recorder.flush();
  }
  await recorder.flush();
  const seconds = (performance.now() - start) / 1000;
  actor.stop();
  await recorder.close();
  if (recorder.stats.appended !== recorder.stats.recorded)
    throw new Error("bench/events: recorder lost events");
  return seconds;
}

const results: EventsResult[] = [];
function report(name: string, events: number, seconds: number, writes?: number): void {
  const perSecond = events / seconds;
  results.push({ name, perSecond, events, seconds, ...(writes !== undefined ? { writes } : {}) });
  console.log(
    `${runtimeName().padEnd(5)} ${name.padEnd(34)} ${Math.round(perSecond).toLocaleString("en-US").padStart(9)} events/s  (${events.toLocaleString("en-US")} in ${seconds.toFixed(2)} s${writes !== undefined ? `, ${writes.toLocaleString("en-US")} writes` : ""})`,
  );
}

const root = mkdtempSync(join(argument("--dir") ?? tmpdir(), "l2tp-bench-events-"));
const all = envelopes(count);
try {
  for (const fsync of ["never", "interval", "always"] as FsyncPolicy[]) {
    const n = fsync === "always" ? Math.min(count, 50_000) : count;
    const log = openFileEventLog(join(root, `file-${fsync}`), { fsync });
    const seconds = await appendAll(log, all.slice(0, n));
    await log.close();
    report(`file log, fsync ${fsync}`, n, seconds, log.stats.writes);
  }
  {
    const log = openFileEventLog(join(root, "recorded"), { fsync: "interval" });
    const seconds = await recordAll(log, count);
    await log.close();
    report("XState → recorder → file (interval)", count, seconds, log.stats.writes);
  }

  let server: NatsServer | undefined;
  try {
    if (!natsUrl) server = await startNatsServer({ storeDir: join(root, "nats") });
  } catch (error) {
    console.log(`jetstream cases skipped: ${(error as Error).message}`);
  }
  const url = natsUrl ?? server?.url;
  if (url) {
    try {
      await jetstreamCases(url, "", 1);
    } finally {
      await server?.dispose();
    }
  }
  // The same on a JetStream cluster of three servers, the stream with 3 replicas (every append is
  // stored on two servers at least before it is acknowledged). Only with servers of its own.
  if (!natsUrl && server) {
    const cluster = await startNatsCluster();
    try {
      await jetstreamCases(
        cluster.hosts.split(",").map((h) => `nats://${h}`),
        " R3 (3-server cluster)",
        3,
      );
    } finally {
      await cluster.dispose();
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
console.log(JSON.stringify({ bench: "events", runtime: runtimeName(), rssBytes: rssBytes(), results }));

/** The JetStream cases against `servers`: appends, the recorder's path, and the read back. */
async function jetstreamCases(servers: string | string[], label: string, replicas: number): Promise<void> {
  const tag = Date.now().toString(36);
  const open = async (stream: string, prefix: string) => {
    // A cluster elects its JetStream meta leader after its servers meet: retry until the stream is made.
    for (let attempt = 0; ; attempt++) {
      try {
        return await openJetStreamEventLog({ servers, stream, subjectPrefix: prefix, replicas });
      } catch (error) {
        if (attempt >= 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  const log = await open(`BENCH_${tag}`, `bench_${tag}`);
  report(`jetstream${label}, window 256`, count, await appendAll(log, all));
  await log.close();
  const recorded = await open(`BENCHR_${tag}`, `benchr_${tag}`);
  report(`XState → recorder → jetstream${label}`, count, await recordAll(recorded, count));
  const start = performance.now();
  let read = 0;
  for await (const _ of recorded.read({ node: "bench" })) read++;
  report(`jetstream${label} read (ordered consumer)`, read, (performance.now() - start) / 1000);
  await recorded.close();
  if (natsUrl) {
    // Leave a shared server as it was.
    const { connect } = await import("@nats-io/transport-node");
    const { jetstreamManager } = await import("@nats-io/jetstream");
    const nc = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(`BENCH_${tag}`);
    await jsm.streams.delete(`BENCHR_${tag}`);
    await nc.close();
  }
}
