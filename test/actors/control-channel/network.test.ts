/**
 * Two control channels talking over the simulated lossy network: what RFC 2661 §5.8 promises end to
 * end (every message delivered once and in order, or the channel gives up with a cause).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type End, numbered, pair } from "./harness.ts";

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

/** Runs the clock until both ends are drained (or failed), bounded so that a bug cannot hang the test. */
function settle(clock: { step(): boolean; now(): number }, ends: End[], limitMs = 3_600_000): void {
  const done = () => ends.every((e) => e.channel.closed || e.channel.outstanding === 0);
  while (!done() && clock.now() < limitMs && clock.step()) {
    // step fires the next timer: a delivery, an ack, a retransmission
  }
  // Let the last acks arrive so that no ZLB is left owed.
  const until = clock.now() + 1000;
  while (clock.now() < until && clock.step()) {
    // ack and delivery timers only
  }
}

describe("control channel pair over the MemoryNetwork", () => {
  test("property: with 10% loss, duplication and reordering, every message arrives once and in order, or the channel fails with a cause", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 1, max: 16 }),
        (seed, nA, nB, window) => {
          const { clock, network, a, b } = pair(
            seed,
            { loss: 0.1, duplicate: 0.1, reorder: 0.2, reorderMaxMs: 300, delayMs: 5 },
            { a: { receiveWindow: window }, b: { receiveWindow: window } },
          );
          a.channel.peerReceiveWindow = window;
          b.channel.peerReceiveWindow = window;
          for (const i of range(0, nA)) a.channel.send(numbered(i), 0);
          for (const i of range(1000, nB)) b.channel.send(numbered(i), 0);
          settle(clock, [a, b]);
          const failed = a.failures.length + b.failures.length > 0;
          if (failed) {
            // Giving up is allowed only with a cause, and within the retry budget of 31 s per message.
            for (const cause of [...a.failures, ...b.failures]) expect(cause).toContain("retransmissions");
            return;
          }
          expect(b.delivered).toEqual(range(0, nA));
          expect(a.delivered).toEqual(range(1000, nB));
          expect(a.channel.outstanding + b.channel.outstanding).toBe(0);
          expect(network.stats.lost + network.stats.duplicated).toBeGreaterThan(0);
          expect(a.maxInFlight).toBeLessThanOrEqual(window);
          expect(b.maxInFlight).toBeLessThanOrEqual(window);
          a.channel.close();
          b.channel.close();
        },
      ),
      { seed: 2661, numRuns: 60 },
    );
  });

  test("a long exchange wraps Ns and Nr across 65535 → 0 under loss", () => {
    const { clock, a, b } = pair(
      11,
      { loss: 0.1, duplicate: 0.05, reorder: 0.1 },
      {
        a: { initialNs: 65_400, initialNr: 65_500 },
        b: { initialNs: 65_500, initialNr: 65_400 },
      },
    );
    a.channel.peerReceiveWindow = 16;
    b.channel.peerReceiveWindow = 16;
    for (const i of range(0, 300)) a.channel.send(numbered(i), 0);
    for (const i of range(5000, 300)) b.channel.send(numbered(i), 0);
    settle(clock, [a, b]);
    expect(a.failures).toEqual([]);
    expect(b.failures).toEqual([]);
    expect(b.delivered).toEqual(range(0, 300));
    expect(a.delivered).toEqual(range(5000, 300));
    expect(a.channel.state()).toMatchObject({ ns: (65_400 + 300) & 0xffff, nr: (65_500 + 300) & 0xffff });
    expect(b.channel.state()).toMatchObject({ ns: (65_500 + 300) & 0xffff, nr: (65_400 + 300) & 0xffff });
  });

  test("a peer window of 1 is respected: never more than one message outstanding on the wire", () => {
    const { clock, a, b } = pair(3, { loss: 0.1, reorder: 0.3, duplicate: 0.1 });
    a.channel.peerReceiveWindow = 1;
    for (const i of range(0, 100)) a.channel.send(numbered(i), 0);
    settle(clock, [a, b]);
    expect(a.failures).toEqual([]);
    expect(b.delivered).toEqual(range(0, 100));
    expect(a.maxInFlight).toBe(1);
    expect(a.channel.stats().maxInFlight).toBe(1);
  });

  test("ZLBs carry the acks of a one-way exchange; the idle pair then keeps alive with HELLOs", () => {
    const { clock, network, a, b } = pair(5, { delayMs: 10 });
    for (const i of range(0, 10)) a.channel.send(numbered(i), 0);
    settle(clock, [a, b]);
    expect(b.delivered).toEqual(range(0, 10));
    expect(b.channel.stats().zlbsSent).toBeGreaterThan(0);
    clock.advance(10 * 60_000);
    expect(a.failures).toEqual([]);
    expect(b.failures).toEqual([]);
    expect(a.channel.stats().hellos + b.channel.stats().hellos).toBeGreaterThanOrEqual(10);
    expect(network.stats.lost).toBe(0);
  });

  test("a peer cut off: the channel fails with a cause within the retry budget, and no timer is left", () => {
    const { clock, network, a } = pair(9, {});
    network.setLink("10.0.0.1", "10.0.0.2", { loss: 1 });
    a.channel.send(numbered(0), 0);
    clock.advance(30_999);
    expect(a.failures).toEqual([]);
    clock.advance(1);
    expect(a.failures.length).toBe(1);
    expect(a.failures[0]).toContain("ICRQ (Ns=0");
    expect(a.channel.closed).toBe(true);
  });

  test("no timers leak: both channels closed leave the clock idle", () => {
    const { clock, a, b } = pair(1, { loss: 0.1 });
    for (const i of range(0, 20)) a.channel.send(numbered(i), 0);
    clock.advance(500);
    a.channel.close();
    b.channel.close();
    expect(clock.runUntilIdle(60_000)).toBe(true);
  });
});
