/**
 * JIT tuning by runtime. On Bun, the engine's own functions and XState's Actor are kept out of JSC's
 * top tier (FTL, through `bun:jsc`'s `noFTL`); its lower optimising tier (DFG) still compiles them.
 *
 * Why: the code of a call is allocation and calls, not the loops FTL speeds up, and FTL compiles each
 * hot function late and at great cost. Measured with bench/lns-load (5,000 calls × 10 tunnels, an LNS
 * in a fresh process): FTL compiles went on through the second 5,000 calls (56 of ~100 after the cold
 * round), and the JIT threads took as much CPU as the JavaScript thread. With these functions kept out
 * of FTL, three alternated pairs at 5,000 × 10: LNS CPU per call 92-112 → 78-100 µs cold, 64-80 →
 * 54-74 µs warm, the JIT threads 38-48 → 24-36 µs cold and 32-38 → 18-24 warm; full PPP set-ups
 * (lns-load --ppp pap, 20,000 × 10, two pairs, fewer modules marked then) 230-240 → 207-218 µs cold, the
 * JIT 56-57 → 32-38 µs; the JavaScript thread no slower. The modules below are those a call goes
 * through; a module's private hot functions are reached through its `hotInternals`.
 *
 * A function this cannot reach still goes to FTL: JSC's compile report (BUN_JSC_reportCompileTimes=1)
 * over a cold and a warm 5,000 × 10 showed 207 ms of FTL compiles left, 153 of them in the warm round,
 * in ES `#private` methods (no reference to them exists outside their class), classes and closures a
 * module keeps to itself, tables of guards and codecs, and XState's system and mailbox. The hot
 * classes' methods are now TypeScript `private` (prototype methods, reachable), modules list the rest
 * in `hotInternals`, tables are walked three levels down, and XState's parts are reached through one
 * actor made for it: 29 ms of FTL compiles left. Three alternated pairs, LNS CPU per call: warm 50-58 →
 * 38-44 µs (the JIT threads 16-20 → 4-6), cold 68-82 → 74 µs.
 * The whole tier off
 * (`BUN_JSC_useFTLJIT=0`, docs/PERFORMANCE.md) does more, but Bun calls its BUN_JSC_* options unstable and refuses
 * to start with one it does not know; `noFTL` is a function of `bun:jsc`, checked before it is used.
 * Elsewhere (Deno) nothing is done.
 */
import * as xstate from "xstate";
import { dropActorRegistry, indexScheduler, quietRelay } from "../../actors/actor-system.ts";

/** Functions kept out of the top tier so far (for tests). */
const marked = new Set<unknown>();
let started: Promise<number> | undefined;

/**
 * Once per process: on Bun, every function the engine's hot modules export, the methods of the classes
 * they export and of XState's Actor, and the function properties of the objects they export (an actor
 * logic's `transition`), are kept out of the top tier. Resolves with how many were (0 off Bun).
 */
export function spareTopTier(): Promise<number> {
  started ??= mark();
  return started;
}

/** Whether `fn` was kept out of the top tier. */
export function keptOutOfTopTier(fn: unknown): boolean {
  return marked.has(fn);
}

async function mark(): Promise<number> {
  if (typeof (globalThis as { Bun?: unknown }).Bun === "undefined") return 0;
  let noFTL: ((fn: unknown) => unknown) | undefined;
  try {
    noFTL = ((await import("bun:jsc" as string)) as { noFTL?: (fn: unknown) => unknown }).noFTL;
  } catch {
    return 0;
  }
  if (typeof noFTL !== "function") return 0;
  const keep = noFTL;
  const one = (fn: unknown): void => {
    if (typeof fn !== "function" || marked.has(fn)) return;
    keep(fn);
    marked.add(fn);
  };
  const methods = (value: unknown): void => {
    if (typeof value !== "function") return;
    const prototype = (value as { prototype?: object }).prototype;
    if (!prototype) return;
    for (const key of Object.getOwnPropertyNames(prototype)) {
      if (key === "constructor") continue;
      const d = Object.getOwnPropertyDescriptor(prototype, key);
      one(d?.value);
      one(d?.get);
    }
  };
  // The modules a call goes through, from the datagram to the actors and back (docs/ARCHITECTURE.md).
  const modules = await Promise.all([
    import("../../protocol/l2tp/messages.ts"),
    import("../../protocol/l2tp/header.ts"),
    import("../../protocol/l2tp/hidden.ts"),
    import("../../protocol/l2tp/md5.ts"),
    import("../../protocol/l2tp/text.ts"),
    import("../../protocol/l2tp/validate.ts"),
    import("../../protocol/l2tp/message-types.ts"),
    import("../../protocol/l2tp/avps.ts"),
    import("../../protocol/l2tp/auth.ts"),
    import("../../protocol/bytes.ts"),
    import("../../protocol/ppp/lcp.ts"),
    import("../../protocol/ppp/ipcp.ts"),
    import("../../protocol/ppp/chap.ts"),
    import("../../protocol/ppp/pap.ts"),
    import("../../protocol/ipv4.ts"),
    import("../../machines/ppp/fsm.ts"),
    import("../../actors/ids.ts"),
    import("../../actors/address-pool.ts"),
    import("../../events/recorder.ts"),
    import("../../protocol/ppp/frame.ts"),
    import("../../protocol/ppp/control-packet.ts"),
    import("../../protocol/ppp/options.ts"),
    import("../../machines/session-logic.ts"),
    import("../../machines/shared-scope.ts"),
    import("../../machines/ppp/ppp-logic.ts"),
    import("../../machines/ppp/endpoint.ts"),
    import("../../actors/node.ts"),
    import("../../actors/tunnel-actor.ts"),
    import("../../actors/destination-handle.ts"),
    import("../../actors/supervisor.ts"),
    import("../../actors/actor-system.ts"),
    import("../../actors/ppp-link.ts"),
    import("../../actors/lac-access.ts"),
    import("../../actors/tunnel-group.ts"),
    import("../../actors/placed-call.ts"),
    import("../../machines/lac-subscriber.ts"),
    import("../../machines/lac-decision.ts"),
    import("../../machines/tunnel-selection.ts"),
    import("../access/simulator.ts"),
    import("../../actors/control-channel/channel.ts"),
    import("../../actors/control-channel/ack-timer.ts"),
    import("../../actors/control-channel/retransmit.ts"),
    import("../../actors/control-channel/timer.ts"),
    import("../../actors/control-channel/congestion.ts"),
    import("../../actors/control-channel/receive-window.ts"),
    import("../../actors/control-channel/send-queue.ts"),
    import("../../actors/control-channel/sequence.ts"),
    import("../../actors/control-channel/hello.ts"),
    import("../../actors/views.ts"),
    import("../../actors/accounting.ts"),
    import("../../machines/session.ts"),
    import("../../machines/tunnel.ts"),
    import("../../protocol/l2tp/packet-buffer.ts"),
    import("../random/crypto.ts"),
    import("../aaa/local.ts"),
    import("../../actors/aaa.ts"),
    import("../udp/bun.ts"),
    import("../clock/burst.ts"),
  ]);
  // What a module exports, and what its exported objects hold three levels down: an actor logic's
  // methods, a table's guards and effects, the AVP table's codecs, a module's `hotInternals` (functions,
  // and classes it does not export, with their methods).
  const seen = new Set<object>();
  const reach = (value: unknown, depth: number): void => {
    if (typeof value === "function") {
      one(value);
      methods(value);
    } else if (value && typeof value === "object" && depth < 3 && !seen.has(value)) {
      seen.add(value);
      if (ArrayBuffer.isView(value)) return;
      for (const property of Object.values(value)) reach(property, depth + 1);
    }
  };
  for (const namespace of modules) for (const value of Object.values(namespace)) reach(value, 0);
  markXState(one, (fn) => reach(fn, 3));
  return marked.size;
}

/**
 * XState's own functions a call runs: its exports, the Actor's methods, and the methods of what an
 * actor is made with that XState does not export (the system, made per root actor with the project's
 * scheduler, the mailbox, an actor's scope), reached through one actor made here and never started.
 * Marking one closure marks its code for every closure made from it.
 */
function markXState(one: (fn: unknown) => void, withMethods: (fn: unknown) => void): void {
  for (const value of Object.values(xstate)) withMethods(value);
  const probe = xstate.createActor(xstate.fromTransition((state: number) => state, 0)) as unknown as {
    system: Parameters<typeof indexScheduler>[0] & Record<string, unknown>;
    mailbox: object;
    _actorScope: Record<string, unknown>;
  };
  indexScheduler(probe.system);
  for (const fn of Object.values(probe.system)) one(fn);
  // The project's replacements of the system's own (its relay, its registry), as every node's system has them.
  dropActorRegistry(probe.system);
  quietRelay(probe.system);
  for (const fn of Object.values(probe.system)) one(fn);
  for (const fn of Object.values(probe.system.scheduler)) one(fn);
  for (const fn of Object.values(probe._actorScope)) one(fn);
  withMethods(probe.mailbox.constructor);
}
