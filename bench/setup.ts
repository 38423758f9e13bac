/**
 * bench/setup (issue 3): sessions established per second LAC → LNS over loopback UDP, peak RSS of each
 * side's process, and the time to close a destination (every StopCCN sent and the LNS empty), for 1,000,
 * 10,000 and 60,000 sessions in one tunnel and spread over 100 tunnels.
 *
 *   node_modules/.bin/bun bench/setup.ts                  the whole matrix, each case in fresh processes
 *   node_modules/.bin/bun bench/setup.ts --sessions 10000 --tunnels 100   one case
 *   node_modules/.bin/deno run -A bench/setup.ts          the same on Deno
 *
 * The LAC runs in the benchmark's process, the LNS in a child (bench/lns-child.ts) of the same runtime.
 * Prints a human line per case and one JSON line per case.
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { type LabLns, type LabReport, runLab } from "../bin/commands/lab.ts";
import { runtimeName } from "./measure.ts";

const { values } = parseArgs({
  options: {
    sessions: { type: "string" },
    tunnels: { type: "string" },
    window: { type: "string", default: "4000" },
    cases: { type: "string", default: "1000x1,1000x100,10000x1,10000x100,60000x1,60000x100" },
  },
});

/** The command line that runs a script of this repository on the runtime running this one. */
function runtimeCommand(script: string, args: string[]): [string, string[]] {
  const path = new URL(script, import.meta.url).pathname;
  return "Deno" in globalThis
    ? [process.execPath, ["run", "-A", path, ...args]]
    : [process.execPath, [path, ...args]];
}

if (values.sessions === undefined) {
  // The matrix: every case in a fresh process, so that no case inherits another's heap.
  for (const c of values.cases.split(",")) {
    const [sessions, tunnels] = c.split("x");
    const [cmd, args] = runtimeCommand("./setup.ts", [
      "--sessions",
      sessions,
      "--tunnels",
      tunnels,
      "--window",
      values.window,
    ]);
    const child = spawn(cmd, args, { stdio: ["ignore", "inherit", "inherit"] });
    const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
    if (code !== 0) process.exitCode = code;
  }
} else {
  await oneCase(Number(values.sessions), Number(values.tunnels ?? 1), Number(values.window));
}

async function oneCase(sessions: number, tunnels: number, window: number): Promise<void> {
  const lns = await startChildLns();
  const lacBaseline = process.memoryUsage().rss;
  let lacPeak = lacBaseline;
  const sampler = setInterval(() => {
    lacPeak = Math.max(lacPeak, process.memoryUsage().rss);
  }, 20);
  const report = await runLab({ sessions, tunnels, holdMs: 0, window, lns: lns.lab });
  clearInterval(sampler);
  lacPeak = Math.max(lacPeak, report.rssBytes);
  const lnsFinal = lns.final;
  const perSession = (peak: number, base: number) => (peak - base) / Math.max(1, report.established);
  const result = {
    bench: "setup",
    runtime: runtimeName(),
    sessions,
    tunnels,
    established: report.established,
    failed: report.failed,
    setupPerSecond: Math.round(report.setupPerSecond),
    closeMs: Math.round(report.closeMs),
    stopCcnsSent: report.sentByLac.StopCCN ?? 0,
    cdnsSent: report.sentByLac.CDN ?? 0,
    lacPeakRssMiB: +(lacPeak / 2 ** 20).toFixed(1),
    lnsPeakRssMiB: +((lnsFinal?.peakRss ?? 0) / 2 ** 20).toFixed(1),
    lacBytesPerSession: Math.round(perSession(lacPeak, lacBaseline)),
    lnsBytesPerSession: Math.round(perSession(lnsFinal?.peakRss ?? 0, lns.baselineRss)),
    ok: report.ok,
    problems: report.problems,
  };
  const n = (x: number) => x.toLocaleString("en-US");
  console.log(
    `${result.runtime.padEnd(5)} ${n(sessions).padStart(6)} sessions / ${String(tunnels).padStart(3)} tunnels: ` +
      `${n(result.setupPerSecond).padStart(7)} sessions/s, close ${n(result.closeMs)} ms (${result.stopCcnsSent} StopCCN, ${result.cdnsSent} CDN), ` +
      `peak RSS LAC ${result.lacPeakRssMiB} MiB (${n(result.lacBytesPerSession)} B/session) LNS ${result.lnsPeakRssMiB} MiB (${n(result.lnsBytesPerSession)} B/session)` +
      (report.ok ? "" : `  PROBLEMS: ${report.problems.join("; ")}`),
  );
  console.log(JSON.stringify(result));
  if (!report.ok) process.exitCode = 1;
}

/** Starts bench/lns-child.ts in a process of the same runtime and speaks its line protocol. */
async function startChildLns(): Promise<{ lab: LabLns; baselineRss: number; final?: { peakRss: number } }> {
  const [cmd, args] = runtimeCommand("./lns-child.ts", []);
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next();
    if (line.done) throw new Error("bench/setup: the LNS child exited");
    return JSON.parse(line.value);
  };
  const ask = async (command: string) => {
    child.stdin.write(`${command}\n`);
    return next();
  };
  const { port } = (await next()) as { port: number };
  const baselineRss = ((await ask("count")) as { rss: number }).rss;
  const handle: { lab: LabLns; baselineRss: number; final?: { peakRss: number } } = {
    baselineRss,
    lab: {
      peer: { address: "127.0.0.1", port },
      count: async () => (await ask("count")) as { tunnels: number; sessions: number },
      close: async () => {
        const final = (await ask("close")) as {
          registries: LabReport["leftover"]["lns"];
          sent: Record<string, number>;
          peakRss: number;
        };
        handle.final = final;
        handle.lab.sent = final.sent;
        return final.registries;
      },
    },
  };
  return handle;
}
