/** Runs a bench/ script with Bun and returns the JSON lines it printed (its human lines are skipped). */
import { expect } from "bun:test";
import { spawnSync } from "node:child_process";

export function benchJson(script: string, args: string[], timeoutMs: number): Record<string, unknown>[] {
  const out = spawnSync("node_modules/.bin/bun", [script, ...args], { encoding: "utf8", timeout: timeoutMs });
  expect(out.stderr).toBe("");
  expect(out.status).toBe(0);
  return out.stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
}
