/**
 * The tunnel machine: one L2TP control connection, both sides of RFC 2661 §7.2 (the initiator that
 * sends SCCRQ, and the responder that answers it), tunnel authentication both ways (§5.1.1), the
 * tie-breaker of simultaneous SCCRQs (§4.4.3, §5.1) and the StopCCN teardown with its hold (§5.7).
 *
 * Pure: it receives delivered control messages as `rx.*` events and asks for effects by emitting
 * events (`send`, `peer`, `established`, `closing`) that the wiring in `actors/` carries out. Its
 * sessions are not its XState children: the supervisor in `actors/` ends them when it emits `closing`.
 */
import { assign, emit, raise, setup } from "xstate";
import { challengeResponse } from "../protocol/l2tp/auth.ts";
import type { ControlMessage } from "../protocol/l2tp/messages.ts";
import { GeneralError } from "../protocol/l2tp/result.ts";
import { StopCcnResult } from "../protocol/l2tp/result-codes.ts";
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
  resultCodeSummary,
} from "./common.ts";

/** Which side of the control connection setup we are (RFC 2661 §5.1). */
export type TunnelRole = "initiator" | "responder";

/** RFC 2661 §5.7: the recommended full retransmission cycle, how long a StopCCN receiver keeps state. */
export const STOP_CCN_HOLD_MS = 31_000;

/**
 * How long a responder waits for the SCCCN that completes the handshake before it forgets the tunnel
 * (the peer never authenticated: its address may be forged, so nothing more is sent to it).
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** What a tunnel actor is created with. */
export interface TunnelInput {
  path: ActorPath;
  role: TunnelRole;
  /** Our Assigned Tunnel ID (RFC 2661 §4.4.3), non-zero. */
  localTunnelId: number;
  /** Our Host Name AVP. */
  hostName: string;
  vendorName?: string;
  /** Our Receive Window Size AVP (RFC 2661 §5.8). */
  receiveWindow: number;
  /**
   * The shared tunnel secret (RFC 2661 §5.1.1). With a secret we challenge the peer and demand a
   * response; without one we refuse a peer that challenges us. Event records must redact it.
   */
  secret?: Uint8Array;
  /** Our Challenge AVP value (random bytes from the caller); required when `secret` is set. */
  challenge?: Uint8Array;
  /** Our Tie Breaker AVP value (8 random bytes), sent in SCCRQ (RFC 2661 §4.4.3). */
  tieBreaker?: Uint8Array;
  /** The Host Name the peer must present; undefined accepts any. */
  peerHostName?: string;
  /** How long to keep state after a StopCCN (RFC 2661 §5.7); default STOP_CCN_HOLD_MS. */
  stopHoldMs?: number;
  /** A test tunnel, opened after a lockout to see whether the destination is back (no sessions yet). */
  test?: boolean;
  /** Responder: how long the handshake may take after our SCCRP (default HANDSHAKE_TIMEOUT_MS). */
  handshakeTimeoutMs?: number;
}

/** The tunnel machine's context: its input plus what was learnt from the peer. */
export interface TunnelContext extends TunnelInput {
  stopHoldMs: number;
  handshakeTimeoutMs: number;
  /** The peer's Assigned Tunnel ID (0 until SCCRQ or SCCRP told us). */
  peerTunnelId: number;
  /** The Host Name the peer presented. */
  peerHost?: string;
  /** The peer's Receive Window Size (RFC 2661 §5.8: 4 when absent). */
  peerReceiveWindow: number;
  admin: AdminState;
  /** Whether the tunnel ever reached `established`. */
  wasEstablished: boolean;
  /** Why it is closing or closed. */
  cause?: Cause;
  /** The control channel's sequence state as last reported (recorded so that a standby can resume it). */
  channel?: TunnelChannelState;
}

/**
 * The control channel's state a standby needs to resume the tunnel without the peer noticing (RFC 2661
 * §5.8: the next Ns we send and the next Ns we expect), with where the peer is and its window.
 */
export interface TunnelChannelState {
  ns: number;
  nr: number;
  peerTunnelId: number;
  peerReceiveWindow: number;
  peerAddress: string;
  peerPort: number;
  /** Our address the tunnel runs on (a node may listen on several). */
  localAddress: string;
  localPort: number;
}

/** A delivered control message for the tunnel itself (session id 0, tunnel message types). */
export type TunnelRxEvent = {
  type: "rx.SCCRQ" | "rx.SCCRP" | "rx.SCCCN" | "rx.StopCCN" | "rx.HELLO";
  message: ControlMessage;
};

/** Every event the tunnel machine takes. */
export type TunnelEvent =
  | TunnelRxEvent
  /** Initiator: send SCCRQ (RFC 2661 §7.2 "Local Open request"). */
  | { type: "open" }
  | CloseEvent
  | AdminEvent
  /** The control channel gave up retransmitting (RFC 2661 §5.8). */
  | { type: "channelFailed"; cause: Cause }
  /** Every message we sent was acknowledged (used after our StopCCN). */
  | { type: "drained" }
  /** Our StopCCN left (it may have waited for the peer's window): the hold starts now. */
  | { type: "stopTransmitted" }
  /** The hold after our StopCCN ran out without its ack (a delayed event of the machine's own). */
  | { type: "stopHoldOver" }
  /** A simultaneous SCCRQ from the same peer won the tie-breaker (RFC 2661 §4.4.3). */
  | { type: "tieBreakerLost"; bothLost: boolean }
  /** The control channel's Ns/Nr or peer changed (kept in context so that it is recorded; failover). */
  | { type: "channel"; channel: TunnelChannelState };

/** The effects the tunnel asks of the wiring. */
export type TunnelEmitted =
  /** Send this control message over the tunnel's control channel (session id 0). */
  | { type: "send"; message: ControlMessage }
  /** The peer's tunnel id and receive window are now known: give them to the control channel. */
  | { type: "peer"; tunnelId: number; receiveWindow: number }
  /** The tunnel is up: waiting sessions may send their ICRQ/OCRQ (RFC 2661 §7.2 "tunnel-open"). */
  | { type: "established" }
  /** The tunnel is going down: end every session without a CDN (§5.7); `stopSent` asks for a drain. */
  | { type: "closing"; cause: Cause; stopSent: boolean };

/** The tunnel's final output. */
export interface TunnelOutput {
  cause: Cause;
  wasEstablished: boolean;
}

/** Outcome of comparing Tie Breaker AVPs of two SCCRQs that crossed (RFC 2661 §4.4.3). */
export type TieBreak =
  /** Our SCCRQ wins: drop theirs. */
  | "ours"
  /** Theirs wins: silently discard our tunnel and answer their SCCRQ. */
  | "theirs"
  /** Equal values: both sides discard their tunnels. */
  | "neither"
  /** Neither sent a tie breaker: two separate tunnels are opened. */
  | "both";

/**
 * RFC 2661 §4.4.3: the lower Tie Breaker value wins (compared as an unsigned byte string); equal
 * values make both lose; a side that sent one beats a side that did not; none on either side keeps both.
 */
export function tieBreak(ours: Uint8Array | undefined, theirs: Uint8Array | undefined): TieBreak {
  if (!ours && !theirs) return "both";
  if (!theirs) return "ours";
  if (!ours) return "theirs";
  const n = Math.max(ours.length, theirs.length);
  for (let i = 0; i < n; i++) {
    const a = ours[i] ?? 0;
    const b = theirs[i] ?? 0;
    if (a !== b) return a < b ? "ours" : "theirs";
  }
  return ours.length === theirs.length ? "neither" : ours.length < theirs.length ? "ours" : "theirs";
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Checks an SCCRQ against our configuration (RFC 2661 §5.1, §5.1.1); null when acceptable, else why
 * not, with the StopCCN Result Code to answer with.
 */
export function checkSccrq(context: TunnelContext, message: ControlMessage): Cause | null {
  const version = message.avps.protocolVersion?.version;
  if (version !== undefined && version !== 1) {
    return cause("refused", `protocol version ${version} is not 1`, {
      result: StopCcnResult.unsupportedVersion,
    });
  }
  return checkGreeting(context, message, "SCCRQ");
}

/** Checks an SCCRP (RFC 2661 §5.1.1): our challenge answered right, theirs answerable. */
export function checkSccrp(context: TunnelContext, message: ControlMessage): Cause | null {
  return checkGreeting(context, message, "SCCRP") ?? checkResponse(context, message, 2);
}

/** What SCCRQ and SCCRP must both satisfy: the peer's tunnel id, host name, and a challenge we can answer. */
function checkGreeting(
  context: TunnelContext,
  message: ControlMessage,
  name: "SCCRQ" | "SCCRP",
): Cause | null {
  const { avps } = message;
  if (!avps.assignedTunnelId) {
    return cause("protocol", `${name} without an Assigned Tunnel ID`, {
      result: StopCcnResult.generalError,
      error: GeneralError.valueOutOfRange,
    });
  }
  if (context.peerHostName !== undefined && avps.hostName !== context.peerHostName) {
    return cause(
      "refused",
      `host name '${avps.hostName ?? ""}' is not the configured '${context.peerHostName}'`,
      {
        result: StopCcnResult.notAuthorized,
      },
    );
  }
  if (avps.challenge && !context.secret) {
    return cause("auth", "the peer challenges us but no tunnel secret is configured", {
      result: StopCcnResult.notAuthorized,
    });
  }
  return null;
}

/** Checks an SCCCN (RFC 2661 §5.1.1): our challenge answered right. */
export function checkSccn(context: TunnelContext, message: ControlMessage): Cause | null {
  return checkResponse(context, message, 3);
}

function checkResponse(context: TunnelContext, message: ControlMessage, messageType: 2 | 3): Cause | null {
  if (!context.secret || !context.challenge) return null;
  const got = message.avps.challengeResponse;
  const expected = challengeResponse(messageType, context.secret, context.challenge);
  if (!got) {
    // RFC 2661 §4.4.2 StopCCN result 4: "requester is not authorized to establish a control channel"
    // (xl2tpd sends 2/6, a vendor-specific general error, which says less).
    return cause("auth", `${message.type} carries no Challenge Response to our challenge`, {
      result: StopCcnResult.notAuthorized,
      // A Result Code with a message carries an Error Code field too (RFC 2661 §4.4.2): 0, no error.
      error: GeneralError.noError,
      message: "missing challenge response",
    });
  }
  if (!sameBytes(got, expected)) {
    return cause("auth", `${message.type} Challenge Response does not match (wrong secret?)`, {
      result: StopCcnResult.notAuthorized,
      error: GeneralError.noError,
      message: "challenge response does not match",
    });
  }
  return null;
}

function rxMessage(event: TunnelEvent): ControlMessage {
  return (event as TunnelRxEvent).message;
}

/** Our part of SCCRQ/SCCRP (RFC 2661 §6.1, §6.2): what both carry. */
function greetingAvps(context: TunnelContext): ControlMessage["avps"] {
  return {
    protocolVersion: { version: 1, revision: 0 },
    hostName: context.hostName,
    // RFC 2661 §4.4.3: synchronous and asynchronous framing.
    framingCapabilities: { sync: true, async: true },
    assignedTunnelId: context.localTunnelId,
    receiveWindowSize: context.receiveWindow,
    ...(context.vendorName ? { vendorName: context.vendorName } : {}),
  };
}

/** RFC 2661 §6.4: StopCCN carries our Assigned Tunnel ID and a Result Code. */
function stopCcn(context: TunnelContext, why: Cause): ControlMessage {
  return {
    type: "StopCCN",
    avps: {
      assignedTunnelId: context.localTunnelId,
      resultCode: why.resultCode ?? { result: StopCcnResult.clear },
    },
  };
}

/** Picks the StopCCN result for a local close (RFC 2661 §4.4.2: 6 when we are shutting down). */
function localCloseCause(event: CloseEvent | AdminEvent): Cause {
  if (event.type === "admin") {
    return adminShutdown("tunnel shut down by an administrator");
  }
  const c = event.cause;
  return c.resultCode ? c : { ...c, resultCode: { result: StopCcnResult.clear, message: c.message } };
}

/** Why the tunnel is closing, as recorded (every path into closing records one first). */
function closingCause(context: TunnelContext): Cause {
  return context.cause ?? cause("internal", "closing");
}

/** The tunnel machine (RFC 2661 §7.2, both sides). */
export const tunnelMachine = setup({
  types: {
    context: {} as TunnelContext,
    events: {} as TunnelEvent,
    input: {} as TunnelInput,
    output: {} as TunnelOutput,
    emitted: {} as TunnelEmitted,
  },
  guards: {
    sccrqAcceptable: ({ context, event }) => checkSccrq(context, rxMessage(event)) === null,
    sccrpAcceptable: ({ context, event }) => checkSccrp(context, rxMessage(event)) === null,
    sccnAcceptable: ({ context, event }) => checkSccn(context, rxMessage(event)) === null,
    isShutdown: isShutdownEvent,
    stopNamesUnknownPeer: ({ context, event }) =>
      context.peerTunnelId === 0 && !!rxMessage(event).avps.assignedTunnelId,
  },
  delays: {
    stopHold: ({ context }) => context.stopHoldMs,
    handshake: ({ context }) => context.handshakeTimeoutMs,
  },
  actions: {
    setAdmin: assign({ admin: adminAfter }),
    recordChannel: assign({
      channel: ({ context, event }) => (event.type === "channel" ? event.channel : context.channel),
    }),
    /** RFC 2661 §6.1 SCCRQ; the Tie Breaker (§4.4.3) and our Challenge (§5.1.1) when we have them. */
    sendSccrq: emit(({ context }) => ({
      type: "send" as const,
      message: {
        type: "SCCRQ" as const,
        avps: {
          ...greetingAvps(context),
          ...(context.tieBreaker ? { tieBreaker: context.tieBreaker } : {}),
          ...(context.secret && context.challenge ? { challenge: context.challenge } : {}),
        },
      },
    })),
    /** Learns the peer's tunnel id, host name and receive window from SCCRQ or SCCRP. */
    learnPeer: assign(({ event }) => {
      const { avps } = rxMessage(event);
      return {
        peerTunnelId: avps.assignedTunnelId ?? 0,
        peerHost: avps.hostName,
        peerReceiveWindow: avps.receiveWindowSize ?? 4,
      };
    }),
    tellPeer: emit(({ context }) => ({
      type: "peer" as const,
      tunnelId: context.peerTunnelId,
      receiveWindow: context.peerReceiveWindow,
    })),
    /** RFC 2661 §6.2 SCCRP: our challenge, and the response to theirs (§5.1.1, ID = 2). */
    sendSccrp: emit(({ context, event }) => {
      const theirChallenge = rxMessage(event).avps.challenge;
      return {
        type: "send" as const,
        message: {
          type: "SCCRP" as const,
          avps: {
            ...greetingAvps(context),
            ...(context.secret && context.challenge ? { challenge: context.challenge } : {}),
            ...(theirChallenge && context.secret
              ? { challengeResponse: challengeResponse(2, context.secret, theirChallenge) }
              : {}),
          },
        },
      };
    }),
    /** RFC 2661 §6.3 SCCCN: the response to their challenge (§5.1.1, ID = 3). */
    sendSccn: emit(({ context, event }) => {
      const theirChallenge = rxMessage(event).avps.challenge;
      return {
        type: "send" as const,
        message: {
          type: "SCCCN" as const,
          avps:
            theirChallenge && context.secret
              ? { challengeResponse: challengeResponse(3, context.secret, theirChallenge) }
              : {},
        },
      };
    }),
    markEstablished: assign({ wasEstablished: true }),
    announceEstablished: emit({ type: "established" as const }),
    refuseSccrq: assign({
      cause: ({ context, event }) => checkSccrq(context, rxMessage(event)) ?? undefined,
    }),
    refuseSccrp: assign({
      cause: ({ context, event }) => checkSccrp(context, rxMessage(event)) ?? undefined,
    }),
    refuseSccn: assign({ cause: ({ context, event }) => checkSccn(context, rxMessage(event)) ?? undefined }),
    /** RFC 2661 §7.2: a message that does not fit the state is a finite state machine error. */
    refuseUnexpected: assign({
      cause: ({ event }) =>
        cause("protocol", `unexpected ${rxMessage(event).type} in this state`, {
          result: StopCcnResult.fsmError,
        }),
    }),
    recordHandshakeTimeout: assign({
      cause: ({ context }) =>
        cause(
          "timeout",
          `the peer did not complete the handshake (no SCCCN) within ${context.handshakeTimeoutMs} ms`,
        ),
    }),
    recordLocalClose: assign({
      cause: ({ event }) => localCloseCause(event as CloseEvent | AdminEvent),
    }),
    learnPeerFromStop: assign({
      peerTunnelId: ({ event }) => rxMessage(event).avps.assignedTunnelId ?? 0,
    }),
    recordPeerStop: assign({
      cause: ({ event }) => {
        const rc = rxMessage(event).avps.resultCode;
        return cause("peer", `peer closed the tunnel (${resultCodeSummary("StopCCN", rc)})`, rc);
      },
    }),
    recordChannelFailure: assign({
      cause: ({ context, event }) => (event.type === "channelFailed" ? event.cause : context.cause),
    }),
    recordTieBreakerLoss: assign({
      cause: ({ event }) =>
        cause(
          "tie-breaker",
          event.type === "tieBreakerLost" && event.bothLost
            ? "equal tie breakers on crossing SCCRQs: both tunnels discarded"
            : "lost the tie-breaker to the peer's SCCRQ",
        ),
    }),
    /** RFC 2661 §5.7: StopCCN with our Assigned Tunnel ID and the Result Code of the cause. */
    sendStopCcn: emit(({ context }) => ({
      type: "send" as const,
      message: stopCcn(context, closingCause(context)),
    })),
    announceClosingAfterStop: emit(({ context }) => ({
      type: "closing" as const,
      cause: closingCause(context),
      stopSent: true,
    })),
    holdAfterStop: raise({ type: "stopHoldOver" }, { id: "stopHold", delay: "stopHold" }),
    announceClosing: emit(({ context }) => ({
      type: "closing" as const,
      cause: closingCause(context),
      stopSent: false,
    })),
  },
}).createMachine({
  id: "tunnel",
  context: ({ input }) => ({
    ...input,
    stopHoldMs: input.stopHoldMs ?? STOP_CCN_HOLD_MS,
    handshakeTimeoutMs: input.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
    peerTunnelId: 0,
    peerReceiveWindow: 4,
    admin: "enabled",
    wasEstablished: false,
  }),
  initial: "idle",
  on: {
    admin: [
      {
        guard: "isShutdown",
        target: ".closing.stop-sent",
        actions: ["setAdmin", "recordLocalClose", "sendStopCcn"],
      },
      { actions: "setAdmin" },
    ],
    // RFC 2661 §7.2: retries exhausted: nothing more can reach the peer; clean up.
    channelFailed: { target: ".closed", actions: "recordChannelFailure" },
    // RFC 2661 §7.2 "Receive StopCCN → Clean up": ack (the channel does) and hold state (§5.7).
    "rx.StopCCN": [
      // RFC 2661 §6.4: a StopCCN names its sender's tunnel; one refusing our SCCRQ is our only way to learn
      // it, and our ack must carry it (xl2tpd takes a ZLB to tunnel 0 for a new tunnel and retransmits).
      {
        guard: "stopNamesUnknownPeer",
        target: ".closing.stop-received",
        actions: ["learnPeerFromStop", "tellPeer", "recordPeerStop"],
      },
      { target: ".closing.stop-received", actions: "recordPeerStop" },
    ],
    // HELLO (RFC 2661 §6.5) only keeps the channel alive; the channel acknowledges it.
    "rx.HELLO": {},
    channel: { actions: "recordChannel" },
  },
  states: {
    idle: {
      on: {
        // RFC 2661 §7.2 idle + Local Open request → Send SCCRQ → wait-ctl-reply.
        open: { target: "wait-ctl-reply", actions: "sendSccrq" },
        // RFC 2661 §7.2 idle + SCCRQ acceptable → Send SCCRP → wait-ctl-conn; not acceptable → StopCCN.
        "rx.SCCRQ": [
          {
            guard: "sccrqAcceptable",
            target: "wait-ctl-conn",
            actions: ["learnPeer", "tellPeer", "sendSccrp"],
          },
          { target: "closing.stop-sent", actions: ["learnPeer", "tellPeer", "refuseSccrq", "sendStopCcn"] },
        ],
        close: { target: "closed", actions: "recordLocalClose" },
        admin: [
          { guard: "isShutdown", target: "closed", actions: ["setAdmin", "recordLocalClose"] },
          { actions: "setAdmin" },
        ],
      },
    },
    "wait-ctl-reply": {
      on: {
        // RFC 2661 §7.2 wait-ctl-reply + SCCRP acceptable → Send SCCCN → established.
        "rx.SCCRP": [
          { guard: "sccrpAcceptable", target: "established", actions: ["learnPeer", "tellPeer", "sendSccn"] },
          { target: "closing.stop-sent", actions: ["learnPeer", "tellPeer", "refuseSccrp", "sendStopCcn"] },
        ],
        "rx.SCCCN": { target: "closing.stop-sent", actions: ["refuseUnexpected", "sendStopCcn"] },
        // RFC 2661 §4.4.3, §7.2: lose the tie-breaker → silently discard this tunnel.
        tieBreakerLost: { target: "closed", actions: "recordTieBreakerLoss" },
        close: { target: "closing.stop-sent", actions: ["recordLocalClose", "sendStopCcn"] },
      },
    },
    "wait-ctl-conn": {
      // A peer that never completes the handshake is forgotten without a word (no StopCCN toward an
      // address that may be forged); a real peer's SCCCN comes within its own retransmission cycle.
      after: { handshake: { target: "closed", actions: "recordHandshakeTimeout" } },
      on: {
        // RFC 2661 §7.2 wait-ctl-conn + SCCCN acceptable → established; not acceptable → StopCCN.
        "rx.SCCCN": [
          { guard: "sccnAcceptable", target: "established" },
          { target: "closing.stop-sent", actions: ["refuseSccn", "sendStopCcn"] },
        ],
        "rx.SCCRQ": { target: "closing.stop-sent", actions: ["refuseUnexpected", "sendStopCcn"] },
        "rx.SCCRP": { target: "closing.stop-sent", actions: ["refuseUnexpected", "sendStopCcn"] },
        close: { target: "closing.stop-sent", actions: ["recordLocalClose", "sendStopCcn"] },
      },
    },
    established: {
      entry: ["markEstablished", "announceEstablished"],
      on: {
        // RFC 2661 §7.2 established + SCCRQ, SCCRP or SCCCN → StopCCN.
        "rx.SCCRQ": { target: "closing.stop-sent", actions: ["refuseUnexpected", "sendStopCcn"] },
        "rx.SCCRP": { target: "closing.stop-sent", actions: ["refuseUnexpected", "sendStopCcn"] },
        "rx.SCCCN": { target: "closing.stop-sent", actions: ["refuseUnexpected", "sendStopCcn"] },
        // RFC 2661 §7.2 established + Admin Tunnel Close → Send StopCCN.
        close: { target: "closing.stop-sent", actions: ["recordLocalClose", "sendStopCcn"] },
      },
    },
    closing: {
      initial: "stop-sent",
      on: {
        // Already closing: a second close or StopCCN changes nothing.
        close: {},
        admin: { actions: "setAdmin" },
        "rx.SCCRQ": {},
        "rx.SCCRP": {},
        "rx.SCCCN": {},
        "rx.StopCCN": {},
      },
      states: {
        // We sent StopCCN: keep the channel until it is acknowledged (or retries run out).
        // The hold counts from the StopCCN's transmission, not from its queueing: behind a full window
        // (in-flight messages being retransmitted) it may leave seconds later, and a hold shorter than
        // that ended the tunnel before the peer ever saw the StopCCN. Retries exhausted end it anyway.
        "stop-sent": {
          entry: "announceClosingAfterStop",
          on: {
            drained: "#tunnel.closed",
            stopTransmitted: { actions: "holdAfterStop" },
            stopHoldOver: "#tunnel.closed",
          },
        },
        // RFC 2661 §5.7: the receiver of StopCCN acks it and keeps state a full retransmission cycle.
        "stop-received": {
          entry: "announceClosing",
          after: { stopHold: "#tunnel.closed" },
          // Closed locally while only holding state to re-ack the peer's StopCCN: nothing left to say.
          on: { close: "#tunnel.closed" },
        },
      },
    },
    closed: { type: "final" },
  },
  output: ({ context }) => ({
    cause: context.cause ?? cause("internal", "tunnel closed"),
    wasEstablished: context.wasEstablished,
  }),
});
