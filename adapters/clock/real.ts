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
  setTimeout: (fn, ms) =>
    globalThis.setTimeout(() => {
      if (outputHeld()) flushHeldOutput();
      fn();
    }, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};
