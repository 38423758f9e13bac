/**
 * The lab the inspector's benches run: a lab's LAC and LNS in this process, on a memory event log (kept
 * apart from bench/measure.ts, which the external load generator imports: it must not load the engine).
 */
import { type LabObserver, runLab } from "../bin/commands/lab.ts";

/** A lab of `calls` L2TP calls (a tunnel per 1,000, a window of 2,000) on a memory event log, watched by `observe`. */
export function memoryLab(calls: number, observe: LabObserver) {
  return runLab({
    sessions: calls,
    tunnels: Math.max(1, Math.ceil(calls / 1000)),
    holdMs: 0,
    window: 2000,
    events: "memory:",
    observe,
  });
}
