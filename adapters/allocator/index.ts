/**
 * The memory allocator of a long-running node. Bun allocates through mimalloc (v3 in Bun 1.4), which
 * gives freed pages back to the system 100 ms after they are freed (`purge_delay`): the pages of the
 * garbage collector's blocks go back after each collection and fault in again when reused, so a node
 * that sets up calls at full rate pays a page fault for most of what it allocates. Measured with
 * bench/lac.ts (5,000 subscribers through our LAC to our LNS, third round): the LAC's process
 * 251-291 → 151-199 µs of CPU per subscriber and the LNS's 128-157 → 92-130 µs, set-ups 3,234-3,712 →
 * 3,985-5,434/s; JSC's thread that pre-faults its blocks (JSCWarmUp) and mimalloc's scavenger nearly idle.
 * A later purge (1 s, 10 s, 1 min or 10 min: still purged) or a lazy one (`purge_decommits` 0) did not help.
 *
 * So the node runs with `MIMALLOC_PURGE_DELAY=-1`: what it once needed it keeps, and reuses. The cost is
 * that its RSS stays at its peak after a storm of calls instead of shrinking. mimalloc reads its options
 * from the environment once, as the process starts: the command that runs a node starts itself again
 * with the option set (`process.execve`: the same process id, arguments and runtime flags). An option the
 * operator set (any value, e.g. `MIMALLOC_PURGE_DELAY=100`, mimalloc's own default) is kept as it is.
 * Elsewhere (Deno, whose allocator is not mimalloc: `MIMALLOC_VERBOSE=1` says nothing there; a runtime
 * without `execve`) nothing is done. docs/PERFORMANCE.md ("Page faults") has the whole measure.
 */
import process from "node:process";

/** The environment the node's allocator runs with (mimalloc's options, read at start). */
export const NODE_ALLOCATOR_ENV: Readonly<Record<string, string>> = { MIMALLOC_PURGE_DELAY: "-1" };

/** Where this process stands: its allocator has the node's options, the operator's, or the runtime's defaults. */
export type AllocatorState = "tuned" | "operator's own" | "not on Bun" | "defaults";

const onBun = (): boolean => typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/** The state of a process with `env` (pure: tests give it any). */
export function allocatorState(env: Record<string, string | undefined>, bun = onBun()): AllocatorState {
  if (!bun) return "not on Bun";
  const names = Object.keys(NODE_ALLOCATOR_ENV);
  if (!names.some((name) => env[name] !== undefined)) return "defaults";
  return names.every((name) => env[name] === NODE_ALLOCATOR_ENV[name]) ? "tuned" : "operator's own";
}

/** One line for a node's start: which allocator options it runs with, and why. */
export function describeAllocator(env: Record<string, string | undefined> = process.env): string {
  const options = (values: Record<string, string | undefined>) =>
    Object.keys(NODE_ALLOCATOR_ENV)
      .map((name) => `${name}=${values[name] ?? "unset"}`)
      .join(" ");
  switch (allocatorState(env)) {
    case "tuned":
      return `mimalloc keeps the pages it frees (${options(env)}; adapters/allocator)`;
    case "operator's own":
      return `mimalloc as the environment sets it (${options(env)}; the node's own would be ${options(NODE_ALLOCATOR_ENV)})`;
    case "defaults":
      return `mimalloc's defaults: this process could not start again with ${options(NODE_ALLOCATOR_ENV)} (profiled, or no execve here: set it in the environment)`;
    case "not on Bun":
      return "the runtime's own (no mimalloc options off Bun)";
  }
}

/**
 * On Bun, makes this process run with NODE_ALLOCATOR_ENV: when none of its options is set, the process
 * replaces itself with the same command and the options set (this call then does not return). Call it
 * first thing, before the work starts; it returns the state the process goes on in.
 */
export function tuneAllocator(): AllocatorState {
  const state = allocatorState(process.env);
  if (state !== "defaults") return state;
  // A runtime that samples its threads for a CPU profile signals them all the time: a signal that
  // arrives while the new image starts kills it (Bun 1.4 with --cpu-prof-interval=250: SIGPWR). A
  // profiled process stays as it is; give it the options in its environment instead.
  if (process.execArgv.some((flag) => flag.startsWith("--cpu-prof"))) return state;
  const execve = (process as { execve?: (file: string, args: string[], env: object) => never }).execve;
  if (typeof execve !== "function") return state;
  try {
    execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      ...process.env,
      ...NODE_ALLOCATOR_ENV,
    });
  } catch {
    // Not allowed here (a sandbox): the node runs on the allocator's defaults, and says so.
  }
  return state;
}
