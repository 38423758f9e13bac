import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { allocatorState, describeAllocator, NODE_ALLOCATOR_ENV } from "../../../adapters/allocator/index.ts";

const allocator = join(import.meta.dir, "../../../adapters/allocator/index.ts");

test("the allocator's state: the node's options, the operator's, none, or not on Bun", () => {
  expect(NODE_ALLOCATOR_ENV).toEqual({ MIMALLOC_PURGE_DELAY: "-1" });
  expect(allocatorState({}, true)).toBe("defaults");
  expect(allocatorState({ MIMALLOC_PURGE_DELAY: "-1" }, true)).toBe("tuned");
  expect(allocatorState({ MIMALLOC_PURGE_DELAY: "100" }, true)).toBe("operator's own");
  expect(allocatorState({ MIMALLOC_PURGE_DELAY: "" }, true)).toBe("operator's own");
  expect(allocatorState({ MIMALLOC_PURGE_DELAY: "-1" }, false)).toBe("not on Bun");
  expect(describeAllocator({ MIMALLOC_PURGE_DELAY: "-1" })).toContain("keeps the pages it frees");
  expect(describeAllocator({ MIMALLOC_PURGE_DELAY: "100" })).toContain("MIMALLOC_PURGE_DELAY=100");
  expect(describeAllocator({})).toContain("could not start again");
});

/** Runs a script that tunes its allocator and prints what it sees, in a process of its own. */
function tuned(env: Record<string, string | undefined>, ...args: string[]) {
  return tunedWith([], env, ...args);
}

function tunedWith(flags: string[], env: Record<string, string | undefined>, ...args: string[]) {
  const script = `import { tuneAllocator } from ${JSON.stringify(allocator)};
const state = tuneAllocator();
console.log(JSON.stringify({ state, pid: process.pid, value: process.env.MIMALLOC_PURGE_DELAY ?? null, args: process.argv.slice(1) }));`;
  const childEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  const r = spawnSync(process.execPath, [...flags, "--smol", "-e", script, ...args], {
    encoding: "utf8",
    env: childEnv,
  });
  expect(r.stderr).toBe("");
  return {
    pid: r.pid,
    seen: JSON.parse(r.stdout) as { state: string; pid: number; value: string | null; args: string[] },
  };
}

test("a process without the options starts again with them: the same process, flags and arguments", () => {
  const { pid, seen } = tuned({ MIMALLOC_PURGE_DELAY: undefined }, "a", "b c");
  expect(seen).toEqual({ state: "tuned", pid, value: "-1", args: ["a", "b c"] });
});

test("an option the operator set is kept as it is", () => {
  const { pid, seen } = tuned({ MIMALLOC_PURGE_DELAY: "100" });
  expect(seen).toEqual({ state: "operator's own", pid, value: "100", args: [] });
});

test("a profiled process is left as it is (a profiler's signal would kill the new image)", () => {
  const dir = mkdtempSync(join(tmpdir(), "l2tp-allocator-"));
  try {
    const flags = ["--cpu-prof", "--cpu-prof-interval=250", `--cpu-prof-dir=${dir}`];
    const { pid, seen } = tunedWith(flags, { MIMALLOC_PURGE_DELAY: undefined });
    expect(seen).toEqual({ state: "defaults", pid, value: null, args: [] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
