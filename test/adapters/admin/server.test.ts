/**
 * The admin API and the commands that use it: a LAC and an LNS on the memory network, the LNS's admin
 * API on loopback, and `show`, `drain`, `enable`, `close` run as an operator would.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createNode, type L2tpNode } from "../../../actors/node.ts";
import { clientAdminToken } from "../../../adapters/admin/access.ts";
import { type AdminServer, startAdminServer } from "../../../adapters/admin/server.ts";
import { SimulatedClock } from "../../../adapters/clock/index.ts";
import { SeededRandom } from "../../../adapters/random/index.ts";
import { MemoryNetwork } from "../../../adapters/udp/index.ts";
import { l2tp } from "../../support/l2tp-command.ts";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function pair(): Promise<{ lac: L2tpNode; lns: L2tpNode; admin: AdminServer; clock: SimulatedClock }> {
  const clock = new SimulatedClock();
  const random = new SeededRandom(7);
  const network = new MemoryNetwork({ clock, random });
  const lnsAddress = { address: "10.0.0.1", port: 1701 };
  const lns = createNode(
    { name: "lns", hostName: "lns.test", destinations: [{ address: "10.0.0.2", secret: "s3cret" }] },
    { transport: network.bind(lnsAddress.address, lnsAddress.port), clock, random },
  );
  const lac = createNode(
    { name: "lac", hostName: "lac.test", destinations: [{ ...lnsAddress, secret: "s3cret" }] },
    { transport: network.bind("10.0.0.2", 1701), clock, random },
  );
  const admin = await startAdminServer(lns, { address: "127.0.0.1", port: 0 });
  cleanup.push(() => admin.close());
  return { lac, lns, admin, clock };
}

async function settle(clock: SimulatedClock, ms = 2000): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    clock.advance(50);
    await Promise.resolve();
  }
}

describe("admin API", () => {
  test("show, drain, enable and close a tunnel as an operator", async () => {
    const { lac, lns, admin, clock } = await pair();
    const opened = lac.openSession({ destination: { address: "10.0.0.1", port: 1701 } });
    await settle(clock);
    const outcome = await opened;
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;

    const shown = await l2tp("show", "--sessions", "--admin", admin.url);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain("destination 10.0.0.2:1701");
    expect(shown.out).toMatch(/tunnel \d+ → \d+ {2}established/);
    expect(shown.out).toContain("1 sessions");

    expect((await l2tp("drain", "--admin", admin.url)).out).toBe("system: admin state drain\n");
    expect(lns.snapshot().system.admin).toBe("drain");
    expect((await l2tp("enable", "--admin", admin.url)).out).toBe("system: admin state enabled\n");
    expect(lns.snapshot().system.admin).toBe("enabled");

    const tunnelId = lns.snapshot().destinations[0].tunnels[0].id;
    expect((await l2tp("close", "tunnel", String(tunnelId), "--admin", admin.url)).code).toBe(0);
    await settle(clock, 40_000);
    expect((await outcome.ended).reason).toBe("tunnel-gone");
    expect(lns.snapshot().registries.tunnels).toBe(0);
    await lac.close();
    await lns.close();
  });

  test("show's text has the counters its JSON has, and each call's Calling and Called Number", async () => {
    const { lac, lns, admin, clock } = await pair();
    const opened = lac.openSession({
      destination: { address: "10.0.0.1", port: 1701 },
      requestAvps: { callingNumber: "5550001", calledNumber: "5550002" },
    });
    await settle(clock);
    const outcome = await opened;
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    // A data message for a session the LNS does not have.
    lac.sendData(outcome.tunnelId, outcome.sessionId, new Uint8Array([0xff, 0x03]));
    expect(lns.closeSession(outcome.peerTunnelId, outcome.peerSessionId)).toBe(true);
    lac.sendData(outcome.tunnelId, outcome.sessionId, new Uint8Array([0xff, 0x03]));
    await settle(clock, 100);
    const json = lns.snapshot();
    expect(json.stats.dataUnknown).toBeGreaterThanOrEqual(1);
    expect(json.sockets).toHaveLength(1);
    const text = (await l2tp("show", "--admin", admin.url)).out;
    expect(text).toContain(`data to no session ${json.stats.dataUnknown}`);
    expect(text).toContain(`invalid calls refused 0  invalid unanswerable 0`);
    expect(text).toMatch(
      /socket 10\.0\.0\.1:1701 {2}sent \d+ {2}received \d+ {2}send errors 0 {2}unhandled 0/,
    );

    const second = lac.openSession({
      destination: { address: "10.0.0.1", port: 1701 },
      requestAvps: { callingNumber: "5550003", calledNumber: "5550004" },
    });
    await settle(clock);
    expect((await second).ok).toBe(true);
    const withSessions = (await l2tp("show", "--sessions", "--admin", admin.url)).out;
    expect(withSessions).toMatch(/session \d+ → \d+ {2}established {2}calling 5550003 {2}called 5550004/);
    // The LAC, which placed the call, shows the same numbers.
    expect(
      lac
        .snapshot()
        .destinations[0].tunnels[0].sessions.map((x) => [x.callingNumber, x.calledNumber])
        .at(-1),
    ).toEqual(["5550003", "5550004"]);
    void lac.close();
    void lns.close();
    await settle(clock, 40_000);
  });

  test("bad requests name the field; unknown targets are 404s", async () => {
    const { admin, lac, lns } = await pair();
    const post = (path: string, body: unknown) =>
      fetch(`${admin.url}${path}`, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { authorization: `Bearer ${clientAdminToken(admin.url)}` },
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { error?: string },
      }));
    expect(await post("/v1/admin", { target: { level: "system" }, state: "off" })).toEqual({
      status: 400,
      body: { error: "state: expected one of enabled, drain, shutdown" },
    });
    expect((await post("/v1/close", { target: { level: "tunnel", tunnelId: 0 } })).body.error).toBe(
      "target.tunnelId: expected 1-65535",
    );
    expect(await post("/v1/close", { target: { level: "tunnel", tunnelId: 9 } })).toEqual({
      status: 404,
      body: { error: "no such tunnel" },
    });
    expect(
      (await post("/v1/admin", { target: { level: "destination", peer: "nowhere" }, state: "drain" })).status,
    ).toBe(400);
    await expect(l2tp("drain", "tunnel", "x", "--admin", admin.url)).rejects.toThrow(
      "tunnel: expected 1-65535, got 'x'",
    );
    await expect(l2tp("show", "--admin", "http://127.0.0.1:1")).rejects.toThrow(
      "no node answers at http://127.0.0.1:1",
    );
    void lac.close();
    void lns.close();
  });
});
