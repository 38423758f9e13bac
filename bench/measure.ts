/** Small timing helpers shared by the benchmarks; runtime-neutral (Bun and Deno). */
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";

/** One measured operation. */
export interface Measurement {
  name: string;
  perSecond: number;
  nsPerOp: number;
  iterations: number;
}

/** Which runtime runs the benchmark, for the report. */
export function runtimeName(): string {
  if ("Bun" in globalThis) return "bun";
  if ("Deno" in globalThis) return "deno";
  return `node ${process.version}`;
}

/**
 * Runs `op` in batches of about 20 ms until `budgetMs` has passed after a warm-up, and reports the
 * median batch rate (GC pauses and the other core's load spread the samples; the median is the honest middle).
 */
export function measure(name: string, op: () => unknown, budgetMs = 1500): Measurement {
  let sink: unknown;
  let batch = 1000;
  const warmEnd = performance.now() + budgetMs / 4;
  while (performance.now() < warmEnd) for (let i = 0; i < batch; i++) sink = op();
  const rates: number[] = [];
  let iterations = 0;
  const end = performance.now() + budgetMs;
  while (performance.now() < end) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) sink = op();
    const elapsed = performance.now() - t0;
    iterations += batch;
    if (elapsed < 20) batch *= 2;
    else rates.push((batch * 1000) / elapsed);
  }
  if (sink === Symbol.for("never")) console.log(sink); // keeps the result alive
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)] ?? 0;
  return { name, perSecond: median, nsPerOp: 1e9 / median, iterations };
}

/** Resident set size of this process in bytes. */
export function rssBytes(): number {
  return process.memoryUsage().rss;
}

/**
 * CPU time (µs) of each kind of thread of a process (this one by default), from /proc/PID/task (Linux;
 * empty elsewhere): `main` is the JavaScript thread; the runtime's helpers keep their thread names with
 * digits dropped (on Bun: JITWorker compiles, HeapHelper marks for the GC, JSCWarmUp makes new GC heap
 * blocks resident ahead of the allocator, mi-scavenger returns mimalloc's memory; on Deno, V8's
 * "V8 DefaultWorke" threads compile and collect). What a benchmark's CPU figure is made of: on a cold start the
 * JIT's threads take as much CPU as the JavaScript itself.
 */
export function cpuByThread(pid: number = process.pid): Record<string, number> {
  const out: Record<string, number> = {};
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  const ticksPerSecond = 100; // USER_HZ: 100 on every Linux this runs on
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    } catch {
      continue; // the thread ended meanwhile
    }
    // proc(5): "pid (comm) state …": utime and stime are fields 14 and 15, counted after the comm.
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    const micros = ((Number(fields[11]) + Number(fields[12])) * 1e6) / ticksPerSecond;
    const name =
      tid === String(pid) ? "main" : stat.slice(stat.indexOf("(") + 1, close).replace(/[0-9]+/g, "");
    out[name] = (out[name] ?? 0) + micros;
  }
  return out;
}

/**
 * CPU time (µs) of every live process below `pid` (children, theirs …; from /proc/PID/stat, Linux; 0
 * elsewhere): a browser the benchmark launched, all its processes (renderer, GPU, network) together.
 */
export function descendantsCpu(pid: number = process.pid): number {
  const parentAndCpu = new Map<number, [number, number]>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // the process ended meanwhile
    }
    // proc(5): after the comm, ppid is field 4, utime and stime fields 14 and 15 (of the whole process).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    parentAndCpu.set(Number(entry), [Number(fields[1]), Number(fields[11]) + Number(fields[12])]);
  }
  const ticksPerSecond = 100; // USER_HZ
  let ticks = 0;
  for (const [child, [parent, cpu]] of parentAndCpu) {
    if (child === pid) continue;
    let ancestor = parent;
    for (let depth = 0; ancestor > 1 && ancestor !== pid && depth < 32; depth++) {
      ancestor = parentAndCpu.get(ancestor)?.[0] ?? 0;
    }
    if (ancestor === pid) ticks += cpu;
  }
  return (ticks * 1e6) / ticksPerSecond;
}

/** Resident set size of process `pid` in bytes (VmRSS of /proc/PID/status; 0 where it cannot be read). */
export function rssOf(pid: number): number {
  try {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kib ? Number(kib) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The command line that runs a script (a path or URL relative to `base`) on the runtime running this one. */
export function runtimeCommand(
  script: string,
  base: string,
  args: string[],
  flags: string[] = [],
): [string, string[]] {
  const path = new URL(script, base).pathname;
  return "Deno" in globalThis
    ? [process.execPath, ["run", "-A", path, ...args]]
    : [process.execPath, [...flags, path, ...args]];
}

/** `after − before` per thread kind, per `per` (e.g. per call), leaving out kinds below 0.5. */
export function cpuByThreadPer(
  before: Record<string, number>,
  after: Record<string, number>,
  per: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, micros] of Object.entries(after)) {
    const value = (micros - (before[name] ?? 0)) / per;
    if (value >= 0.5) out[name] = Math.round(value * 10) / 10;
  }
  return out;
}

/** Per-thread CPU as a reader wants it: the busiest first, "main 98, JSCWarmUp 16, …" (µs). */
export function threadsLine(byThread: Record<string, number>): string {
  return Object.entries(byThread)
    .sort((a, b) => b[1] - a[1])
    .map(([name, micros]) => `${name} ${Math.round(micros)}`)
    .join(", ");
}

/** The p-th percentile of `values` (nearest rank; NaN when there are none). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** The median of `values` (the upper one of an even count). */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** `n` rounded to `digits` decimals, for printing. */
export function round(n: number, digits = 1): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}
