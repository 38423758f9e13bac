/**
 * bench/operator: what the operator's surface costs a node (issue 11).
 *
 * A LAC and an LNS (real actors, the in-memory network and the simulated clock, so the figures are CPU
 * alone, without UDP's noise) set up N calls over T tunnels (no PPP), then:
 * - ended records: the LAC closes the destination (a StopCCN per tunnel) and both nodes keep every
 *   ended tunnel and session for the destruct timeout, at most 10,000 each (the default); the reference
 *   is the same close with none kept (maxEndedRecords 0), in the same run, rounds alternated. Reported:
 *   the close's CPU time per call, and the heap a kept record takes (a copy of the records weighed
 *   after a GC; the nodes' own heap swings by more than the records from one pair to the next).
 * - a scrape: /metrics rendered from an LNS holding N calls, against the reference of the snapshot alone
 *   (its input, what `l2tp show` reads too), and one `show sessions` answer.
 *
 *   node_modules/.bin/bun bench/operator.ts [--calls N] [--tunnels T] [--rounds R]
 * Prints a human line per figure, then one JSON line.
 */
import { parseArgs } from "node:util";
import type { NodeConfig } from "../actors/config.ts";
import { createNode, type L2tpNode } from "../actors/node.ts";
import { createNodeMetrics } from "../adapters/admin/metrics.ts";
import { answerShow } from "../adapters/admin/show.ts";
import { SimulatedClock } from "../adapters/clock/simulated.ts";
import { SeededRandom } from "../adapters/random/seeded.ts";
import { MemoryNetwork } from "../adapters/udp/memory.ts";
import { runtimeName } from "./measure.ts";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "20000" },
    tunnels: { type: "string", default: "20" },
    rounds: { type: "string", default: "3" },
  },
});
const CALLS = Number(values.calls);
const TUNNELS = Number(values.tunnels);
const ROUNDS = Number(values.rounds);
const LNS = { address: "10.0.0.1", port: 1701 };

const gc = (): void => (globalThis as { Bun?: { gc(force: boolean): void } }).Bun?.gc(true);
const heapUsed = (): number => {
  gc();
  return process.memoryUsage().heapUsed;
};

/** Two nodes with N established calls. */
async function pair(extra: Partial<NodeConfig>) {
  const clock = new SimulatedClock();
  const random = new SeededRandom(7);
  const network = new MemoryNetwork({ clock, random });
  const perTunnel = Math.ceil(CALLS / TUNNELS);
  const lns = createNode(
    {
      name: "lns",
      hostName: "lns.test",
      maxSessionsPerTunnel: 65535,
      destinations: [{ address: "10.0.0.2", secret: "s3cret" }],
      ...extra,
    },
    { transport: network.bind(LNS.address, LNS.port), clock, random },
  );
  const lac = createNode(
    {
      name: "lac",
      hostName: "lac.test",
      maxSessionsPerTunnel: perTunnel,
      maxTunnels: TUNNELS,
      destinations: [{ ...LNS, secret: "s3cret", maxSessionsPerTunnel: perTunnel, maxTunnels: TUNNELS }],
      ...extra,
    },
    { transport: network.bind("10.0.0.2", 1701), clock, random },
  );
  let done = 0;
  for (let i = 0; i < CALLS; i++)
    void lac.openSession({ destination: LNS }).then(() => {
      done++;
    });
  while (done < CALLS) await run(clock, 10);
  return { clock, lac, lns };
}

async function run(clock: SimulatedClock, ms: number): Promise<void> {
  clock.advance(ms);
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Closes the destination and runs until both nodes are empty; the CPU it took, ms. */
async function closeAll(clock: SimulatedClock, lac: L2tpNode, lns: L2tpNode): Promise<number> {
  const t0 = process.cpuUsage();
  lac.closeDestination(LNS);
  while (
    lac.snapshot({ sessions: false }).registries.sessions > 0 ||
    lns.snapshot({ sessions: false }).registries.sessions > 0
  )
    await run(clock, 10);
  const used = process.cpuUsage(t0);
  return (used.user + used.system) / 1000;
}

// A warm-up close (not reported): the first one runs while the JIT compiles.
{
  const warm = await pair({});
  await closeAll(warm.clock, warm.lac, warm.lns);
}
const rounds: { kept: number; closeMsKept: number; closeMsNone: number; bytesPerRecord: number }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const none = await pair({ maxEndedRecords: 0 });
  const closeMsNone = await closeAll(none.clock, none.lac, none.lns);
  const kept = await pair({});
  const closeMsKept = await closeAll(kept.clock, kept.lac, kept.lns);
  const records = [kept.lac, kept.lns].flatMap((node) => {
    const ended = node.snapshot({ ended: true }).ended;
    return [...(ended?.sessions ?? []), ...(ended?.tunnels ?? [])];
  });
  // The records' weight: a copy of them made through JSON (fresh objects and strings; a structuredClone
  // weighed 30 bytes a record on Bun, which cannot be), held, weighed against the heap without it (the
  // nodes' own heap swings by more than the records between two pairs, so pairs are not compared).
  const before = heapUsed();
  const copy = JSON.parse(JSON.stringify(records)) as unknown[];
  const bytesPerRecord = (heapUsed() - before) / copy.length;
  rounds.push({ kept: copy.length, closeMsKept, closeMsNone, bytesPerRecord });
}

/**
 * Median CPU time of `op` over `times` runs, ms (each run is milliseconds long: no batching; CPU, not
 * wall time, as the machine is shared).
 */
function timed(name: string, op: () => unknown, times = 15): { name: string; ms: number } {
  for (let i = 0; i < 3; i++) op();
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = process.cpuUsage();
    op();
    const used = process.cpuUsage(t0);
    samples.push((used.user + used.system) / 1000);
  }
  samples.sort((a, b) => a - b);
  return { name, ms: samples[Math.floor(times / 2)] as number };
}

const live = await pair({});
const metrics = createNodeMetrics(live.clock);
const scrape = timed("render /metrics", () => metrics.render(live.lns.snapshot({ sessions: true })));
const snapshotOnly = timed("snapshot with sessions (reference)", () => live.lns.snapshot({ sessions: true }));
const taken = live.lns.snapshot({ sessions: true });
const renderOnly = timed("render from a taken snapshot", () => metrics.render(taken));
const show = timed("show sessions --limit 100", () =>
  answerShow("sessions", new URLSearchParams("limit=100"), () =>
    live.lns.snapshot({ sessions: true, ended: true }),
  ),
);

const us = (ms: number) => ((ms * 1000) / CALLS).toFixed(2);
for (const r of rounds)
  console.log(
    `${runtimeName().padEnd(5)} close ${CALLS} calls / ${TUNNELS} tunnels: ${us(r.closeMsKept)} µs CPU per call keeping ${r.kept} ended records, ${us(r.closeMsNone)} µs keeping none (reference); ${Math.round(r.bytesPerRecord)} bytes of heap per record`,
  );
for (const m of [scrape, snapshotOnly, renderOnly, show])
  console.log(
    `${runtimeName().padEnd(5)} ${m.name.padEnd(36)} ${m.ms.toFixed(1)} ms with ${CALLS} live sessions`,
  );
console.log(
  JSON.stringify({
    bench: "operator",
    runtime: runtimeName(),
    calls: CALLS,
    tunnels: TUNNELS,
    rounds,
    scrapeMs: scrape.ms,
    snapshotMs: snapshotOnly.ms,
    renderOnlyMs: renderOnly.ms,
    showMs: show.ms,
  }),
);
