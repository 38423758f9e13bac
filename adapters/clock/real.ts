/** The real clock: wall time and the runtime's own timers (Bun, Deno). */
import type { Clock } from "../../actors/ports.ts";

/** The clock of the running process: `Date.now()` and `globalThis.setTimeout`. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};
