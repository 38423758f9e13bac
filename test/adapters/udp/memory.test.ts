import { describe, expect, test } from "bun:test";
import type { PeerAddress } from "../../../actors/ports.ts";
import { SimulatedClock } from "../../../adapters/clock/index.ts";
import { SeededRandom } from "../../../adapters/random/index.ts";
import { MemoryNetwork } from "../../../adapters/udp/index.ts";

function setup(seed = 1) {
  const clock = new SimulatedClock();
  const net = new MemoryNetwork({ clock, random: new SeededRandom(seed) });
  return { clock, net };
}

describe("MemoryNetwork", () => {
  test("delivers on the clock, never inside send; replies reach the source port", () => {
    const { clock, net } = setup();
    const a = net.bind("10.0.0.1");
    const b = net.bind("10.0.0.2", 1701);
    expect(a.local.port).toBeGreaterThanOrEqual(49152);
    const atB: [number[], PeerAddress][] = [];
    b.onReceive((p, from) => {
      atB.push([Array.from(p), from]);
      b.send(new Uint8Array([p[0] + 100]), from);
    });
    const atA: number[] = [];
    a.onReceive((p) => atA.push(p[0]));
    const buf = new Uint8Array([1, 2, 3]);
    a.send(buf, b.local);
    buf[0] = 99; // the network copied it
    expect(atB).toEqual([]);
    clock.advance(1);
    expect(atB).toEqual([[[1, 2, 3], { address: "10.0.0.1", port: a.local.port }]]);
    expect(atA).toEqual([]);
    clock.advance(1);
    expect(atA).toEqual([101]);
    expect(net.stats).toMatchObject({ sent: 2, delivered: 2, lost: 0 });
    expect(clock.pending).toBe(0);
  });

  test("per-link delay, one direction only", () => {
    const { clock, net } = setup();
    net.setLink("10.0.0.1", "10.0.0.2", { delayMs: 30 });
    const a = net.bind("10.0.0.1", 1);
    const b = net.bind("10.0.0.2", 2);
    const arrivals: string[] = [];
    a.onReceive(() => arrivals.push(`a@${clock.now()}`));
    b.onReceive(() => arrivals.push(`b@${clock.now()}`));
    a.send(new Uint8Array(1), b.local);
    b.send(new Uint8Array(1), a.local);
    clock.runUntilIdle();
    expect(arrivals).toEqual(["a@1", "b@30"]);
  });

  test("loss, duplication and reordering happen at about the asked rates, and are counted", () => {
    const { clock, net } = setup(7);
    net.setDefaultLink({ loss: 0.1, duplicate: 0.1, reorder: 0.2, reorderMaxMs: 20 });
    const a = net.bind("10.0.0.1");
    const b = net.bind("10.0.0.2");
    const got: number[] = [];
    b.onReceive((p) => got.push(p[0] | (p[1] << 8)));
    const n = 10_000;
    for (let i = 0; i < n; i++) a.send(new Uint8Array([i & 0xff, i >> 8]), b.local);
    clock.runUntilIdle();
    const s = net.stats;
    expect(s.lost / n).toBeGreaterThan(0.08);
    expect(s.lost / n).toBeLessThan(0.12);
    expect(s.duplicated / (n - s.lost)).toBeCloseTo(0.1, 1);
    expect(got.length).toBe(n - s.lost + s.duplicated);
    expect(new Set(got).size).toBe(n - s.lost);
    let outOfOrder = 0;
    for (let i = 1; i < got.length; i++) if (got[i] < got[i - 1]) outOfOrder++;
    expect(outOfOrder).toBeGreaterThan(100);
    expect(s.delivered).toBe(got.length);
  });

  test("same seed, same fate for every datagram", () => {
    const run = (seed: number) => {
      const { clock, net } = setup(seed);
      net.setDefaultLink({ loss: 0.3, duplicate: 0.3, reorder: 0.3 });
      const a = net.bind("h1");
      const b = net.bind("h2");
      const got: number[] = [];
      b.onReceive((p) => got.push(p[0]));
      for (let i = 0; i < 200; i++) a.send(new Uint8Array([i]), b.local);
      clock.runUntilIdle();
      return got;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  test("unreachable, closed and unhandled sockets; ports in use; taps", () => {
    const { clock, net } = setup();
    const a = net.bind("10.0.0.1", 1701);
    expect(() => net.bind("10.0.0.1", 1701)).toThrow(/already bound/);
    const b = net.bind("10.0.0.2", 1701);
    const fates: string[] = [];
    net.tap((_p, from, to, fate) => fates.push(`${from.address}>${to.address}:${to.port} ${fate}`));
    a.send(new Uint8Array([1]), { address: "10.0.0.9", port: 1 });
    a.send(new Uint8Array([1]), b.local); // b has no handler yet
    clock.advance(1);
    expect(b.stats.unhandled).toBe(1);
    a.send(new Uint8Array([2]), b.local);
    void b.close();
    clock.advance(1);
    expect(net.stats.unreachable).toBe(2);
    expect(fates).toEqual([
      "10.0.0.1>10.0.0.9:1 unreachable",
      "10.0.0.1>10.0.0.2:1701 delivered",
      "10.0.0.1>10.0.0.2:1701 unreachable",
    ]);
    void a.close();
    a.send(new Uint8Array([3]), b.local);
    expect(a.stats.sendErrors).toBe(1);
    // Closed ports can be bound again.
    expect(net.bind("10.0.0.2", 1701).local.port).toBe(1701);
  });

  test("rejects probabilities outside [0,1]", () => {
    const { net } = setup();
    expect(() => net.setDefaultLink({ loss: 1.5 })).toThrow(RangeError);
    expect(() => net.setLink("a", "b", { duplicate: -0.1 })).toThrow(RangeError);
  });
});
