/**
 * On Bun, the engine's hot functions and XState's Actor are kept out of JSC's top tier once per process
 * (adapters/jit): the marking reaches exported functions, exported classes' methods, an actor logic's
 * methods, tables' functions, the classes and functions of `hotInternals` and XState's Actor and
 * mailbox, and the engine works the same afterwards.
 */
import { expect, test } from "bun:test";
import { Actor, createActor, fromTransition } from "xstate";
import { quietRelay } from "../../../actors/actor-system.ts";
import { ControlChannel } from "../../../actors/control-channel/channel.ts";
import { hotInternals as supervisorInternals } from "../../../actors/supervisor.ts";
import { keptOutOfTopTier, spareTopTier } from "../../../adapters/jit/index.ts";
import { sessionGuards } from "../../../machines/session.ts";
import { hotInternals, sessionLogic } from "../../../machines/session-logic.ts";
import { AVP_CATALOG } from "../../../protocol/l2tp/avps.ts";
import { decodeControl, encodeControl } from "../../../protocol/l2tp/messages.ts";

const onBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

test.skipIf(!onBun)("the call path's functions are kept out of the top tier, once", async () => {
  const count = await spareTopTier();
  expect(count).toBeGreaterThan(200);
  for (const fn of [
    decodeControl,
    encodeControl,
    sessionLogic.transition,
    Actor.prototype.send,
    ...hotInternals,
    // A hot method that was #private (unreachable), a class the module does not export, a table's guard.
    ControlChannel.prototype["transmit" as keyof ControlChannel],
    (supervisorInternals[0] as { prototype: { addChild: unknown } }).prototype.addChild,
    sessionGuards.startsWithIcrq,
  ]) {
    expect(keptOutOfTopTier(fn)).toBe(true);
  }
  // Two levels into an exported table: an AVP's codec.
  expect(keptOutOfTopTier(AVP_CATALOG[0]?.codec.decode)).toBe(true);
  // XState's internals, reached through an actor made for the purpose: any actor's mailbox.
  const other = createActor(fromTransition((s: number) => s, 0)) as unknown as {
    mailbox: { enqueue: unknown };
  };
  expect(keptOutOfTopTier(other.mailbox.enqueue)).toBe(true);
  // The project's replacement of any system's relay (actors/actor-system.ts quietRelay).
  const system = (other as unknown as { system: Parameters<typeof quietRelay>[0] }).system;
  quietRelay(system);
  expect(keptOutOfTopTier(system._relay)).toBe(true);
  expect(await spareTopTier()).toBe(count);
  // Still the same functions: a ZLB decodes as one.
  const zlb = encodeControl({ tunnelId: 1, sessionId: 0, ns: 2, nr: 3 }, null);
  const decoded = decodeControl(zlb);
  expect(decoded.ok && decoded.value.message).toBe(null);
});
