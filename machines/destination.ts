/**
 * The destination machine: one remote L2TP peer (address, port) and the policy for its tunnels,
 * as the E-series models it. It decides where a new session goes (an existing tunnel with room is
 * preferred over a new one), locks the destination out for a while after a tunnel fails to
 * establish, and afterwards opens a test tunnel before any session is placed on it again. It also
 * carries the destination's admin state and closes its tunnels as a conversation.
 *
 * Pure: the wiring asks by sending `place` / `admit` (with the current load of the tunnels, which the
 * supervisor keeps) and acts on what the machine emits. Tunnels are not XState children.
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
import type { TunnelOutput } from "./tunnel.ts";

/** Default lockout after a tunnel failed to establish (E-series: 300 s). */
export const LOCKOUT_MS = 300_000;
/** Default time a closing destination waits for its tunnels before giving up on them. */
export const DESTINATION_CLOSE_TIMEOUT_MS = 60_000;
/** Default time an unused destination (no tunnels, not locked out) stays before it is removed. */
export const DESTINATION_IDLE_MS = 600_000;
/** RFC 2661 §4.4.4: session ids are 16 bits and 0 is reserved, so a tunnel carries at most 65,535 sessions. */
export const MAX_SESSIONS_PER_TUNNEL = 65_535;

/** What a destination actor is created with. */
export interface DestinationInput {
  path: ActorPath;
  /** The peer, "address:port" (also in path.destination). */
  peer: { address: string; port: number };
  /** Sessions per tunnel before another tunnel is opened. */
  maxSessionsPerTunnel?: number;
  /** Tunnels to this destination at most (default: no limit). */
  maxTunnels?: number;
  /** How long a failed destination is locked out (default LOCKOUT_MS). */
  lockoutMs?: number;
  /** How long closing waits for the tunnels (default DESTINATION_CLOSE_TIMEOUT_MS). */
  closeTimeoutMs?: number;
  /** How long it stays without tunnels before it ends (default DESTINATION_IDLE_MS). */
  idleMs?: number;
}

/** The destination's context. */
export interface DestinationContext extends DestinationInput {
  maxSessionsPerTunnel: number;
  maxTunnels: number;
  lockoutMs: number;
  closeTimeoutMs: number;
  idleMs: number;
  admin: AdminState;
  /** Live tunnels (created and not yet final). */
  tunnels: number;
  /** Times this destination was locked out. */
  lockouts: number;
  /** Why the last tunnel failed to establish. */
  lastFailure?: Cause;
  /** Why the destination is closing or closed. */
  cause?: Cause;
}

/** A tunnel as the placement decision sees it. */
export interface TunnelLoad {
  tunnelId: number;
  /** opening: SCCRQ sent or answered; established; closing: StopCCN sent or received. */
  phase: "opening" | "established" | "closing";
  /** Sessions on it (waiting or live). */
  sessions: number;
  /** The tunnel's admin state (drain takes no new sessions). */
  admin: AdminState;
  /** A test tunnel after a lockout that is not established yet: no sessions go on it until it is. */
  test: boolean;
}

/** Every event the destination machine takes. */
export type DestinationEvent =
  /**
   * LAC: a session wants a tunnel to this destination. `requestId` is the caller's. `newTunnel`: the
   * caller's tunnel selection wants a tunnel of its own (a sibling of full ones, another
   * Tunnel-Assignment-Id); `lastResort`: every destination of its group is locked out and this one,
   * locked out first, is tried once more (a test tunnel, the lockout set aside).
   */
  | {
      type: "place";
      requestId: number;
      tunnels: readonly TunnelLoad[];
      newTunnel?: boolean;
      lastResort?: boolean;
    }
  /** LNS: the peer sent an acceptable SCCRQ; may a tunnel be made? */
  | { type: "admit"; requestId: number }
  /** A tunnel was created (either side). */
  | { type: "tunnelOpened"; tunnelId: number; test: boolean }
  /** A tunnel reached established. */
  | { type: "tunnelEstablished"; tunnelId: number; test: boolean }
  /**
   * A tunnel ended, with its output; `peerOpened`: the peer asked for it (its SCCRQ), so its failure
   * says nothing of whether we reach the peer.
   */
  | { type: "tunnelEnded"; tunnelId: number; test: boolean; output: TunnelOutput; peerOpened?: boolean }
  /** The operator clears the lockout: the destination is used at once, without a test tunnel. */
  | { type: "clearLockout" }
  /** The operator runs the lockout test now: a test tunnel opens without waiting for the lockout to end. */
  | { type: "testLockout" }
  | CloseEvent
  | AdminEvent;

/** What the destination asks of the wiring. */
export type DestinationEmitted =
  /** Put the session on this tunnel. */
  | { type: "placeOn"; requestId: number; tunnelId: number }
  /** Open a new tunnel and put the session on it (requestId), or open a test tunnel (test, no session). */
  | { type: "openTunnel"; requestId?: number; test: boolean }
  /** Hold the request until the test tunnel is established (then `retry`) or fails (then `refuseQueued`). */
  | { type: "queue"; requestId: number }
  /** The request cannot be served. */
  | { type: "refuse"; requestId: number; cause: Cause }
  /** LNS: make the tunnel. */
  | { type: "admitted"; requestId: number }
  /** The test tunnel is up: place the queued requests again. */
  | { type: "retryQueued" }
  /** The destination is locked out: refuse the queued requests with this cause. */
  | { type: "refuseQueued"; cause: Cause }
  /** Send `close` with this cause to every tunnel. */
  | { type: "closeTunnels"; cause: Cause };

/** The destination's final output. */
export interface DestinationOutput {
  cause: Cause;
  /** Tunnels still alive when closing gave up waiting (the wiring stops them). */
  abandonedTunnels: number;
}

/** Whether a session may go on this tunnel: not closing, enabled, not an unproven test tunnel, not full. */
export function hasRoomFor(t: TunnelLoad, maxSessions: number): boolean {
  return t.phase !== "closing" && t.admin === "enabled" && !t.test && t.sessions < maxSessions;
}

/**
 * Whether `t` is a better place than `best` (both with room): established before still opening, then
 * the fuller one, so that tunnels fill before new ones open.
 */
export function preferredOver(t: TunnelLoad, best: TunnelLoad): boolean {
  const rank = t.phase === "established" ? 1 : 0;
  const bestRank = best.phase === "established" ? 1 : 0;
  return rank > bestRank || (rank === bestRank && t.sessions > best.sessions);
}

/**
 * Picks a tunnel with room for one more session (RFC-independent policy, E-series style): established
 * tunnels first, then ones still opening; among them the fullest, so tunnels fill before new ones open.
 */
export function tunnelWithRoom(tunnels: Iterable<TunnelLoad>, maxSessions: number): TunnelLoad | undefined {
  let best: TunnelLoad | undefined;
  for (const t of tunnels) {
    if (!hasRoomFor(t, maxSessions)) continue;
    if (!best || preferredOver(t, best)) best = t;
  }
  return best;
}

function liveTunnels(tunnels: readonly TunnelLoad[]): number {
  let n = 0;
  for (const t of tunnels) if (t.phase !== "closing") n++;
  return n;
}

/** Causes of a tunnel's end that say nothing about whether the destination works. */
const NOT_A_FAILURE: ReadonlySet<Cause["reason"]> = new Set(["admin", "parent", "tie-breaker", "internal"]);

/** The destination machine. */
export const destinationMachine = setup({
  types: {
    context: {} as DestinationContext,
    events: {} as DestinationEvent,
    input: {} as DestinationInput,
    output: {} as DestinationOutput,
    emitted: {} as DestinationEmitted,
  },
  guards: {
    notEnabled: ({ context }) => context.admin !== "enabled",
    hasRoom: ({ context, event }) =>
      event.type === "place" &&
      event.newTunnel !== true &&
      tunnelWithRoom(event.tunnels, context.maxSessionsPerTunnel) !== undefined,
    mayOpenTunnel: ({ context, event }) =>
      event.type === "place" && liveTunnels(event.tunnels) < context.maxTunnels,
    /** A tunnel that never got established failed for a reason about the peer (RFC 2661 §5.8 retries, auth, refusal). */
    tunnelFailed: ({ event }) =>
      event.type === "tunnelEnded" &&
      !event.output.wasEstablished &&
      // A peer that asked for a tunnel and did not complete it is not locked out: nothing of ours failed.
      !event.peerOpened &&
      !NOT_A_FAILURE.has(event.output.cause.reason),
    isTestTunnel: ({ event }) =>
      (event.type === "tunnelEnded" || event.type === "tunnelEstablished") && event.test,
    isLastResort: ({ event }) => event.type === "place" && event.lastResort === true,
    noTunnelsLeft: ({ context }) => context.tunnels === 0,
    hasTunnels: ({ context }) => context.tunnels > 0,
    isShutdown: isShutdownEvent,
  },
  delays: {
    lockout: ({ context }) => context.lockoutMs,
    closeTimeout: ({ context }) => context.closeTimeoutMs,
    idle: ({ context }) => context.idleMs,
  },
  actions: {
    setAdmin: assign({ admin: adminAfter }),
    countOpened: assign({ tunnels: ({ context }) => context.tunnels + 1 }),
    countEnded: assign({ tunnels: ({ context }) => Math.max(0, context.tunnels - 1) }),
    recordFailure: assign({
      lastFailure: ({ context, event }) =>
        event.type === "tunnelEnded" ? event.output.cause : context.lastFailure,
      lockouts: ({ context }) => context.lockouts + 1,
    }),
    placeOnTunnel: emit(({ context, event }) => {
      const e = event as Extract<DestinationEvent, { type: "place" }>;
      const t = tunnelWithRoom(e.tunnels, context.maxSessionsPerTunnel) as TunnelLoad;
      return { type: "placeOn" as const, requestId: e.requestId, tunnelId: t.tunnelId };
    }),
    openTunnelForRequest: emit(({ event }) => ({
      type: "openTunnel" as const,
      requestId: (event as { requestId: number }).requestId,
      test: false,
    })),
    openTestTunnel: emit({ type: "openTunnel" as const, test: true }),
    queueRequest: emit(({ event }) => ({
      type: "queue" as const,
      requestId: (event as { requestId: number }).requestId,
    })),
    refuseNotEnabled: emit(({ context, event }) => ({
      type: "refuse" as const,
      requestId: (event as { requestId: number }).requestId,
      cause: cause("refused", `destination ${context.path.destination} is ${context.admin}`),
    })),
    refuseFull: emit(({ context, event }) => ({
      type: "refuse" as const,
      requestId: (event as { requestId: number }).requestId,
      cause: cause(
        "refused",
        `destination ${context.path.destination} has ${context.maxTunnels} tunnels with ${context.maxSessionsPerTunnel} sessions each`,
      ),
    })),
    refuseLockedOut: emit(({ context, event }) => ({
      type: "refuse" as const,
      requestId: (event as { requestId: number }).requestId,
      cause: lockoutCause(context),
    })),
    refuseClosing: emit(({ context, event }) => ({
      type: "refuse" as const,
      requestId: (event as { requestId: number }).requestId,
      cause: cause("refused", `destination ${context.path.destination} is closing`),
    })),
    admitTunnel: emit(({ event }) => ({
      type: "admitted" as const,
      requestId: (event as { requestId: number }).requestId,
    })),
    retryQueued: emit({ type: "retryQueued" as const }),
    refuseQueued: emit(({ context }) => ({ type: "refuseQueued" as const, cause: lockoutCause(context) })),
    refuseQueuedClosing: emit(({ context }) => ({
      type: "refuseQueued" as const,
      cause: cause("refused", `destination ${context.path.destination} is closing`),
    })),
    recordClose: assign({
      cause: ({ context, event }) =>
        event.type === "close"
          ? event.cause
          : event.type === "admin"
            ? cause("admin", `destination ${context.path.destination} shut down`)
            : context.cause,
    }),
    recordIdle: assign({
      cause: ({ context }) =>
        cause("timeout", `destination ${context.path.destination} unused for ${context.idleMs} ms`),
    }),
    closeTunnels: emit(({ context }) => ({
      type: "closeTunnels" as const,
      cause: parentClosing("destination", context.cause),
    })),
    shutdownTunnels: emit(({ context }) => ({
      type: "closeTunnels" as const,
      cause: adminShutdown(`destination ${context.path.destination} shut down`),
    })),
  },
}).createMachine({
  id: "destination",
  context: ({ input }) => ({
    ...input,
    maxSessionsPerTunnel: input.maxSessionsPerTunnel ?? MAX_SESSIONS_PER_TUNNEL,
    maxTunnels: input.maxTunnels ?? Number.POSITIVE_INFINITY,
    lockoutMs: input.lockoutMs ?? LOCKOUT_MS,
    closeTimeoutMs: input.closeTimeoutMs ?? DESTINATION_CLOSE_TIMEOUT_MS,
    idleMs: input.idleMs ?? DESTINATION_IDLE_MS,
    admin: "enabled",
    tunnels: 0,
    lockouts: 0,
  }),
  initial: "available",
  on: {
    tunnelOpened: { actions: "countOpened" },
    tunnelEnded: { actions: "countEnded" },
    admin: [{ guard: "isShutdown", actions: ["setAdmin", "shutdownTunnels"] }, { actions: "setAdmin" }],
    close: { target: ".closing", actions: "recordClose" },
    // LNS: a tunnel the peer asks for is made unless the admin state says no (closing refuses it). A
    // peer that reaches us is welcome even while locked out: an incoming tunnel does not wait for it.
    admit: [{ guard: "notEnabled", actions: "refuseNotEnabled" }, { actions: "admitTunnel" }],
  },
  states: {
    available: {
      initial: "unused",
      states: {
        // No tunnels: the destination ends after the idle time, so none outlives its use.
        unused: {
          always: { guard: "hasTunnels", target: "used" },
          after: { idle: { target: "#destination.closed", actions: "recordIdle" } },
        },
        used: { always: { guard: "noTunnelsLeft", target: "unused" } },
      },
      on: {
        place: [
          { guard: "notEnabled", actions: "refuseNotEnabled" },
          { guard: "hasRoom", actions: "placeOnTunnel" },
          { guard: "mayOpenTunnel", actions: "openTunnelForRequest" },
          { actions: "refuseFull" },
        ],
        tunnelEnded: [
          { guard: "tunnelFailed", target: "lockedOut", actions: ["countEnded", "recordFailure"] },
          { actions: "countEnded" },
        ],
      },
    },
    // Locked out after a failed tunnel: nothing is tried until the lockout runs out.
    lockedOut: {
      entry: "refuseQueued",
      after: { lockout: "probing" },
      on: {
        place: [
          // E-series: every destination of the group locked out, the first locked out is retried once.
          { guard: "isLastResort", target: "testing", actions: ["openTestTunnel", "queueRequest"] },
          { actions: "refuseLockedOut" },
        ],
        // JUNOSe's "clear l2tp destination lockout" and "test l2tp destination lockout".
        clearLockout: "available",
        testLockout: { target: "testing", actions: "openTestTunnel" },
      },
    },
    // The lockout ran out: the next use opens a test tunnel before any session is placed.
    probing: {
      after: { idle: { target: "closed", actions: "recordIdle" } },
      on: {
        clearLockout: "available",
        testLockout: { target: "testing", actions: "openTestTunnel" },
        place: [
          { guard: "notEnabled", actions: "refuseNotEnabled" },
          { target: "testing", actions: ["openTestTunnel", "queueRequest"] },
        ],
      },
    },
    testing: {
      on: {
        place: [{ guard: "notEnabled", actions: "refuseNotEnabled" }, { actions: "queueRequest" }],
        tunnelEstablished: { guard: "isTestTunnel", target: "available", actions: "retryQueued" },
        tunnelEnded: [
          { guard: "isTestTunnel", target: "lockedOut", actions: ["countEnded", "recordFailure"] },
          { actions: "countEnded" },
        ],
      },
    },
    // Closing is a conversation: close every tunnel (StopCCN each), wait for all, or the timeout.
    closing: {
      entry: ["refuseQueuedClosing", "closeTunnels"],
      always: { guard: "noTunnelsLeft", target: "closed" },
      after: { closeTimeout: "closed" },
      on: {
        place: { actions: "refuseClosing" },
        admit: { actions: "refuseClosing" },
        close: {},
        admin: { actions: "setAdmin" },
      },
    },
    closed: { type: "final" },
  },
  output: ({ context }) => ({
    cause: context.cause ?? cause("internal", "destination closed"),
    abandonedTunnels: context.tunnels,
  }),
});

function lockoutCause(context: DestinationContext): Cause {
  const why = context.lastFailure ? `: ${context.lastFailure.message}` : "";
  return cause(
    "lockout",
    `destination ${context.path.destination} is locked out after a failed tunnel${why}`,
  );
}
