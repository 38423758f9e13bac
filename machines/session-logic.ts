/**
 * The session machine's table (machines/session.ts) run by a small interpreter of its own: an XState v5
 * actor logic, so that a session is still an XState actor (created by `createActor`, living in the node's
 * actor system, seen by the one `inspect` observer with a snapshot per transition: `value`, `context`
 * with its path, `status`, `output`), without XState's general statechart algorithm per step.
 *
 * Why: the node runs one actor per call and a tunnel carries up to 65,535 of them. Measured on Bun with
 * tens of thousands of live sessions, XState's interpreter costs about 25 µs to create and start a
 * session, 10-15 µs per event and 8-14 KB of garbage per step: about 50 µs and 50 KB per call's life on
 * each side, as much as the whole budget of 20,000 calls/s. This table costs about 6 µs and 3 KB.
 *
 * It is the same machine: the guards, context updates and effects are the functions `sessionMachine`
 * uses (sessionGuards, sessionUpdates, sessionEffects), the states and transitions are its table
 * (SESSION_STATES and SESSION_ROOT in session.ts), and test/machines/session-logic.test.ts drives both
 * with the same random events and checks every snapshot and every emitted event. What XState does per step is kept where it shows:
 * exit before transition actions before entry, state-level transitions before the machine-level ones,
 * eventless transitions after the step, effects (emit, delays) run once the new snapshot is in place,
 * the setup timeout is a delayed event `xstate.after.setupTimeout.session.<state>` on the system's
 * scheduler (cancelled on exit), a final state ends the actor with its output, `xstate.stop` stops it.
 */
import type { ActorLogic, ActorScope, ActorSystem } from "xstate";
import {
  initialSessionContext,
  SESSION_ROOT,
  SESSION_SETUP_TIMED_OUT,
  SESSION_STATES,
  type SessionContext,
  type SessionEmitted,
  type SessionEvent,
  type SessionInput,
  type SessionOutput,
  type SessionRule,
  type SessionState,
  sessionEffects,
  sessionGuards,
  sessionOutput,
  sessionUpdates,
} from "./session.ts";
import { shareScope } from "./shared-scope.ts";

// biome-ignore lint/suspicious/noExplicitAny: XState's own AnyActorSystem, which it does not export.
type AnyActorSystem = ActorSystem<any>;

/** Stands for "no context to keep unchanged" in `run`. */
const NO_CONTEXT = {} as SessionContext;

/** A session's snapshot: what a machine's snapshot says of it (value, context, status, output). */
export type SessionSnapshot =
  | { status: "active"; value: SessionState; context: SessionContext; output: undefined; error: undefined }
  | { status: "done"; value: SessionState; context: SessionContext; output: SessionOutput; error: undefined }
  | { status: "error"; value: SessionState; context: SessionContext; output: undefined; error: unknown }
  | { status: "stopped"; value: SessionState; context: SessionContext; output: undefined; error: undefined };

/** The session's actor logic type. */
export type SessionLogic = ActorLogic<
  SessionSnapshot,
  SessionEvent,
  SessionInput,
  AnyActorSystem,
  SessionEmitted
>;

type Scope = ActorScope<SessionSnapshot, SessionEvent, AnyActorSystem, SessionEmitted>;
type ActionName = keyof typeof sessionUpdates | keyof typeof sessionEffects;

/**
 * The delayed event of each state's setup timeout, named as XState names an `after` delay: one shared
 * object each (the scheduler is given it per call), made once.
 */
const SETUP_TIMEOUT = Object.fromEntries(
  (Object.keys(SESSION_STATES) as SessionState[]).map((state) => [
    state,
    Object.freeze({ type: `xstate.after.setupTimeout.session.${state}` }),
  ]),
) as Record<SessionState, { readonly type: string }>;

function setupTimeoutEvent(state: SessionState): string {
  return SETUP_TIMEOUT[state].type;
}

function holds(guard: SessionRule["guard"], context: SessionContext, event: SessionEvent): boolean {
  if (guard === undefined) return true;
  if (typeof guard === "string") return sessionGuards[guard](context, event);
  for (const g of guard) if (!sessionGuards[g](context, event)) return false;
  return true;
}

function select(
  rules: readonly SessionRule[] | undefined,
  context: SessionContext,
  event: SessionEvent,
): SessionRule | undefined {
  if (!rules) return undefined;
  for (const rule of rules) if (holds(rule.guard, context, event)) return rule;
  return undefined;
}

/** What one step does besides the new state: effects and timers, run once the snapshot is in place. */
type Deferred = Array<SessionEmitted | { schedule: SessionState } | { cancel: SessionState }>;

/**
 * Runs actions in order: updates make a new context, effects are computed now and emitted later.
 * `before` is the context the step started from (the current snapshot's, never changed): the step's
 * first update copies it, later ones change that copy, which nobody else has seen yet.
 */
function run(
  actions: readonly ActionName[],
  context: SessionContext,
  event: SessionEvent,
  out: Deferred,
  before: SessionContext,
): SessionContext {
  let c = context;
  for (const name of actions) {
    if (name in sessionUpdates) {
      const update = sessionUpdates[name as keyof typeof sessionUpdates](c, event);
      if (c === before) c = { ...c, ...update };
      else Object.assign(c, update);
    } else {
      out.push(sessionEffects[name as keyof typeof sessionEffects](c));
    }
  }
  return c;
}

/**
 * Takes `rule` from `state`: exit (cancel its timer), actions, enter the target (its timer, its entry
 * actions), then eventless transitions of the new state, as XState's microsteps do.
 */
function take(
  rule: SessionRule,
  state: SessionState,
  context: SessionContext,
  event: SessionEvent,
  out: Deferred,
  before: SessionContext = context,
): { state: SessionState; context: SessionContext } {
  let s = state;
  let c = context;
  if (rule.target !== undefined && SESSION_STATES[s].setupTimeout) out.push({ cancel: s });
  c = run(rule.actions, c, event, out, before);
  if (rule.target === undefined) return { state: s, context: c };
  s = rule.target;
  const def = SESSION_STATES[s];
  if (def.setupTimeout) out.push({ schedule: s });
  if (def.entry) c = run(def.entry, c, event, out, before);
  // Eventless transitions of the state entered (only `idle` has any; it is never entered again).
  const next = def.final ? undefined : select(def.always, c, event);
  return next ? take(next, s, c, event, out, before) : { state: s, context: c };
}

function snapshotOf(value: SessionState, context: SessionContext): SessionSnapshot {
  return SESSION_STATES[value].final
    ? { status: "done", value, context, output: sessionOutput(context), error: undefined }
    : { status: "active", value, context, output: undefined, error: undefined };
}

/** What a session's wiring takes its emitted events with, instead of an XState listener per session. */
export interface SessionEffectSink {
  sessionEmitted(event: SessionEmitted): void;
}

const SINK = Symbol("l2tp.sessionEffectSink");

/**
 * Makes `sink` the first receiver of what the session actor emits. `actor.on` would cost every
 * session a listener, XState's bound copy of it and a Set, and a copy of the listener list per emit
 * (measured: 700 bytes of heap per call on a LAC, and with the lab's promise per call ~10 µs of CPU per
 * call on each side); the sink is one property. Listeners added with `actor.on` still get every event
 * after the sink. It also gives the actor a scope whose methods are shared (./shared-scope.ts).
 */
export function sinkSessionEffects(actor: object, sink: SessionEffectSink): void {
  (actor as { [SINK]?: SessionEffectSink })[SINK] = sink;
  shareScope(actor);
}

/** Hands the step's effects to XState's deferred queue: they run after the snapshot is set, as emits do. */
function defer(out: Deferred, scope: Scope): void {
  if (out.length === 0) return;
  scope.defer(() => runDeferred(out, scope));
}

/** The step's effects, once the new snapshot is in place (module-level: adapters/jit reaches it). */
function runDeferred(out: Deferred, scope: Scope): void {
  const self = scope.self;
  const scheduler = scope.system.scheduler;
  const sink = (self as { [SINK]?: SessionEffectSink })[SINK];
  for (const item of out) {
    if ("schedule" in item) {
      const event = SETUP_TIMEOUT[item.schedule];
      const context = self.getSnapshot().context;
      scheduler.schedule(self, self, event, context.setupTimeoutMs, event.type);
    } else if ("cancel" in item) {
      scheduler.cancel(self, setupTimeoutEvent(item.cancel));
    } else {
      sink?.sessionEmitted(item);
      scope.emit(item);
    }
  }
}

/**
 * The session machine as an XState actor logic: `createActor(sessionLogic, { input, parent })` makes a
 * session actor that behaves as `createActor(sessionMachine, …)` does, at a fraction of the cost.
 */
export const sessionLogic: SessionLogic = {
  config: { id: "session" },
  getInitialSnapshot(scope: Scope, input: SessionInput): SessionSnapshot {
    const out: Deferred = [];
    const init = { type: "xstate.init", input } as unknown as SessionEvent;
    const initial = initialSessionContext(input);
    const start = select(SESSION_STATES.idle.always, initial, init);
    // The initial context is the step's own (no snapshot holds it yet): updates may change it in place.
    const { state, context } = start
      ? take(start, "idle", initial, init, out, NO_CONTEXT)
      : { state: "idle" as const, context: initial };
    defer(out, scope);
    return snapshotOf(state, context);
  },
  transition(snapshot: SessionSnapshot, event: SessionEvent, scope: Scope): SessionSnapshot {
    if ((event as { type: string }).type === "xstate.stop") {
      return { ...snapshot, status: "stopped", output: undefined, error: undefined };
    }
    if (snapshot.status !== "active") return snapshot;
    const state = snapshot.value;
    // The setup timeout's delayed event is a transition of its state, as XState makes `after` ones.
    const rules =
      SESSION_STATES[state].setupTimeout && event.type === setupTimeoutEvent(state)
        ? SESSION_SETUP_TIMED_OUT
        : SESSION_STATES[state].on?.[event.type];
    const rule =
      select(rules, snapshot.context, event) ?? select(SESSION_ROOT[event.type], snapshot.context, event);
    if (!rule) return snapshot;
    const out: Deferred = [];
    const next = take(rule, state, snapshot.context, event, out);
    defer(out, scope);
    return snapshotOf(next.state, next.context);
  },
  getPersistedSnapshot(snapshot: SessionSnapshot) {
    return { ...snapshot };
  },
  restoreSnapshot(persisted) {
    return persisted as SessionSnapshot;
  },
};

/**
 * The module's own hot functions, which adapters/jit keeps out of JSC's top tier with what it exports
 * (it reaches nothing else: they are not exported to be called).
 */
export const hotInternals: readonly unknown[] = [holds, select, run, take, runDeferred, snapshotOf];
