/**
 * A PPP endpoint (RFC 1661): the link phases (Dead → Establish → Authenticate → Network → Terminate),
 * LCP, IPCP and (when enabled) IPV6CP each on the RFC 1661 automaton (fsm.ts), PAP (RFC 1334) and
 * CHAP-MD5 (RFC 1994), with
 * proxy LCP and proxy authentication taken over from a LAC (RFC 2661 §4.4.5). One endpoint serves both
 * roles: `server` is the LNS's "dynamic PPP interface" (it authenticates the peer and assigns its
 * address), `client` is a subscriber (the simulator, the stand-in pppd of the interop tests).
 *
 * Pure: `pppStep(context, event, out)` returns the next context and pushes effects into `out` (frames
 * to send, an authentication to run, an address to assign, timers, the end of the link); no clocks, no
 * randomness (magic numbers and challenges come with the input), no I/O. ppp-logic.ts runs it as an
 * XState actor, so that every change of phase or automaton state is a snapshot, recorded like every
 * other actor's.
 */
import type { Credentials } from "../../actors/aaa.ts";
import type { Avps } from "../../protocol/l2tp/avps.ts";
import { chapMd5Response, decodeChap, encodeChap } from "../../protocol/ppp/chap.ts";
import type { ConfigurePacket, NcpPacket } from "../../protocol/ppp/control-packet.ts";
import { PPP_HEADER_LENGTH, writePppHeader } from "../../protocol/ppp/frame.ts";
import { decodeIpcp, encodeIpcp, type IpcpKnownOption, type IpcpOption } from "../../protocol/ppp/ipcp.ts";
import {
  decodeIpv6cp,
  encodeIpv6cp,
  type Ipv6cpKnownOption,
  type Ipv6cpOption,
  ZERO_INTERFACE_ID,
} from "../../protocol/ppp/ipv6cp.ts";
import { decodeLcp, encodeLcp, type LcpKnownOption, type LcpOption } from "../../protocol/ppp/lcp.ts";
import { ChapAlgorithm, PppProtocol } from "../../protocol/ppp/numbers.ts";
import { decodePap, encodePap } from "../../protocol/ppp/pap.ts";
import type { ActorPath } from "../common.ts";
import { type PppCause, PppDirection, PppDisconnectCode, pppCause } from "./disconnect.ts";
import { FSM_DEFAULTS, type FsmEvent, type FsmState, fsmStep, restartTimerRuns } from "./fsm.ts";
import { type AuthMethod, judgeProxyLcp, ProxyAuthenType } from "./proxy-lcp.ts";

/** The link phases of RFC 1661 §3.2, as the actor's state value ("opened": IPCP is up, IP flows). */
export type PppPhase = "establish" | "authenticate" | "network" | "opened" | "terminate" | "closed";

/** Every phase, in order of a link's life (for drawings and tests). */
export const PPP_PHASES: readonly PppPhase[] = [
  "establish",
  "authenticate",
  "network",
  "opened",
  "terminate",
  "closed",
];

/**
 * The phase graph (RFC 1661 §3.2 figure) with the events that move a link from one phase to another
 * (the envelope's cause), for the inspector's drawing: from → to → events. The phase is derived from
 * the automata (phaseOf), so a move has no single declaration in pppStep; test/machines/ppp checks that
 * every move its scenarios make is listed here. Renegotiation goes back: a Configure-Request in the
 * Authenticate phase restarts LCP (establish), one for IPCP when opened restarts IPCP (network).
 */
export const PPP_PHASE_EDGES: Readonly<
  Record<PppPhase, Partial<Record<PppPhase, readonly PppEvent["type"][]>>>
> = {
  establish: {
    // LCP opened: authenticate, or the Network phase when no protocol was agreed.
    authenticate: ["frame"],
    network: ["frame"],
    terminate: ["frame", "close"],
    closed: ["timer.lcp", "lowerDown", "close"],
  },
  authenticate: {
    establish: ["frame"],
    network: ["frame", "authenticated"],
    terminate: ["frame", "authenticated", "timer.auth", "close"],
    // A LAC's server ends once the subscriber authenticated: the LNS answers it (handOff).
    closed: ["handOff", "lowerDown"],
  },
  network: {
    opened: ["frame", "address"],
    terminate: ["frame", "address", "close"],
    closed: ["lowerDown"],
  },
  opened: {
    network: ["frame"],
    terminate: ["frame", "close"],
    closed: ["lowerDown", "keepaliveFailed"],
  },
  terminate: { closed: ["frame", "timer.lcp", "lowerDown"] },
  closed: {},
};

/** Where a link's context keeps its settings (see PppContext). */
export const SETTINGS: unique symbol = Symbol("ppp.settings");

/** The settings of a link. */
export function settingsOf(c: PppContext): PppSettings {
  return c[SETTINGS];
}

/** Settings of a PPP endpoint (one object per node, shared by its links). */
export interface PppSettings {
  role: "server" | "client";
  /** The MRU we ask for (RFC 1661 §6.1); 1500 is the default and is not requested. */
  mru: number;
  /** The peer's MRU must be within these (and fit the path: 1460 on L2TP over Ethernet). */
  minMru: number;
  maxMru: number;
  /** Server: the protocols it asks for, most preferred first (none: no authentication). Client: those it accepts. */
  authProtocols: readonly AuthMethod[];
  /** Proxy LCP (server): take it over when acceptable, or always renegotiate. */
  proxyLcp: "accept" | "renegotiate-always";
  /** Proxy LCP not acceptable: renegotiate (true) or end the call with RFC 3145 code 2 (false). */
  renegotiateOnMismatch: boolean;
  /** RFC 1661 §4.6. */
  restartMs: number;
  /**
   * The peer's first Configure-Request came while ours is unanswered: ours goes again this long after
   * (0: at once) unless the peer answers it meanwhile, instead of a whole restart period later. A pppd
   * behind a LAC flushes its tty when it starts, so our first request is often lost; on a fast path the
   * peer's request merely crossed ours, and its answer follows within a round trip.
   */
  earlyResendMs: number;
  maxConfigure: number;
  maxFailure: number;
  maxTerminate: number;
  /** How long the peer may take to authenticate (PAP) before the link ends (RFC 3145 code 13). */
  authTimeoutMs: number;
  /** Our name in CHAP Challenges (server) and Responses (client, when no user is set). */
  hostName: string;
  /** Server: our IPCP address; client: unused. */
  localAddress: string;
  /** Server: primary and secondary DNS given to the peer (RFC 1877); client: ask for DNS when non-empty. */
  dns: readonly string[];
  /**
   * IPv6 beside IPv4 (dual stack): IPV6CP (RFC 5072) runs in the Network phase next to IPCP. IPCP still
   * carries the subscriber (its address, accounting, "opened"); a peer that rejects IPV6CP stays up on
   * IPv4. Off: an IPV6CP packet gets a Protocol-Reject (RFC 1661 §5.7).
   */
  ipv6: boolean;
  /** Client: who we are (PAP Peer-ID, CHAP Name) and our secret. */
  user?: string;
  password?: string;
  /**
   * Server on a LAC: keep the raw LCP Configure-Requests (proxy LCP, RFC 2661 §4.4.5 AVPs 26-28) and,
   * once the subscriber has authenticated, hand the link on (`handOff`) instead of answering it.
   */
  lac?: boolean;
}

/** Defaults of the settings (RFC 1661 §4.6 timers; 1460 bytes fit L2TP over a 1500-byte path). */
export const PPP_DEFAULTS: Omit<PppSettings, "role" | "hostName"> = {
  mru: 1460,
  minMru: 576,
  maxMru: 1460,
  authProtocols: ["chap", "pap"],
  proxyLcp: "accept",
  renegotiateOnMismatch: true,
  restartMs: FSM_DEFAULTS.restartMs,
  earlyResendMs: 100,
  maxConfigure: FSM_DEFAULTS.maxConfigure,
  maxFailure: FSM_DEFAULTS.maxFailure,
  maxTerminate: FSM_DEFAULTS.maxTerminate,
  authTimeoutMs: 30_000,
  localAddress: "10.0.0.1",
  dns: [],
  ipv6: false,
};

/** The AVPs of proxy LCP and proxy authentication (RFC 2661 §4.4.5, AVPs 26-33). */
export const PROXY_AVPS = [
  "initialReceivedLcpConfReq",
  "lastSentLcpConfReq",
  "lastReceivedLcpConfReq",
  "proxyAuthenType",
  "proxyAuthenName",
  "proxyAuthenChallenge",
  "proxyAuthenId",
  "proxyAuthenResponse",
] as const;

/** What the LAC told the LNS in the ICCN: its proxy AVPs, as the AVP codec types them. */
export type ProxyInfo = Pick<Avps, (typeof PROXY_AVPS)[number]>;

/** What a PPP actor is created with. */
export interface PppInput {
  /** The session's path; the actor is the session's PPP (the recorder names it machine "ppp"). */
  path: ActorPath;
  settings: PppSettings;
  /** Our first magic number (RFC 1661 §6.4), drawn by the wiring. */
  magic: number;
  /** Server, CHAP: the challenge value to send (RFC 1994 §4.1: 16 random octets). */
  challenge?: Uint8Array;
  /** Server: the proxy LCP and authentication of the ICCN. */
  proxy?: ProxyInfo;
  /** With settings.ipv6: our IPV6CP Interface-Identifier (16 hex digits, not all zero), drawn by the wiring. */
  interfaceId?: string;
}

/** The state of one negotiated protocol (LCP, IPCP or IPV6CP). */
interface NcpState {
  state: FsmState;
  /** Restart counter (RFC 1661 §4.6). */
  counter: number;
  /** Configure-Naks sent without an Ack between (Max-Failure, RFC 1661 §4.6). */
  naks: number;
  /** Configure-Naks and -Rejects received for our requests, for convergence. */
  refused: number;
  /** The Identifier of our last Configure-Request or Terminate-Request. */
  id: number;
}

/** The authentication's progress. */
type AuthState = "idle" | "waiting" | "challenged" | "checking" | "passed";

/**
 * A PPP endpoint's context. Plain data, never changed once made (the event log diffs snapshots by
 * reference): a step copies it (`copyContext`), and an automaton's record when it writes one (`ncpOf`).
 */
export interface PppContext {
  path: ActorPath;
  role: "server" | "client";
  /** LCP's automaton. */
  lcp: FsmState;
  /** IPCP's automaton. */
  ipcp: FsmState;
  /** IPV6CP's automaton ("initial" while settings.ipv6 is off). */
  ipv6cp: FsmState;
  auth: AuthState;
  /** The authentication protocol agreed in LCP (undefined: none). */
  authProtocol: AuthMethod | undefined;
  /** The authenticated (server) or presented (client) user name. */
  user: string | undefined;
  /** Server: the peer's address; client: ours. */
  address: string | undefined;
  /** Server: ours; client: the server's. */
  peerAddress: string | undefined;
  /** IPV6CP: our Interface-Identifier (undefined once the peer rejected the option), and the peer's. */
  localInterfaceId: string | undefined;
  peerInterfaceId: string | undefined;
  localMagic: number;
  peerMagic: number;
  /** The MRU we ask for (RFC 1661 §6.1): the setting, until the peer Naks or Rejects it. */
  localMru: number;
  /** An LCP Configure-Request of the peer has been seen. */
  lcpHeard: boolean;
  /** The peer's MRU (what we may send). */
  peerMru: number;
  /** LCP was taken over from the LAC's proxy LCP. */
  proxied: boolean;
  cause: PppCause | undefined;
  /** The link is over (`finished` went out): the actor's final state. */
  ended: boolean;
  /**
   * The node's settings, under a symbol: the same object for every link, kept out of the event log
   * (the recorder and the schema read string keys only), still copied with the context.
   */
  [SETTINGS]: PppSettings;
  /** Internals below: not interesting to a person but kept in the snapshot for restore. */
  lcpNcp: NcpState;
  ipcpNcp: NcpState;
  ipv6cpNcp: NcpState;
  /** IPV6CP: the identifier we last suggested to the peer in a Nak (RFC 5072 §4.1), if any. */
  interfaceIdSuggested: string | undefined;
  /** Server: index of the auth protocol we ask for; client: unused. */
  authIndex: number;
  authId: number;
  authTries: number;
  challenge: Uint8Array | undefined;
  /** Magic-Number collisions seen (RFC 1661 §6.4 loop detection). */
  magicCollisions: number;
  /** Client: the addresses we ask for (0.0.0.0 until Nak'd), by IPCP option kind. */
  ipcpAsk: Partial<Record<"ipAddress" | "primaryDns" | "secondaryDns", string>>;
  /** Client: DNS learnt. */
  dnsLearnt: string[];
  /** Server: a peer IPCP request that came before the address was known, replayed once it is. */
  earlyIpcp: Uint8Array | undefined;
  /** The proxy AVPs, until they are used at the start. */
  proxy: ProxyInfo | undefined;
  /**
   * A LAC's server (settings.lac): the options of the first and the last LCP Configure-Request received
   * and of the last one sent, as they were on the wire (RFC 2661 §4.4.5: the body from the first option).
   */
  lcpInitialReceived?: Uint8Array;
  lcpLastReceived?: Uint8Array;
  lcpLastSent?: Uint8Array;
}

/** Events a PPP endpoint takes. */
export type PppEvent =
  /** A PPP control frame of the link (LCP, PAP, CHAP, IPCP, or another protocol to reject). */
  | { type: "frame"; protocol: number; payload: Uint8Array }
  /** The restart timer of LCP, IPCP, IPV6CP or authentication expired. */
  | { type: "timer.lcp" }
  | { type: "timer.ipcp" }
  | { type: "timer.ipv6cp" }
  | { type: "timer.auth" }
  /** The answer to an `authenticate` effect. */
  | { type: "authenticated"; ok: boolean; message: string }
  /** The answer to a `needAddress` effect (server): the peer's address, or why there is none. */
  | { type: "address"; address?: string; failure?: string }
  /** Echo-Requests went unanswered (the wiring runs the keepalive, RFC 1661 §5.8). */
  | { type: "keepaliveFailed"; misses: number }
  /** Close the link: Terminate-Request, then Closed (administrative, session timeout …). */
  | { type: "close"; cause: PppCause }
  /** The session under the link is gone: end at once, send nothing. */
  | { type: "lowerDown"; cause: PppCause }
  /** A LAC tunnels the link (settings.lac): it ends here without a word; the LNS answers the subscriber. */
  | { type: "handOff"; message: string };

/** Effects a PPP endpoint asks of its wiring. */
export type PppEffect =
  | { type: "send"; protocol: number; payload: Uint8Array }
  | { type: "authenticate"; credentials: Credentials }
  | { type: "needAddress" }
  /** IPCP is up: IP may flow. */
  | { type: "up"; address: string; user: string | undefined }
  /** IPV6CP is up: IPv6 may flow between the two link-local identifiers. */
  | { type: "ipv6Up"; localInterfaceId: string | undefined; peerInterfaceId: string | undefined }
  | { type: "schedule"; timer: PppTimer; ms: number }
  | { type: "cancel"; timer: PppTimer }
  /** The link ended (the actor is final now). */
  | { type: "finished"; cause: PppCause };

/** The restart timers a link runs (delayed events of these types). */
export type PppTimer = "timer.lcp" | "timer.ipcp" | "timer.ipv6cp" | "timer.auth";

/** One step's working state: the context being built and the effects. */
interface Step {
  c: PppContext;
  out: PppEffect[];
  /** The automata whose records this step copied already (bits of NCP_BIT): copy-on-write. */
  owned: number;
}

/** Which automaton's record a step has made its own. */
const NCP_BIT = { lcp: 1, ipcp: 2, ipv6cp: 4 } as const;

const NO_ADDRESS = "0.0.0.0";
const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A link's IPCP asks and DNS before it has any: shared by every link (replaced, never written). */
const NOTHING_ASKED: PppContext["ipcpAsk"] = Object.freeze({});
const NO_DNS = Object.freeze([]) as unknown as string[];

/**
 * Every automaton's record before its first event: one object shared by all links, never written (a
 * step copies a record before it changes it, `ncpOf`), so that an automaton that never runs (IPV6CP
 * without IPv6) costs a link nothing.
 */
const INITIAL_NCP: NcpState = Object.freeze({ state: "initial", counter: 0, naks: 0, refused: 0, id: 0 });

/**
 * The record of `which` that this step may write: a copy of the one it started with, made once per step
 * (the context it started from, and so its snapshot and the event log's view of it, stays as it was).
 */
function ncpOf(step: Step, which: Which): NcpState {
  const bit = NCP_BIT[which];
  const c = step.c;
  if (which === "lcp") {
    if ((step.owned & bit) === 0) c.lcpNcp = { ...c.lcpNcp };
    step.owned |= bit;
    return c.lcpNcp;
  }
  if (which === "ipcp") {
    if ((step.owned & bit) === 0) c.ipcpNcp = { ...c.ipcpNcp };
    step.owned |= bit;
    return c.ipcpNcp;
  }
  if ((step.owned & bit) === 0) c.ipv6cpNcp = { ...c.ipv6cpNcp };
  step.owned |= bit;
  return c.ipv6cpNcp;
}

/**
 * Another Interface-Identifier than `id` (RFC 5072 §4.1: a suggestion for the peer, or a new one of ours
 * after a clash): deterministic, never all zeros, the Universal/Local bit clear (RFC 4291 §2.5.1: local).
 * `salt` is the end's magic number, so that two ends that derive from the same identifier (both chose
 * it) pick different ones: LCP made their magic numbers differ (RFC 1661 §6.4).
 */
export function nextInterfaceId(id: string, salt: number): string {
  const high = (Number.parseInt(id.slice(0, 8), 16) || 0) ^ salt;
  const low = Number.parseInt(id.slice(8), 16) || 0;
  const h = (Math.imul(high ^ 0x9e3779b9, 0x85ebca6b) + low) >>> 0;
  const l = (Math.imul(low ^ 0xc2b2ae35, 0x27d4eb2f) + h + 1) >>> 0 || 1;
  return ((h & 0xfdffffff) >>> 0).toString(16).padStart(8, "0") + l.toString(16).padStart(8, "0");
}

/** The next magic number after a collision: deterministic, never 0 (RFC 1661 §6.4 wants a new one). */
function nextMagic(magic: number): number {
  const next = (Math.imul(magic ^ 0x9e3779b9, 0x85ebca6b) + 0x6b43a9b5) >>> 0;
  return next === 0 ? 1 : next;
}

/** The phase the context is in (the actor's state value). */
export function phaseOf(c: PppContext): PppPhase {
  if (c.ended) return "closed";
  if (c.lcp === "closing" || c.lcp === "stopping") return "terminate";
  if (c.lcp !== "opened") return "establish";
  if (c.auth !== "passed") return "authenticate";
  if (c.ipcp === "opened") return "opened";
  return "network";
}

/** The context a PPP endpoint starts with. */
export function initialPppContext(input: PppInput): PppContext {
  return {
    path: input.path,
    role: input.settings.role,
    lcp: "initial",
    ipcp: "initial",
    ipv6cp: "initial",
    auth: "idle",
    authProtocol: undefined,
    user: input.settings.role === "client" ? input.settings.user : undefined,
    address: undefined,
    peerAddress: undefined,
    localInterfaceId: input.settings.ipv6 ? input.interfaceId : undefined,
    peerInterfaceId: undefined,
    localMagic: input.magic,
    peerMagic: 0,
    localMru: input.settings.mru,
    lcpHeard: false,
    peerMru: 1500,
    proxied: false,
    cause: undefined,
    ended: false,
    [SETTINGS]: input.settings,
    lcpNcp: INITIAL_NCP,
    ipcpNcp: INITIAL_NCP,
    ipv6cpNcp: INITIAL_NCP,
    interfaceIdSuggested: undefined,
    authIndex: 0,
    authId: 0,
    authTries: 0,
    challenge: input.challenge,
    magicCollisions: 0,
    ipcpAsk: NOTHING_ASKED,
    dnsLearnt: NO_DNS,
    earlyIpcp: undefined,
    proxy: input.proxy,
  };
}

// ---- the start ------------------------------------------------------------------------------------

/**
 * Starts the link (the session under it is up): proxy LCP taken over when acceptable (server),
 * otherwise LCP Up and Open (RFC 1661 §4.3): a Configure-Request goes out.
 */
export function pppStart(input: PppInput, out: PppEffect[]): PppContext {
  const step: Step = { c: initialPppContext(input), out, owned: 0 };
  const c = step.c;
  const proxy = c.proxy;
  if (c.role === "server" && proxy?.lastSentLcpConfReq !== undefined && c[SETTINGS].proxyLcp === "accept") {
    const verdict = judgeProxyLcp(proxy, c[SETTINGS]);
    if (verdict.kind === "acceptable") {
      // RFC 2661 §4.4.5: LCP is Opened with the options the LAC agreed; the LAC's side becomes ours.
      c.proxied = true;
      c.lcp = "opened";
      ncpOf(step, "lcp").state = "opened";
      c.localMagic = verdict.local.magic;
      c.peerMagic = verdict.peer.magic;
      c.peerMru = verdict.peer.mru;
      c.authProtocol = verdict.auth;
      lcpUp(step);
      return step.c;
    }
    if (verdict.kind === "malformed") {
      finish(
        step,
        pppCause(
          PppDisconnectCode.noInformation,
          PppProtocol.LCP,
          PppDirection.local,
          `malformed proxy LCP: ${verdict.reason}`,
        ),
      );
      return step.c;
    }
    if (verdict.kind === "unacceptable" && !c[SETTINGS].renegotiateOnMismatch) {
      finish(
        step,
        pppCause(
          PppDisconnectCode.renegotiationDisabled,
          PppProtocol.LCP,
          PppDirection.local,
          `proxy LCP not acceptable (${verdict.reason}) and LCP renegotiation is off`,
        ),
      );
      return step.c;
    }
  }
  // The proxy authentication went with the LAC's LCP: with LCP renegotiated, the peer authenticates again.
  c.proxy = undefined;
  fsm(step, "lcp", "up");
  fsm(step, "lcp", "open");
  return step.c;
}

// ---- one step -------------------------------------------------------------------------------------

/** Handles one event; returns the next context (a copy, when anything changed). */
export function pppStep(context: PppContext, event: PppEvent, out: PppEffect[]): PppContext {
  if (context.ended) return context;
  const step: Step = { c: copyContext(context), out, owned: 0 };
  switch (event.type) {
    case "frame":
      onFrame(step, event.protocol, event.payload);
      break;
    case "timer.lcp":
      fsm(step, "lcp", step.c.lcpNcp.counter > 0 ? "to+" : "to-");
      break;
    case "timer.ipcp":
      fsm(step, "ipcp", step.c.ipcpNcp.counter > 0 ? "to+" : "to-");
      break;
    case "timer.ipv6cp":
      fsm(step, "ipv6cp", step.c.ipv6cpNcp.counter > 0 ? "to+" : "to-");
      break;
    case "timer.auth":
      onAuthTimer(step);
      break;
    case "authenticated":
      onAuthenticated(step, event.ok, event.message);
      break;
    case "address":
      onAddress(step, event.address, event.failure);
      break;
    case "keepaliveFailed":
      // RFC 3145 code 8: the peer stopped answering; it is gone, so nothing is sent.
      finish(
        step,
        pppCause(
          PppDisconnectCode.lcpKeepalive,
          PppProtocol.LCP,
          PppDirection.local,
          `${event.misses} LCP Echo-Requests unanswered`,
        ),
      );
      break;
    case "close":
      terminate(step, event.cause);
      break;
    case "lowerDown":
      finish(step, event.cause);
      break;
    case "handOff":
      if (step.c[SETTINGS].lac === true) {
        step.out.push({ type: "cancel", timer: "timer.lcp" });
        step.out.push({ type: "cancel", timer: "timer.auth" });
        finish(step, pppCause(PppDisconnectCode.noInformation, 0, PppDirection.local, event.message));
      }
      break;
  }
  return settle(step, context);
}

function sameNcp(a: NcpState, b: NcpState): boolean {
  return (
    a.state === b.state &&
    a.counter === b.counter &&
    a.naks === b.naks &&
    a.refused === b.refused &&
    a.id === b.id
  );
}

/**
 * A shallow copy of a context, the step's to change. Written out field by field rather than spread: a
 * literal of a fixed shape is several times cheaper than a spread of an object with a symbol key (the
 * spread was 6% of an LNS's CPU in bench/ppp's profile). The automata's records are not copied here but
 * when a step first writes one (`ncpOf`). test/machines/ppp/endpoint-context.test.ts checks that every
 * field of the context is copied and compared.
 */
export function copyContext(c: PppContext): PppContext {
  const copy: PppContext = {
    path: c.path,
    role: c.role,
    lcp: c.lcp,
    ipcp: c.ipcp,
    ipv6cp: c.ipv6cp,
    auth: c.auth,
    authProtocol: c.authProtocol,
    user: c.user,
    address: c.address,
    peerAddress: c.peerAddress,
    localInterfaceId: c.localInterfaceId,
    peerInterfaceId: c.peerInterfaceId,
    localMagic: c.localMagic,
    peerMagic: c.peerMagic,
    localMru: c.localMru,
    lcpHeard: c.lcpHeard,
    peerMru: c.peerMru,
    proxied: c.proxied,
    cause: c.cause,
    ended: c.ended,
    [SETTINGS]: c[SETTINGS],
    lcpNcp: c.lcpNcp,
    ipcpNcp: c.ipcpNcp,
    ipv6cpNcp: c.ipv6cpNcp,
    interfaceIdSuggested: c.interfaceIdSuggested,
    authIndex: c.authIndex,
    authId: c.authId,
    authTries: c.authTries,
    challenge: c.challenge,
    magicCollisions: c.magicCollisions,
    ipcpAsk: c.ipcpAsk,
    dnsLearnt: c.dnsLearnt,
    earlyIpcp: c.earlyIpcp,
    proxy: c.proxy,
  };
  // A LAC's server only (settings.lac): absent otherwise, and absent they stay (the event log's fields).
  if ("lcpInitialReceived" in c) copy.lcpInitialReceived = c.lcpInitialReceived;
  if ("lcpLastReceived" in c) copy.lcpLastReceived = c.lcpLastReceived;
  if ("lcpLastSent" in c) copy.lcpLastSent = c.lcpLastSent;
  return copy;
}

/** Whether a step's copy `c` differs from the context it was made from, field by field (by reference). */
export function contextChanged(c: PppContext, before: PppContext): boolean {
  return (
    c.lcp !== before.lcp ||
    c.ipcp !== before.ipcp ||
    c.ipv6cp !== before.ipv6cp ||
    c.auth !== before.auth ||
    c.lcpNcp !== before.lcpNcp ||
    c.ipcpNcp !== before.ipcpNcp ||
    c.ipv6cpNcp !== before.ipv6cpNcp ||
    c.authId !== before.authId ||
    c.authTries !== before.authTries ||
    c.lcpHeard !== before.lcpHeard ||
    c.authProtocol !== before.authProtocol ||
    c.user !== before.user ||
    c.address !== before.address ||
    c.peerAddress !== before.peerAddress ||
    c.localInterfaceId !== before.localInterfaceId ||
    c.peerInterfaceId !== before.peerInterfaceId ||
    c.localMagic !== before.localMagic ||
    c.peerMagic !== before.peerMagic ||
    c.localMru !== before.localMru ||
    c.peerMru !== before.peerMru ||
    c.proxied !== before.proxied ||
    c.cause !== before.cause ||
    c.ended !== before.ended ||
    c.interfaceIdSuggested !== before.interfaceIdSuggested ||
    c.authIndex !== before.authIndex ||
    c.challenge !== before.challenge ||
    c.magicCollisions !== before.magicCollisions ||
    c.ipcpAsk !== before.ipcpAsk ||
    c.dnsLearnt !== before.dnsLearnt ||
    c.earlyIpcp !== before.earlyIpcp ||
    c.proxy !== before.proxy ||
    c.lcpInitialReceived !== before.lcpInitialReceived ||
    c.lcpLastReceived !== before.lcpLastReceived ||
    c.lcpLastSent !== before.lcpLastSent ||
    c.path !== before.path ||
    c.role !== before.role ||
    c[SETTINGS] !== before[SETTINGS]
  );
}

/**
 * The step's context with the records it copied but left as they were put back, and `before` itself
 * when nothing changed: an ignored frame makes no snapshot, and the event log records only what really
 * moved.
 */
function settle(step: Step, before: PppContext): PppContext {
  const c = step.c;
  if (step.owned & NCP_BIT.lcp && sameNcp(c.lcpNcp, before.lcpNcp)) c.lcpNcp = before.lcpNcp;
  if (step.owned & NCP_BIT.ipcp && sameNcp(c.ipcpNcp, before.ipcpNcp)) c.ipcpNcp = before.ipcpNcp;
  if (step.owned & NCP_BIT.ipv6cp && sameNcp(c.ipv6cpNcp, before.ipv6cpNcp)) c.ipv6cpNcp = before.ipv6cpNcp;
  return contextChanged(c, before) ? c : before;
}

// ---- frames ---------------------------------------------------------------------------------------

function onFrame(step: Step, protocol: number, payload: Uint8Array): void {
  switch (protocol) {
    case PppProtocol.LCP:
      onLcp(step, payload);
      return;
    case PppProtocol.PAP:
      onPap(step, payload);
      return;
    case PppProtocol.CHAP:
      onChap(step, payload);
      return;
    case PppProtocol.IPCP:
      onIpcp(step, payload);
      return;
    case PppProtocol.IPv6CP:
      if (step.c[SETTINGS].ipv6) {
        onIpv6cp(step, payload);
        return;
      }
      rejectProtocol(step, protocol, payload);
      return;
    default:
      rejectProtocol(step, protocol, payload);
  }
}

/** RFC 1661 §5.7: a protocol we do not run is rejected, once LCP is Opened (before, it is dropped). */
function rejectProtocol(step: Step, protocol: number, payload: Uint8Array): void {
  if (step.c.lcp === "opened") {
    const id = ++ncpOf(step, "lcp").id & 0xff;
    const rejected = payload.subarray(0, Math.max(0, step.c.peerMru - 6));
    send(step, PppProtocol.LCP, encodeLcp({ code: "Protocol-Reject", id, protocol, rejected }));
  }
}

/** The Length field of an LCP packet (RFC 1661 §5), within the bytes there are. */
function lcpLength(payload: Uint8Array): number {
  const length = ((payload[2] ?? 0) << 8) | (payload[3] ?? 0);
  return Math.min(Math.max(length, 4), payload.length);
}

function onLcp(step: Step, payload: Uint8Array): void {
  const decoded = decodeLcp(payload);
  if (!decoded.ok) return; // RFC 1661 §5: a malformed packet is silently discarded.
  const p = decoded.value;
  const c = step.c;
  switch (p.code) {
    case "Configure-Request": {
      if (c[SETTINGS].lac === true) {
        // RFC 2661 §4.4.5: AVPs 26 and 28 carry the request's body from its first option.
        const options = payload.slice(4, lcpLength(payload));
        c.lcpInitialReceived ??= options;
        c.lcpLastReceived = options;
      }
      const answer = judgeLcpRequest(step, p);
      // The peer's first request while ours is unanswered: ours may have been lost before the peer
      // listened, or merely crossed the peer's. Ours goes again soon (earlyResendMs) unless answered
      // meanwhile. Any later request of ours answers the same (RFC 1661 §5.2 Identifiers).
      const resend = !c.lcpHeard && c.lcp === "req-sent";
      c.lcpHeard = true;
      fsm(step, "lcp", answer.acceptable ? "rcr+" : "rcr-", { request: p, payload, answer });
      if (resend && (c.lcp === "req-sent" || c.lcp === "ack-sent")) {
        const soon = c[SETTINGS].earlyResendMs;
        if (soon > 0) step.out.push({ type: "schedule", timer: "timer.lcp", ms: soon });
        else fsm(step, "lcp", "to+");
      }
      return;
    }
    case "Configure-Ack": {
      if (p.id !== c.lcpNcp.id) return; // RFC 1661 §5.2: an Ack must match our last request.
      applyLcpAck(step, p);
      // The early resend's short timer may still run: in Ack-Rcvd the timer waits for the peer's next
      // request a whole restart period (RFC 1661 §4.1 TO+), so it starts again at that length.
      const early = c.lcpHeard && c.lcp === "req-sent" && c[SETTINGS].earlyResendMs > 0;
      fsm(step, "lcp", "rca");
      if (early && c.lcp === "ack-rcvd") {
        step.out.push({ type: "schedule", timer: "timer.lcp", ms: c[SETTINGS].restartMs });
      }
      return;
    }
    case "Configure-Nak":
    case "Configure-Reject":
      if (p.id !== c.lcpNcp.id) return;
      if (!applyLcpRefusal(step, p)) return;
      fsm(step, "lcp", "rcn");
      return;
    case "Terminate-Request":
      if (!c.cause && c.lcp === "opened") {
        // RFC 3145 code 3, direction peer: the subscriber hung up.
        c.cause = pppCause(
          PppDisconnectCode.normal,
          PppProtocol.LCP,
          PppDirection.peer,
          "the peer sent LCP Terminate-Request",
        );
      }
      // RFC 1661 §4.1: Opened + RTR → Stopping; the link ends one restart period later (TO-).
      fsm(step, "lcp", "rtr", { terminateId: p.id });
      return;
    case "Terminate-Ack":
      fsm(step, "lcp", "rta");
      return;
    case "Code-Reject":
      // Codes 1-7 are required; a reject of one of them makes LCP unusable (RFC 1661 §5.6).
      fsm(step, "lcp", p.rejected.length > 0 && p.rejected[0] <= 7 ? "rxj-" : "rxj+");
      return;
    case "Protocol-Reject":
      onProtocolReject(step, p.protocol);
      return;
    case "Echo-Request":
      if (c.lcp === "opened") {
        // RFC 1661 §6.4: an Echo-Request carrying our own magic number is a looped-back link.
        if (c.localMagic !== 0 && p.magic === c.localMagic) return;
        send(
          step,
          PppProtocol.LCP,
          encodeLcp({ code: "Echo-Reply", id: p.id, magic: c.localMagic, data: p.data }),
        );
      }
      return;
    case "Echo-Reply":
    case "Discard-Request":
    case "Identification":
    case "Time-Remaining":
      return;
    default:
      fsm(step, "lcp", "ruc", { unknown: payload });
  }
}

function onProtocolReject(step: Step, protocol: number): void {
  if (protocol === PppProtocol.IPCP) fsm(step, "ipcp", "rxj-");
  // The peer runs no IPv6: IPV6CP stops, the link stays up on IPv4 (ipv6cpFinished).
  else if (protocol === PppProtocol.IPv6CP) fsm(step, "ipv6cp", "rxj-");
  else if (protocol === PppProtocol.LCP) fsm(step, "lcp", "rxj-");
  // A reject of PAP/CHAP during authentication: the peer will not authenticate (RFC 3145 code 15).
  else if ((protocol === PppProtocol.PAP || protocol === PppProtocol.CHAP) && step.c.auth !== "passed") {
    terminate(
      step,
      pppCause(
        PppDisconnectCode.authProtocolRefused,
        protocol,
        PppDirection.peer,
        "the peer rejected the authentication protocol",
      ),
    );
  }
}

// ---- LCP options ----------------------------------------------------------------------------------

interface Answer {
  acceptable: boolean;
  /** The Nak or Reject to send when not acceptable. */
  code?: "Configure-Nak" | "Configure-Reject";
  options?: (LcpOption | IpcpOption | Ipv6cpOption)[];
  /** The peer's values to adopt when we Ack. */
  adopt?: () => void;
}

function authOption(method: AuthMethod): LcpKnownOption {
  return method === "pap"
    ? { kind: "authProtocol", protocol: PppProtocol.PAP }
    : { kind: "authProtocol", protocol: PppProtocol.CHAP, algorithm: ChapAlgorithm.MD5 };
}

function authMethodOf(o: Extract<LcpKnownOption, { kind: "authProtocol" }>): AuthMethod | undefined {
  if (o.protocol === PppProtocol.PAP) return "pap";
  if (o.protocol === PppProtocol.CHAP && o.algorithm === ChapAlgorithm.MD5) return "chap";
  return undefined;
}

/** Judges the peer's LCP Configure-Request (RFC 1661 §5.1, §6). */
function judgeLcpRequest(step: Step, p: ConfigurePacket<LcpKnownOption>): Answer {
  const c = step.c;
  const s = c[SETTINGS];
  const reject: LcpOption[] = [];
  const nak: LcpOption[] = [];
  let mru = 1500;
  let magic = 0;
  let auth: AuthMethod | undefined;
  for (const o of p.options) {
    switch (o.kind) {
      case "mru":
        if (o.value < s.minMru) nak.push({ kind: "mru", value: s.minMru });
        else if (o.value > s.maxMru) nak.push({ kind: "mru", value: s.maxMru });
        else mru = o.value;
        break;
      case "accm": // Synchronous framing on L2TP: the map is moot (RFC 1662 §7.1).
      case "pfc":
      case "acfc":
        break;
      case "magicNumber":
        if (o.value !== 0 && o.value === c.localMagic) {
          // RFC 1661 §6.4: the same magic number: Nak with another; many in a row mean a loop.
          c.magicCollisions++;
          c.localMagic = nextMagic(c.localMagic);
          nak.push({ kind: "magicNumber", value: nextMagic(c.localMagic) });
        } else magic = o.value;
        break;
      case "authProtocol": {
        if (s.role === "server") {
          reject.push(o); // We do not authenticate ourselves to a subscriber.
          break;
        }
        const method = authMethodOf(o);
        if (method && s.authProtocols.includes(method)) auth = method;
        else if (s.authProtocols.length > 0) nak.push(authOption(s.authProtocols[0] as AuthMethod));
        else reject.push(o);
        break;
      }
      default:
        reject.push(o);
    }
  }
  if (c.magicCollisions > s.maxFailure) {
    terminate(
      step,
      pppCause(
        PppDisconnectCode.lcpMagicNumberError,
        PppProtocol.LCP,
        PppDirection.local,
        "the link appears looped back (magic numbers keep matching)",
      ),
    );
  }
  if (reject.length > 0) return { acceptable: false, code: "Configure-Reject", options: reject };
  if (nak.length > 0) {
    // RFC 1661 §4.6 Max-Failure: past it, Naks become Rejects.
    if (c.lcpNcp.naks >= s.maxFailure) return { acceptable: false, code: "Configure-Reject", options: nak };
    return { acceptable: false, code: "Configure-Nak", options: nak };
  }
  return {
    acceptable: true,
    adopt: () => {
      c.peerMru = mru;
      c.peerMagic = magic;
      if (s.role === "client") c.authProtocol = auth;
    },
  };
}

/** Our LCP Configure-Request options. */
function lcpRequestOptions(c: PppContext): LcpOption[] {
  const s = c[SETTINGS];
  const options: LcpOption[] = [];
  if (c.localMru !== 1500) options.push({ kind: "mru", value: c.localMru });
  if (s.role === "server" && c.authIndex < s.authProtocols.length) {
    options.push(authOption(s.authProtocols[c.authIndex] as AuthMethod));
  }
  if (c.localMagic !== 0) options.push({ kind: "magicNumber", value: c.localMagic });
  return options;
}

function applyLcpAck(step: Step, _p: ConfigurePacket<LcpKnownOption>): void {
  const c = step.c;
  if (c.role === "server") {
    c.authProtocol =
      c.authIndex < c[SETTINGS].authProtocols.length ? c[SETTINGS].authProtocols[c.authIndex] : undefined;
  }
}

/** A Nak or Reject of our LCP request: adjust what we ask; false when nothing can be adjusted. */
function applyLcpRefusal(step: Step, p: ConfigurePacket<LcpKnownOption>): boolean {
  const c = step.c;
  const s = c[SETTINGS];
  if (++ncpOf(step, "lcp").refused > s.maxConfigure) {
    terminate(
      step,
      pppCause(
        PppDisconnectCode.lcpFailedToConverge,
        PppProtocol.LCP,
        PppDirection.local,
        "LCP failed to converge",
      ),
    );
    return false;
  }
  const nak = p.code === "Configure-Nak";
  for (const o of p.options) {
    if (o.kind === "magicNumber") c.localMagic = nak ? nextMagic(o.value) : 0;
    // RFC 1661 §6.1: a Nak suggests the MRU the peer can live with; below our floor, or rejected, we
    // stop asking (1500, the default, is then in force).
    else if (o.kind === "mru") c.localMru = nak && o.value >= s.minMru && o.value <= 1500 ? o.value : 1500;
    else if (o.kind === "authProtocol" && s.role === "server") {
      // RFC 1994 §3: a Nak may suggest another protocol; take it if we run it, else try our next one.
      const suggested = nak ? authMethodOf(o) : undefined;
      const index = suggested ? s.authProtocols.indexOf(suggested) : -1;
      c.authIndex = index > c.authIndex ? index : c.authIndex + 1;
      if (c.authIndex >= s.authProtocols.length) {
        terminate(
          step,
          pppCause(
            PppDisconnectCode.authProtocolRefused,
            PppProtocol.LCP,
            PppDirection.peer,
            "the peer refused every authentication protocol this LNS allows",
          ),
        );
        return false;
      }
    }
  }
  return true;
}

// ---- IPCP -----------------------------------------------------------------------------------------

function onIpcp(step: Step, payload: Uint8Array): void {
  const c = step.c;
  // RFC 1661 §3.4: NCP packets before the Network phase are discarded; a request that only waits
  // for the address (server) is kept and answered once the address is known.
  if (c.lcp !== "opened" || c.auth !== "passed") return;
  if (c.role === "server" && c.address === undefined) {
    c.earlyIpcp = payload;
    return;
  }
  const decoded = decodeIpcp(payload);
  if (!decoded.ok) return;
  onNcpPacket(step, "ipcp", decoded.value, payload, IPCP_HOOKS);
}

/**
 * What differs between the NCPs when a packet of theirs comes in: one table per NCP, its functions
 * given the step (closures made per packet were ~1.5 KB of garbage on each IPCP request).
 */
interface NcpHooks<O extends { kind: string }> {
  /** Our verdict on the peer's Configure-Request. */
  judge(step: Step, request: ConfigurePacket<O>): Answer;
  /** Our request was acked (before the automaton moves). */
  acked?(step: Step): void;
  /** Our request was Nak'd or rejected: adjust what we ask. */
  refused(step: Step, refusal: ConfigurePacket<O>): void;
  /** More refusals than Max-Configure (RFC 1661 §4.6). */
  notConverging(step: Step): void;
}

const IPCP_HOOKS: NcpHooks<IpcpKnownOption> = {
  judge: judgeIpcpRequest,
  acked(step) {
    if (step.c.role === "client") step.c.address = step.c.ipcpAsk.ipAddress;
  },
  refused: (step, refusal) => applyIpcpRefusal(step.c, refusal),
  notConverging: (step) => ipcpFailed(step, "IPCP failed to converge"),
};

/** An NCP packet (codes 1-7, RFC 1661 §5) through its automaton; an answer must match our last request. */
function onNcpPacket<O extends { kind: string }>(
  step: Step,
  which: "ipcp" | "ipv6cp",
  p: NcpPacket<O>,
  payload: Uint8Array,
  hooks: NcpHooks<O>,
): void {
  const ncp = NEGOTIATED[which].ncp(step.c);
  switch (p.code) {
    case "Configure-Request": {
      const answer = hooks.judge(step, p);
      fsm(step, which, answer.acceptable ? "rcr+" : "rcr-", { request: p, payload, answer });
      return;
    }
    case "Configure-Ack":
      if (p.id !== ncp.id) return;
      hooks.acked?.(step);
      fsm(step, which, "rca");
      return;
    case "Configure-Nak":
    case "Configure-Reject":
      if (p.id !== ncp.id) return;
      if (++ncpOf(step, which).refused > step.c[SETTINGS].maxConfigure) {
        hooks.notConverging(step);
        return;
      }
      hooks.refused(step, p);
      fsm(step, which, "rcn");
      return;
    case "Terminate-Request":
      fsm(step, which, "rtr", { terminateId: p.id });
      return;
    case "Terminate-Ack":
      fsm(step, which, "rta");
      return;
    case "Code-Reject":
      fsm(step, which, "rxj-");
      return;
    default:
      fsm(step, which, "ruc", { unknown: payload });
  }
}

/** Judges the peer's IPCP Configure-Request (RFC 1332 §3, RFC 1877). */
function judgeIpcpRequest(step: Step, p: ConfigurePacket<IpcpKnownOption>): Answer {
  const c = step.c;
  const s = c[SETTINGS];
  const reject: IpcpOption[] = [];
  const nak: IpcpOption[] = [];
  let peerAddress: string | undefined;
  let sawAddress = false;
  for (const o of p.options) {
    if (c.role === "client") {
      if (o.kind === "ipAddress") peerAddress = o.address;
      else reject.push(o);
      continue;
    }
    switch (o.kind) {
      case "ipAddress":
        sawAddress = true;
        // The client's own choice is Nak'd to the address assigned to it.
        if (o.address !== c.address) nak.push({ kind: "ipAddress", address: c.address as string });
        break;
      case "primaryDns":
      case "secondaryDns": {
        const dns = s.dns[o.kind === "primaryDns" ? 0 : 1];
        if (dns === undefined) reject.push(o);
        else if (o.address !== dns) nak.push({ kind: o.kind, address: dns });
        break;
      }
      default:
        reject.push(o);
    }
  }
  if (c.role === "server" && !sawAddress && reject.length === 0) {
    // RFC 1661 §5.3: a Nak may name an option the peer did not send, to ask for it.
    nak.push({ kind: "ipAddress", address: c.address as string });
  }
  if (reject.length > 0) return { acceptable: false, code: "Configure-Reject", options: reject };
  if (nak.length > 0) {
    if (c.ipcpNcp.naks >= s.maxFailure) return { acceptable: false, code: "Configure-Reject", options: nak };
    return { acceptable: false, code: "Configure-Nak", options: nak };
  }
  return {
    acceptable: true,
    adopt: () => {
      if (c.role === "client") c.peerAddress = peerAddress;
    },
  };
}

/** What a client asks in IPCP, in the order of its Configure-Request. */
const IPCP_ASKED = ["ipAddress", "primaryDns", "secondaryDns"] as const;

function ipcpRequestOptions(c: PppContext): IpcpOption[] {
  if (c.role === "server") return [{ kind: "ipAddress", address: c[SETTINGS].localAddress }];
  const options: IpcpOption[] = [];
  for (const kind of IPCP_ASKED) {
    const value = c.ipcpAsk[kind];
    if (value !== undefined) options.push({ kind, address: value });
  }
  return options;
}

function applyIpcpRefusal(c: PppContext, p: ConfigurePacket<IpcpKnownOption>): void {
  if (c.role === "server") return; // Our own address is not negotiable.
  // Copied key by key (a spread of it was 0.6% of the subscriber side's CPU in bench/ppp's profile).
  const ask: PppContext["ipcpAsk"] = {};
  for (const kind of IPCP_ASKED) {
    const value = c.ipcpAsk[kind];
    if (value !== undefined) ask[kind] = value;
  }
  for (const o of p.options) {
    if (o.kind !== "ipAddress" && o.kind !== "primaryDns" && o.kind !== "secondaryDns") continue;
    if (p.code === "Configure-Nak") ask[o.kind] = o.address;
    else delete ask[o.kind];
  }
  c.ipcpAsk = ask;
  c.dnsLearnt = [ask.primaryDns, ask.secondaryDns].filter((d): d is string => !!d && d !== NO_ADDRESS);
}

// ---- IPV6CP (RFC 5072) ----------------------------------------------------------------------------

function onIpv6cp(step: Step, payload: Uint8Array): void {
  const c = step.c;
  // RFC 1661 §3.4: NCP packets before the Network phase are discarded.
  if (c.lcp !== "opened" || c.auth !== "passed") return;
  const decoded = decodeIpv6cp(payload);
  if (!decoded.ok) return;
  onNcpPacket(step, "ipv6cp", decoded.value, payload, IPV6CP_HOOKS);
}

const IPV6CP_HOOKS: NcpHooks<Ipv6cpKnownOption> = {
  judge: judgeIpv6cpRequest,
  refused: (step, refusal) => applyIpv6cpRefusal(step.c, refusal),
  // IPv6 is given up, IPv4 goes on (IPV6CP finishing ends nothing else).
  notConverging: (step) => fsm(step, "ipv6cp", "close"),
};

/**
 * Judges the peer's IPV6CP Configure-Request (RFC 5072 §4.1): its Interface-Identifier is taken unless it
 * is zero (a request for one) or ours (a clash), which get a Nak with a suggestion; a request without one
 * gets a suggestion once; compression (§4.2) and unknown options are rejected.
 */
function judgeIpv6cpRequest(step: Step, p: ConfigurePacket<Ipv6cpKnownOption>): Answer {
  const c = step.c;
  const reject: Ipv6cpOption[] = [];
  const nak: Ipv6cpOption[] = [];
  let peerId: string | undefined;
  let sawId = false;
  for (const o of p.options) {
    if (o.kind !== "interfaceIdentifier") {
      reject.push(o);
      continue;
    }
    sawId = true;
    if (o.id === ZERO_INTERFACE_ID || o.id === c.localInterfaceId) nak.push(suggestInterfaceId(c, o.id));
    else peerId = o.id;
  }
  if (!sawId && reject.length === 0 && c.interfaceIdSuggested === undefined) {
    // RFC 5072 §4.1: ask once for the option the peer left out; if it leaves it out again, accept that.
    nak.push(suggestInterfaceId(c, ZERO_INTERFACE_ID));
  }
  if (reject.length > 0) return { acceptable: false, code: "Configure-Reject", options: reject };
  if (nak.length > 0) {
    if (c.ipv6cpNcp.naks >= c[SETTINGS].maxFailure)
      return { acceptable: false, code: "Configure-Reject", options: nak };
    return { acceptable: false, code: "Configure-Nak", options: nak };
  }
  return {
    acceptable: true,
    adopt: () => {
      c.peerInterfaceId = peerId;
    },
  };
}

/** An identifier for the peer: unlike ours, unlike what it sent, and unlike our last suggestion. */
function suggestInterfaceId(c: PppContext, sent: string): Ipv6cpKnownOption {
  let id = nextInterfaceId(c.interfaceIdSuggested ?? sent, c.localMagic);
  while (id === c.localInterfaceId || id === sent) id = nextInterfaceId(id, c.localMagic);
  c.interfaceIdSuggested = id;
  return { kind: "interfaceIdentifier", id };
}

function ipv6cpRequestOptions(c: PppContext): Ipv6cpOption[] {
  return c.localInterfaceId === undefined ? [] : [{ kind: "interfaceIdentifier", id: c.localInterfaceId }];
}

/**
 * A Nak or Reject of our IPV6CP request (RFC 5072 §4.1): a suggested identifier is taken, unless it is
 * the one we suggested to the peer (then we pick a new one); a Reject means we stop sending the option.
 */
function applyIpv6cpRefusal(c: PppContext, p: ConfigurePacket<Ipv6cpKnownOption>): void {
  for (const o of p.options) {
    if (o.kind !== "interfaceIdentifier") continue;
    if (p.code === "Configure-Reject") c.localInterfaceId = undefined;
    else if (o.id === ZERO_INTERFACE_ID || o.id === c.interfaceIdSuggested || o.id === c.peerInterfaceId) {
      let id = nextInterfaceId(c.localInterfaceId ?? o.id, ~c.localMagic);
      while (id === o.id || id === c.interfaceIdSuggested || id === c.peerInterfaceId)
        id = nextInterfaceId(id, ~c.localMagic);
      c.localInterfaceId = id;
    } else c.localInterfaceId = o.id;
  }
}

// ---- authentication -------------------------------------------------------------------------------

function onPap(step: Step, payload: Uint8Array): void {
  const c = step.c;
  if (c.lcp !== "opened" || c.authProtocol !== "pap") return;
  const decoded = decodePap(payload);
  if (!decoded.ok) return;
  const p = decoded.value;
  if (c.role === "server") {
    if (p.code !== "Authenticate-Request") return;
    if (c.auth === "passed") {
      // Our Ack was lost: the peer asks again (RFC 1334 §2.2.1).
      if (p.id === c.authId)
        send(step, PppProtocol.PAP, encodePap({ code: "Authenticate-Ack", id: p.id, message: EMPTY }));
      return;
    }
    if (c.auth !== "waiting") return; // Checking already: the retransmission waits for the answer.
    checkCredentials(step, p.id, { method: "pap", user: decoder.decode(p.peerId), password: p.password });
    return;
  }
  if (c.auth !== "waiting" || p.id !== c.authId) return;
  if (p.code === "Authenticate-Ack") authPassed(step);
  else if (p.code === "Authenticate-Nak") {
    step.out.push({ type: "cancel", timer: "timer.auth" });
    terminate(
      step,
      pppCause(
        PppDisconnectCode.authFailed,
        PppProtocol.PAP,
        PppDirection.peer,
        `PAP refused: ${decoder.decode(p.message)}`,
      ),
    );
  }
}

function onChap(step: Step, payload: Uint8Array): void {
  const c = step.c;
  if (c.lcp !== "opened" || c.authProtocol !== "chap") return;
  const decoded = decodeChap(payload);
  if (!decoded.ok) return;
  const p = decoded.value;
  if (c.role === "server") {
    if (p.code !== "Response") return;
    if (c.auth === "passed") {
      if (p.id === c.authId)
        send(step, PppProtocol.CHAP, encodeChap({ code: "Success", id: p.id, message: EMPTY }));
      return;
    }
    // RFC 1994 §4.1: a Response must answer our current Challenge's Identifier.
    if (c.auth !== "challenged" || p.id !== c.authId || !c.challenge) return;
    const user = decoder.decode(p.name);
    checkCredentials(step, p.id, {
      method: "chap",
      user,
      id: p.id,
      challenge: c.challenge,
      response: p.value,
    });
    return;
  }
  switch (p.code) {
    case "Challenge": {
      if (c.auth === "passed") return;
      c.authId = p.id;
      c.auth = "waiting";
      c.challenge = p.value;
      c.authTries = c[SETTINGS].maxConfigure;
      sendChapResponse(step);
      return;
    }
    case "Success":
      if (c.auth === "waiting" && p.id === c.authId) authPassed(step);
      return;
    case "Failure":
      if (c.auth === "waiting" && p.id === c.authId) {
        terminate(
          step,
          pppCause(
            PppDisconnectCode.authFailed,
            PppProtocol.CHAP,
            PppDirection.peer,
            `CHAP failure: ${decoder.decode(p.message)}`,
          ),
        );
      }
      return;
  }
}

/** LCP is up (RFC 1661 §3.5): authenticate, or go to the Network phase when no protocol was agreed. */
function lcpUp(step: Step): void {
  const c = step.c;
  if (c.authProtocol === undefined) {
    authPassed(step);
    return;
  }
  if (c.role === "client") {
    c.auth = "waiting";
    if (c.authProtocol === "pap") sendPapRequest(step, true);
    return;
  }
  const proxy = c.proxy;
  c.proxy = undefined;
  if (proxy && c.proxied) {
    const credentials = proxyCredentials(proxy, c.authProtocol);
    if (credentials) {
      // RFC 2661 §4.4.5: the LAC authenticated the subscriber; AAA verifies what it saw.
      c.user = credentials.user;
      c.authId = proxy.proxyAuthenId ?? 0;
      c.auth = "checking";
      step.out.push({ type: "authenticate", credentials });
      return;
    }
  }
  if (c.authProtocol === "chap") {
    c.authTries = c[SETTINGS].maxConfigure;
    sendChallenge(step);
  } else {
    c.auth = "waiting";
    step.out.push({ type: "schedule", timer: "timer.auth", ms: c[SETTINGS].authTimeoutMs });
  }
}

/** Server: the peer's credentials are in; AAA checks them, and its retransmissions wait for the answer. */
function checkCredentials(step: Step, id: number, credentials: Credentials): void {
  const c = step.c;
  c.authId = id;
  c.user = credentials.user;
  c.auth = "checking";
  step.out.push({ type: "cancel", timer: "timer.auth" });
  step.out.push({ type: "authenticate", credentials });
}

/** The credentials of a proxy authentication, when it is complete and of the agreed protocol. */
function proxyCredentials(proxy: ProxyInfo, auth: AuthMethod): Credentials | undefined {
  const user = proxy.proxyAuthenName;
  if (user === undefined || proxy.proxyAuthenResponse === undefined) return undefined;
  if (auth === "pap" && proxy.proxyAuthenType === ProxyAuthenType.pap) {
    return { method: "pap", user, password: proxy.proxyAuthenResponse };
  }
  if (
    auth === "chap" &&
    proxy.proxyAuthenType === ProxyAuthenType.chap &&
    proxy.proxyAuthenChallenge !== undefined &&
    proxy.proxyAuthenId !== undefined
  ) {
    return {
      method: "chap",
      user,
      id: proxy.proxyAuthenId,
      challenge: proxy.proxyAuthenChallenge,
      response: proxy.proxyAuthenResponse,
    };
  }
  return undefined;
}

function sendChallenge(step: Step): void {
  const c = step.c;
  const challenge = c.challenge ?? EMPTY;
  c.authId = (c.authId + 1) & 0xff;
  c.auth = "challenged";
  c.authTries--;
  const name = encoder.encode(c[SETTINGS].hostName);
  send(step, PppProtocol.CHAP, encodeChap({ code: "Challenge", id: c.authId, value: challenge, name }));
  step.out.push({ type: "schedule", timer: "timer.auth", ms: c[SETTINGS].restartMs });
}

/**
 * Client: the Response to the current Challenge, sent again each restart period until Success or
 * Failure comes: a lost Success is otherwise never resent, and the link would hang in the Authenticate
 * phase (RFC 1994 §4.2: the authenticator answers a repeated Response with Success again).
 */
function sendChapResponse(step: Step): void {
  const c = step.c;
  c.authTries--;
  const secret = c[SETTINGS].password ?? "";
  const name = encoder.encode(c[SETTINGS].user ?? c[SETTINGS].hostName);
  const value = chapMd5Response(c.authId, secret, c.challenge ?? EMPTY);
  send(step, PppProtocol.CHAP, encodeChap({ code: "Response", id: c.authId, value, name }));
  step.out.push({ type: "schedule", timer: "timer.auth", ms: c[SETTINGS].restartMs });
}

function sendPapRequest(step: Step, first: boolean): void {
  const c = step.c;
  if (first) c.authTries = c[SETTINGS].maxConfigure;
  c.authId = (c.authId + 1) & 0xff;
  c.authTries--;
  const peerId = encoder.encode(c[SETTINGS].user ?? "");
  const password = encoder.encode(c[SETTINGS].password ?? "");
  send(step, PppProtocol.PAP, encodePap({ code: "Authenticate-Request", id: c.authId, peerId, password }));
  step.out.push({ type: "schedule", timer: "timer.auth", ms: c[SETTINGS].restartMs });
}

function onAuthTimer(step: Step): void {
  const c = step.c;
  if (c.lcp !== "opened") return;
  const retry = c.authTries > 0;
  if (c.role === "server" && c.auth === "challenged" && retry) sendChallenge(step);
  else if (c.role === "client" && c.auth === "waiting" && c.authProtocol === "pap" && retry) {
    sendPapRequest(step, false);
  } else if (c.role === "client" && c.auth === "waiting" && c.challenge !== undefined && retry) {
    sendChapResponse(step);
  } else if (c.auth === "waiting" || c.auth === "challenged") {
    const protocol = c.authProtocol === "pap" ? PppProtocol.PAP : PppProtocol.CHAP;
    terminate(
      step,
      pppCause(PppDisconnectCode.authTimeout, protocol, PppDirection.local, "authentication timed out"),
    );
  }
}

/** The answer of AAA (server): tell the peer (RFC 1334 §2.2.2, RFC 1994 §4.2), then go on or end. */
function onAuthenticated(step: Step, ok: boolean, message: string): void {
  const c = step.c;
  if (c.auth !== "checking" || c.lcp !== "opened") return;
  const text = encoder.encode(message.slice(0, 200));
  if (c.authProtocol === "pap") {
    send(
      step,
      PppProtocol.PAP,
      encodePap({ code: ok ? "Authenticate-Ack" : "Authenticate-Nak", id: c.authId, message: text }),
    );
  } else {
    send(
      step,
      PppProtocol.CHAP,
      encodeChap({ code: ok ? "Success" : "Failure", id: c.authId, message: text }),
    );
  }
  if (ok) {
    authPassed(step);
    return;
  }
  const protocol = c.authProtocol === "pap" ? PppProtocol.PAP : PppProtocol.CHAP;
  terminate(
    step,
    pppCause(PppDisconnectCode.authFailed, protocol, PppDirection.local, `authentication failed: ${message}`),
  );
}

/** Authentication is done (or none was agreed): the Network phase (RFC 1661 §3.6). */
function authPassed(step: Step): void {
  const c = step.c;
  c.auth = "passed";
  // Not needed past here (a repeated Response is answered by its Identifier alone, RFC 1994 §4.2); a
  // client's is a view into the datagram that brought it, which would otherwise live as long as the link.
  c.challenge = undefined;
  step.out.push({ type: "cancel", timer: "timer.auth" });
  if (c[SETTINGS].ipv6) {
    // IPV6CP needs no address from AAA: it starts with the Network phase (RFC 1661 §3.6).
    fsm(step, "ipv6cp", "up");
    fsm(step, "ipv6cp", "open");
  }
  if (c.role === "server") {
    step.out.push({ type: "needAddress" });
    return;
  }
  c.ipcpAsk = { ipAddress: NO_ADDRESS };
  if (c[SETTINGS].dns.length > 0) {
    c.ipcpAsk.primaryDns = NO_ADDRESS;
    c.ipcpAsk.secondaryDns = NO_ADDRESS;
  }
  fsm(step, "ipcp", "up");
  fsm(step, "ipcp", "open");
}

function onAddress(step: Step, address: string | undefined, failure: string | undefined): void {
  const c = step.c;
  if (c.role !== "server" || c.auth !== "passed" || c.address !== undefined) return;
  if (address === undefined) {
    terminate(
      step,
      pppCause(
        PppDisconnectCode.noNcps,
        PppProtocol.IPCP,
        PppDirection.local,
        failure ?? "no address to assign",
      ),
    );
    return;
  }
  c.address = address;
  c.peerAddress = c[SETTINGS].localAddress;
  fsm(step, "ipcp", "up");
  fsm(step, "ipcp", "open");
  const early = c.earlyIpcp;
  if (early) {
    c.earlyIpcp = undefined;
    onIpcp(step, early);
  }
}

// ---- the automaton's actions ----------------------------------------------------------------------

/** What an event brings for the automaton's send actions. */
interface FsmExtra {
  /** RCR: the request, its raw payload, and our verdict. */
  request?: { id: number };
  payload?: Uint8Array;
  answer?: Answer;
  /** RTR: the Terminate-Request's Identifier. */
  terminateId?: number;
  /** RUC: the packet with the unknown code. */
  unknown?: Uint8Array;
}

type Which = "lcp" | "ipcp" | "ipv6cp";

type AnyConfigurePacket =
  | ConfigurePacket<LcpKnownOption>
  | ConfigurePacket<IpcpKnownOption>
  | ConfigurePacket<Ipv6cpKnownOption>;
type AnyPacket =
  | AnyConfigurePacket
  | { code: "Terminate-Request" | "Terminate-Ack"; id: number; data: Uint8Array }
  | {
      code: "Code-Reject";
      id: number;
      rejected: Uint8Array;
    };

/** What differs between the automata: their protocol, their timer, their codec and their own request. */
const NEGOTIATED: Record<
  Which,
  {
    protocol: number;
    timer: PppTimer;
    ncp: (c: PppContext) => NcpState;
    encode: (packet: AnyPacket) => Uint8Array;
    requestOptions: (c: PppContext) => (LcpOption | IpcpOption | Ipv6cpOption)[];
  }
> = {
  lcp: {
    protocol: PppProtocol.LCP,
    timer: "timer.lcp",
    ncp: (c) => c.lcpNcp,
    encode: (packet) => encodeLcp(packet as Parameters<typeof encodeLcp>[0]),
    requestOptions: lcpRequestOptions,
  },
  ipcp: {
    protocol: PppProtocol.IPCP,
    timer: "timer.ipcp",
    ncp: (c) => c.ipcpNcp,
    encode: (packet) => encodeIpcp(packet as Parameters<typeof encodeIpcp>[0]),
    requestOptions: ipcpRequestOptions,
  },
  ipv6cp: {
    protocol: PppProtocol.IPv6CP,
    timer: "timer.ipv6cp",
    ncp: (c) => c.ipv6cpNcp,
    encode: (packet) => encodeIpv6cp(packet as Parameters<typeof encodeIpv6cp>[0]),
    requestOptions: ipv6cpRequestOptions,
  },
};

/** Runs `event` through the automaton of `which` (RFC 1661 §4.1) and performs its actions in order. */
function fsm(step: Step, which: Which, event: FsmEvent, extra: FsmExtra = {}): void {
  const c = step.c;
  const negotiated = NEGOTIATED[which];
  const t = fsmStep(negotiated.ncp(c).state, event);
  if (!t) return;
  const ncp = ncpOf(step, which);
  const { protocol, timer, encode } = negotiated;
  let armed = false;
  for (const action of t.actions) {
    switch (action) {
      case "irc":
        ncp.counter =
          t.next === "closing" || t.next === "stopping" ? c[SETTINGS].maxTerminate : c[SETTINGS].maxConfigure;
        break;
      case "zrc":
        ncp.counter = 0;
        armed = true;
        break;
      case "scr": {
        ncp.counter--;
        ncp.id = (ncp.id + 1) & 0xff;
        const payload = encode({
          code: "Configure-Request",
          id: ncp.id,
          options: negotiated.requestOptions(c),
        } as AnyConfigurePacket);
        // RFC 2661 §4.4.5 AVP 27: the last Configure-Request sent, from its first option.
        if (which === "lcp" && c[SETTINGS].lac === true) c.lcpLastSent = payload.subarray(4);
        send(step, protocol, payload);
        armed = true;
        break;
      }
      case "sca": {
        // RFC 1661 §5.2: the Ack repeats the request's options exactly: the same bytes, code 2.
        const payload = extra.payload as Uint8Array;
        const ack = payload.slice();
        ack[0] = 2;
        extra.answer?.adopt?.();
        ncp.naks = 0;
        send(step, protocol, ack);
        break;
      }
      case "scn": {
        const answer = extra.answer as Answer;
        const id = extra.request?.id ?? 0;
        if (answer.code === "Configure-Nak") ncp.naks++;
        send(
          step,
          protocol,
          encode({ code: answer.code, id, options: answer.options ?? [] } as AnyConfigurePacket),
        );
        break;
      }
      case "str": {
        ncp.counter--;
        ncp.id = (ncp.id + 1) & 0xff;
        const packet = { code: "Terminate-Request" as const, id: ncp.id, data: EMPTY };
        send(step, protocol, encode(packet));
        armed = true;
        break;
      }
      case "sta": {
        send(step, protocol, encode({ code: "Terminate-Ack", id: extra.terminateId ?? 0, data: EMPTY }));
        break;
      }
      case "scj": {
        ncp.id = (ncp.id + 1) & 0xff;
        const rejected = (extra.unknown ?? EMPTY).subarray(0, Math.max(0, c.peerMru - 8));
        send(step, protocol, encode({ code: "Code-Reject", id: ncp.id, rejected }));
        break;
      }
      case "ser":
        break; // Echo-Requests are answered in onLcp, where the packet is at hand.
      case "tlu":
        if (which === "lcp") lcpUp(step);
        else if (which === "ipcp") ipcpUp(step);
        else ipv6cpUp(step);
        break;
      case "tld":
        if (which === "lcp") {
          // RFC 1661 §3.7: LCP leaving Opened takes the network layer down with it.
          fsm(step, "ipcp", "down");
          fsm(step, "ipv6cp", "down");
        }
        break;
      case "tls":
        break;
      case "tlf":
        if (which === "lcp") lcpFinished(step, event);
        else if (which === "ipcp") ipcpFinished(step);
        break;
    }
  }
  ncp.state = t.next;
  c[which] = t.next;
  if (armed) step.out.push({ type: "schedule", timer, ms: c[SETTINGS].restartMs });
  else if (!restartTimerRuns(t.next)) step.out.push({ type: "cancel", timer });
}

function ipcpUp(step: Step): void {
  const c = step.c;
  step.out.push({ type: "up", address: c.address ?? NO_ADDRESS, user: c.user });
}

/** IPV6CP is up; when it finishes instead (the peer runs no IPv6), the link goes on with IPv4 alone. */
function ipv6cpUp(step: Step): void {
  const c = step.c;
  step.out.push({ type: "ipv6Up", localInterfaceId: c.localInterfaceId, peerInterfaceId: c.peerInterfaceId });
}

/** IPCP finished (TO-, rejected): no network layer is left, so the link ends (RFC 3145 code 18/19). */
function ipcpFinished(step: Step): void {
  if (step.c.cause) return;
  ipcpFailed(step, "IPCP did not come up");
}

/** IPCP cannot bring the network layer up: the link is terminated (RFC 3145 code 19, on our side). */
function ipcpFailed(step: Step, message: string): void {
  terminate(
    step,
    pppCause(PppDisconnectCode.ncpFailedToConverge, PppProtocol.IPCP, PppDirection.local, message),
  );
}

/** LCP finished (RFC 1661 §4.4 tlf): the link is dead. */
function lcpFinished(step: Step, event: FsmEvent): void {
  const c = step.c;
  if (!c.cause) {
    c.cause =
      event === "to-"
        ? pppCause(
            PppDisconnectCode.lcpPeerSilent,
            PppProtocol.LCP,
            PppDirection.local,
            "LCP: the peer did not answer",
          )
        : pppCause(PppDisconnectCode.lcpFailedToConverge, PppProtocol.LCP, PppDirection.local, "LCP failed");
  }
  c.ended = true;
  step.out.push({ type: "cancel", timer: "timer.auth" });
  step.out.push({ type: "cancel", timer: "timer.ipcp" });
  if (c[SETTINGS].ipv6) step.out.push({ type: "cancel", timer: "timer.ipv6cp" });
  step.out.push({ type: "finished", cause: c.cause });
}

/** Ends the link with a Terminate-Request (RFC 1661 §3.7), keeping the first cause. */
function terminate(step: Step, cause: PppCause): void {
  const c = step.c;
  if (!c.cause) c.cause = cause;
  if (c.lcp === "closing" || c.lcp === "stopping") return;
  if (c.lcp === "initial" || c.lcp === "starting" || c.lcp === "closed" || c.lcp === "stopped") {
    finish(step, c.cause);
    return;
  }
  fsm(step, "lcp", "close");
}

/** Ends the link at once (no frame): the cause stays, every timer stops, `finished` goes out. */
function finish(step: Step, cause: PppCause): void {
  const c = step.c;
  if (!c.cause) c.cause = cause;
  c.ended = true;
  c.lcp = ncpOf(step, "lcp").state = c.lcp === "initial" ? "initial" : "closed";
  if (c.ipcp !== "initial") c.ipcp = ncpOf(step, "ipcp").state = "initial";
  if (c.ipv6cp !== "initial") c.ipv6cp = ncpOf(step, "ipv6cp").state = "initial";
  step.out.push({ type: "cancel", timer: "timer.lcp" });
  step.out.push({ type: "cancel", timer: "timer.ipcp" });
  if (c[SETTINGS].ipv6) step.out.push({ type: "cancel", timer: "timer.ipv6cp" });
  step.out.push({ type: "cancel", timer: "timer.auth" });
  step.out.push({ type: "finished", cause: c.cause });
}

function send(step: Step, protocol: number, payload: Uint8Array): void {
  step.out.push({ type: "send", protocol, payload });
}

/** The PPP frame of a control packet (RFC 1661 §2; Address and Control kept, as LCP requires). */
export function pppFrame(protocol: number, payload: Uint8Array): Uint8Array {
  // Written in place: one allocation, no intermediate header array.
  const frame = new Uint8Array(PPP_HEADER_LENGTH + payload.length);
  writePppHeader(frame, 0, protocol);
  frame.set(payload, PPP_HEADER_LENGTH);
  return frame;
}

/**
 * The module's own hot code, which adapters/jit keeps out of JSC's top tier with what it exports (it
 * reaches nothing else: these are not exported to be used).
 */
export const hotInternals: readonly unknown[] = [
  ncpOf,
  nextMagic,
  sameNcp,
  settle,
  onFrame,
  rejectProtocol,
  lcpLength,
  onLcp,
  onProtocolReject,
  authOption,
  authMethodOf,
  judgeLcpRequest,
  lcpRequestOptions,
  applyLcpAck,
  applyLcpRefusal,
  onIpcp,
  onNcpPacket,
  judgeIpcpRequest,
  ipcpRequestOptions,
  applyIpcpRefusal,
  onIpv6cp,
  judgeIpv6cpRequest,
  ipv6cpRequestOptions,
  onPap,
  onChap,
  lcpUp,
  checkCredentials,
  proxyCredentials,
  sendChallenge,
  sendChapResponse,
  sendPapRequest,
  onAuthTimer,
  onAuthenticated,
  authPassed,
  onAddress,
  fsm,
  ipcpUp,
  ipv6cpUp,
  ipcpFinished,
  ipcpFailed,
  lcpFinished,
  terminate,
  finish,
  send,
];
