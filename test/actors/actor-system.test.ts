import { describe, expect, test } from "bun:test";
import { createActor, type InspectionEvent, setup } from "xstate";
import { type ChildEnding, inspectRelayedEvents, SystemAnchor } from "../../actors/actor-system.ts";
import { SimulatedClock } from "../../adapters/clock/simulated.ts";

const timed = setup({
  types: { events: {} as { type: "leave" } | { type: "finish" } | { type: "boom" } },
  actions: {
    boom: () => {
      throw new Error("boom");
    },
  },
}).createMachine({
  initial: "waiting",
  states: {
    waiting: { after: { 1000: "late" }, on: { leave: "idle", finish: "done", boom: { actions: "boom" } } },
    idle: { on: { finish: "done" } },
    late: {},
    done: { type: "final" },
  },
  output: () => ({ ok: true }),
});

function world() {
  const clock = new SimulatedClock();
  const inspected: InspectionEvent[] = [];
  const root = createActor(timed, { clock, inspect: (e) => inspected.push(e) });
  const ended: Array<[string, ChildEnding]> = [];
  const anchor = new SystemAnchor(root, (id, ending) => ended.push([id, ending]));
  root.start();
  const child = () => {
    const a = createActor(timed, { parent: anchor } as never);
    a.start();
    return a;
  };
  /** Delayed events pending in the shared system (several may share one runtime timer). */
  const scheduled = () =>
    Object.keys(
      (root.system as unknown as { getSnapshot(): { _scheduledEvents: object } }).getSnapshot()
        ._scheduledEvents,
    ).length;
  return { clock, root, anchor, child, ended, inspected, scheduled };
}

describe("SystemAnchor: actors joined to one XState system", () => {
  test("events relayed to actors reach them without an @xstate.event each, unless asked for (and until given up)", () => {
    const { child, inspected } = world();
    const a = child();
    // Starting tells of its init event (XState says so directly, not by relaying): events after it count.
    const relayedTo = (x: unknown) =>
      inspected.filter(
        (e) => e.type === "@xstate.event" && e.actorRef === x && e.event.type !== "xstate.init",
      );
    const relayed = () => relayedTo(a).length;
    const snapshots = () => inspected.filter((e) => e.type === "@xstate.snapshot" && e.actorRef === a).length;
    const before = snapshots();
    a.send({ type: "leave" });
    expect(a.getSnapshot().value).toBe("idle");
    expect(snapshots()).toBe(before + 1); // the recorder's view is whole
    expect(relayed()).toBe(0);
    inspectRelayedEvents(a, true);
    inspectRelayedEvents(a, true);
    inspectRelayedEvents(a, false); // one of two gave up: still asked for
    a.send({ type: "finish" });
    expect(a.getSnapshot().status).toBe("done");
    expect(relayed()).toBe(1);
    inspectRelayedEvents(a, false);
    const b = child();
    b.send({ type: "leave" });
    expect(relayedTo(b)).toEqual([]);
  });

  test("a joined actor shares the root's system, clock and inspect observer, and is nobody's XState child", () => {
    const { root, child, inspected } = world();
    const a = child();
    expect(a.system).toBe(root.system);
    expect(Object.keys(root.getSnapshot().children)).toEqual([]);
    expect(inspected.filter((e) => e.type === "@xstate.actor").map((e) => e.actorRef)).toContain(a);
  });

  test("its delays run on the root's clock and leave with it; delays due at the same ms share one timer", () => {
    const { clock, child, scheduled } = world();
    const a = child();
    const b = child();
    expect(scheduled()).toBe(3); // root, a, b each wait 1 s
    expect(clock.pending).toBe(1); // all due at the same ms: one runtime timer
    a.send({ type: "leave" }); // exit cancels a's delay
    expect(scheduled()).toBe(2);
    expect(clock.pending).toBe(1);
    clock.advance(1000);
    expect(b.getSnapshot().value).toBe("late");
    expect(a.getSnapshot().value).toBe("idle");
    expect(clock.pending).toBe(0);
    expect(scheduled()).toBe(0);
  });

  test("delays due at different times keep their own timers and fire in deadline order; the last cancel clears a timer", () => {
    const { clock, child, scheduled, inspected } = world();
    clock.advance(10);
    const a = child();
    clock.advance(10);
    const b = child();
    const c = child();
    expect(clock.pending).toBe(3); // root at 1000, a at 1010, b and c at 1020
    b.send({ type: "leave" });
    expect(clock.pending).toBe(3); // c still waits on the 1020 timer
    c.send({ type: "leave" });
    expect(clock.pending).toBe(2); // nothing is due at 1020 any more
    const lateOrder = () =>
      inspected
        .filter((e) => e.type === "@xstate.snapshot" && (e.snapshot as { value?: string }).value === "late")
        .map((e) => e.actorRef);
    clock.advance(985); // now 1005
    expect(lateOrder()).toHaveLength(1); // the root's, at 1000
    clock.advance(10);
    expect(lateOrder()[1]).toBe(a);
    expect(scheduled()).toBe(0);
    expect(clock.pending).toBe(0);
  });

  test("its final state and its failure reach the anchor, with its id; a stop cancels its timers", () => {
    const { clock, child, ended, scheduled } = world();
    const a = child();
    const b = child();
    const c = child();
    a.send({ type: "finish" });
    b.send({ type: "boom" });
    expect(ended.map(([id, e]) => [id, e.kind])).toEqual([
      [a.id, "done"],
      [b.id, "error"],
    ]);
    expect(ended[0][1]).toEqual({ kind: "done", output: { ok: true } });
    (c as unknown as { _stop(): void })._stop();
    expect(c.getSnapshot().status).toBe("stopped");
    expect(scheduled()).toBe(1); // only the root's delay is left
    expect(clock.pending).toBe(1);
  });

  test("stopping many actors is not quadratic: each stop touches only its own delayed events", () => {
    const { clock, child, scheduled } = world();
    const actors = Array.from({ length: 3000 }, () => child());
    expect(scheduled()).toBe(3001);
    for (const a of actors) (a as unknown as { _stop(): void })._stop();
    expect(scheduled()).toBe(1);
    expect(clock.pending).toBe(1);
  });

  test("the system's snapshot still lists the pending delayed events", () => {
    const { root, child } = world();
    const a = child();
    const scheduled = (
      root.system as unknown as { getSnapshot(): { _scheduledEvents: object } }
    ).getSnapshot()._scheduledEvents;
    expect(Object.keys(scheduled).filter((k) => k.startsWith(`${a.sessionId}.`))).toHaveLength(1);
  });

  test("without XState's registry of every actor, an actor with a systemId is still found, and leaves it when it ends", () => {
    const { root, anchor } = world();
    const keyed = () => {
      const a = createActor(timed, { parent: anchor, systemId: "keyed" } as never);
      a.start();
      return a;
    };
    const a = keyed();
    expect(root.system.get("keyed")).toBe(a);
    a.send({ type: "finish" });
    expect(root.system.get("keyed")).toBeUndefined();
    // The id is free again: XState refuses a second live actor under one systemId.
    const b = keyed();
    expect(root.system.get("keyed")).toBe(b);
  });
});
