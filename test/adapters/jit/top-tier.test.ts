/**
 * On Bun, the engine's hot functions and XState's Actor are kept out of JSC's top tier once per process
 * (adapters/jit): the marking reaches exported functions, exported classes' methods, an actor logic's
 * methods and XState's Actor, and the engine works the same afterwards.
 */
import { expect, test } from "bun:test";
import { Actor } from "xstate";
import { keptOutOfTopTier, spareTopTier } from "../../../adapters/jit/index.ts";
import { hotInternals, sessionLogic } from "../../../machines/session-logic.ts";
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
  ]) {
    expect(keptOutOfTopTier(fn)).toBe(true);
  }
  expect(await spareTopTier()).toBe(count);
  // Still the same functions: a ZLB decodes as one.
  const zlb = encodeControl({ tunnelId: 1, sessionId: 0, ns: 2, nr: 3 }, null);
  const decoded = decodeControl(zlb);
  expect(decoded.ok && decoded.value.message).toBe(null);
});
