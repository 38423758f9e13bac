/**
 * The scope XState gives an actor, made once per actor with methods on a prototype instead of the
 * closures XState makes: for the project's own actor logics (machines/session-logic.ts, machines/ppp/
 * ppp-logic.ts), of which a node runs one or two per call.
 */
import { Actor, type ActorSystem } from "xstate";

// biome-ignore lint/suspicious/noExplicitAny: XState's own AnyActorSystem, which it does not export.
type AnyActorSystem = ActorSystem<any>;

/** The parts of XState's Actor (internal but stable in v5) that a shared scope reads. */
interface ScopedActor {
  id: string;
  sessionId: string;
  logger: unknown;
  system: AnyActorSystem;
  _deferred: Array<() => void>;
  eventListeners: Map<string, Set<(event: unknown) => void>>;
  _actorScope: unknown;
  send: (event: never) => void;
}

/**
 * An actor's scope (what XState hands its logic: self, system, defer, emit), with its methods on a
 * prototype. XState makes every actor a scope of its own with four closures over the actor's
 * constructor (defer, emit, stopChild, actionExecutor) and keeps them for the actor's life: ~200 bytes
 * of heap per established call, for methods that only read the actor. This one behaves the same for the
 * project's own actor logics (a session's table, a PPP endpoint): `defer` queues on the actor, `emit`
 * calls the listeners of the event's type then the wildcard ones (a listener that throws is reported
 * apart, as XState does), and there are no children to stop and no XState actions to run (the logics
 * run their own).
 */
class SharedScope {
  readonly self: ScopedActor;
  readonly id: string;
  readonly sessionId: string;
  readonly logger: unknown;
  readonly system: AnyActorSystem;

  constructor(actor: ScopedActor) {
    this.self = actor;
    this.id = actor.id;
    this.sessionId = actor.sessionId;
    this.logger = actor.logger;
    this.system = actor.system;
  }

  defer(fn: () => void): void {
    this.self._deferred.push(fn);
  }

  emit(event: { type: string }): void {
    const listeners = this.self.eventListeners;
    if (listeners.size === 0) return;
    const handlers = [...(listeners.get(event.type) ?? []), ...(listeners.get("*") ?? [])];
    for (const handler of handlers) {
      try {
        handler(event);
      } catch (error) {
        // As XState reports a listener's error: thrown apart, never into the session's step.
        setTimeout(() => {
          throw error;
        });
      }
    }
  }

  stopChild(child: { id: string }): void {
    throw new Error(`Cannot stop child actor ${child.id} of ${this.id} because it is not a child`);
  }

  actionExecutor(action: {
    exec?: (info: unknown, params: unknown) => void;
    info: unknown;
    params: unknown;
  }): void {
    action.exec?.(action.info, action.params);
  }
}

/**
 * Gives an actor of one of the project's logics the shared-method scope (its constructor's closures
 * become garbage), and its prototype's `send` instead of the copy XState binds to every actor (96 bytes
 * of heap an actor): sessions and PPP links are sent events as `actor.send(event)` by their handles,
 * never through a detached `send`.
 */
export function shareScope(target: object): void {
  const actor = target as ScopedActor;
  if (actor._actorScope !== undefined) actor._actorScope = new SharedScope(actor);
  actor.send = Actor.prototype.send;
}

/**
 * The module's own hot code, which adapters/jit keeps out of JSC's top tier with what it exports (it
 * reaches nothing else: these are not exported to be used): functions, and classes with their methods.
 */
export const hotInternals: readonly unknown[] = [SharedScope];
