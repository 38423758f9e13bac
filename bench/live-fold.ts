/**
 * The live tree's fold alone, on a real lab's envelopes: what a watching page costs the node per
 * envelope it records, without the lab's own work around it (bench/inspector.ts figure 3 measures the
 * set-up rate, swayed by whatever else the shared machine runs; this is the inspector's part alone).
 *
 * A lab (L2TP calls, no PPP: the lab of figure 3, default 20,000 calls on 20 tunnels, a window of 2,000)
 * runs once with the recorders' batches captured as they are handed to the log; then they are handed,
 * batch by batch, to a fresh LiveSource with one stream subscriber (a page's stream, its writes dropped)
 * several times. Reference: `replay` of the same envelopes (the fold with no counts, no ring, no
 * subscriber, no actor dropped).
 *
 * Noise: on the shared 2-core machine the same code's fold varied 77-114 ms (min of 15) from run to
 * run, so a change of 10% needs many alternated runs; the profile of a watched lab (the inspector's
 * samples against the process's) was the steadier judge of the fold's changes.
 *
 * Run: node_modules/.bin/bun bench/live-fold.ts [--calls N] [--rounds N]
 * Prints one line and one JSON line.
 */
import type { ServerResponse } from "node:http";
import process from "node:process";
import { parseArgs } from "node:util";
import { StreamSubscriber } from "../adapters/inspector/stream.ts";
import type { Envelope } from "../events/envelope.ts";
import { replay } from "../events/replay.ts";
import { liveFedByHand } from "../test/support/live-fed.ts";
import { median, round, runtimeName } from "./measure.ts";
import { memoryLab } from "./memory-lab.ts";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "20000" },
    rounds: { type: "string", default: "7" },
  },
});
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);

const batches: (readonly Envelope[])[] = [];
await memoryLab(CALLS, {
  recording: (recording) => {
    recording.watch((batch) => batches.push([...batch]));
  },
});
const envelopes = batches.flat();

/** A page's response: its writes dropped. */
function nullResponse(): ServerResponse {
  return { writeHead() {}, write: () => true, on() {}, end() {} } as unknown as ServerResponse;
}

const nodes = [...new Set(envelopes.map((e) => e.node))];
const liveMs: number[] = [];
/** The process's CPU time over each live fold: less swayed than its duration by what else the machine runs. */
const liveCpuMs: number[] = [];
const replayMs: number[] = [];
for (let r = 0; r <= ROUNDS; r++) {
  const { live, hand: listener } = liveFedByHand(nodes);
  const from = Object.fromEntries(nodes.map((name) => [name, 0]));
  await live.subscribe(new StreamSubscriber(nullResponse(), {}, from), from);
  const cpu0 = process.cpuUsage();
  let t0 = performance.now();
  for (const batch of batches) listener(batch);
  live.tree(); // folds what waits (the tree folds when asked, adapters/inspector/live.ts)
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  live.stop();
  t0 = performance.now();
  replay(envelopes);
  const reference = performance.now() - t0;
  if (r > 0) {
    liveMs.push(ms);
    liveCpuMs.push((cpu.user + cpu.system) / 1000);
    replayMs.push(reference);
  }
}
const perEnvelope = (ms: number[]) => round((median(ms) * 1000) / envelopes.length, 3);
console.log(
  `the live tree's fold of a lab's ${envelopes.length.toLocaleString("en-US")} envelopes (${CALLS.toLocaleString("en-US")} calls, ${batches.length.toLocaleString("en-US")} batches) with a stream open: ${round(median(liveMs))} ms, ${perEnvelope(liveMs)} µs an envelope (median of ${ROUNDS}; min ${round(Math.min(...liveMs))} ms), CPU ${round(median(liveCpuMs))} ms; replay's fold of the same (reference) ${round(median(replayMs))} ms, ${perEnvelope(replayMs)} µs`,
);
console.log(
  JSON.stringify({
    bench: "live-fold",
    runtime: runtimeName(),
    envelopes: envelopes.length,
    batches: batches.length,
    liveMs: liveMs.map((ms) => round(ms)),
    liveCpuMs: liveCpuMs.map((ms) => round(ms)),
    replayMs: replayMs.map((ms) => round(ms)),
    microsPerEnvelope: perEnvelope(liveMs),
    replayMicrosPerEnvelope: perEnvelope(replayMs),
  }),
);
process.exit(0);
