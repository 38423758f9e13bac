/**
 * A LAC's subscriber, as the event log sees it: the E-series sequence (docs/LAC.md) as states, one
 * transition per step, each with what was decided and why, so that `l2tp replay` tells a subscriber's
 * story from its line to its tunnel (or its refusal):
 *
 *   ppp ──authenticated──▶ deciding ──tunnel──▶ placing ──placed──▶ tunnelled ──ended──▶ ended
 *                                                 └─selected (each choice of tunnel selection, why)─┘
 *                              │ └──terminate──▶ local ──up──▶ local (its address)  ──ended──▶ ended
 *                              └──refused (from deciding or placing)──▶ ended
 *
 * The subscriber's LCP and authentication are its PPP link's own transitions (a child actor, machine
 * "ppp", at this subscriber's path). Pure: the wiring (actors/lac-access.ts) tells it what happened;
 * the frames of a tunnelled subscriber never pass through it.
 *
 * Run as an actor logic of its own (the table below, one context copy per step), as the session's table
 * is (machines/session-logic.ts): XState's statechart interpreter took 12% of a LAC's CPU per subscriber
 * set-up in bench/lac for these five transitions (docs/LAC.md).
 */
import type { ActorLogic, ActorScope, ActorSystem } from "xstate";
import type { ActorPath, Cause } from "./common.ts";
import type { TunnelSelected } from "./system.ts";

// biome-ignore lint/suspicious/noExplicitAny: XState's own AnyActorSystem, which it does not export.
type AnyActorSystem = ActorSystem<any>;

/** What a subscriber actor is created with. */
export interface LacSubscriberInput {
  /** `{ system, subscriber }`: its own level under the system. */
  path: ActorPath;
  /** The subscriber's Calling Number, when the access medium knows it. */
  callingNumber?: string;
}

/** Where a subscriber's call was placed: the session it is relayed to. */
export interface SubscriberPlacement {
  destination: string;
  tunnel: number;
  session: number;
}

/** The subscriber's context: who, what was decided and why, where it went, how it ended. */
export interface LacSubscriberContext extends LacSubscriberInput {
  /** The user name it authenticated with (never its password). */
  user?: string;
  /** tunnel, terminate or refuse. */
  decision?: "tunnel" | "terminate" | "refuse";
  /** Why: the domain map's entry or RADIUS's tunnel attributes, or what was not found. */
  reason?: string;
  /** The tunnel group its call went to (the domain, or "radius"). */
  group?: string;
  /** Tunnel selection's last choice for its call and why (each failover is another). */
  selection?: TunnelSelected;
  placed?: SubscriberPlacement;
  /** Terminated here: its IPCP address. */
  address?: string;
  cause?: Cause;
}

/** What the wiring tells a subscriber. */
export type LacSubscriberEvent =
  | { type: "authenticated"; user: string }
  | { type: "tunnel"; group: string; reason: string }
  | { type: "terminate"; reason: string }
  | { type: "refused"; cause: Cause }
  | { type: "selected"; selection: TunnelSelected }
  | { type: "placed"; placed: SubscriberPlacement }
  | { type: "up"; address: string }
  | { type: "ended"; cause: Cause };

/** The subscriber's states, the first the initial one, `ended` the final one. */
export const SUBSCRIBER_STATES = ["ppp", "deciding", "placing", "tunnelled", "local", "ended"] as const;
export type SubscriberState = (typeof SUBSCRIBER_STATES)[number];

/** Every transition: state → event → target. An event a state does not name is ignored there. */
export const SUBSCRIBER_TRANSITIONS: Record<
  SubscriberState,
  Partial<Record<LacSubscriberEvent["type"], SubscriberState>>
> = {
  /** LCP and authentication with the subscriber (its PPP link). */
  ppp: { authenticated: "deciding", ended: "ended" },
  /** AAA, then RADIUS tunnel attributes or the domain map. */
  deciding: { tunnel: "placing", terminate: "local", refused: "ended", ended: "ended" },
  /** Tunnel selection and the call: each choice (a failover is another) is a `selected` event. */
  placing: { selected: "placing", placed: "tunnelled", refused: "ended", ended: "ended" },
  /** Relayed to its session (no step per frame). */
  tunnelled: { ended: "ended" },
  /** This node is its PPP server: IPCP from the node's pools, IP to the data plane. */
  local: { up: "local", ended: "ended" },
  ended: {},
};

/** The context after `event` (moving to `target`). */
function contextAfter(
  c: LacSubscriberContext,
  state: SubscriberState,
  event: LacSubscriberEvent,
): LacSubscriberContext {
  switch (event.type) {
    case "authenticated":
      return { ...c, user: event.user };
    case "tunnel":
      return { ...c, decision: "tunnel", group: event.group, reason: event.reason };
    case "terminate":
      return { ...c, decision: "terminate", reason: event.reason };
    case "refused":
      return state === "deciding"
        ? { ...c, decision: "refuse", reason: event.cause.message, cause: event.cause }
        : { ...c, cause: event.cause };
    case "selected":
      return { ...c, selection: event.selection };
    case "placed":
      return { ...c, placed: event.placed };
    case "up":
      return { ...c, address: event.address };
    case "ended":
      return { ...c, cause: event.cause };
  }
}

/** The subscriber's output when it ended. */
export interface LacSubscriberOutput {
  cause: Cause | undefined;
}

/** A subscriber's snapshot: what a machine's snapshot says of it (the recorder reads value and context). */
export type LacSubscriberSnapshot =
  | {
      status: "active" | "stopped";
      value: SubscriberState;
      context: LacSubscriberContext;
      output: undefined;
      error: undefined;
    }
  | {
      status: "done";
      value: SubscriberState;
      context: LacSubscriberContext;
      output: LacSubscriberOutput;
      error: undefined;
    };

export type LacSubscriberLogic = ActorLogic<
  LacSubscriberSnapshot,
  LacSubscriberEvent,
  LacSubscriberInput,
  AnyActorSystem
>;

type Scope = ActorScope<LacSubscriberSnapshot, LacSubscriberEvent, AnyActorSystem>;

function snapshotOf(value: SubscriberState, context: LacSubscriberContext): LacSubscriberSnapshot {
  return value === "ended"
    ? { status: "done", value, context, output: { cause: context.cause }, error: undefined }
    : { status: "active", value, context, output: undefined, error: undefined };
}

/** The subscriber table as an XState actor logic (machine kind "subscriber"). */
export const lacSubscriberLogic: LacSubscriberLogic = {
  config: { id: "subscriber" },
  getInitialSnapshot(_scope: Scope, input: LacSubscriberInput): LacSubscriberSnapshot {
    return snapshotOf("ppp", { ...input });
  },
  transition(snapshot: LacSubscriberSnapshot, event: LacSubscriberEvent): LacSubscriberSnapshot {
    if ((event as { type: string }).type === "xstate.stop") {
      return { ...snapshot, status: "stopped", output: undefined, error: undefined };
    }
    if (snapshot.status !== "active") return snapshot;
    const target = SUBSCRIBER_TRANSITIONS[snapshot.value][event.type];
    if (target === undefined) return snapshot;
    return snapshotOf(target, contextAfter(snapshot.context, snapshot.value, event));
  },
  getPersistedSnapshot(snapshot: LacSubscriberSnapshot) {
    return { ...snapshot };
  },
  restoreSnapshot(persisted) {
    return persisted as LacSubscriberSnapshot;
  },
};

/**
 * The module's own hot code, which adapters/jit keeps out of JSC's top tier with what it exports (it
 * reaches nothing else: these are not exported to be used).
 */
export const hotInternals: readonly unknown[] = [snapshotOf];
