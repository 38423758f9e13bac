/**
 * bench/ppp sets up subscribers end to end (LAC with a simulated subscriber per call, LNS child with
 * PPP and local AAA): a small case must bring every subscriber's PPP up on both sides, cold then warm,
 * and report CPU per set-up of each process and RSS per PPP session.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { benchJson } from "../support/bench.ts";

function run(auth: "pap" | "chap"): Record<string, unknown>[] {
  const args = ["--sessions", "300", "--tunnels", "3", "--auth", auth, "--users", "50", "--reference", "no"];
  return benchJson("bench/ppp.ts", args, 120_000);
}

describe("bench/ppp", () => {
  for (const auth of ["chap", "pap"] as const) {
    test(`${auth.toUpperCase()} with local AAA: 300 subscribers over 3 tunnels, cold then warm`, () => {
      const rounds = run(auth);
      expect(rounds.map((r) => r.round)).toEqual(["cold", "warm"]);
      for (const r of rounds) {
        expect(r).toMatchObject({
          bench: "ppp",
          auth,
          aaa: "local",
          established: 300,
          failed: 0,
          problems: [],
        });
        expect(r.setupPerSecond).toBeGreaterThan(0);
        expect(r.lnsCpuMicrosPerSession).toBeGreaterThan(0);
        expect(r.lacCpuMicrosPerSession).toBeGreaterThan(0);
      }
      expect(rounds[0].lnsBytesPerSession).toBeGreaterThan(0);
    }, 150_000);
  }

  test("a wrong argument is named with the choices", () => {
    const out = spawnSync("node_modules/.bin/bun", ["bench/ppp.ts", "--sessions", "10", "--auth", "mschap"], {
      encoding: "utf8",
    });
    expect(out.status).toBe(2);
    expect(out.stderr).toContain("--auth: expected pap or chap, got 'mschap'");
  });
});
