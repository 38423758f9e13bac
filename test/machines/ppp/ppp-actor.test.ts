/**
 * A PPP link as the node runs it: the endpoint as an XState actor (pppLogic) spawned by the Supervisor,
 * its effects through the sink, its restart timers on the system's scheduler, and the scope XState
 * would give it with four closures replaced by one with shared methods (machines/shared-scope.ts).
 */
import { expect, test } from "bun:test";
import { Actor } from "xstate";
import { Supervisor } from "../../../actors/supervisor.ts";
import { SimulatedClock } from "../../../adapters/clock/simulated.ts";
import { PPP_DEFAULTS, type PppEffect, type PppEvent } from "../../../machines/ppp/endpoint.ts";
import { type PppLogic, pppLogic, sinkPppEffects } from "../../../machines/ppp/ppp-logic.ts";
import { systemMachine } from "../../../machines/system.ts";
import { chapClient as client, path, chapServer as server } from "./settings.ts";

test("two PPP actors with shared scopes come up, and lost frames are sent again by the restart timer", () => {
  const clock = new SimulatedClock(0);
  const supervisor = new Supervisor({ clock });
  const root = supervisor.spawn({
    level: "system",
    key: "t",
    path: { system: "t" },
    machine: systemMachine,
    input: { path: { system: "t" }, hostName: "t" },
  });
  const queue: [number, PppEvent][] = [];
  const up = [false, false];
  // The server's frames are lost until the link is "repaired": only its restart timer brings them back.
  let serverLinkDown = true;
  let sent = 0;
  const relay = (side: number, e: PppEffect) => {
    if (e.type === "send") {
      sent++;
      if (side === 0 && serverLinkDown) return;
      queue.push([side ^ 1, { type: "frame", protocol: e.protocol, payload: e.payload }]);
    } else if (e.type === "authenticate")
      queue.push([side, { type: "authenticated", ok: true, message: "" }]);
    else if (e.type === "needAddress") queue.push([side, { type: "address", address: "10.64.0.1" }]);
    else if (e.type === "up") up[side] = true;
  };
  const nodes = [
    { path, settings: server, magic: 0x1234, challenge: new Uint8Array(16).fill(7) },
    { path, settings: client, magic: 0x9876 },
  ].map((input, side) =>
    supervisor.spawn<PppLogic>({
      level: "ppp",
      key: `ppp${side}`,
      path,
      machine: pppLogic,
      input,
      parent: root,
      wire: (actor) => sinkPppEffects(actor, { pppEffect: (e) => relay(side, e) }),
    }),
  );
  const drain = () => {
    for (let next = queue.shift(); next; next = queue.shift()) nodes[next[0]].actor.send(next[1]);
  };
  for (const node of nodes) {
    const actor = node.actor as unknown as { _actorScope: object; send: unknown };
    expect(actor._actorScope.constructor.name).toBe("SharedScope");
    expect(actor.send).toBe(Actor.prototype.send);
  }
  drain();
  expect(up).toEqual([false, false]); // every frame of the server was lost
  serverLinkDown = false;
  const before = sent;
  clock.advance(PPP_DEFAULTS.restartMs);
  drain();
  expect(sent).toBeGreaterThan(before);
  expect(up).toEqual([true, true]);
  expect(nodes.map((n) => n.actor.getSnapshot().value)).toEqual(["opened", "opened"]);
});
