/** Address pools: never an address twice, every one back when its link ends, across 100,000 cycles. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { AddressPool } from "../../actors/address-pool.ts";
import { LocalAaa } from "../../adapters/aaa/local.ts";
import { ipv4ToNumber, numberToIpv4 } from "../../protocol/ipv4.ts";
import { LAC, Lab, LNS, lacConfig, lnsConfig } from "./lab.ts";

describe("AddressPool", () => {
  test("hands out each address once, reports exhaustion, takes addresses back", () => {
    const pool = new AddressPool({ name: "p", start: "10.0.0.254", end: "10.0.1.1" });
    expect([pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate()]).toEqual([
      "10.0.0.254",
      "10.0.0.255",
      "10.0.1.0",
      "10.0.1.1",
    ]);
    expect(pool.allocate()).toBeUndefined();
    expect(pool.exhausted).toBe(1);
    pool.release("10.0.1.0");
    pool.release("10.0.1.0"); // twice: ignored
    pool.release("192.0.2.1"); // not ours: ignored
    expect(pool.inUse).toBe(3);
    expect(pool.allocate()).toBe("10.0.1.0");
    expect(pool.reserve("10.0.1.0")).toBe(false);
  });

  test("100,000 random allocations and releases: no address twice, the count always right, all back at the end", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 100_000, maxLength: 100_000 }), (ops) => {
        const pool = new AddressPool({ name: "p", start: "10.0.0.1", end: "10.0.0.64" });
        const held: string[] = [];
        const out = new Set<string>();
        for (const take of ops) {
          if (take) {
            const a = pool.allocate();
            if (held.length === 64) expect(a).toBeUndefined();
            else {
              expect(a).toBeDefined();
              expect(out.has(a as string)).toBe(false);
              out.add(a as string);
              held.push(a as string);
            }
          } else if (held.length > 0) {
            const a = held.splice(held.length >> 1, 1)[0] as string;
            out.delete(a);
            pool.release(a);
          }
          expect(pool.inUse).toBe(held.length);
        }
        for (const a of held) pool.release(a);
        expect(pool.inUse).toBe(0);
      }),
      { numRuns: 1 },
    );
  });

  test("addresses as numbers and back", () => {
    expect(ipv4ToNumber("255.255.255.255")).toBe(0xffffffff);
    expect(numberToIpv4(0x0a000001)).toBe("10.0.0.1");
    expect(ipv4ToNumber("10.0.0")).toBeUndefined();
    expect(ipv4ToNumber("10.0.0.256")).toBeUndefined();
    expect(() => new AddressPool({ name: "x", start: "10.0.0.2", end: "10.0.0.1" })).toThrow("before start");
  });
});

describe("addresses of PPP links go back to the pool on every way a call ends", () => {
  test("1,000 calls through a pool of 8: the LAC closes, the LNS closes, the tunnel closes", async () => {
    const lab = new Lab(3, { record: false });
    const lac = lab.node(LAC.address, lacConfig({ ppp: { subscriber: { user: "u", password: "pw" } } }));
    const lns = lab.node(
      LNS.address,
      lnsConfig({
        ppp: {
          lns: { authProtocols: ["chap"] },
          pools: [{ name: "small", start: "10.7.0.1", end: "10.7.0.8" }],
        },
      }),
      { deps: { aaa: new LocalAaa([{ name: "u", password: "pw" }]) } },
    );
    const pool = () => lns.snapshot({ sessions: false }).ppp?.pools[0];
    for (let round = 0; round < 125; round++) {
      const calls = await lab.until(
        Promise.all(Array.from({ length: 8 }, () => lac.openSession({ destination: LNS }))),
      );
      await lab.run(100);
      expect(pool()?.inUse).toBe(8);
      const way = round % 3;
      for (const c of calls) {
        if (!c.ok) throw new Error(`call failed: ${c.cause.message}`);
        if (way === 0) lac.closeSession(c.tunnelId, c.sessionId);
        else if (way === 1) lns.closeSession(c.peerTunnelId, c.peerSessionId);
      }
      if (way === 2) lac.closeDestination(LNS, { reason: "admin", message: "round over" });
      await lab.run(way === 2 ? 3000 : 500);
      expect(pool()).toMatchObject({ inUse: 0, exhausted: 0 });
    }
    expect(lns.snapshot({ sessions: false }).ppp).toMatchObject({ up: 1000, noAddress: 0 });
    await lab.closeAll();
  }, 60_000);
});
