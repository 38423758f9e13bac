/**
 * A destination's lockout as the operator handles it (JUNOSe: `clear l2tp destination lockout`, `test
 * l2tp destination lockout`): `show` says when it ends, `enable` says it is still there, `l2tp lockout
 * clear` lets calls through at once, `l2tp lockout test` opens the test tunnel now. A LAC on the memory
 * network whose LNS is not there at first; its admin API on loopback; the commands run in-process.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createNode, type L2tpNode } from "../../../actors/node.ts";
import { type AdminServer, startAdminServer } from "../../../adapters/admin/server.ts";
import { SimulatedClock } from "../../../adapters/clock/index.ts";
import { SeededRandom } from "../../../adapters/random/index.ts";
import { MemoryNetwork } from "../../../adapters/udp/index.ts";
import { callAdmin } from "../../../bin/commands/admin.ts";
import { l2tp } from "../../support/l2tp-command.ts";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const LNS = { address: "10.0.0.1", port: 1701 };
const PEER = "10.0.0.1:1701";

/** A LAC locked out of LNS (nobody answered its SCCRQ), its admin API, and a way to start the LNS. */
async function lockedOutLac(): Promise<{
  lac: L2tpNode;
  admin: AdminServer;
  clock: SimulatedClock;
  failedAt: number;
  startLns: () => L2tpNode;
}> {
  // The clock starts at the wall clock's time, so that `show` counts down from the real now.
  const clock = new SimulatedClock(Date.now());
  const random = new SeededRandom(3);
  const network = new MemoryNetwork({ clock, random });
  const lac = createNode(
    {
      name: "lac",
      hostName: "lac.test",
      destinations: [{ ...LNS, secret: "s3cret", accept: false }],
      channel: { maxRetransmits: 1, retransmitInitialMs: 100, retransmitCapMs: 100 },
    },
    { transport: network.bind("10.0.0.2", 1701), clock, random },
  );
  const admin = await startAdminServer(lac, { address: "127.0.0.1", port: 0 });
  cleanup.push(async () => {
    await admin.close();
  });
  const first = lac.openSession({ destination: LNS });
  await settle(clock, 2_000);
  const outcome = await first;
  expect(outcome.ok).toBe(false);
  const failedAt = clock.now();
  const startLns = () =>
    createNode(
      { name: "lns", hostName: "lns.test", destinations: [{ address: "10.0.0.2", secret: "s3cret" }] },
      { transport: network.bind(LNS.address, LNS.port), clock, random: new SeededRandom(4) },
    );
  return { lac, admin, clock, failedAt, startLns };
}

async function settle(clock: SimulatedClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    clock.advance(50);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

describe("a destination's lockout, for the operator", () => {
  test("show says when it ends; enable says it stays; lockout clear lets calls through at once", async () => {
    const { lac, admin, clock, failedAt, startLns } = await lockedOutLac();
    const d = lac.snapshot().destinations[0];
    expect(d.state).toBe("lockedOut");
    // Locked out when the tunnel failed, for the default 300 s.
    expect(d.lockedOutUntil).toBeGreaterThan(failedAt - 2_000 + 300_000);
    expect(d.lockedOutUntil).toBeLessThanOrEqual(failedAt + 300_000);
    const shown = await l2tp("show", "destinations", "--admin", admin.url);
    expect(shown.out).toMatch(/10\.0\.0\.1:1701.*locked out until \d\d:\d\d:\d\dZ/);
    const enabled = await l2tp("enable", "destination", PEER, "--admin", admin.url);
    expect(enabled.out).toContain(`destination ${PEER}: still locked out until`);
    expect(enabled.out).toContain(`'l2tp lockout clear ${PEER}' clears it`);

    const lns = startLns();
    const refused = lac.openSession({ destination: LNS });
    await settle(clock, 100);
    const r = await refused;
    expect(r.ok ? "ok" : r.cause.reason).toBe("lockout");

    const cleared = await l2tp("lockout", "clear", PEER, "--admin", admin.url);
    expect(cleared.out).toBe(`destination ${PEER}: lockout cleared; calls go to it again\n`);
    expect(lac.snapshot().destinations[0].lockedOutUntil).toBeUndefined();
    const before = clock.now();
    const call = lac.openSession({ destination: LNS });
    await settle(clock, 1_000);
    expect((await call).ok).toBe(true);
    expect(clock.now() - before).toBeLessThan(300_000);
    // Nothing to clear any more: the operator is told so.
    await expect(l2tp("lockout", "clear", PEER, "--admin", admin.url)).rejects.toThrow(
      "the destination is not locked out",
    );
    void lac.close();
    void lns.close();
    await settle(clock, 40_000);
  });

  test("lockout test opens the test tunnel now; once it is up the destination takes calls", async () => {
    const { lac, admin, clock, startLns } = await lockedOutLac();
    const lns = startLns();
    const started = await l2tp("lockout", "test", PEER, "--admin", admin.url);
    expect(started.out).toBe(`destination ${PEER}: lockout test started (a test tunnel is opening)\n`);
    expect(lac.snapshot().destinations[0].state).toBe("testing");
    await settle(clock, 1_000);
    const d = lac.snapshot().destinations[0];
    expect(d.state).toBe("available.used");
    expect(d.tunnels.map((t) => [t.state, t.test])).toEqual([["established", true]]);
    const call = lac.openSession({ destination: LNS });
    await settle(clock, 1_000);
    expect((await call).ok).toBe(true);
    void lac.close();
    void lns.close();
    await settle(clock, 40_000);
  });

  test("bad lockout requests name the fix", async () => {
    const { lac, admin } = await lockedOutLac();
    expect((await l2tp("lockout", "forget", PEER, "--admin", admin.url)).code).toBe(2);
    await expect(l2tp("lockout", "clear", "10.9.9.9:1701", "--admin", admin.url)).rejects.toThrow(
      "no such destination",
    );
    await expect(
      callAdmin(admin.url, "/v1/lockout", { target: { level: "system" }, action: "clear" }),
    ).rejects.toThrow("target.level: only a destination is locked out");
    void lac.close();
  });
});
