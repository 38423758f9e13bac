/** Small timing helpers shared by the benchmarks; runtime-neutral (Bun and Deno). */
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
