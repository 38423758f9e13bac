/** The real clock: wall time and the runtime's own timers (Bun, Deno). */
import type { Clock } from "../../actors/ports.ts";
import { flushHeldOutput, outputHeld } from "./burst.ts";

/**
 * The clock of the running process: `Date.now()` and `globalThis.setTimeout`. A timer first lets out
 * what a UDP transport holds for the end of its receive burst (./burst.ts), so that its work never
 * delays replies already made.
 */
export const realClock: Clock = {
  now: () => Date.now(),
  // The callback goes as the timer's argument: no closure per timer (one is set per call and message).
  setTimeout: (fn, ms) => globalThis.setTimeout(fire, ms, fn),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/** A timer of the real clock: held output out first, then the timer's own work. */
function fire(fn: () => void): void {
  if (outputHeld()) flushHeldOutput();
  fn();
}
