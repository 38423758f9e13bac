/**
 * The supervision tree of the living system, kept outside XState. The first actor spawned without a
 * parent (the node's system actor) is an XState root with the clock and the `inspect` observer; every
 * actor spawned under it joins its XState system through a `SystemAnchor` (actor-system.ts) and is
 * nobody's XState child. The parent → children links live here, a Map per parent: adding or removing
 * a child is O(1). XState's own children map is copied on every spawn and stop, which made 20,000
 * children under one parent take 9 s (docs/ARCHITECTURE.md); a tunnel carries up to 65,535 sessions.
 *
 * A child's end (final state, error, or a forced stop) is observed through `actor.subscribe`; it is
 * removed from its parent at once and its `onEnd` runs, once. Every actor of a tree reaches the same
 * `inspect` observer (the root's system's), and its path is both in its context (`context.path`) and
 * in `pathOf(actorRef)`.
 */
import {
  type Actor,
  type AnyActorLogic,
  type AnyActorRef,
  createActor,
  type InspectionEvent,
  type Observer,
} from "xstate";
import type { ActorPath } from "../machines/common.ts";
import {
  type ChildEnding,
  dropActorRegistry,
  indexScheduler,
  quietRelay,
  SystemAnchor,
} from "./actor-system.ts";
import type { Clock } from "./ports.ts";

/**
 * The four levels of the tree (docs/ARCHITECTURE.md), a PPP link under its session (or subscriber), and
 * a LAC's subscriber under the system (docs/LAC.md).
 */
export type Level = "system" | "destination" | "tunnel" | "session" | "ppp" | "subscriber";

/** How an actor ended: its final output, a failure (an action threw), or a forced stop. */
export type Ending =
  | { kind: "done"; output: unknown }
  | { kind: "error"; error: unknown }
  | { kind: "stopped" };

/** One actor in the tree, with its children. */
export interface Supervised<M extends AnyActorLogic = AnyActorLogic> {
  readonly level: Level;
  /** Its key in its parent's children map (destination "addr:port", tunnel id, session id). */
  readonly key: string | number;
  readonly path: ActorPath;
  readonly actor: Actor<M>;
  readonly parent: Supervised | undefined;
  /** Live children by key. */
  readonly children: Map<string | number, Supervised>;
  /** Set once it ended. */
  ending: Ending | undefined;
  /** The wiring object it belongs to (`SpawnSpec.owner`), for callbacks shared by many actors. */
  readonly owner: unknown;
}

/** What `spawn` needs. */
export interface SpawnSpec<M extends AnyActorLogic> {
  level: Level;
  key: string | number;
  path: ActorPath;
  machine: M;
  input: unknown;
  /** Start from this persisted snapshot instead of `input` (a standby resuming a recorded actor). */
  snapshot?: unknown;
  parent?: Supervised;
  /** Subscribes to emitted events before the actor starts (so entry actions are seen). */
  wire?: (actor: Actor<M>, self: Supervised<M>) => void;
  /** Runs once when the actor ended, after it left its parent's children map. */
  onEnd?: (self: Supervised<M>, ending: Ending) => void;
  /**
   * The wiring object of the actor, kept as `self.owner`: lets `wire` and `onEnd` be functions shared
   * by every actor of a kind instead of two closures per actor (a tunnel may have 65,535 sessions).
   */
  owner?: unknown;
}

/** Options of a Supervisor. */
export interface SupervisorOptions {
  clock: Clock;
  /** The one observer of every actor's inspection events (the event recorder, a UI). */
  inspect?: (event: InspectionEvent) => void;
  /** Errors thrown by wiring callbacks: reported here, never into XState. */
  onWiringError?: (error: unknown, where: Supervised | undefined) => void;
}

/** What an actor's `options` are once it started (XState reads them no more). */
const STARTED: object = Object.freeze({});

/**
 * Where an actor sits, kept on the actor itself: readable for late inspection events after it ended,
 * gone with it (a WeakMap did the same at 5 times the cost of a set, and added weak entries to every
 * collection: two per call).
 */
const PATH = Symbol("l2tp.path");

/** Owns the tree: spawns actors, links them to their parents, and cleans up when they end. */
export class Supervisor {
  readonly #clock: Clock;
  readonly #inspect: Observer<InspectionEvent> | undefined;
  readonly #onWiringError: (error: unknown, where: Supervised | undefined) => void;
  #live = 0;
  #spawned = 0;
  /** Actors joined to a root's system, by XState id, until they end. */
  readonly #joined = new Map<string, SupervisedActor>();

  /** A supervisor whose actors share `options.clock` and `options.inspect`. */
  constructor(options: SupervisorOptions) {
    this.#clock = options.clock;
    const inspect = options.inspect;
    this.#inspect = inspect ? { next: (e) => inspect(e) } : undefined;
    this.#onWiringError =
      options.onWiringError ??
      ((error) => {
        console.error("l2tp supervisor: wiring error", error);
      });
  }

  /** Actors alive now. */
  get live(): number {
    return this.#live;
  }

  /** Actors spawned since the start. */
  get spawned(): number {
    return this.#spawned;
  }

  /** Where an actor sits in the tree (also for actors that ended). */
  pathOf(actor: AnyActorRef): ActorPath | undefined {
    return (actor as { [PATH]?: ActorPath })[PATH];
  }

  /**
   * Creates and starts an actor as a child of `spec.parent` (or as a root). If the actor ends during
   * its own start (a final initial state, or an entry action that throws), `onEnd` has already run
   * when spawn returns; check `ending`.
   */
  spawn<M extends AnyActorLogic>(spec: SpawnSpec<M>): Supervised<M> {
    const parent = spec.parent as SupervisedActor | undefined;
    if (parent?.childAt(spec.key)) {
      throw new Error(
        `supervisor: ${parent.level} ${String(parent.key)} already has child ${String(spec.key)}`,
      );
    }
    const anchor = parent ? this.anchorOf(parent) : undefined;
    const actor = (
      anchor
        ? createActor(spec.machine, {
            input: spec.input,
            parent: anchor,
            ...(spec.snapshot !== undefined ? { snapshot: spec.snapshot } : {}),
          } as never)
        : createActor(spec.machine, {
            input: spec.input,
            ...(spec.snapshot !== undefined ? { snapshot: spec.snapshot } : {}),
            clock: this.#clock,
            ...(this.#inspect ? { inspect: this.#inspect } : {}),
          } as never)
    ) as Actor<M>;
    if (!anchor) {
      const system = (actor as unknown as { system: never }).system;
      indexScheduler(system);
      dropActorRegistry(system);
      quietRelay(system);
    }
    const self = new SupervisedActor(
      spec.level,
      spec.key,
      spec.path,
      actor,
      parent,
      anchor,
      spec.onEnd as ((self: Supervised, ending: Ending) => void) | undefined,
      spec.owner,
    );
    (actor as { [PATH]?: ActorPath })[PATH] = spec.path;
    if (parent) parent.addChild(self);
    this.#live++;
    this.#spawned++;
    if (anchor) {
      // Its done and error events reach the anchor (childEnded); a stop is seen in `stop`.
      this.#joined.set(actor.id, self);
    } else {
      actor.subscribe({
        complete: () => {
          const snap = actor.getSnapshot() as { status: string; output?: unknown };
          this.end(
            self,
            snap.status === "done" ? { kind: "done", output: snap.output } : { kind: "stopped" },
          );
        },
        error: (error) => this.end(self, { kind: "error", error }),
      });
    }
    const typed = self as unknown as Supervised<M>;
    if (spec.wire) {
      try {
        spec.wire(actor, typed);
      } catch (error) {
        // A wiring that failed is reported and its actor never starts: it ends here, once (`stop` on an
        // actor not started yet would leave it to be started below).
        this.#onWiringError(error, self);
        this.end(self, { kind: "stopped" });
        return typed;
      }
    }
    actor.start();
    // XState keeps the actor's options (its input among them) for the actor's life and reads them only
    // while creating and starting it: the context holds what it needs of the input, and a session's
    // options and input were two objects per call for nobody.
    (actor as unknown as { options: object }).options = STARTED;
    // An error while starting is delivered to observers synchronously; `ending` is set by now.
    return typed;
  }

  /** `self` ended: it leaves its parent's children and the registry, then its `onEnd` runs, once. */
  private end(self: SupervisedActor, ending: Ending): void {
    if (self.ending) return;
    self.ending = ending;
    this.#live--;
    if (self.joined) this.#joined.delete(self.actor.id);
    (self.parent as SupervisedActor | undefined)?.removeChild(self);
    const onEnd = self.onEnd;
    if (onEnd) {
      // As `guard` does, without a closure per ending.
      try {
        onEnd(self, ending);
      } catch (error) {
        this.fail(self, error);
      }
    }
  }

  /** A joined actor reached a final state or failed (XState told its parent, the anchor). */
  private childEnded(childId: string, ending: ChildEnding): void {
    const self = this.#joined.get(childId);
    if (self) this.end(self, ending);
  }

  /** The anchor that makes actors under `parent` join the tree's one XState system. */
  private anchorOf(parent: Supervised): SystemAnchor {
    const known = (parent as SupervisedActor).anchor;
    if (known) return known;
    const anchor = new SystemAnchor(parent.actor, (id, ending) => this.childEnded(id, ending));
    (parent as SupervisedActor).anchor = anchor;
    return anchor;
  }

  /**
   * Runs a wiring callback for `self`; if it throws, the error is reported and `self` is stopped (its
   * end is reported to its parent like any other), so one broken actor never takes down its siblings.
   */
  guard(self: Supervised | undefined, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.fail(self, error);
    }
  }

  /** A wiring callback of `self` threw: report it and stop `self` (what `guard` does when `fn` throws). */
  fail(self: Supervised | undefined, error: unknown): void {
    this.#onWiringError(error, self);
    if (self && !self.ending) this.stop(self);
  }

  /** Wraps an emitted-event listener with `guard`. */
  listener<E>(self: Supervised, fn: (event: E) => void): (event: E) => void {
    return (event) => this.guard(self, () => fn(event));
  }

  /** The last resort: stops an actor at once (its children are not touched: stop them first). */
  stop(self: Supervised): void {
    if (self.ending) return;
    try {
      // An actor with the anchor as parent is not a root: XState refuses `stop()` on it but its
      // internal `_stop()` does the same (clears the mailbox, then stops after the current event).
      const joined = self as SupervisedActor;
      if (!joined.joined) {
        self.actor.stop();
        return;
      }
      (self.actor as unknown as { _stop(): void })._stop();
      // The stop is done now, or, asked from inside the actor's own step, right after that step.
      const stopped = () => {
        if (self.actor.getSnapshot().status === "stopped") this.end(joined, { kind: "stopped" });
      };
      stopped();
      if (!self.ending) queueMicrotask(stopped);
    } catch (error) {
      this.#onWiringError(error, self);
    }
  }

  /** `self` and every live descendant, parents before their children (a walk for tools, not the hot path). */
  *walk(self: Supervised): Generator<Supervised> {
    if (self.ending) return;
    yield self;
    for (const child of (self as SupervisedActor).childList()) yield* this.walk(child);
  }

  /** Stops `self` after stopping every descendant, deepest first. */
  stopTree(self: Supervised): void {
    for (const child of (self as SupervisedActor).childList()) this.stopTree(child);
    this.stop(self);
  }
}

/**
 * A Supervised. Its children are kept in a Map only from the second one on: a session has one child
 * (its PPP link) and there are tens of thousands of sessions, where a Map each would cost its
 * allocation and ~200 bytes (the first child lives in `#only`).
 */
class SupervisedActor implements Supervised {
  readonly level: Level;
  readonly key: string | number;
  readonly path: ActorPath;
  readonly actor: Actor<AnyActorLogic>;
  readonly parent: Supervised | undefined;
  ending: Ending | undefined = undefined;
  /** The anchor of the system its children join (its root's), once it has had children. */
  anchor: SystemAnchor | undefined;
  /** Whether it joined its root's system (through an anchor) rather than being a root. */
  readonly joined: boolean;
  /** What runs once when it ended. */
  readonly onEnd: ((self: Supervised, ending: Ending) => void) | undefined;
  readonly owner: unknown;
  /** Its one child, while it has at most one and no Map. */
  #only: Supervised | undefined;
  #children: Map<string | number, Supervised> | undefined;

  constructor(
    level: Level,
    key: string | number,
    path: ActorPath,
    actor: Actor<AnyActorLogic>,
    parent: Supervised | undefined,
    anchor: SystemAnchor | undefined,
    onEnd: ((self: Supervised, ending: Ending) => void) | undefined,
    owner: unknown,
  ) {
    this.level = level;
    this.key = key;
    this.path = path;
    this.actor = actor;
    this.parent = parent;
    this.joined = anchor !== undefined;
    this.onEnd = onEnd;
    this.owner = owner;
    // Children join the same system: they share this actor's anchor.
    this.anchor = anchor;
  }

  /** Live children by key (a Map is made when this is read: for tests and tools, not the hot path). */
  get children(): Map<string | number, Supervised> {
    if (!this.#children) {
      this.#children = new Map();
      if (this.#only) this.#children.set(this.#only.key, this.#only);
      this.#only = undefined;
    }
    return this.#children;
  }

  childAt(key: string | number): Supervised | undefined {
    if (this.#children) return this.#children.get(key);
    return this.#only?.key === key ? this.#only : undefined;
  }

  addChild(child: Supervised): void {
    if (this.#children) this.#children.set(child.key, child);
    else if (this.#only === undefined) this.#only = child;
    else this.children.set(child.key, child);
  }

  /** Removes `child` if it is the live child under its key. */
  removeChild(child: Supervised): void {
    if (this.#only === child) this.#only = undefined;
    else if (this.#children?.get(child.key) === child) this.#children.delete(child.key);
  }

  /** Its children now, as a list of their own (safe to stop them while walking it). */
  childList(): Supervised[] {
    if (this.#children) return this.#children.size > 0 ? [...this.#children.values()] : [];
    return this.#only ? [this.#only] : [];
  }
}

/**
 * The module's own hot code, which adapters/jit keeps out of JSC's top tier with what it exports (it
 * reaches nothing else: these are not exported to be used): functions, and classes with their methods.
 */
export const hotInternals: readonly unknown[] = [SupervisedActor];
