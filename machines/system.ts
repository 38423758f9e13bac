/**
 * The system machine: one running node (a router in the E-series model). It carries the node's admin
 * state, says yes or no to every new tunnel and session (drain and shutdown accept nothing new), and
 * closes its destinations as a conversation when the node closes.
 *
 * Pure: the wiring asks with `request` and acts on what it emits; destinations are created by the
 * wiring (on first need) and are not XState children.
 */
import { assign, emit, setup } from "xstate";
import {
  type ActorPath,
  type AdminEvent,
  type AdminState,
  adminAfter,
  adminShutdown,
  type Cause,
  type CloseEvent,
  cause,
  isShutdownEvent,
  parentClosing,
} from "./common.ts";

/** Default time a closing system waits for its destinations. */
export const SYSTEM_CLOSE_TIMEOUT_MS = 120_000;

/** What the system actor is created with. */
export interface SystemInput {
  path: ActorPath;
  /** Our Host Name (RFC 2661 §4.4.3), for the observer. */
  hostName: string;
  closeTimeoutMs?: number;
}

/** The system's context. */
export interface SystemContext extends SystemInput {
  closeTimeoutMs: number;
  admin: AdminState;
  /** Live destinations. */
  destinations: number;
  cause?: Cause;
  /** When the node last said it is alive (ms, its clock): recorded, so that a standby sees a silent primary. */
  heartbeat?: number;
  /** The last tunnel selection for a group call and its reason (so that `replay` explains where a call went). */
  selection?: TunnelSelected;
}

/** A LAC's choice for one call of a tunnel group (machines/tunnel-selection.ts), as recorded. */
export interface TunnelSelected {
  requestId: number;
  group: string;
  /** reuse, open, lastResort or refuse. */
  choice: string;
  destination?: string;
  tunnelId?: number;
  reason: string;
}

/** Every event the system machine takes. */
export type SystemEvent =
  /** May a new session (LAC) or tunnel (LNS, on SCCRQ) be made? */
  | { type: "request"; requestId: number; what: "session" | "tunnel" }
  | { type: "destinationOpened"; destination: string }
  | { type: "destinationEnded"; destination: string }
  | CloseEvent
  | AdminEvent
  /** The node is alive (sent every second by a primary that a standby follows). */
  | { type: "heartbeat"; at: number }
  /** A tunnel group call was placed (or refused): recorded for the log. */
  | ({ type: "tunnelSelected" } & TunnelSelected);

/** What the system asks of the wiring. */
export type SystemEmitted =
  | { type: "admitted"; requestId: number }
  | { type: "refuse"; requestId: number; cause: Cause }
  /** Send `close` with this cause to every destination. */
  | { type: "closeDestinations"; cause: Cause };

/** The system's final output. */
export interface SystemOutput {
  cause: Cause;
  abandonedDestinations: number;
}

/** The system machine. */
export const systemMachine = setup({
  types: {
    context: {} as SystemContext,
    events: {} as SystemEvent,
    input: {} as SystemInput,
    output: {} as SystemOutput,
    emitted: {} as SystemEmitted,
  },
  guards: {
    enabled: ({ context }) => context.admin === "enabled",
    isShutdown: isShutdownEvent,
    noDestinationsLeft: ({ context }) => context.destinations === 0,
  },
  delays: {
    closeTimeout: ({ context }) => context.closeTimeoutMs,
  },
  actions: {
    setAdmin: assign({ admin: adminAfter }),
    recordHeartbeat: assign({
      heartbeat: ({ context, event }) => (event.type === "heartbeat" ? event.at : context.heartbeat),
    }),
    recordSelection: assign({
      selection: ({ context, event }) => {
        if (event.type !== "tunnelSelected") return context.selection;
        const { type: _type, ...selected } = event;
        return selected;
      },
    }),
    countOpened: assign({ destinations: ({ context }) => context.destinations + 1 }),
    countEnded: assign({ destinations: ({ context }) => Math.max(0, context.destinations - 1) }),
    admit: emit(({ event }) => ({
      type: "admitted" as const,
      requestId: (event as { requestId: number }).requestId,
    })),
    refuse: emit(({ context, event }) => ({
      type: "refuse" as const,
      requestId: (event as { requestId: number }).requestId,
      cause: cause(
        "refused",
        `system ${context.path.system} is ${context.cause ? "closing" : context.admin}`,
      ),
    })),
    recordClose: assign({ cause: ({ event }) => (event as CloseEvent).cause }),
    closeDestinations: emit(({ context }) => ({
      type: "closeDestinations" as const,
      cause: parentClosing("system", context.cause),
    })),
    shutdownDestinations: emit(({ context }) => ({
      type: "closeDestinations" as const,
      cause: adminShutdown(`system ${context.path.system} shut down`),
    })),
  },
}).createMachine({
  id: "system",
  context: ({ input }) => ({
    ...input,
    closeTimeoutMs: input.closeTimeoutMs ?? SYSTEM_CLOSE_TIMEOUT_MS,
    admin: "enabled",
    destinations: 0,
  }),
  initial: "running",
  on: {
    destinationOpened: { actions: "countOpened" },
    destinationEnded: { actions: "countEnded" },
    heartbeat: { actions: "recordHeartbeat" },
    tunnelSelected: { actions: "recordSelection" },
  },
  states: {
    running: {
      on: {
        request: [{ guard: "enabled", actions: "admit" }, { actions: "refuse" }],
        // Shutdown closes everything below and accepts nothing; drain only stops new work.
        admin: [
          { guard: "isShutdown", actions: ["setAdmin", "shutdownDestinations"] },
          { actions: "setAdmin" },
        ],
        close: { target: "closing", actions: "recordClose" },
      },
    },
    closing: {
      entry: "closeDestinations",
      always: { guard: "noDestinationsLeft", target: "closed" },
      after: { closeTimeout: "closed" },
      on: {
        request: { actions: "refuse" },
        admin: { actions: "setAdmin" },
      },
    },
    closed: { type: "final" },
  },
  output: ({ context }) => ({
    cause: context.cause ?? cause("internal", "system closed"),
    abandonedDestinations: context.destinations,
  }),
});
