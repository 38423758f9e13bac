/**
 * The session machine: one call inside a tunnel, the four call state tables of RFC 2661 §7.3-§7.5
 * (incoming and outgoing calls, on the LAC and on the LNS), CDN from either side (§5.6), and the end
 * of its tunnel ("tunnel gone": the StopCCN covers the session, so no CDN is sent, §5.7).
 *
 * Pure: delivered messages arrive as `rx.*` events, effects leave as emitted events (`send`,
 * `established`) for the wiring in `actors/`. No timers but the optional setup timeout.
 */
import { and, assign, emit, setup } from "xstate";
import type { Avps, ResultCode } from "../protocol/l2tp/avps.ts";
import type { ControlMessage } from "../protocol/l2tp/messages.ts";
import { GeneralError } from "../protocol/l2tp/result.ts";
import { CdnResult } from "../protocol/l2tp/result-codes.ts";
import { type ActorPath, type Cause, type CloseEvent, cause, resultCodeSummary } from "./common.ts";

/**
 * Which call this is (RFC 2661 §5.2): who asked for it and which side we are.
 * - `lac-incoming`: we are the LAC and a subscriber called in: ICRQ → ICRP → ICCN (§7.3 LAC).
 * - `lns-incoming`: we are the LNS answering the LAC's ICRQ (§7.3 LNS).
 * - `lac-outgoing`: we are the LAC and the LNS asked us to dial: OCRQ → OCRP → OCCN (§7.4).
 * - `lns-outgoing`: we are the LNS asking the LAC to dial (§7.5).
 */
export type SessionKind = "lac-incoming" | "lns-incoming" | "lac-outgoing" | "lns-outgoing";

/** Default time a call may take to be set up before it is given up (CDN result 10). */
export const SESSION_SETUP_TIMEOUT_MS = 120_000;

/** What a session actor is created with. */
export interface SessionInput {
  path: ActorPath;
  kind: SessionKind;
  /** Our Assigned Session ID (RFC 2661 §4.4.4), non-zero and unique in the tunnel. */
  localSessionId: number;
  /** Call Serial Number AVP for ICRQ/OCRQ (RFC 2661 §4.4.5). */
  callSerialNumber?: number;
  /** Extra AVPs for our ICRQ/OCRQ (calling and called number, bearer type …) from the access side. */
  requestAvps?: Avps;
  /** Extra AVPs for our ICCN/OCCN (connect speed, proxy LCP and authentication …) from the access side. */
  connectAvps?: Avps;
  /** How long setup may take before a CDN (result 10); default SESSION_SETUP_TIMEOUT_MS. */
  setupTimeoutMs?: number;
  /**
   * LAC incoming / LNS outgoing call: the tunnel is established already, so the call starts at once
   * (RFC 2661 §7.3, §7.5: idle → wait-reply with ICRQ/OCRQ sent) without waiting for `tunnelUp`.
   */
  tunnelUp?: boolean;
  /**
   * LNS incoming / LAC outgoing call: the ICRQ/OCRQ that made it, handled as the call's first event
   * (one step instead of two; the same transition as `rx.ICRQ` / `rx.OCRQ` in idle). Not kept in context.
   */
  request?: ControlMessage;
}

/** The session machine's context. */
export interface SessionContext extends SessionInput {
  setupTimeoutMs: number;
  /** The peer's Assigned Session ID (0 until its ICRQ/ICRP/OCRQ/OCRP told us; RFC 2661 §4.4.4). */
  peerSessionId: number;
  wasEstablished: boolean;
  cause?: Cause;
  /** The subscriber's number (RFC 2661 §4.4.5 Calling Number), from the call request, when it had one. */
  callingNumber?: string;
  /** The number dialled (RFC 2661 §4.4.5 Called Number), from the call request, when it had one. */
  calledNumber?: string;
}

/** Delivered control messages for this session. */
export type SessionRxEvent = {
  type:
    | "rx.ICRQ"
    | "rx.ICRP"
    | "rx.ICCN"
    | "rx.OCRQ"
    | "rx.OCRP"
    | "rx.OCCN"
    | "rx.CDN"
    | "rx.WEN"
    | "rx.SLI";
  message: ControlMessage;
};

/** Every event the session machine takes. */
export type SessionEvent =
  | SessionRxEvent
  /** The tunnel is established: a waiting call may send its ICRQ/OCRQ (RFC 2661 §7.2 tunnel-open). */
  | { type: "tunnelUp" }
  /** The tunnel ended (StopCCN sent or received, retries exhausted): end without a CDN (§5.7). */
  | { type: "tunnelGone"; cause: Cause }
  /** LAC outgoing call: the bearer answered (RFC 2661 §7.4 "Bearer answers"). */
  | { type: "answered" }
  /** LAC outgoing call: the bearer failed to answer. */
  | { type: "answerFailed"; cause: Cause }
  | CloseEvent;

/** Effects the session asks of the wiring. */
export type SessionEmitted =
  /** Send this message over the tunnel's control channel with this session id in the header. */
  | { type: "send"; message: ControlMessage; sessionId: number }
  /** The call is up: the data plane may carry its PPP frames. */
  | { type: "established" };

/** The session's final output. */
export interface SessionOutput {
  cause: Cause;
  wasEstablished: boolean;
}

function rxMessage(event: SessionEvent): ControlMessage {
  return (event as SessionRxEvent).message;
}

/** The message a transition acts on: the event's, or at start the request the call was created with. */
function requestOf(context: SessionContext, event: SessionEvent): ControlMessage {
  return (event as Partial<SessionRxEvent>).message ?? (context.request as ControlMessage);
}

/** RFC 2661 §6.14 CDN: a Result Code and our Assigned Session ID (so the peer finds the call even before it knew our id). */
function cdn(context: SessionContext, resultCode: ResultCode): ControlMessage {
  const ppp = context.cause?.ppp;
  return ppp
    ? {
        type: "CDN",
        avps: { resultCode, assignedSessionId: context.localSessionId, pppDisconnectCause: ppp },
      }
    : { type: "CDN", avps: { resultCode, assignedSessionId: context.localSessionId } };
}

const NO_NUMBERS: Pick<SessionContext, "callingNumber" | "calledNumber"> = Object.freeze({});

/** The Calling and Called Number of a call request's AVPs (RFC 2661 §4.4.5), only those present. */
function numbersOf(avps: Avps | undefined): Pick<SessionContext, "callingNumber" | "calledNumber"> {
  if (!avps || (avps.callingNumber === undefined && avps.calledNumber === undefined)) return NO_NUMBERS;
  const numbers: Pick<SessionContext, "callingNumber" | "calledNumber"> = {};
  if (avps.callingNumber !== undefined) numbers.callingNumber = avps.callingNumber;
  if (avps.calledNumber !== undefined) numbers.calledNumber = avps.calledNumber;
  return numbers;
}

/** RFC 2661 §4.4.5: the caller's serial number (input, else the request's AVPs), else our session id. */
function callSerialNumber(context: SessionContext): number {
  return context.callSerialNumber ?? context.requestAvps?.callSerialNumber ?? context.localSessionId;
}

/** The Result Code a CDN carries for a local cause (RFC 2661 §4.4.2: 3 for administrative reasons). */
function cdnResult(why: Cause): ResultCode {
  return why.resultCode ?? { result: CdnResult.administrative, message: why.message };
}

/** A request (ICRQ/OCRQ) is acceptable when it names the caller's session (RFC 2661 §4.4.4). */
function checkRequest(message: ControlMessage): Cause | null {
  if (!message.avps.assignedSessionId) {
    return cause("protocol", `${message.type} without an Assigned Session ID`, {
      result: CdnResult.generalError,
      error: GeneralError.valueOutOfRange,
    });
  }
  return null;
}

/** What a guard of the session sees: its context and the event. */
type SessionGuard = (context: SessionContext, event: SessionEvent) => boolean;
/** What an assign of the session computes: the fields of the context it changes. */
type SessionUpdate = (context: SessionContext, event: SessionEvent) => Partial<SessionContext>;
/** What an emit of the session computes from its context: the effect it asks of the wiring. */
type SessionEffect = (context: SessionContext) => SessionEmitted;

/**
 * The guards of the session, as plain functions: `sessionMachine` wraps them for XState and
 * `sessionLogic` (session-logic.ts) calls them directly, so both decide alike.
 */
export const sessionGuards = {
  startsWaitingForTunnel: (c) => c.kind === "lac-incoming" || c.kind === "lns-outgoing",
  startsIncomingOnUpTunnel: (c) => c.tunnelUp === true && c.kind === "lac-incoming",
  startsOutgoingOnUpTunnel: (c) => c.tunnelUp === true && c.kind === "lns-outgoing",
  startsWithIcrq: (c) => c.request?.type === "ICRQ" && c.kind === "lns-incoming",
  startsWithOcrq: (c) => c.request?.type === "OCRQ" && c.kind === "lac-outgoing",
  isIncoming: (c) => c.kind === "lac-incoming",
  requestAcceptable: (c, e) => checkRequest(requestOf(c, e)) === null,
  replyNamesPeer: (_c, e) => !!rxMessage(e).avps.assignedSessionId,
} satisfies Record<string, SessionGuard>;

/** The context changes of the session (its `assign` actions), shared like the guards. */
export const sessionUpdates = {
  learnPeer: (c, e) => ({ peerSessionId: rxMessage(e).avps.assignedSessionId ?? c.peerSessionId }),
  /** The call's first message came with the input: learn from it, then forget it (context stays small). */
  takeRequest: (c) => ({
    peerSessionId: c.request?.avps.assignedSessionId ?? c.peerSessionId,
    ...numbersOf(c.request?.avps),
    request: undefined,
  }),
  markEstablished: () => ({ wasEstablished: true }),
  /**
   * The ICCN/OCCN is sent (the control channel keeps it until acked): its AVPs from the access side,
   * proxy LCP and authentication among them (a PAP password), are not kept for the call's life.
   */
  forgetConnectAvps: () => ({ connectAvps: undefined }),
  recordLocalClose: (c, e) => ({ cause: e.type === "close" ? e.cause : c.cause }),
  recordPeerCdn: (_c, e) => {
    const rc = rxMessage(e).avps.resultCode;
    return { cause: cause("peer", `peer disconnected the call (${resultCodeSummary("CDN", rc)})`, rc) };
  },
  recordTunnelGone: (c, e) => ({ cause: e.type === "tunnelGone" ? e.cause : c.cause }),
  recordBadRequest: (c, e) => ({ cause: checkRequest(requestOf(c, e)) ?? undefined }),
  recordUnexpected: (_c, e) => ({
    cause: cause("protocol", `unexpected ${rxMessage(e).type} in this state`, {
      result: CdnResult.generalError,
      message: `unexpected ${rxMessage(e).type}`,
    }),
  }),
  recordAnswerFailed: (c, e) => ({ cause: e.type === "answerFailed" ? e.cause : c.cause }),
  recordSetupTimeout: () => ({
    cause: cause("timeout", "the call was not set up in time", {
      result: CdnResult.timeout,
      message: "call setup timed out",
    }),
  }),
} satisfies Record<string, SessionUpdate>;

/** The effects of the session (its `emit` actions), shared like the guards. */
export const sessionEffects = {
  /** RFC 2661 §6.10 ICRQ (header session id 0: the peer has not assigned one yet). */
  sendIcrq: (c) => ({
    type: "send",
    sessionId: 0,
    message: {
      type: "ICRQ",
      avps: { ...c.requestAvps, assignedSessionId: c.localSessionId, callSerialNumber: callSerialNumber(c) },
    },
  }),
  /** RFC 2661 §6.11 ICRP. */
  sendIcrp: (c) => ({
    type: "send",
    sessionId: c.peerSessionId,
    message: { type: "ICRP", avps: { assignedSessionId: c.localSessionId } },
  }),
  /** RFC 2661 §6.12 ICCN: (Tx) Connect Speed and Framing Type are required. */
  sendIccn: (c) => ({
    type: "send",
    sessionId: c.peerSessionId,
    message: { type: "ICCN", avps: connectAvps(c) },
  }),
  /** RFC 2661 §6.7 OCRQ. */
  sendOcrq: (c) => ({
    type: "send",
    sessionId: 0,
    message: {
      type: "OCRQ",
      avps: {
        minimumBps: 0,
        maximumBps: 100_000_000,
        bearerType: { analog: true, digital: true },
        framingType: { sync: true, async: false },
        calledNumber: "",
        ...c.requestAvps,
        assignedSessionId: c.localSessionId,
        callSerialNumber: callSerialNumber(c),
      },
    },
  }),
  /** RFC 2661 §6.8 OCRP. */
  sendOcrp: (c) => ({
    type: "send",
    sessionId: c.peerSessionId,
    message: { type: "OCRP", avps: { assignedSessionId: c.localSessionId } },
  }),
  /** RFC 2661 §6.9 OCCN. */
  sendOccn: (c) => ({
    type: "send",
    sessionId: c.peerSessionId,
    message: { type: "OCCN", avps: connectAvps(c) },
  }),
  announceEstablished: () => ({ type: "established" }),
  /** RFC 2661 §5.6: CDN with the Result Code of the cause. */
  sendCdn: (c) => ({
    type: "send",
    sessionId: c.peerSessionId,
    message: cdn(c, cdnResult(c.cause ?? cause("internal", "session closed"))),
  }),
} satisfies Record<string, SessionEffect>;

/** The context a session starts with (RFC 2661 §4.4.4: the peer's session id is 0 until it says). */
export function initialSessionContext(input: SessionInput): SessionContext {
  return {
    ...input,
    ...numbersOf(input.requestAvps),
    setupTimeoutMs: input.setupTimeoutMs ?? SESSION_SETUP_TIMEOUT_MS,
    peerSessionId: 0,
    wasEstablished: false,
  };
}

/** The session's final output. */
export function sessionOutput(context: SessionContext): SessionOutput {
  return {
    cause: context.cause ?? cause("internal", "session closed"),
    wasEstablished: context.wasEstablished,
  };
}

type XStateArgs = { context: SessionContext; event: SessionEvent };
const guard =
  (g: SessionGuard) =>
  ({ context, event }: XStateArgs) =>
    g(context, event);
// XState's action creators are typed by the machine they end up in; these are checked by SessionUpdate
// and SessionEffect instead.
const update = (u: SessionUpdate) => assign(({ context, event }: XStateArgs) => u(context, event)) as never;
const effect = (f: SessionEffect) => emit(({ context }: XStateArgs) => f(context)) as never;
const G = sessionGuards;
const U = sessionUpdates;
const F = sessionEffects;

/** The states of a session (RFC 2661 §7.3-§7.5). */
export type SessionState =
  | "idle"
  | "wait-tunnel"
  | "wait-reply"
  | "wait-cs-answer"
  | "wait-connect"
  | "established"
  | "closed";

type SessionActionName = keyof typeof sessionUpdates | keyof typeof sessionEffects;
type SessionGuardName = keyof typeof sessionGuards;

/** One transition: taken when its guard holds (all of them, for a list) or it has none; no target keeps the state. */
export interface SessionRule {
  guard?: SessionGuardName | readonly SessionGuardName[];
  target?: SessionState;
  actions: readonly SessionActionName[];
}

/** A state's (or the machine's) transitions by event type, the first rule that holds wins. */
export type SessionOn = Readonly<Record<string, readonly SessionRule[]>>;

/** One state of the table. */
export interface SessionStateDef {
  on?: SessionOn;
  /** Eventless transitions, tried on entry. */
  always?: readonly SessionRule[];
  entry?: readonly SessionActionName[];
  /** The setup timeout runs while in this state (SESSION_SETUP_TIMED_OUT when it fires). */
  setupTimeout?: boolean;
  final?: boolean;
}

const unexpected: readonly SessionRule[] = [{ target: "closed", actions: ["recordUnexpected", "sendCdn"] }];

/** What the setup timeout does (RFC 2661 §4.4.2 CDN result 10). */
export const SESSION_SETUP_TIMED_OUT: readonly SessionRule[] = [
  { target: "closed", actions: ["recordSetupTimeout", "sendCdn"] },
];

/** The machine-level transitions: taken in any state that does not handle the event itself. */
export const SESSION_ROOT: SessionOn = {
  // RFC 2661 §5.7: the StopCCN (sent or received) ends every session of the tunnel; no CDN.
  tunnelGone: [{ target: "closed", actions: ["recordTunnelGone"] }],
  // RFC 2661 §7.3-§7.5: Receive CDN → Clean up (from every state).
  "rx.CDN": [{ target: "closed", actions: ["recordPeerCdn"] }],
  // Local close after the peer knows the call: CDN, clean up.
  close: [{ target: "closed", actions: ["recordLocalClose", "sendCdn"] }],
  // WAN Error Notify and Set Link Info (RFC 2661 §6.15, §6.16) are informational here.
  "rx.WEN": [{ actions: [] }],
  "rx.SLI": [{ actions: [] }],
  // Any other message out of place: RFC 2661 §7 "Send CDN, Clean up".
  "rx.ICRQ": unexpected,
  "rx.ICRP": unexpected,
  "rx.ICCN": unexpected,
  "rx.OCRQ": unexpected,
  "rx.OCRP": unexpected,
  "rx.OCCN": unexpected,
};

/**
 * The session's states and transitions (RFC 2661 §7.3-§7.5): the one table both `sessionMachine`
 * (XState) and `sessionLogic` (session-logic.ts, the node's fast interpreter) run.
 */
export const SESSION_STATES: Readonly<Record<SessionState, SessionStateDef>> = {
  idle: {
    always: [
      // RFC 2661 §7.3 LAC / §7.5 LNS: the tunnel is up already: send ICRQ/OCRQ → wait-reply.
      { guard: "startsIncomingOnUpTunnel", target: "wait-reply", actions: ["sendIcrq"] },
      { guard: "startsOutgoingOnUpTunnel", target: "wait-reply", actions: ["sendOcrq"] },
      { guard: "startsWaitingForTunnel", target: "wait-tunnel", actions: [] },
      // The ICRQ/OCRQ that made the call, as `rx.ICRQ` / `rx.OCRQ` below would handle it.
      {
        guard: ["startsWithIcrq", "requestAcceptable"],
        target: "wait-connect",
        actions: ["takeRequest", "sendIcrp"],
      },
      {
        guard: ["startsWithOcrq", "requestAcceptable"],
        target: "wait-cs-answer",
        actions: ["takeRequest", "sendOcrp"],
      },
      { guard: "startsWithIcrq", target: "closed", actions: ["recordBadRequest", "takeRequest", "sendCdn"] },
      { guard: "startsWithOcrq", target: "closed", actions: ["recordBadRequest", "takeRequest", "sendCdn"] },
    ],
    on: {
      // Nothing was sent yet: a local close just cleans up.
      close: [{ target: "closed", actions: ["recordLocalClose"] }],
      // RFC 2661 §7.3 LNS idle + ICRQ acceptable → Send ICRP → wait-connect; else Send CDN.
      "rx.ICRQ": [
        { guard: "requestAcceptable", target: "wait-connect", actions: ["learnPeer", "sendIcrp"] },
        { target: "closed", actions: ["learnPeer", "recordBadRequest", "sendCdn"] },
      ],
      // RFC 2661 §7.4 LAC idle + OCRQ acceptable → Send OCRP, dial → wait-cs-answer.
      "rx.OCRQ": [
        { guard: "requestAcceptable", target: "wait-cs-answer", actions: ["learnPeer", "sendOcrp"] },
        { target: "closed", actions: ["learnPeer", "recordBadRequest", "sendCdn"] },
      ],
    },
  },
  // RFC 2661 §7.3 LAC / §7.5 LNS: waiting for the tunnel to be established.
  "wait-tunnel": {
    on: {
      close: [{ target: "closed", actions: ["recordLocalClose"] }],
      tunnelUp: [
        { guard: "isIncoming", target: "wait-reply", actions: ["sendIcrq"] },
        { target: "wait-reply", actions: ["sendOcrq"] },
      ],
    },
  },
  "wait-reply": {
    setupTimeout: true,
    on: {
      // RFC 2661 §7.3 LAC wait-reply + ICRP acceptable → Send ICCN → established.
      "rx.ICRP": [
        {
          guard: "replyNamesPeer",
          target: "established",
          actions: ["learnPeer", "sendIccn", "forgetConnectAvps"],
        },
        { target: "closed", actions: ["recordUnexpected", "sendCdn"] },
      ],
      // RFC 2661 §7.5 LNS wait-reply + OCRP acceptable → wait-connect.
      "rx.OCRP": [
        { guard: "replyNamesPeer", target: "wait-connect", actions: ["learnPeer"] },
        { target: "closed", actions: ["recordUnexpected", "sendCdn"] },
      ],
    },
  },
  // RFC 2661 §7.4 LAC: the bearer is dialling.
  "wait-cs-answer": {
    setupTimeout: true,
    on: {
      answered: [{ target: "established", actions: ["sendOccn", "forgetConnectAvps"] }],
      answerFailed: [{ target: "closed", actions: ["recordAnswerFailed", "sendCdn"] }],
    },
  },
  // RFC 2661 §7.3 LNS (ICCN) / §7.5 LNS (OCCN): waiting for the connect.
  "wait-connect": {
    setupTimeout: true,
    on: {
      "rx.ICCN": [{ target: "established", actions: [] }],
      "rx.OCCN": [{ target: "established", actions: [] }],
    },
  },
  established: { entry: ["markEstablished", "announceEstablished"] },
  closed: { final: true },
};

/** The table's rules as XState transitions (`prefix` "." targets a child of the root from the root). */
function xstateRules(rules: readonly SessionRule[], prefix = "") {
  return rules.map(({ guard, target, actions }) => ({
    ...(guard === undefined ? {} : { guard: typeof guard === "string" ? guard : and([...guard]) }),
    ...(target === undefined ? {} : { target: prefix + target }),
    actions: [...actions],
  }));
}

function xstateOn(on: SessionOn, prefix = "") {
  return Object.fromEntries(Object.entries(on).map(([type, rules]) => [type, xstateRules(rules, prefix)]));
}

/** The table as XState states: the setup timeout is an `after` delay, a final state `type: "final"`. */
function xstateStates() {
  return Object.fromEntries(
    Object.entries(SESSION_STATES).map(([name, def]) => [
      name,
      {
        ...(def.on ? { on: xstateOn(def.on) } : {}),
        ...(def.always ? { always: xstateRules(def.always) } : {}),
        ...(def.entry ? { entry: [...def.entry] } : {}),
        ...(def.setupTimeout ? { after: { setupTimeout: xstateRules(SESSION_SETUP_TIMED_OUT) } } : {}),
        ...(def.final ? { type: "final" as const } : {}),
      },
    ]),
  );
}

/**
 * The session machine (RFC 2661 §7.3-§7.5): XState running SESSION_STATES, the specification of a call's
 * life. The node runs the same table through `sessionLogic` (session-logic.ts), which a test checks
 * against this machine step by step.
 */
export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionInput,
    output: {} as SessionOutput,
    emitted: {} as SessionEmitted,
  },
  guards: {
    startsWaitingForTunnel: guard(G.startsWaitingForTunnel),
    startsIncomingOnUpTunnel: guard(G.startsIncomingOnUpTunnel),
    startsOutgoingOnUpTunnel: guard(G.startsOutgoingOnUpTunnel),
    startsWithIcrq: guard(G.startsWithIcrq),
    startsWithOcrq: guard(G.startsWithOcrq),
    isIncoming: guard(G.isIncoming),
    requestAcceptable: guard(G.requestAcceptable),
    replyNamesPeer: guard(G.replyNamesPeer),
  },
  delays: {
    setupTimeout: ({ context }) => context.setupTimeoutMs,
  },
  actions: {
    learnPeer: update(U.learnPeer),
    takeRequest: update(U.takeRequest),
    sendIcrq: effect(F.sendIcrq),
    sendIcrp: effect(F.sendIcrp),
    sendIccn: effect(F.sendIccn),
    sendOcrq: effect(F.sendOcrq),
    sendOcrp: effect(F.sendOcrp),
    sendOccn: effect(F.sendOccn),
    markEstablished: update(U.markEstablished),
    forgetConnectAvps: update(U.forgetConnectAvps),
    announceEstablished: effect(F.announceEstablished),
    recordLocalClose: update(U.recordLocalClose),
    recordPeerCdn: update(U.recordPeerCdn),
    recordTunnelGone: update(U.recordTunnelGone),
    recordBadRequest: update(U.recordBadRequest),
    recordUnexpected: update(U.recordUnexpected),
    recordAnswerFailed: update(U.recordAnswerFailed),
    recordSetupTimeout: update(U.recordSetupTimeout),
    sendCdn: effect(F.sendCdn),
  },
}).createMachine({
  id: "session",
  context: ({ input }) => initialSessionContext(input),
  initial: "idle",
  // The table's transitions: SessionRule's types check their guard and action names against `setup`'s.
  on: xstateOn(SESSION_ROOT, ".") as never,
  states: xstateStates() as Record<SessionState, object>,
  output: ({ context }) => sessionOutput(context),
});

/** RFC 2661 §6.9, §6.12: (Tx) Connect Speed and Framing Type, plus what the access side gave. */
function connectAvps(context: SessionContext): Avps {
  return {
    txConnectSpeed: 100_000_000,
    framingType: { sync: true, async: false },
    ...context.connectAvps,
  };
}

/**
 * The module's own hot code, which adapters/jit keeps out of JSC's top tier with what it exports (it
 * reaches nothing else: these are not exported to be used).
 */
export const hotInternals: readonly unknown[] = [numbersOf, checkRequest];
