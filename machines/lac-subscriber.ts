/**
 * A LAC's subscriber, as the event log sees it: the E-series sequence (docs/LAC.md) as states, one
 * transition per step, each with what was decided and why, so that `l2tp replay` tells a subscriber's
 * story from its line to its tunnel (or its refusal):
 *
 *   ppp ──authenticated──▶ deciding ──tunnel──▶ placing ──placed──▶ tunnelled ──ended──▶ ended
 *                              │ └──terminate──▶ local ──up──▶ local (its address)  ──ended──▶ ended
 *                              └──refused (from deciding or placing)──▶ ended
 *
 * The subscriber's LCP and authentication are its PPP link's own transitions (a child actor, machine
 * "ppp", at this subscriber's path). Pure: the wiring (actors/lac-access.ts) tells it what happened;
 * the frames of a tunnelled subscriber never pass through it.
 */
import { assign, setup } from "xstate";
import type { ActorPath, Cause } from "./common.ts";

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
  | { type: "placed"; placed: SubscriberPlacement }
  | { type: "up"; address: string }
  | { type: "ended"; cause: Cause };

/** The subscriber machine (machine kind "subscriber"). */
export const lacSubscriberMachine = setup({
  types: {
    input: {} as LacSubscriberInput,
    context: {} as LacSubscriberContext,
    events: {} as LacSubscriberEvent,
    output: {} as { cause: Cause | undefined },
  },
  actions: {
    setCause: assign({ cause: ({ event }) => (event as { cause: Cause }).cause }),
  },
}).createMachine({
  id: "subscriber",
  context: ({ input }) => ({ ...input }),
  initial: "ppp",
  output: ({ context }) => ({ cause: context.cause }),
  on: { ended: { target: ".ended", actions: "setCause" } },
  states: {
    /** LCP and authentication with the subscriber (its PPP link). */
    ppp: {
      on: { authenticated: { target: "deciding", actions: assign({ user: ({ event }) => event.user }) } },
    },
    /** AAA, then RADIUS tunnel attributes or the domain map. */
    deciding: {
      on: {
        tunnel: {
          target: "placing",
          actions: assign({
            decision: "tunnel",
            group: ({ event }) => event.group,
            reason: ({ event }) => event.reason,
          }),
        },
        terminate: {
          target: "local",
          actions: assign({ decision: "terminate", reason: ({ event }) => event.reason }),
        },
        refused: {
          target: "ended",
          actions: assign({
            decision: "refuse",
            reason: ({ event }) => event.cause.message,
            cause: ({ event }) => event.cause,
          }),
        },
      },
    },
    /** Tunnel selection and the call (its choices and failovers are the system's `selection` events). */
    placing: {
      on: {
        placed: { target: "tunnelled", actions: assign({ placed: ({ event }) => event.placed }) },
        refused: { target: "ended", actions: "setCause" },
      },
    },
    /** Relayed to its session (no XState step per frame). */
    tunnelled: {},
    /** This node is its PPP server: IPCP from the pool, IP to the data plane. */
    local: {
      on: { up: { actions: assign({ address: ({ event }) => event.address }) } },
    },
    ended: { type: "final" },
  },
});
