/**
 * bench/setup (issue 3): sessions established per second LAC → LNS over loopback UDP, CPU and peak RSS
 * of each side's process per session, and the time to close a destination (every StopCCN sent and the
 * LNS empty), for 1,000, 10,000 and 60,000 sessions in one tunnel and spread over 100 tunnels.
 *
 *   node_modules/.bin/bun bench/setup.ts                  the whole matrix, each case in fresh processes
 *   node_modules/.bin/bun bench/setup.ts --sessions 10000 --tunnels 100   one case
 *   node_modules/.bin/bun bench/setup.ts --cases 10000x100 --profile DIR  Bun: CPU profiles (Markdown) of both sides
 *   node_modules/.bin/deno run -A bench/setup.ts          the same on Deno
 *   … --events memory:|file:DIR|nats://HOST:PORT[/STREAM]|nats:auto   both nodes record every transition
 *       (nats:auto starts a nats-server of its own for each case; default: no event log)
 *
 * The LAC runs in the benchmark's process, the LNS in a child (bench/lns-child.ts) of the same runtime.
 * Prints a human line per case and one JSON line per case.
 *
 * Measured here (2 cores, both processes cold, no event log, window 4000; runs vary by ±15%: the two
 * processes and their GC threads share the two cores). Calls/s, CPU per call LAC/LNS, destination close,
 * RSS per established call LAC/LNS (marginal: the slope past the first quarter of the calls):
 *
 *   Bun 1.4   1,000x1     5,100/s  181/158 µs   19 ms   24.0/16.0 KB
 *             1,000x100   4,100/s  261/213 µs   31 ms   35.9/26.5 KB
 *             10,000x1    9,700/s   88/73 µs    89 ms    9.4/6.1 KB  (marginal 4.6/4.2)
 *             10,000x100 11,600/s   88/77 µs   120 ms    9.2/6.9 KB  (by quarter 7,100 13,500-17,000)
 *             60,000x1   16,900/s   52/46 µs   531 ms    6.4/4.6 KB  (marginal 5.5/4.1)
 *             60,000x100 18,500/s   53/44 µs   450 ms    5.4/4.2 KB  (marginal 4.0/3.5; 17,600-18,600/s;
 *                                                                 by quarter 12,000 19,500-24,000)
 *   Deno 2.9  1,000x1     3,800/s  188/163 µs   13 ms   42.6/43.4 KB
 *             1,000x100     670/s  342/299 µs  138 ms   60.0/50.0 KB
 *             10,000x1    6,000/s  121/101 µs   97 ms   15.3/13.1 KB
 *             10,000x100  4,000/s  116/97 µs   114 ms   16.2/14.7 KB  (by quarter 4,700 9,000 4,000 1,800-3,000)
 *             60,000x1    7,900/s   88/75 µs   624 ms    6.3/4.4 KB  (marginal 4.1/2.6)
 *             60,000x100  9,700/s   78/64 µs   607 ms    6.6/5.1 KB  (marginal 4.3/3.1; 8,900-10,400/s)
 *   (x100 rows re-measured after the ack-timer and Random Vector changes, medians of 2-3 runs; the same
 *   runs without them, same tree: Bun 10,000x100 11,700/s 88/74 µs, 60,000x100 18,400/s 53/45 µs, Deno
 *   60,000x100 10,100/s 82/67 µs, 10,000x100 3,800/s 119/104 µs: within the noise on Bun, 3-4 µs of CPU
 *   per call less on Deno. Both nodes in one process, 30,000x100: 98.8 → 94 µs of CPU per call.)
 *   (before this work, Bun: 1,000x1 3,600/s, 10,000x100 4,100/s with 98 StopCCNs for 100 tunnels and a
 *   10 s close, 22-38 KB per call; Deno lab 1,000x10 with window 50: 260/s)
 *
 * What bounds these figures:
 * - Warm-up, not the steady state: "by quarter" is the rate over each quarter of the calls. On Bun the
 *   last three quarters of 60,000x100 run at 19,500-24,000 calls/s; the first 15,000 calls at ~12,000/s
 *   (JIT tiers and heap growth: the lab's request window changes nothing, 1,000, 4,000 and 8,000 give
 *   12,500/s in the first quarter). 10,000x100 lies entirely in that regime (first 2,500 calls at
 *   7,100/s, then 13,500-17,000/s, 88 µs of CPU a call on the LAC against 53 at 60,000): cold start,
 *   not the window nor tunnel setup pacing. 20,000 calls/s over a whole 60,000x100 run needs the
 *   warm-up to shrink or ~10 µs less CPU per call on each side.
 * - CPU per call. At 60,000 calls the LAC is busy: ~50 µs a call on Bun (profile: sendmmsg/sendto 14%,
 *   XState's actor machinery (create, start, mailbox, a snapshot per step) 15%, the wiring in actors/
 *   and the session logic 25%, the codec with its hidden AVPs (MD5) 8%, the rest natives and GC). The
 *   LNS needs ~45 µs. 20,000 calls/s is the LAC's CPU, with no headroom. Profile of 60,000x100 (sample
 *   counts, both sides): the loopback send 13% LAC / 9% LNS (the kernel delivers each datagram in the
 *   sender's time; the LNS sends one per turn, batching would not help: sendmmsg costs as much per
 *   datagram); spawning a session actor (createActor, start, `on`, its first step) 18% LAC / 28% LNS;
 *   the `buffer` getter in protocol/l2tp encodeControl and decodeControl 4% LAC / 5.5% LNS (JSC gives a
 *   small `new Uint8Array(n)` its ArrayBuffer only when asked, at ~275 ns: allocating the ArrayBuffer
 *   first, or reading the header without a DataView, avoids it); the session setup timeout scheduled
 *   and cancelled per call 3-6%; the tunnel step that records the channel's Ns/Nr once per turn
 *   (failover) 6% of the LNS.
 * - Tried and dropped (no change beyond the noise, both nodes in one process): one runtime timer for
 *   the delayed events of a millisecond, the actor's path as a property instead of a WeakMap entry,
 *   createActor options without spreads, constant "rx.*" event names and decode options per tunnel.
 * - XState per-actor cost: a call run by XState's statechart interpreter cost ~50 µs and ~50 KB of
 *   garbage per side; machines/session-logic.ts runs the same table (checked against sessionMachine)
 *   for ~6 µs and 3 KB; the tree shares one XState system (actors/actor-system.ts).
 * - GC: ~23 KB allocated per call (both sides), 3 KB kept per call per side; JSC's concurrent marking
 *   threads take cores from the other process, which is most of the run-to-run spread.
 * - Cold start: at 1,000 and 10,000 calls JIT compilation and 1-100 tunnel handshakes weigh per call
 *   (88-260 µs of CPU a call on Bun), and the fixed RSS of compiled code is counted per call.
 * - Window/RTT on one tunnel: the peer's receive window (16) bounds a tunnel to 16 messages in flight;
 *   larger windows measured slower (60,000x1: 64 → 10,700/s, 256 → 9,400/s: both sides then alternate
 *   on bigger batches), so 16 stays. Over 100 tunnels, calls fill a tunnel before the next opens.
 * - Deno: node:dgram costs 17-25 µs of CPU per echo there (4 µs on Bun), Deno.listenDatagram 37-54 µs;
 *   ~80 µs per call, and its event loop adds latency at 10,000 calls: there the last quarter runs at
 *   1,800-3,000/s (not looked into; a guess: its receive buffer cannot be raised, and a datagram lost
 *   there stalls a tunnel for a 1 s retransmission).
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { type LabLns, type LabReport, runLab } from "../bin/commands/lab.ts";
import type { RecordingSummary } from "../bin/commands/recording.ts";
import { type NatsServer, startNatsServer } from "../test/integration/nats/server.ts";
import { cpuByThread, cpuByThreadPer, runtimeName } from "./measure.ts";

/** Resident set size: `memoryUsage.rss()` reads only that (the full `memoryUsage()` also sizes the heap). */
const rss = (): number => process.memoryUsage.rss();

const { values } = parseArgs({
  options: {
    sessions: { type: "string" },
    tunnels: { type: "string" },
    window: { type: "string", default: "4000" },
    cases: { type: "string", default: "1000x1,1000x100,10000x1,10000x100,60000x1,60000x100" },
    profile: { type: "string" },
    events: { type: "string" },
  },
});

/** Runtime flags that write a CPU profile into `dir`, as .cpuprofile and Markdown (Bun only: Deno has no --cpu-prof). */
function profileFlags(dir: string | undefined): string[] {
  return dir && !("Deno" in globalThis)
    ? ["--cpu-prof", "--cpu-prof-md", "--cpu-prof-interval=250", `--cpu-prof-dir=${dir}`]
    : [];
}

/** The command line that runs a script of this repository on the runtime running this one. */
function runtimeCommand(script: string, args: string[], flags: string[] = []): [string, string[]] {
  const path = new URL(script, import.meta.url).pathname;
  return "Deno" in globalThis
    ? [process.execPath, ["run", "-A", path, ...args]]
    : [process.execPath, [...flags, path, ...args]];
}

const cpuMicros = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

if (values.sessions === undefined) {
  // The matrix: every case in a fresh process, so that no case inherits another's heap.
  for (const c of values.cases.split(",")) {
    const [sessions, tunnels] = c.split("x");
    const [cmd, args] = runtimeCommand(
      "./setup.ts",
      [
        "--sessions",
        sessions,
        "--tunnels",
        tunnels,
        "--window",
        values.window,
        ...(values.profile ? ["--profile", values.profile] : []),
        ...(values.events ? ["--events", values.events] : []),
      ],
      profileFlags(values.profile),
    );
    const child = spawn(cmd, args, { stdio: ["ignore", "inherit", "inherit"] });
    const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
    if (code !== 0) process.exitCode = code;
  }
} else {
  await oneCase(Number(values.sessions), Number(values.tunnels ?? 1), Number(values.window));
}

async function oneCase(sessions: number, tunnels: number, window: number): Promise<void> {
  const nats: NatsServer | undefined = values.events === "nats:auto" ? await startNatsServer() : undefined;
  const events = nats ? nats.url : values.events;
  const lns = await startChildLns(values.profile, events);
  const lacBaseline = rss();
  const lnsStart = await lns.ask("count");
  let lacPeak = lacBaseline;
  const sampler = setInterval(() => {
    lacPeak = Math.max(lacPeak, rss());
  }, 20);
  const lacCpuStart = cpuMicros();
  const lacThreadsStart = cpuByThread();
  let lacThreadsSetup = lacThreadsStart;
  let lacCpuSetup = 0;
  let lacRssSetup = 0;
  let lnsAtSetup: Promise<Record<string, unknown>> | undefined;
  const lacPoints: [number, number][] = [];
  const lnsPoints: Promise<[number, number]>[] = [];
  // When each 5% of the calls was up: the rate per quarter of the run shows the cold start apart.
  const marks: [number, number][] = [[0, performance.now()]];
  const report = await runLab({
    sessions,
    tunnels,
    holdMs: 0,
    window,
    lns: lns.lab,
    ...(events ? { events } : {}),
    progress: (line, done) => {
      // RSS of both sides every 5% of the calls: the slope is what one more established call costs.
      const up = Number(/opening: (\d+)\//.exec(line)?.[1] ?? Number.NaN);
      if (Number.isFinite(up)) {
        marks.push([up, performance.now()]);
        lacPoints.push([up, rss()]);
        lnsPoints.push(lns.ask("count").then((c): [number, number] => [up, c.rss as number]));
      }
      if (!done || lnsAtSetup) return;
      // The last session is up: the setup phase ends here for both sides.
      lacCpuSetup = cpuMicros() - lacCpuStart;
      lacThreadsSetup = cpuByThread();
      lacRssSetup = rss();
      lnsAtSetup = lns.ask("count");
    },
  });
  clearInterval(sampler);
  await nats?.dispose();
  lacPeak = Math.max(lacPeak, report.rssBytes);
  const lnsFinal = lns.final;
  const lnsSetup = lnsAtSetup ? await lnsAtSetup : lnsStart;
  const established = Math.max(1, report.established);
  // Past the first quarter (code compiled, pools warmed up), RSS grows by this much per call.
  const marginal = (points: [number, number][]) => slope(points.filter(([n]) => n >= sessions / 4));
  const lnsSeries = await Promise.all(lnsPoints);
  const perSession = (peak: number, base: number) => (peak - base) / established;
  const result = {
    bench: "setup",
    runtime: runtimeName(),
    sessions,
    tunnels,
    established: report.established,
    failed: report.failed,
    setupMs: Math.round(report.setupMs),
    setupPerSecond: Math.round(report.setupPerSecond),
    setupPerSecondByQuarter: byQuarter(marks, sessions),
    closeMs: Math.round(report.closeMs),
    stopCcnsSent: report.sentByLac.StopCCN ?? 0,
    cdnsSent: report.sentByLac.CDN ?? 0,
    lacCpuMicrosPerSession: Math.round(lacCpuSetup / established),
    lnsCpuMicrosPerSession: Math.round(
      ((lnsSetup.cpuMicros as number) - (lnsStart.cpuMicros as number)) / established,
    ),
    // The CPU per session by thread: the JavaScript thread, the JIT's and the GC's (Linux).
    lacCpuByThread: cpuByThreadPer(lacThreadsStart, lacThreadsSetup, established),
    lnsCpuByThread: cpuByThreadPer(
      (lnsStart.threads ?? {}) as Record<string, number>,
      (lnsSetup.threads ?? {}) as Record<string, number>,
      established,
    ),
    lacPeakRssMiB: +(lacPeak / 2 ** 20).toFixed(1),
    lnsPeakRssMiB: +((lnsFinal?.peakRss ?? 0) / 2 ** 20).toFixed(1),
    // RSS per session once every call is up (what an established call costs), and at the peak of the
    // whole run (closing 60,000 calls allocates too).
    lacBytesPerSession: Math.round(perSession(lacRssSetup, lacBaseline)),
    lnsBytesPerSession: Math.round(perSession(lnsSetup.rss as number, lnsStart.rss as number)),
    lacMarginalBytesPerSession: Math.round(marginal(lacPoints)),
    lnsMarginalBytesPerSession: Math.round(marginal(lnsSeries)),
    lacPeakBytesPerSession: Math.round(perSession(lacPeak, lacBaseline)),
    lnsPeakBytesPerSession: Math.round(perSession(lnsFinal?.peakRss ?? 0, lnsStart.rss as number)),
    sentByLac: report.sentByLac,
    sentByLns: report.sentByLns,
    events: events ? (events.startsWith("nats:") ? "jetstream" : events.split(":")[0]) : "none",
    eventsRecorded: Object.values(report.events?.recorded ?? {}).reduce((a, b) => a + b, 0),
    eventsUnstored: report.events?.unstored ?? 0,
    eventsMaxQueued: report.events?.maxQueued ?? 0,
    ok: report.ok,
    problems: report.problems,
  };
  const n = (x: number) => x.toLocaleString("en-US");
  console.log(
    `${result.runtime.padEnd(5)} ${n(sessions).padStart(6)} sessions / ${String(tunnels).padStart(3)} tunnels: ` +
      `${n(result.setupPerSecond).padStart(7)} sessions/s (by quarter ${result.setupPerSecondByQuarter.map(n).join(" ")}) (CPU/session LAC ${result.lacCpuMicrosPerSession} µs${threads(result.lacCpuByThread)}, LNS ${result.lnsCpuMicrosPerSession} µs${threads(result.lnsCpuByThread)}), ` +
      `close ${n(result.closeMs)} ms (${result.stopCcnsSent} StopCCN, ${result.cdnsSent} CDN), ` +
      `RSS/session established LAC ${n(result.lacBytesPerSession)} B, LNS ${n(result.lnsBytesPerSession)} B ` +
      `(marginal LAC ${n(result.lacMarginalBytesPerSession)} B, LNS ${n(result.lnsMarginalBytesPerSession)} B) ` +
      `(peak LAC ${result.lacPeakRssMiB} MiB ${n(result.lacPeakBytesPerSession)} B/session, LNS ${result.lnsPeakRssMiB} MiB ${n(result.lnsPeakBytesPerSession)} B/session)` +
      (events
        ? `, events ${result.events} ${n(result.eventsRecorded)} (peak queue ${n(result.eventsMaxQueued)})`
        : "") +
      (report.ok ? "" : `  PROBLEMS: ${report.problems.join("; ")}`),
  );
  console.log(JSON.stringify(result));
  if (!report.ok) process.exitCode = 1;
}

/** " (main 35, JITWorker 7 …)": the CPU per session by thread, when the platform tells. */
function threads(byThread: Record<string, number>): string {
  const parts = Object.entries(byThread)
    .sort((a, b) => b[1] - a[1])
    .map(([name, micros]) => `${name} ${Math.round(micros)}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/** Calls per second in each quarter of the calls, from the [calls up, time] marks. */
function byQuarter(marks: [number, number][], sessions: number): number[] {
  const at = (calls: number) => marks.find(([up]) => up >= calls) ?? marks[marks.length - 1];
  return [0, 1, 2, 3].map((q) => {
    const [c0, t0] = at((q * sessions) / 4);
    const [c1, t1] = at(((q + 1) * sessions) / 4);
    return t1 > t0 ? Math.round(((c1 - c0) * 1000) / (t1 - t0)) : 0;
  });
}

/** Least-squares slope of y over x (0 with fewer than two points). */
function slope(points: [number, number][]): number {
  if (points.length < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / points.length;
  const my = points.reduce((a, [, y]) => a + y, 0) / points.length;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** The LNS child: its lab handle, a command channel, and what it said when it closed. */
interface ChildLns {
  lab: LabLns;
  ask(command: "count"): Promise<Record<string, unknown>>;
  final?: { peakRss: number; cpuMicros: number };
}

/** Starts bench/lns-child.ts in a process of the same runtime and speaks its line protocol. */
async function startChildLns(profile: string | undefined, events: string | undefined): Promise<ChildLns> {
  const [cmd, args] = runtimeCommand(
    "./lns-child.ts",
    events ? ["--events", events] : [],
    profileFlags(profile),
  );
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  // One command at a time: answers come back in order.
  let queue: Promise<unknown> = Promise.resolve();
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next();
    if (line.done) throw new Error("bench/setup: the LNS child exited");
    return JSON.parse(line.value);
  };
  const ask = (command: string): Promise<Record<string, unknown>> => {
    const answer = queue.then(() => {
      child.stdin.write(`${command}\n`);
      return next();
    });
    queue = answer.catch(() => {});
    return answer;
  };
  const { port } = (await next()) as { port: number };
  const handle: ChildLns = {
    ask,
    lab: {
      peer: { address: "127.0.0.1", port },
      count: async () => (await ask("count")) as { tunnels: number; sessions: number },
      close: async () => {
        const final = (await ask("close")) as {
          registries: LabReport["leftover"]["lns"];
          sent: Record<string, number>;
          peakRss: number;
          cpuMicros: number;
          events?: RecordingSummary;
        };
        handle.final = final;
        handle.lab.sent = final.sent;
        if (final.events) handle.lab.events = final.events;
        return final.registries;
      },
    },
  };
  return handle;
}
