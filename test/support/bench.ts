/**
 * Runs a bench/ script with Bun and returns the JSON lines it printed (its human lines are skipped);
 * `status` is the exit status expected (1: a run that reports a failed round).
 */
import { expect } from "bun:test";
import { spawnSync } from "node:child_process";

export function benchJson(
  script: string,
  args: string[],
  timeoutMs: number,
  status = 0,
): Record<string, unknown>[] {
  const out = spawnSync("node_modules/.bin/bun", [script, ...args], { encoding: "utf8", timeout: timeoutMs });
  expect(out.stderr).toBe("");
  expect(out.status).toBe(status);
  return out.stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
}
