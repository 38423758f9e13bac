/**
 * bench/lns-load drives a real LNS child over loopback UDP as an outside LAC would: a small case on
 * each runtime must set up every call, see every control message in order, close every tunnel, and
 * report the LNS's CPU by thread and its RSS from /proc.
 */
import { describe, expect, test } from "bun:test";
import { benchJson } from "../support/bench.ts";

function run(lns: "bun" | "deno"): Record<string, unknown>[] {
  const args = ["--sessions", "300", "--tunnels", "3", "--lns", lns, "--receive-window", "4"];
  return benchJson("bench/lns-load.ts", args, 60_000);
}

describe("bench/lns-load", () => {
  for (const lns of ["bun", "deno"] as const) {
    test(`against our LNS on ${lns}: 300 calls over 3 tunnels, cold then warm`, () => {
      const rounds = run(lns);
      expect(rounds.map((r) => r.round)).toEqual(["cold", "warm"]);
      for (const r of rounds) {
        expect(r).toMatchObject({
          ok: true,
          established: 300,
          outOfOrder: 0,
          authFailures: 0,
          undecodable: 0,
        });
        expect(r.callsPerSecond).toBeGreaterThan(0);
        expect((r.lnsCpuByThread as Record<string, number>).main).toBeGreaterThan(0);
        expect(r.lnsRssMiB).toBeGreaterThan(0);
        expect(r.generatorCpuMicrosPerCall).toBeGreaterThan(0);
      }
    }, 90_000);
  }
});
