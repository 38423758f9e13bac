import { describe, expect, test } from "bun:test";
import { AckTimer } from "../../../actors/control-channel/ack-timer.ts";
import { HelloTimer } from "../../../actors/control-channel/hello.ts";
import { RetransmitTimer } from "../../../actors/control-channel/retransmit.ts";
import { SimulatedClock } from "../../../adapters/clock/index.ts";

const schedule = { initialMs: 1000, capMs: 8000, maxRetransmits: 5 };

describe("RetransmitTimer (RFC 2661 §5.8)", () => {
  test("1 s, doubling, capped at 8 s; after 5 retransmissions, exhausted at 31 s", () => {
    const clock = new SimulatedClock();
    const events: string[] = [];
    const timer = new RetransmitTimer(clock, schedule, {
      onRetransmit: (n) => events.push(`retransmit ${n} @${clock.now()}`),
      onExhausted: (n, elapsed) => events.push(`exhausted ${n} after ${elapsed} @${clock.now()}`),
    });
    timer.ensureRunning();
    clock.runUntilIdle();
    expect(events).toEqual([
      "retransmit 1 @1000",
      "retransmit 2 @3000",
      "retransmit 3 @7000",
      "retransmit 4 @15000",
      "retransmit 5 @23000",
      "exhausted 5 after 31000 @31000",
    ]);
    expect(clock.pending).toBe(0);
  });

  test("progress resets the schedule; ensureRunning does not restart a running timer", () => {
    const clock = new SimulatedClock();
    const at: number[] = [];
    const timer = new RetransmitTimer(clock, schedule, {
      onRetransmit: () => at.push(clock.now()),
      onExhausted: () => at.push(-1),
    });
    timer.ensureRunning();
    clock.advance(500);
    timer.ensureRunning(); // still due at 1000
    clock.advance(2600); // retransmits at 1000 and 3000
    expect(at).toEqual([1000, 3000]);
    expect(timer.attempts).toBe(2);
    timer.progress(true); // new oldest message: 1 s from now (3100)
    expect(timer.attempts).toBe(0);
    clock.advance(1000);
    expect(at).toEqual([1000, 3000, 4100]);
    timer.progress(false);
    expect(timer.running).toBe(false);
    expect(clock.pending).toBe(0);
  });

  test("stop from inside onRetransmit leaves nothing pending", () => {
    const clock = new SimulatedClock();
    const timer = new RetransmitTimer(clock, schedule, {
      onRetransmit: () => timer.stop(),
      onExhausted: () => {},
    });
    timer.ensureRunning();
    clock.advance(1000);
    expect(clock.pending).toBe(0);
  });
});

describe("AckTimer", () => {
  test("a ZLB goes out after the delay, once, unless an outgoing message paid the ack", () => {
    const clock = new SimulatedClock();
    const zlbs: number[] = [];
    const ack = new AckTimer(clock, 100, () => zlbs.push(clock.now()));
    ack.owe();
    clock.advance(60);
    ack.owe(2); // the first owed ack sets the deadline
    expect(ack.owedMessages).toBe(3);
    clock.advance(40);
    expect(zlbs).toEqual([100]);
    expect(ack.owed).toBe(false);
    expect(ack.owedMessages).toBe(0);
    ack.owe();
    clock.advance(50);
    ack.paid();
    clock.advance(500);
    expect(zlbs).toEqual([100]);
    expect(clock.pending).toBe(0);
  });
});

describe("HelloTimer (RFC 2661 §6.5)", () => {
  test("idle for the interval → onIdle; hearing the peer postpones it without re-arming per packet", () => {
    const clock = new SimulatedClock();
    const hellos: number[] = [];
    const hello = new HelloTimer(clock, 60_000, () => hellos.push(clock.now()));
    clock.advance(30_000);
    for (let i = 0; i < 1000; i++) hello.heard();
    expect(clock.pending).toBe(1);
    clock.advance(59_999); // heard at 30 s: idle only from then
    expect(hellos).toEqual([]);
    clock.advance(1);
    expect(hellos).toEqual([90_000]);
    clock.advance(60_000);
    expect(hellos).toEqual([90_000, 150_000]);
    hello.stop();
    expect(clock.pending).toBe(0);
  });

  test("an interval of 0 disables it", () => {
    const clock = new SimulatedClock();
    const hello = new HelloTimer(clock, 0, () => {
      throw new Error("no hello expected");
    });
    expect(hello.armed).toBe(false);
    expect(clock.pending).toBe(0);
  });
});
