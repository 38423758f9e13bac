/**
 * One XState actor system for a whole tree of actors that XState itself does not link.
 *
 * `createActor(logic)` makes a root actor with an actor system of its own: its scheduler, registries
 * and inspection observers, about 2 KB and 15 µs per actor (measured in bench/setup.ts). Every actor
 * created with `createActor(logic, { parent })` joins `parent.system` instead, and is not entered in
 * the parent's `children` map (only `spawnChild` and `invoke` do that, and that map is copied on every
 * spawn and stop: docs/ARCHITECTURE.md). So the supervisor creates one root (the node's system actor) and gives
 * every other actor a `SystemAnchor` as its parent: a stand-in actor ref that owns nothing and ignores
 * what XState relays to a parent (a child's done and error events; the supervisor learns of those
 * through `subscribe`). The anchor's system is the root's, so the one `inspect` observer of the root
 * sees every actor of the tree, delays run on the root's clock, and nothing is created per actor but
 * the actor. The anchor also hears, as XState's parents do, when one of its actors reaches a final state
 * or fails: the supervisor needs no subscription per actor.
 *
 * XState's scheduler cancels an actor's delayed events on stop by scanning every scheduled event of
 * the system (`cancelAll`), which is quadratic when tens of thousands of sessions share one system
 * and end together (a tunnel closing while its calls are being set up). `indexScheduler` replaces the
 * system's scheduler with one that keeps each actor's delayed events apart: the same behaviour, O(1)
 * per schedule, cancel and stop.
 */
import type { AnyActorRef } from "xstate";
import type { Clock } from "./ports.ts";

/** The parts of XState's (internal but typed) actor system that the anchor and the scheduler touch. */
interface XStateSystem {
  _clock: Clock;
  _relay(source: AnyActorRef | undefined, target: AnyActorRef, event: unknown): void;
  _snapshot: { _scheduledEvents: Record<string, ScheduledEvent> };
  scheduler: Scheduler;
  getSnapshot(): { _scheduledEvents: Record<string, ScheduledEvent> };
  _register(sessionId: string, actor: AnyActorRef): string;
  _unregister(actor: AnyActorRef): void;
}

interface ScheduledEvent {
  source: AnyActorRef;
  target: AnyActorRef;
  event: unknown;
  delay: number;
  id: string;
  startedAt: number;
}

interface Scheduler {
  schedule(source: AnyActorRef, target: AnyActorRef, event: unknown, delay: number, id?: string): void;
  cancel(source: AnyActorRef, id: string): void;
  cancelAll(actorRef: AnyActorRef): void;
}

/** How a joined actor ended, as its parent hears it. */
export type ChildEnding = { kind: "done"; output: unknown } | { kind: "error"; error: unknown };

const DONE = "xstate.done.actor.";
const ERROR = "xstate.error.actor.";

/** The system an actor belongs to. */
function systemOf(actor: AnyActorRef): XStateSystem {
  return (actor as unknown as { system: XStateSystem }).system;
}

/**
 * A stand-in parent: actors created with `{ parent: anchor }` join `anchor.system` without being
 * anyone's XState child. Events XState relays to a parent (`xstate.done.actor.*`, `xstate.error.actor.*`)
 * are dropped here; the inspect observer still sees them as `@xstate.event`s addressed to the anchor.
 */
export class SystemAnchor {
  readonly id = "supervisor";
  readonly sessionId = "supervisor";
  readonly src = "supervisor";
  readonly system: unknown;

  readonly #onChildEnd: (childId: string, ending: ChildEnding) => void;

  /**
   * The anchor of the system `root` belongs to (and indexes that system's scheduler). XState tells a
   * parent when its child reached a final state or failed (`xstate.done.actor.<id>`,
   * `xstate.error.actor.<id>`): `onChildEnd` hears of it, so that no actor needs a subscription of
   * its own (three bound functions and an observer each).
   */
  constructor(root: AnyActorRef, onChildEnd: (childId: string, ending: ChildEnding) => void) {
    const system = systemOf(root);
    indexScheduler(system);
    dropActorRegistry(system);
    quietRelay(system);
    this.system = system;
    this.#onChildEnd = onChildEnd;
  }

  /** XState's internal delivery to a parent: a child's done or error event. */
  _send(event: { type: string; output?: unknown; error?: unknown }): void {
    const type = event.type;
    if (type.startsWith(DONE))
      this.#onChildEnd(type.slice(DONE.length), { kind: "done", output: event.output });
    else if (type.startsWith(ERROR))
      this.#onChildEnd(type.slice(ERROR.length), { kind: "error", error: event.error });
  }

  /** Nothing is sent to the anchor. */
  send(_event: unknown): void {}

  /** The anchor has no state. */
  getSnapshot(): undefined {
    return undefined;
  }

  /** As XState serialises an actor ref. */
  toJSON(): { xstate$$type: number; id: string } {
    return { xstate$$type: 1, id: this.id };
  }
}

const UNREGISTERED = Symbol("l2tp.noActorRegistry");

/**
 * XState's system enters every started actor in a Map by session id (`_register`) and takes it out on
 * stop (`_unregister`); nothing of XState reads that Map (its `get` reads the `systemId` registry, which
 * stays). With tens of thousands of sessions it was a Map entry and a rehash share per live actor and
 * two Map operations per call for nobody: the tree's actors are found through the supervisor and the
 * router's registries instead. Actors with a `systemId` are still taken out of the `systemId` registry.
 */
export function dropActorRegistry(system: XStateSystem): void {
  const holder = system as XStateSystem & { [UNREGISTERED]?: true };
  if (holder[UNREGISTERED]) return;
  holder[UNREGISTERED] = true;
  const unregister = system._unregister;
  system._register = (sessionId) => sessionId;
  system._unregister = (actor) => {
    if ((actor as { systemId?: string }).systemId !== undefined) unregister(actor);
  };
}

/** Set on a quiet system while someone wants its relayed events (see inspectRelayedEvents). */
const RELAY_INSPECTED = Symbol("l2tp.relayInspected");
/** XState's own relay of a quiet system. */
const XSTATE_RELAY = Symbol("l2tp.xstateRelay");

type QuietSystem = XStateSystem & {
  [RELAY_INSPECTED]?: number;
  [XSTATE_RELAY]?: XStateSystem["_relay"];
};

/**
 * XState tells the system's inspect observers of every event it relays to an actor (`@xstate.event`,
 * an object made per event) before delivering it. The node's observers (the recorder, the metrics) read
 * only snapshots, so a quiet system delivers without it unless `inspectRelayedEvents` asked for them
 * (the Stately bridge, while it follows an actor). Measured on Bun with XState kept off the top tier
 * (var-style micro benchmark: 1,000 actors, 2,000,000 events, a snapshot-only observer): 270 → 190 ns
 * an event.
 */
export function quietRelay(system: XStateSystem): void {
  const quiet = system as QuietSystem;
  if (quiet[XSTATE_RELAY]) return;
  quiet[XSTATE_RELAY] = system._relay;
  system._relay = relayQuietly;
}

/**
 * A quiet system's relay: one function for every system (XState calls it as the system's method), so
 * that adapters/jit reaches it.
 */
function relayQuietly(
  this: QuietSystem,
  source: AnyActorRef | undefined,
  target: AnyActorRef,
  event: unknown,
) {
  if (this[RELAY_INSPECTED]) (this[XSTATE_RELAY] as XStateSystem["_relay"]).call(this, source, target, event);
  else (target as unknown as { _send(event: unknown): void })._send(event);
}

/**
 * Asks for (`on`) the `@xstate.event`s of the system `actor` belongs to, or gives them up: counted, so
 * that two who asked are both served until both gave up.
 */
export function inspectRelayedEvents(actor: AnyActorRef, on: boolean): void {
  const holder = systemOf(actor) as QuietSystem;
  holder[RELAY_INSPECTED] = Math.max(0, (holder[RELAY_INSPECTED] ?? 0) + (on ? 1 : -1));
}

const INDEXED = Symbol("l2tp.indexedScheduler");

/** Delayed events due at the same millisecond, and the one runtime timer that fires them. */
interface DueSlot {
  handle: unknown;
  events: Set<Pending>;
}

/** A delayed event and the slot of its deadline. */
interface Pending extends ScheduledEvent {
  slot: DueSlot;
}

const TIMERS = Symbol("l2tp.delayedEvents");

/**
 * A source actor's pending delayed events, kept on the actor itself: the one pending event, or a map
 * by event id when it has several. A session has one at a time (its setup timeout), so the common case
 * costs no Map and no entry in a node-wide index.
 */
type Timers = Pending | Map<string, Pending> | undefined;
type TimerHolder = { [TIMERS]?: Timers };

function findTimer(source: AnyActorRef, id: string): Pending | undefined {
  const timers = (source as TimerHolder)[TIMERS];
  if (timers instanceof Map) return timers.get(id);
  return timers?.id === id ? timers : undefined;
}

function addTimer(source: AnyActorRef, pending: Pending): void {
  const holder = source as TimerHolder;
  const timers = holder[TIMERS];
  if (timers === undefined) holder[TIMERS] = pending;
  else if (timers instanceof Map) timers.set(pending.id, pending);
  else
    holder[TIMERS] = new Map([
      [timers.id, timers],
      [pending.id, pending],
    ]);
}

function removeTimer(source: AnyActorRef, pending: Pending): void {
  const holder = source as TimerHolder;
  const timers = holder[TIMERS];
  if (timers === pending) holder[TIMERS] = undefined;
  else if (timers instanceof Map && timers.get(pending.id) === pending) timers.delete(pending.id);
}

/**
 * Replaces `system.scheduler` with one that keeps delayed events on their source actor, so that
 * `cancelAll` (run on every actor's stop) touches only that actor's events, and no per-event key string
 * or shared dictionary is kept up to date: `system.getSnapshot()` lists the pending events when asked
 * (persistence), as XState's own scheduler keeps them in `_scheduledEvents`.
 *
 * Events due at the same millisecond share one runtime timer: the calls set up in one turn all start
 * their setup timeout then, and a runtime timer made and cancelled per call cost 3-6% of a node's CPU
 * at 20,000 calls/s. Events of one deadline fire in the order they were scheduled, as separate timers would.
 */
export function indexScheduler(system: XStateSystem): void {
  if ((system.scheduler as { [INDEXED]?: true })[INDEXED]) return;
  const clock = system._clock;
  /** Deadline (clock ms) → the events due then. */
  const due = new Map<number, DueSlot>();
  let anonymous = 0;

  /** Takes `pending` out of its deadline's slot; the slot's timer goes when nothing is left in it. */
  const unschedule = (pending: Pending): void => {
    const slot = pending.slot;
    if (!slot.events.delete(pending) || slot.events.size > 0) return;
    const at = pending.startedAt + pending.delay;
    if (due.get(at) === slot) due.delete(at);
    clock.clearTimeout(slot.handle);
  };

  const fire = (at: number, slot: DueSlot): void => {
    if (due.get(at) === slot) due.delete(at);
    // An event cancelled by one fired before it (in this loop) has left the set and is skipped.
    for (const pending of slot.events) {
      slot.events.delete(pending);
      removeTimer(pending.source, pending);
      system._relay(pending.source, pending.target, pending.event);
    }
  };

  const scheduler: Scheduler & { [INDEXED]: true } = {
    [INDEXED]: true,
    schedule(source, target, event, delay, id = `l2tp.${++anonymous}`) {
      const previous = findTimer(source, id);
      // A second schedule under the same id replaces the first, as a fresh `after` entry would.
      if (previous) {
        removeTimer(source, previous);
        unschedule(previous);
      }
      const startedAt = clock.now();
      const at = startedAt + delay;
      let slot = due.get(at);
      if (!slot) {
        const fresh: DueSlot = { handle: undefined, events: new Set() };
        fresh.handle = clock.setTimeout(() => fire(at, fresh), delay);
        due.set(at, fresh);
        slot = fresh;
      }
      const pending: Pending = { source, target, event, delay, id, startedAt, slot };
      slot.events.add(pending);
      addTimer(source, pending);
    },
    cancel(source, id) {
      const pending = findTimer(source, id);
      if (!pending) return;
      removeTimer(source, pending);
      unschedule(pending);
    },
    cancelAll(actorRef) {
      const holder = actorRef as TimerHolder;
      const timers = holder[TIMERS];
      if (timers === undefined) return;
      holder[TIMERS] = undefined;
      if (timers instanceof Map) for (const pending of timers.values()) unschedule(pending);
      else unschedule(timers);
    },
  };
  system.scheduler = scheduler;
  system._snapshot._scheduledEvents = {};
  system.getSnapshot = () => {
    const events: Record<string, ScheduledEvent> = {};
    for (const slot of due.values()) {
      for (const { source, target, event, delay, id, startedAt } of slot.events) {
        events[`${source.sessionId}.${id}`] = { source, target, event, delay, id, startedAt };
      }
    }
    return { _scheduledEvents: events };
  };
}

/**
 * The module's own hot functions, which adapters/jit keeps out of JSC's top tier with what it exports
 * (it reaches nothing else: they are not exported to be called).
 */
export const hotInternals: readonly unknown[] = [findTimer, removeTimer, addTimer, relayQuietly];
