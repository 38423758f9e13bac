/**
 * bench/lns-load drives a real LNS child over loopback UDP as an outside LAC would: a small case on
 * each runtime must set up every call, see every control message in order, close every tunnel, and
 * report the LNS's CPU by thread and its RSS from /proc.
 */
import { describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { LAB_SECRET } from "../../bin/commands/lab.ts";
import { benchJson } from "../support/bench.ts";

function run(lns: "bun" | "deno"): Record<string, unknown>[] {
  const args = ["--sessions", "300", "--tunnels", "3", "--lns", lns, "--receive-window", "4"];
  return benchJson("bench/lns-load.ts", args, 60_000);
}

describe("bench/lns-load", () => {
  test("--settle S reads the LNS's RSS again after S s idle; a bad value is refused naming the flag", () => {
    const [cold] = benchJson(
      "bench/lns-load.ts",
      ["--sessions", "100", "--tunnels", "2", "--rounds", "cold", "--settle", "1"],
      60_000,
    );
    expect(cold).toMatchObject({ ok: true, established: 100, settleSeconds: 1 });
    expect(typeof cold.lnsRssSettledBytesPerCall).toBe("number");
    const bad = spawnSync("node_modules/.bin/bun", ["bench/lns-load.ts", "--settle", "soon"], {
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--settle: expected seconds from 0 to 600, got 'soon'");
  }, 90_000);

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

/** bench/lns-load --ppp: every call also sets up the subscriber's PPP (LCP, PAP or CHAP, IPCP) with our LNS. */
function runPpp(auth: "pap" | "chap", extra: string[] = [], status = 0): Record<string, unknown>[] {
  const args = ["--ppp", auth, "--sessions", "200", "--tunnels", "4", "--users", "50", ...extra];
  return benchJson("bench/lns-load.ts", args, 90_000, status);
}

describe("bench/lns-load --ppp", () => {
  for (const auth of ["pap", "chap"] as const) {
    test(`${auth.toUpperCase()} with local AAA: 200 subscribers over 4 tunnels, cold then warm, all up on both sides`, () => {
      const rounds = runPpp(auth);
      expect(rounds.map((r) => r.round)).toEqual(["cold", "warm"]);
      for (const r of rounds) {
        expect(r).toMatchObject({
          ok: true,
          auth,
          aaa: "local",
          established: 200,
          setups: 200,
          lnsPppUp: 200,
          setupFailures: 0,
          failuresByReason: {},
          problems: [],
        });
        expect(r.setupsPerSecond).toBeGreaterThan(0);
        expect((r.setupsPerSecondByQuarter as number[]).length).toBe(4);
        expect(r.lnsCpuMicrosPerSetup).toBeGreaterThan(0);
        expect(r.generatorCpuMicrosPerSetup).toBeGreaterThan(0);
      }
      expect(rounds[0].lnsRssBytesPerSession).toBeGreaterThan(0);
    }, 120_000);
  }

  test("--socket-per-tunnel: each tunnel from a port of its own (as l2tpns needs), every set-up up", () => {
    const [r] = runPpp("pap", ["--socket-per-tunnel", "--rounds", "cold"]);
    expect(r).toMatchObject({ ok: true, generatorSockets: 4, established: 200, setups: 200, lnsPppUp: 200 });
  }, 120_000);

  test("a wrong password: every set-up fails with 'auth failed', the LNS has no link up, the run fails", () => {
    for (const auth of ["pap", "chap"] as const) {
      const [r] = runPpp(auth, ["--password", "not-the-password", "--rounds", "cold"], 1);
      expect(r).toMatchObject({
        ok: false,
        auth,
        established: 200,
        setups: 0,
        lnsPppUp: 0,
        setupFailures: 200,
        failuresByReason: { "auth failed": 200 },
      });
    }
  }, 120_000);
});

test("--ppp --target: an LNS the generator did not start (ours, given by address), with --user and --password", async () => {
  const lns = spawn("node_modules/.bin/bun", ["bench/lns-child.ts", "--ppp", "chap", "--users", "10"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  try {
    const lines = createInterface({ input: lns.stdout })[Symbol.asyncIterator]();
    const { port } = JSON.parse((await lines.next()).value as string) as { port: number };
    const args = ["--target", `127.0.0.1:${port}`, "--secret", LAB_SECRET];
    const [r] = runPpp("chap", [...args, "--user", "user3", "--password", "pw-3-secret"]);
    expect(r).toMatchObject({ ok: true, round: "as found", established: 200, setups: 200, setupFailures: 0 });
    // Another user's password: the LNS's AAA refuses every one.
    const [wrong] = runPpp("chap", [...args, "--user", "user3", "--password", "pw-4-secret"], 1);
    expect(wrong).toMatchObject({ setups: 0, failuresByReason: { "auth failed": 200 } });
  } finally {
    lns.stdin.write("close\n");
    await new Promise((resolve) => lns.once("exit", resolve));
  }
}, 120_000);
