/**
 * bench/lac sets up subscribers through our LAC to our LNS (proxy LCP, CHAP, an address, a ping): a
 * small case must bring every subscriber up with the LNS in its own process and in the LAC's, and say
 * the RSS of each process.
 */
import { describe, expect, test } from "bun:test";
import { benchJson } from "../support/bench.ts";

describe("bench/lac", () => {
  for (const lns of ["child", "here"] as const) {
    test(`200 subscribers over 2 tunnels, two rounds, the LNS ${lns === "child" ? "in its own process" : "in the LAC's"}`, () => {
      const [report] = benchJson(
        "bench/lac.ts",
        ["--subscribers", "200", "--tunnels", "2", "--rounds", "2", "--lns", lns],
        120_000,
      );
      expect(report).toMatchObject({ bench: "lac", subscribers: 200, tunnels: 2, lns, ok: true });
      expect((report.pppPerSecond as number[]).length).toBe(2);
      for (const rate of report.pppPerSecond as number[]) expect(rate).toBeGreaterThan(0);
      expect((report.lnsRssPerSubscriberKB as number[]).length).toBe(lns === "child" ? 2 : 0);
    }, 150_000);
  }
});
