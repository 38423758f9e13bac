/**
 * The rounds of the lab benchmarks (bench/setup, bench/ppp): the LAC in the benchmark's process, the
 * LNS in a child (bench/lns-child.ts) of the same runtime; one round runs the lab once against that
 * child and measures the set-up rate (overall and by quarter of the calls), CPU per call of each process
 * by thread, RSS per established call of each side (and its marginal slope), and the close. Prints a
 * human line and returns the JSON of a round.
 */
import process from "node:process";
import { type LabOptions, runLab } from "../bin/commands/lab.ts";
import type { ChildLns } from "./lns-child-client.ts";
import { cpuByThread, cpuByThreadPer, runtimeName } from "./measure.ts";

/** Resident set size: `memoryUsage.rss()` reads only that (the full `memoryUsage()` also sizes the heap). */
const rss = (): number => process.memoryUsage.rss();

const cpuMicros = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** One round of a case: what it is and the lab's LNS (the child) it runs against. */
export interface RoundOptions {
  /** The benchmark's name in the JSON line (default "setup"). */
  bench?: string;
  /** More of the lab's options (subscribers on the LAC's calls). */
  lab?: Pick<LabOptions, "ppp" | "subscriber" | "establishedWhenPppUp">;
  /** Other processes whose CPU per call is measured alongside (a RADIUS server). */
  others?: readonly { name: string; pid: number }[];
  sessions: number;
  tunnels: number;
  window: number;
  events: string | undefined;
  round: "cold" | "warm";
  /** The last round closes the LNS child; an earlier one leaves it running, settled. */
  last: boolean;
}

export type RoundResult = Awaited<ReturnType<typeof measureRound>>;

/** Runs the lab once against the child LNS and measures rate, CPU, RSS and close of both sides. */
export async function measureRound(lns: ChildLns, o: RoundOptions) {
  const { sessions, tunnels, window, events } = o;
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
  const others = o.others ?? [];
  const othersStart = others.map(({ pid }) => processCpu(pid));
  let othersSetup = othersStart;
  const report = await runLab({
    ...o.lab,
    sessions,
    tunnels,
    holdMs: 0,
    window,
    lns: o.last ? lns.lab : lns.settling,
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
      othersSetup = others.map(({ pid }) => processCpu(pid));
      lnsAtSetup = lns.ask("count");
    },
  });
  clearInterval(sampler);
  lacPeak = Math.max(lacPeak, report.rssBytes);
  const lnsEnd = o.last ? lns.final : await lns.ask("count");
  const lnsPeakRss = (lnsEnd?.peakRss as number | undefined) ?? 0;
  const lnsSetup = lnsAtSetup ? await lnsAtSetup : lnsStart;
  const established = Math.max(1, report.established);
  // Past the first quarter (code compiled, pools warmed up), RSS grows by this much per call.
  const marginal = (points: [number, number][]) => slope(points.filter(([n]) => n >= sessions / 4));
  const lnsSeries = await Promise.all(lnsPoints);
  const perSession = (peak: number, base: number) => (peak - base) / established;
  return {
    bench: o.bench ?? "setup",
    runtime: runtimeName(),
    round: o.round,
    sessions,
    tunnels,
    established: report.established,
    failed: report.failed,
    setupMs: Math.round(report.setupMs),
    setupPerSecond: Math.round(report.setupPerSecond),
    setupPerSecondByQuarter: byQuarter(marks, sessions),
    // [calls up, ms since the start] every 5% of the calls: the shape of the run.
    setupMarks: marks.map(([up, t]): [number, number] => [up, Math.round(t - marks[0][1])]),
    closeMs: Math.round(report.closeMs),
    stopCcnsSent: report.sentByLac.StopCCN ?? 0,
    cdnsSent: report.sentByLac.CDN ?? 0,
    lacCpuMicrosPerSession: Math.round(lacCpuSetup / established),
    lnsCpuMicrosPerSession: Math.round(
      ((lnsSetup.cpuMicros as number) - (lnsStart.cpuMicros as number)) / established,
    ),
    // The CPU per session by thread: the JavaScript thread, the JIT's and the GC's (Linux).
    // Other processes (a RADIUS server): CPU per call over the same span.
    othersCpuMicrosPerSession: Object.fromEntries(
      others.map(({ name }, i) => [name, Math.round((othersSetup[i] - othersStart[i]) / established)]),
    ),
    lacCpuByThread: cpuByThreadPer(lacThreadsStart, lacThreadsSetup, established),
    lnsCpuByThread: cpuByThreadPer(
      (lnsStart.threads ?? {}) as Record<string, number>,
      (lnsSetup.threads ?? {}) as Record<string, number>,
      established,
    ),
    lacPeakRssMiB: +(lacPeak / 2 ** 20).toFixed(1),
    lnsPeakRssMiB: +(lnsPeakRss / 2 ** 20).toFixed(1),
    // RSS per session once every call is up (what an established call costs), and at the peak of the
    // whole run (closing 60,000 calls allocates too). In a warm round the heap the cold one grew is
    // reused, so these say less there.
    lacBytesPerSession: Math.round(perSession(lacRssSetup, lacBaseline)),
    lnsBytesPerSession: Math.round(perSession(lnsSetup.rss as number, lnsStart.rss as number)),
    lacMarginalBytesPerSession: Math.round(marginal(lacPoints)),
    lnsMarginalBytesPerSession: Math.round(marginal(lnsSeries)),
    lacPeakBytesPerSession: Math.round(perSession(lacPeak, lacBaseline)),
    lnsPeakBytesPerSession: Math.round(perSession(lnsPeakRss, lnsStart.rss as number)),
    sentByLac: report.sentByLac,
    // The child counts from its start: a later round's messages are what it sent since the round before.
    sentByLns: sentSince(report.sentByLns, o.last ? lns.settling.sent : undefined),
    events: events ? (events.startsWith("nats:") ? "jetstream" : events.split(":")[0]) : "none",
    eventsRecorded: Object.values(report.events?.recorded ?? {}).reduce((a, b) => a + b, 0),
    eventsUnstored: report.events?.unstored ?? 0,
    eventsMaxQueued: report.events?.maxQueued ?? 0,
    ok: report.ok,
    problems: report.problems,
  };
}

/** The human line of a round. */
export function printRound(result: RoundResult, unit = "sessions"): void {
  const n = (x: number) => x.toLocaleString("en-US");
  const others = Object.entries(result.othersCpuMicrosPerSession)
    .map(([name, micros]) => `, ${name} ${micros} µs`)
    .join("");
  const memory =
    result.round === "cold"
      ? `RSS/session established LAC ${n(result.lacBytesPerSession)} B, LNS ${n(result.lnsBytesPerSession)} B ` +
        `(marginal LAC ${n(result.lacMarginalBytesPerSession)} B, LNS ${n(result.lnsMarginalBytesPerSession)} B) ` +
        `(peak LAC ${result.lacPeakRssMiB} MiB ${n(result.lacPeakBytesPerSession)} B/session, LNS ${result.lnsPeakRssMiB} MiB ${n(result.lnsPeakBytesPerSession)} B/session)`
      : `peak RSS LAC ${result.lacPeakRssMiB} MiB, LNS ${result.lnsPeakRssMiB} MiB`;
  console.log(
    `${result.runtime.padEnd(5)} ${n(result.sessions).padStart(6)} sessions / ${String(result.tunnels).padStart(3)} tunnels ${result.round}: ` +
      `${n(result.setupPerSecond).padStart(7)} ${unit}/s (by quarter ${result.setupPerSecondByQuarter.map(n).join(" ")}) (CPU/session LAC ${result.lacCpuMicrosPerSession} µs${threads(result.lacCpuByThread)}, LNS ${result.lnsCpuMicrosPerSession} µs${threads(result.lnsCpuByThread)}${others}), ` +
      `close ${n(result.closeMs)} ms (${result.stopCcnsSent} StopCCN, ${result.cdnsSent} CDN), ${memory}` +
      (result.events !== "none"
        ? `, events ${result.events} ${n(result.eventsRecorded)} (peak queue ${n(result.eventsMaxQueued)})`
        : "") +
      (result.ok ? "" : `  PROBLEMS: ${result.problems.join("; ")}`),
  );
}

/** " (main 35, JITWorker 7 …)": the CPU per session by thread, when the platform tells. */
function threads(byThread: Record<string, number>): string {
  const parts = Object.entries(byThread)
    .sort((a, b) => b[1] - a[1])
    .map(([name, micros]) => `${name} ${Math.round(micros)}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/** Messages sent by type, less those counted `before` (when a round before this one counted them). */
function sentSince(
  sent: Record<string, number> | undefined,
  before: Record<string, number> | undefined,
): Record<string, number> | undefined {
  if (!sent || !before) return sent;
  return Object.fromEntries(Object.entries(sent).map(([type, n]) => [type, n - (before[type] ?? 0)]));
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

/** CPU time (µs) of a whole process, all its threads, from /proc (0 where it cannot be read). */
function processCpu(pid: number): number {
  return Object.values(cpuByThread(pid)).reduce((a, b) => a + b, 0);
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
