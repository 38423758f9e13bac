/**
 * A session's PPP as an XState actor: the endpoint (endpoint.ts) run as an actor logic of its own, as
 * the session's table is (machines/session-logic.ts), so that a PPP link is an XState actor living in
 * the node's actor system and seen by the one `inspect` observer (a snapshot per change: the phase as
 * `value`, the automata, user and address in `context`), at a cost fit for tens of thousands of links:
 * no statechart algorithm per frame, one context copy per step.
 *
 * Effects leave through a sink (the wiring's `pppEffect`), not an XState listener per link; the restart
 * timers are delayed events on the system's scheduler (cancelled and re-armed by the endpoint).
 */
import type { ActorLogic, ActorScope, ActorSystem } from "xstate";
import { shareScope } from "../shared-scope.ts";
import type { PppCause } from "./disconnect.ts";
import {
  type PppContext,
  type PppEffect,
  type PppEvent,
  type PppInput,
  type PppPhase,
  type PppTimer,
  phaseOf,
  pppStart,
  pppStep,
} from "./endpoint.ts";

// biome-ignore lint/suspicious/noExplicitAny: XState's own AnyActorSystem, which it does not export.
type AnyActorSystem = ActorSystem<any>;

/** The output of an ended PPP link. */
export interface PppOutput {
  cause: PppCause;
}

/** A PPP link's snapshot: what a machine's snapshot says of it. */
export type PppSnapshot =
  | { status: "active"; value: PppPhase; context: PppContext; output: undefined; error: undefined }
  | { status: "done"; value: PppPhase; context: PppContext; output: PppOutput; error: undefined }
  | { status: "error"; value: PppPhase; context: PppContext; output: undefined; error: unknown }
  | { status: "stopped"; value: PppPhase; context: PppContext; output: undefined; error: undefined };

/** The PPP actor logic's type. */
export type PppLogic = ActorLogic<PppSnapshot, PppEvent, PppInput, AnyActorSystem, PppEffect>;

type Scope = ActorScope<PppSnapshot, PppEvent, AnyActorSystem, PppEffect>;

/** What the wiring takes a link's effects with. */
export interface PppEffectSink {
  pppEffect(effect: PppEffect): void;
}

const SINK = Symbol("l2tp.pppEffectSink");

/**
 * Makes `sink` the receiver of what the PPP actor asks (frames, authentication, address, the end), and
 * gives the actor a scope whose methods are shared (../shared-scope.ts: ~300 bytes less per link).
 */
export function sinkPppEffects(actor: object, sink: PppEffectSink): void {
  (actor as { [SINK]?: PppEffectSink })[SINK] = sink;
  shareScope(actor);
}

function snapshotOf(context: PppContext): PppSnapshot {
  const value = phaseOf(context);
  return context.ended
    ? {
        status: "done",
        value,
        context,
        output: { cause: context.cause as PppCause },
        error: undefined,
      }
    : { status: "active", value, context, output: undefined, error: undefined };
}

/** Each restart timer's event, one shared object each (the scheduler is given it per schedule). */
const TIMER_EVENTS: Record<PppTimer, { readonly type: PppTimer }> = {
  "timer.lcp": Object.freeze({ type: "timer.lcp" }),
  "timer.ipcp": Object.freeze({ type: "timer.ipcp" }),
  "timer.ipv6cp": Object.freeze({ type: "timer.ipv6cp" }),
  "timer.auth": Object.freeze({ type: "timer.auth" }),
};

/** Runs the step's effects once the new snapshot is in place (XState's deferred queue), in order. */
function defer(out: PppEffect[], scope: Scope): void {
  if (out.length === 0) return;
  scope.defer(() => runDeferred(out, scope));
}

/** The step's effects, once the new snapshot is in place (module-level: adapters/jit reaches it). */
function runDeferred(out: PppEffect[], scope: Scope): void {
  const self = scope.self;
  const scheduler = scope.system.scheduler;
  const sink = (self as { [SINK]?: PppEffectSink })[SINK];
  for (const effect of out) {
    if (effect.type === "schedule") {
      // XState's scheduler keeps the old timer running when an id is scheduled again: cancel first.
      scheduler.cancel(self, effect.timer);
      scheduler.schedule(self, self, TIMER_EVENTS[effect.timer], effect.ms, effect.timer);
    } else if (effect.type === "cancel") {
      scheduler.cancel(self, effect.timer);
    } else {
      sink?.pppEffect(effect);
    }
  }
}

/**
 * The module's own hot functions, which adapters/jit keeps out of JSC's top tier with what it exports
 * (it reaches nothing else: they are not exported to be called).
 */
export const hotInternals: readonly unknown[] = [runDeferred, snapshotOf];

/** The PPP endpoint as an XState actor logic: `createActor(pppLogic, { input })`. */
export const pppLogic: PppLogic = {
  config: { id: "ppp" },
  getInitialSnapshot(scope: Scope, input: PppInput): PppSnapshot {
    const out: PppEffect[] = [];
    const context = pppStart(input, out);
    defer(out, scope);
    return snapshotOf(context);
  },
  transition(snapshot: PppSnapshot, event: PppEvent, scope: Scope): PppSnapshot {
    if ((event as { type: string }).type === "xstate.stop") {
      return { ...snapshot, status: "stopped", output: undefined, error: undefined };
    }
    if (snapshot.status !== "active") return snapshot;
    const out: PppEffect[] = [];
    const context = pppStep(snapshot.context, event, out);
    defer(out, scope);
    return context === snapshot.context ? snapshot : snapshotOf(context);
  },
  getPersistedSnapshot(snapshot: PppSnapshot) {
    return { ...snapshot };
  },
  restoreSnapshot(persisted) {
    return persisted as PppSnapshot;
  },
};
