/**
 * bench/flood (issue 12, item 3): what a flood of SCCRQs that never complete their handshake costs the
 * node and its legitimate peers. The lab's LNS runs in a child (bench/lns-child.ts --open: it also
 * accepts any peer that knows the secret, as the example config's `address: any`); a flooder child
 * sends 10,000 SCCRQs from distinct source ports spread over 40 loopback addresses (127.0.1.x) and never
 * answers; meanwhile the lab's LAC (this process, 127.0.0.2) sets up calls. Measured:
 * - the LAC's set-up rate during each flood against a round without one, measured just before, and
 *   against the mean of that round and the one after the flood (the references in the same run: the
 *   machine is shared and its speed varies);
 * - the LNS's peak RSS, its RSS just after each flood and once it has settled after a full collection
 *   (settledRss: it must settle within 10% of where the first flood left it), the heap live after that
 *   collection, and whether every registry is empty
 *   again (no half-open tunnel, no tunnel, no destination but the lab LAC's);
 * - what the flooder got back: SCCRPs per SCCRQ (amplification) and StopCCN 2/4 refusals.
 *
 *   node_modules/.bin/bun bench/flood.ts [--floods 10] [--sccrqs 10000] [--addresses 40]
 *                                        [--sessions 5000] [--tunnels 50] [--max-half-open N]
 *                                        [--profile DIR]
 *
 * Prints a human line per flood and at the end, and one JSON line.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { cryptoRandom } from "../adapters/random/index.ts";
import { bindUdp, type UdpTransport } from "../adapters/udp/index.ts";
import { runLab } from "../bin/commands/lab.ts";
import { decodeControl, encodeControl } from "../protocol/l2tp/messages.ts";
import { runtimeCommand, startChildLns } from "./lns-child-client.ts";
import { runtimeName } from "./measure.ts";

const { values } = parseArgs({
  options: {
    floods: { type: "string", default: "10" },
    sccrqs: { type: "string", default: "10000" },
    addresses: { type: "string", default: "40" },
    sessions: { type: "string", default: "5000" },
    tunnels: { type: "string", default: "50" },
    // The LNS's node-wide bound on half-open tunnels (default: the node's own).
    "max-half-open": { type: "string" },
    // A directory for the LNS child's CPU profile (Bun: .cpuprofile and Markdown).
    profile: { type: "string" },
    // The flooder child's mode: the LNS's port.
    flooder: { type: "string" },
  },
});

/** What the flooder tells the benchmark, one JSON line each. */
interface FloodReport {
  sent: number;
  sccrps: number;
  sccrpBytes: number;
  sccrqBytes: number;
  stopCcns: number;
  refusedNoResources: number;
}

if (values.flooder !== undefined) {
  await flooder(Number(values.flooder), Number(values.sccrqs), Number(values.addresses));
} else {
  await benchmark();
}

/**
 * The flooder: one socket per SCCRQ (distinct ports over `addresses` addresses), each sends one SCCRQ
 * and never answers. Prints `{"ready":true}` once its sockets are bound, floods on a `go` line, prints
 * its report 12 s later (the LNS's answers counted), and keeps the sockets open (no ICMP port-unreachable for the LNS's retransmissions) until stdin closes.
 */
async function flooder(port: number, count: number, addresses: number): Promise<void> {
  const lns = { address: "127.0.0.1", port };
  const report: FloodReport = {
    sent: 0,
    sccrps: 0,
    sccrpBytes: 0,
    sccrqBytes: 0,
    stopCcns: 0,
    refusedNoResources: 0,
  };
  const sockets: UdpTransport[] = [];
  const heard = (packet: Uint8Array) => {
    const d = decodeControl(packet);
    const m = d.ok ? d.value.message : null;
    if (m?.type === "SCCRP") {
      report.sccrps++;
      report.sccrpBytes += packet.length;
    } else if (m?.type === "StopCCN") {
      report.stopCcns++;
      if (m.avps.resultCode?.result === 2 && m.avps.resultCode.error === 4) report.refusedNoResources++;
    }
  };
  // Every socket is bound before the flood (binding 10,000 sockets takes seconds of CPU that is the
  // flooder's, not the LNS's); then the SCCRQs go out 500 per event-loop turn.
  const sccrqs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const socket = await bindUdp(
      { address: `127.0.1.${1 + (i % addresses)}`, port: 0 },
      { receiveBufferBytes: 65_536 },
    );
    sockets.push(socket);
    socket.onReceive(heard);
    sccrqs.push(
      encodeControl(
        { tunnelId: 0, sessionId: 0, ns: 0, nr: 0 },
        {
          type: "SCCRQ",
          avps: {
            protocolVersion: { version: 1, revision: 0 },
            hostName: "flood",
            framingCapabilities: { sync: true, async: true },
            assignedTunnelId: 1 + (i % 65_535),
            challenge: cryptoRandom.bytes(16),
          },
        },
      ).slice(),
    );
  }
  const commands = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  await commands.next(); // "go"
  for (let i = 0; i < count; i++) {
    sockets[i].send(sccrqs[i], lns);
    report.sent++;
    report.sccrqBytes += sccrqs[i].length;
    if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
  }
  // The LNS answers within its handshake life; what came back after that is counted too.
  await new Promise((resolve) => setTimeout(resolve, 12_000));
  process.stdout.write(`${JSON.stringify(report)}\n`);
  // The benchmark closes stdin when the flood is over.
  while (!(await commands.next()).done) {}
  await Promise.all(sockets.map((s) => s.close()));
  process.exit(0);
}

/** Starts the flooder child and, once its sockets are bound, the flood; its report comes later. */
async function startFlood(port: number): Promise<{ child: ChildProcess; report: Promise<FloodReport> }> {
  const [cmd, args] = runtimeCommand("./flood.ts", [
    "--flooder",
    String(port),
    "--sccrqs",
    values.sccrqs,
    "--addresses",
    values.addresses,
  ]);
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error("bench/flood: the flooder exited before it was ready");
  child.stdin?.write("go\n");
  const report = lines.next().then((line) => {
    if (line.done) throw new Error("bench/flood: the flooder exited without its report");
    return JSON.parse(line.value) as FloodReport;
  });
  return { child, report };
}

async function benchmark(): Promise<void> {
  const floods = Number(values.floods);
  const sessions = Number(values.sessions);
  const tunnels = Number(values.tunnels);
  const lns = await startChildLns(values.profile, undefined, [
    "--open",
    ...(values["max-half-open"] ? ["--max-half-open", values["max-half-open"]] : []),
  ]);
  const port = lns.lab.peer.port;
  type Registries = {
    registries: Record<string, number>;
    stats: Record<string, number>;
    destinations: unknown[];
    rss: number;
    peakRss: number;
  };
  const problems: string[] = [];
  const registries = async () => (await lns.ask("registries")) as unknown as Registries;
  const round = async () => {
    const report = await runLab({ sessions, tunnels, holdMs: 0, window: 4000, lns: lns.settling });
    // The lab counts the LNS's tunnels by the SCCRPs it sent, the flood's among them: only failed calls count here.
    if (report.failed > 0) {
      problems.push(
        `${report.failed} calls failed (${JSON.stringify(report.failures)}), ${report.tunnelsSeenOnLns} tunnels seen on the LNS: ${report.problems.join("; ")}`,
      );
    }
    return report.setupPerSecond;
  };
  const mib = (bytes: number) => +(bytes / 2 ** 20).toFixed(1);
  const n = (x: number) => Math.round(x).toLocaleString("en-US");

  // A round to compile the code, then the reference without a flood.
  await round();
  const start = await registries();
  // The heap live after a full collection (lns-child's `heap`: bun:jsc; on Deno only with --expose-gc).
  const heap = async () => ({
    heapUsed: (await lns.ask("heap")).heapSize as number,
    collected: "Bun" in globalThis,
  });
  const heapStart = await heap();
  const results: {
    flood: number;
    withoutPerSecond: number;
    duringPerSecond: number;
    rssAfterMiB: number;
    rssSettledMiB: number;
    heapLiveMiB: number;
    settledAfterMs: number;
    peakRssMiB: number;
    emptyAfterMs: number;
    udpDrops: number;
    flooder: FloodReport;
  }[] = [];
  for (let f = 1; f <= floods; f++) {
    const withoutPerSecond = await round();
    const dropsBefore = udpReceiveBufferDrops();
    const { child, report } = await startFlood(port);
    const duringPerSecond = await round();
    const flooder = await report;
    // Until the LNS has forgotten every half-open tunnel (their short life) and holds no tunnel.
    const began = performance.now();
    let now = await registries();
    while (
      (now.registries.halfOpenTunnels > 0 || now.registries.tunnels > 0) &&
      performance.now() - began < 60_000
    ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      now = await registries();
    }
    const emptyAfterMs = performance.now() - began;
    const settled = await settledRss(registries, heap);
    const udpDrops = udpReceiveBufferDrops() - dropsBefore;
    child.stdin?.end();
    await new Promise((resolve) => child.on("exit", resolve));
    const result = {
      flood: f,
      withoutPerSecond,
      duringPerSecond,
      rssAfterMiB: mib(now.rss),
      rssSettledMiB: mib(settled.rss),
      heapLiveMiB: mib(settled.heapUsed),
      settledAfterMs: settled.afterMs,
      peakRssMiB: mib(now.peakRss),
      emptyAfterMs: Math.round(emptyAfterMs),
      udpDrops,
      flooder,
    };
    results.push(result);
    console.log(
      `flood ${f}/${floods}: ${n(flooder.sent)} SCCRQs, legit set-up ${n(duringPerSecond)}/s during against ${n(withoutPerSecond)}/s without ` +
        `(${Math.round((100 * duringPerSecond) / withoutPerSecond)}%); LNS RSS ${result.rssAfterMiB} MiB after (peak ${result.peakRssMiB}), ` +
        `${result.rssSettledMiB} MiB settled after a full collection (${n(settled.afterMs)} ms), heap live ${result.heapLiveMiB} MiB, ` +
        `half-open gone ${n(emptyAfterMs)} ms after the legit round; flooder got ${n(flooder.sccrps)} SCCRPs ` +
        `(${(flooder.sccrps / flooder.sent).toFixed(2)} per SCCRQ) and ${n(flooder.refusedNoResources)} StopCCN 2/4; ` +
        `${n(udpDrops)} datagrams dropped by full receive buffers`,
    );
  }
  // The reference after the last flood: each flood's round is bracketed by a round without one before
  // and after it (the machine's speed drifts from round to round; the mean of both is the fairer bar).
  const withoutAfterLast = await round();
  const end = await registries();
  const heapEnd = await heap();
  await lns.lab.close();
  const ratios = results.map((r) => r.duringPerSecond / r.withoutPerSecond);
  const bracketed = results.map(
    (r, i) =>
      r.duringPerSecond / ((r.withoutPerSecond + (results[i + 1]?.withoutPerSecond ?? withoutAfterLast)) / 2),
  );
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const first = results[0];
  const last = results[results.length - 1];
  // The lab's LAC binds a new port each round: its destinations (127.0.0.2:PORT) idle out after 600 s.
  const floodDestinations = (end.destinations as { key: string }[]).filter(
    (d) => !d.key.startsWith("127.0.0.2:"),
  );
  const summary = {
    bench: "flood",
    runtime: runtimeName(),
    floods,
    sccrqsPerFlood: Number(values.sccrqs),
    addresses: Number(values.addresses),
    sessions,
    tunnels,
    maxHalfOpen: values["max-half-open"] ? Number(values["max-half-open"]) : "default",
    duringOverWithoutMedian: +median(ratios).toFixed(3),
    duringOverWithoutMin: +Math.min(...ratios).toFixed(3),
    duringOverBracketMedian: +median(bracketed).toFixed(3),
    duringOverBracketMin: +Math.min(...bracketed).toFixed(3),
    lnsRssStartMiB: mib(start.rss),
    lnsRssAfterFirstFloodMiB: first.rssAfterMiB,
    lnsRssAfterLastFloodMiB: last.rssAfterMiB,
    lnsRssSettledFirstMiB: first.rssSettledMiB,
    lnsRssSettledLastMiB: last.rssSettledMiB,
    lnsRssSettledMinMiB: Math.min(...results.map((r) => r.rssSettledMiB)),
    lnsRssSettledMaxMiB: Math.max(...results.map((r) => r.rssSettledMiB)),
    lastOverFirst: +(last.rssSettledMiB / first.rssSettledMiB).toFixed(3),
    lnsPeakRssMiB: Math.max(...results.map((r) => r.peakRssMiB)),
    lnsHeapLiveStartMiB: mib(heapStart.heapUsed),
    lnsHeapLiveEndMiB: mib(heapEnd.heapUsed),
    heapCollected: heapEnd.collected,
    sccrpsPerSccrq: +(
      results.reduce((a, r) => a + r.flooder.sccrps, 0) / results.reduce((a, r) => a + r.flooder.sent, 0)
    ).toFixed(3),
    byteAmplification: +(
      results.reduce((a, r) => a + r.flooder.sccrpBytes, 0) /
      results.reduce((a, r) => a + r.flooder.sccrqBytes, 0)
    ).toFixed(3),
    registriesAtEnd: end.registries,
    floodDestinationsAtEnd: floodDestinations.length,
    udpReceiveBufferDrops: results.reduce((a, r) => a + r.udpDrops, 0),
    halfOpenRefused: end.stats.halfOpenRefused,
    problems,
    results,
  };
  const empty =
    end.registries.halfOpenTunnels === 0 &&
    end.registries.tunnels === 0 &&
    end.registries.sessions === 0 &&
    floodDestinations.length === 0;
  console.log(
    `${summary.runtime} flood x${floods}: legit set-up during/without median ${Math.round(100 * summary.duringOverWithoutMedian)}% ` +
      `(min ${Math.round(100 * summary.duringOverWithoutMin)}%), against the mean of the rounds before and after ${Math.round(100 * summary.duringOverBracketMedian)}% ` +
      `(min ${Math.round(100 * summary.duringOverBracketMin)}%); LNS RSS start ${summary.lnsRssStartMiB} MiB, settled after flood 1 ${summary.lnsRssSettledFirstMiB}, ` +
      `after flood ${floods} ${summary.lnsRssSettledLastMiB} (x${summary.lastOverFirst}; ${summary.lnsRssSettledMinMiB}-${summary.lnsRssSettledMaxMiB} over the floods), ` +
      `just after each flood ${Math.min(...results.map((r) => r.rssAfterMiB))}-${Math.max(...results.map((r) => r.rssAfterMiB))}, peak ${summary.lnsPeakRssMiB} MiB; ` +
      `heap live ${summary.lnsHeapLiveStartMiB} MiB before the floods, ${summary.lnsHeapLiveEndMiB} after${heapEnd.collected ? " (full collections)" : " (not collected: no gc on this runtime)"}; ` +
      `${summary.sccrpsPerSccrq} SCCRPs per SCCRQ (bytes x${summary.byteAmplification}); registries ${empty ? "empty" : `NOT EMPTY ${JSON.stringify(end.registries)} ${JSON.stringify(floodDestinations)}`}; ` +
      `${n(summary.udpReceiveBufferDrops)} datagrams dropped by full receive buffers (kernel, all sockets)`,
  );
  console.log(JSON.stringify(summary));
  if (problems.length > 0) console.log(`PROBLEMS: ${problems.join(" | ")}`);
  if (!empty || problems.length > 0) process.exitCode = 1;
}

/**
 * The LNS's RSS once it has given back what the flood left. RSS just after a flood says when the
 * runtime last collected, not what the node holds: an idle node keeps the flood's garbage, and the
 * allocator its freed pages, until its collector and scavenger run on their own (measured on Bun 1.4:
 * RSS flat for 7-8 s after a flood, then 40-60 MiB lower within 2 s; after some floods not within 20 s),
 * while the heap live after a full collection stays at 14-16 MiB from flood to flood. So the LNS child
 * runs a full collection (`heap`: Bun.gc; other runtimes none), and RSS is read each second until three
 * readings agree within 1 MiB (the allocator has returned the freed pages), at most 15 s.
 */
async function settledRss(
  ask: () => Promise<{ rss: number }>,
  collect: () => Promise<{ heapUsed: number }>,
): Promise<{ rss: number; afterMs: number; heapUsed: number }> {
  const began = performance.now();
  const { heapUsed } = await collect();
  const readings: number[] = [];
  while (performance.now() - began < 15_000) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    readings.push((await ask()).rss);
    const last = readings.slice(-3);
    if (last.length === 3 && Math.max(...last) - Math.min(...last) < 2 ** 20) break;
  }
  return { rss: readings[readings.length - 1], afterMs: Math.round(performance.now() - began), heapUsed };
}

/** Datagrams the kernel dropped for a full receive buffer, on every socket (Linux; 0 elsewhere). */
function udpReceiveBufferDrops(): number {
  try {
    const lines = readFileSync("/proc/net/snmp", "utf8")
      .split("\n")
      .filter((l) => l.startsWith("Udp:"));
    const [names, numbers] = lines.map((l) => l.trim().split(/\s+/));
    return Number(numbers[names.indexOf("RcvbufErrors")] ?? 0);
  } catch {
    return 0;
  }
}
