import { describe, expect, test } from "bun:test";
import { createActor, createMachine } from "xstate";
import type { Clock } from "../../../actors/ports.ts";
import { SimulatedClock } from "../../../adapters/clock/index.ts";

describe("SimulatedClock", () => {
  test("fires due timers in time order, ties in the order they were set", () => {
    const clock = new SimulatedClock(1000);
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`c@${clock.now()}`), 30);
    clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => seen.push(`b1@${clock.now()}`), 20);
    clock.setTimeout(() => seen.push(`b2@${clock.now()}`), 20);
    clock.advance(25);
    expect(seen).toEqual(["a@1010", "b1@1020", "b2@1020"]);
    expect(clock.now()).toBe(1025);
    clock.advance(5);
    expect(seen).toEqual(["a@1010", "b1@1020", "b2@1020", "c@1030"]);
    expect(clock.pending).toBe(0);
  });

  test("timers set by timers fire within the same advance when they fall due in it", () => {
    const clock = new SimulatedClock();
    const seen: number[] = [];
    const tick = () => {
      seen.push(clock.now());
      if (seen.length < 10) clock.setTimeout(tick, 100);
    };
    clock.setTimeout(tick, 100);
    clock.advance(550);
    expect(seen).toEqual([100, 200, 300, 400, 500]);
    expect(clock.pending).toBe(1);
    // A zero delay set from inside a timer fires at the same instant, after the current one.
    const order: string[] = [];
    clock.setTimeout(() => {
      order.push("outer");
      clock.setTimeout(() => order.push(`inner@${clock.now()}`), 0);
    }, 0);
    clock.advance(0);
    expect(order).toEqual(["outer", "inner@550"]);
  });

  test("clearTimeout cancels; stale and foreign handles are ignored", () => {
    const clock = new SimulatedClock();
    let fired = 0;
    const h = clock.setTimeout(() => fired++, 10);
    clock.setTimeout(() => fired++, 20);
    clock.clearTimeout(h);
    clock.clearTimeout(h);
    clock.clearTimeout("nonsense");
    clock.clearTimeout(undefined);
    expect(clock.pending).toBe(1);
    clock.advance(100);
    expect(fired).toBe(1);
    expect(clock.pending).toBe(0);
  });

  test("negative and non-finite delays count as zero", () => {
    const clock = new SimulatedClock();
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(1), -5);
    clock.setTimeout(() => seen.push(2), Number.NaN);
    clock.advance(0);
    expect(seen).toEqual([1, 2]);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });

  test("runUntilIdle stops when idle, or at the limit when timers keep re-arming", () => {
    const clock = new SimulatedClock();
    let n = 0;
    clock.setTimeout(() => n++, 5000);
    expect(clock.runUntilIdle()).toBe(true);
    expect(n).toBe(1);
    expect(clock.now()).toBe(5000);
    const forever = () => clock.setTimeout(forever, 1000);
    forever();
    expect(clock.runUntilIdle(10_500)).toBe(false);
    expect(clock.now()).toBe(15_000);
    expect(clock.pending).toBe(1);
  });

  test("step jumps to the next timer", () => {
    const clock = new SimulatedClock();
    expect(clock.step()).toBe(false);
    clock.setTimeout(() => {}, 42);
    expect(clock.nextDue()).toBe(42);
    expect(clock.step()).toBe(true);
    expect(clock.now()).toBe(42);
  });

  test("re-arming a timer 100k times leaves exactly one pending, firing once", () => {
    const clock = new SimulatedClock();
    let handle = clock.setTimeout(() => {}, 60_000);
    for (let i = 0; i < 100_000; i++) {
      clock.clearTimeout(handle);
      handle = clock.setTimeout(() => {}, 60_000);
    }
    expect(clock.pending).toBe(1);
    expect(clock.runUntilIdle()).toBe(true);
    expect(clock.fired).toBe(1);
  });

  test("drives XState delays: createActor(machine, { clock })", () => {
    const clock = new SimulatedClock();
    const asPort: Clock = clock;
    const machine = createMachine({
      initial: "waiting",
      states: {
        waiting: { after: { 1000: "retry" } },
        retry: { after: { 2000: "done" } },
        done: { type: "final" },
      },
    });
    const actor = createActor(machine, { clock: asPort }).start();
    expect(actor.getSnapshot().value).toBe("waiting");
    clock.advance(999);
    expect(actor.getSnapshot().value).toBe("waiting");
    clock.advance(1);
    expect(actor.getSnapshot().value).toBe("retry");
    clock.advance(2000);
    expect(actor.getSnapshot().value).toBe("done");
    expect(actor.getSnapshot().status).toBe("done");
    expect(clock.pending).toBe(0);
  });

  test("stopping an XState actor clears its delays on the simulated clock", () => {
    const clock = new SimulatedClock();
    const machine = createMachine({ initial: "a", states: { a: { after: { 5000: "b" } }, b: {} } });
    const actor = createActor(machine, { clock }).start();
    expect(clock.pending).toBe(1);
    actor.stop();
    expect(clock.pending).toBe(0);
  });
});
