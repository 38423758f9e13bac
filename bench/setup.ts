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
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { type LabLns, type LabReport, runLab } from "../bin/commands/lab.ts";
import type { RecordingSummary } from "../bin/commands/recording.ts";
import { type NatsServer, startNatsServer } from "../test/integration/nats/server.ts";
import { runtimeName } from "./measure.ts";

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

/** Runtime flags that write a CPU profile into `dir` (Bun only: Deno has no --cpu-prof). */
function profileFlags(dir: string | undefined): string[] {
  return dir && !("Deno" in globalThis)
    ? ["--cpu-prof-md", "--cpu-prof-interval=250", `--cpu-prof-dir=${dir}`]
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
  let lacCpuSetup = 0;
  let lacRssSetup = 0;
  let lnsAtSetup: Promise<Record<string, unknown>> | undefined;
  const lacPoints: [number, number][] = [];
  const lnsPoints: Promise<[number, number]>[] = [];
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
        lacPoints.push([up, rss()]);
        lnsPoints.push(lns.ask("count").then((c): [number, number] => [up, c.rss as number]));
      }
      if (!done || lnsAtSetup) return;
      // The last session is up: the setup phase ends here for both sides.
      lacCpuSetup = cpuMicros() - lacCpuStart;
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
    closeMs: Math.round(report.closeMs),
    stopCcnsSent: report.sentByLac.StopCCN ?? 0,
    cdnsSent: report.sentByLac.CDN ?? 0,
    lacCpuMicrosPerSession: Math.round(lacCpuSetup / established),
    lnsCpuMicrosPerSession: Math.round(
      ((lnsSetup.cpuMicros as number) - (lnsStart.cpuMicros as number)) / established,
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
      `${n(result.setupPerSecond).padStart(7)} sessions/s (CPU/session LAC ${result.lacCpuMicrosPerSession} µs, LNS ${result.lnsCpuMicrosPerSession} µs), ` +
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
