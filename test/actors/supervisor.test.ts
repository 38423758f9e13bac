import { describe, expect, test } from "bun:test";
import { setup } from "xstate";
import { type Ending, type SpawnSpec, Supervisor } from "../../actors/supervisor.ts";
import { SimulatedClock } from "../../adapters/clock/simulated.ts";

const child = setup({
  types: { events: {} as { type: "finish" } | { type: "boom" } },
  actions: {
    boom: () => {
      throw new Error("boom");
    },
  },
}).createMachine({
  initial: "alive",
  states: {
    alive: { on: { finish: "done", boom: { actions: "boom" } } },
    done: { type: "final" },
  },
  output: () => ({ ok: true }),
});

function tree() {
  const inspected: string[] = [];
  const errors: unknown[] = [];
  const sup = new Supervisor({
    clock: new SimulatedClock(),
    inspect: (e) => inspected.push(e.type),
    onWiringError: (e) => errors.push(e),
  });
  const endings: Array<[string | number, Ending["kind"]]> = [];
  const parent = sup.spawn({
    level: "tunnel",
    key: 1,
    path: { system: "s", tunnel: 1 },
    machine: child,
    input: {},
  });
  /** A session under the tunnel; `hooks` replace the onEnd that records endings, or add a wire. */
  const spawn = (key: number, hooks: Pick<SpawnSpec<typeof child>, "wire" | "onEnd"> = {}) =>
    sup.spawn({
      level: "session",
      key,
      path: { system: "s", tunnel: 1, session: key },
      machine: child,
      input: {},
      parent,
      onEnd: (self, ending) => endings.push([self.key, ending.kind]),
      ...hooks,
    });
  return { sup, parent, spawn, endings, inspected, errors };
}

describe("Supervisor", () => {
  test("children live in their parent's map; a final state removes them and runs onEnd once", () => {
    const { sup, parent, spawn, endings } = tree();
    const a = spawn(1);
    spawn(2);
    expect([...parent.children.keys()]).toEqual([1, 2]);
    expect(sup.live).toBe(3);
    a.actor.send({ type: "finish" });
    expect([...parent.children.keys()]).toEqual([2]);
    expect(endings).toEqual([[1, "done"]]);
    expect(a.ending).toEqual({ kind: "done", output: { ok: true } });
    expect(sup.live).toBe(2);
  });

  test("an action that throws ends only that child, as an error", () => {
    const { parent, spawn, endings } = tree();
    const a = spawn(1);
    const b = spawn(2);
    a.actor.send({ type: "boom" });
    expect(endings).toEqual([[1, "error"]]);
    expect(b.ending).toBeUndefined();
    expect([...parent.children.keys()]).toEqual([2]);
  });

  test("a wiring callback that throws is reported and stops only its actor", () => {
    const { sup, parent, endings, errors } = tree();
    const bad = sup.spawn({
      level: "session",
      key: 9,
      path: { system: "s" },
      machine: child,
      input: {},
      parent,
      onEnd: (self, e) => endings.push([self.key, e.kind]),
    });
    sup.guard(bad, () => {
      throw new Error("wiring");
    });
    expect(errors).toHaveLength(1);
    expect(endings).toEqual([[9, "stopped"]]);
    expect(parent.children.size).toBe(0);
  });

  test("a spawn's wire that throws is reported and stops only that actor, whose onEnd runs once", () => {
    const { parent, spawn, endings, errors } = tree();
    const good = spawn(1);
    const bad = spawn(9, {
      wire: () => {
        throw new Error("wire");
      },
    });
    expect(errors.map(String)).toEqual(["Error: wire"]);
    expect(bad.ending?.kind).toBe("stopped");
    expect(endings).toEqual([[9, "stopped"]]);
    expect(good.ending).toBeUndefined();
    expect([...parent.children.keys()]).toEqual([1]);
  });

  test("an onEnd that throws is reported; the actor is gone all the same and the others go on", () => {
    const { sup, parent, spawn, errors } = tree();
    const a = spawn(7, {
      onEnd: () => {
        throw new Error("onEnd");
      },
    });
    const live = sup.live;
    a.actor.send({ type: "finish" });
    expect(errors.map(String)).toEqual(["Error: onEnd"]);
    expect(a.ending?.kind).toBe("done");
    expect(sup.live).toBe(live - 1);
    expect(parent.children.size).toBe(0);
  });

  test("stopTree stops the deepest first; the shared inspect observer saw every actor; paths stay known", () => {
    const { sup, parent, spawn, endings, inspected } = tree();
    const a = spawn(1);
    spawn(2);
    sup.stopTree(parent);
    expect(endings.map(([, k]) => k)).toEqual(["stopped", "stopped"]);
    expect(parent.ending?.kind).toBe("stopped");
    expect(sup.live).toBe(0);
    expect(inspected.filter((t) => t === "@xstate.actor")).toHaveLength(3);
    expect(sup.pathOf(a.actor)).toEqual({ system: "s", tunnel: 1, session: 1 });
  });

  test("a duplicate key under one parent is refused", () => {
    const { spawn } = tree();
    spawn(1);
    expect(() => spawn(1)).toThrow(/already has child 1/);
  });
});
