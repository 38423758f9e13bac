/**
 * Proxy LCP acceptance (RFC 2661 §4.4.5; the E-series LNS rules): whether the LCP options that the LAC
 * negotiated with the subscriber (Initial Received, Last Sent and Last Received LCP CONFREQ, AVPs 26-28)
 * can be taken over as they are, so that LCP goes straight to Opened without a renegotiation. One pure
 * function; each rule has its unit test (test/machines/ppp/proxy-lcp.test.ts).
 */
import type { Credentials } from "../../actors/aaa.ts";
import type { Avps } from "../../protocol/l2tp/avps.ts";
import { type LcpOption, lcpOptions } from "../../protocol/ppp/lcp.ts";
import { ChapAlgorithm, PppProtocol } from "../../protocol/ppp/numbers.ts";
import { decodeOptions } from "../../protocol/ppp/options.ts";
import type { ProxyInfo } from "./endpoint.ts";

/** An authentication protocol a PPP endpoint runs (RFC 1334 PAP, RFC 1994 CHAP with MD5). */
export type AuthMethod = "pap" | "chap";

/** RFC 2661 §4.4.5 Proxy Authen Type values. */
export const ProxyAuthenType = { textual: 1, chap: 2, pap: 3, none: 4, msChapV1: 5 } as const;

/** What an LNS allows of a proxied LCP. */
export interface ProxyLcpPolicy {
  /** The smallest MRU of the subscriber's that is accepted. */
  minMru: number;
  /** The largest MRU that fits the path (1460 on L2TP over a 1500-byte link). */
  maxMru: number;
  /** Authentication protocols this LNS runs, most preferred first. */
  authProtocols: readonly AuthMethod[];
}

/** One side's negotiated LCP values, as the proxy says they were agreed. */
export interface LcpSide {
  magic: number;
  /** RFC 1661 §6.1: 1500 when the option was not negotiated. */
  mru: number;
  pfc: boolean;
  acfc: boolean;
}

/** The verdict on a session's proxy LCP. */
export type ProxyLcpVerdict =
  /** No Last Sent LCP CONFREQ: there is no proxy LCP; negotiate LCP. */
  | { kind: "absent" }
  /** Take it over: `local` is what the LAC sent (our side from now on), `peer` what the subscriber sent. */
  | { kind: "acceptable"; local: LcpSide; peer: LcpSide; auth: AuthMethod | undefined }
  /** Well formed but not acceptable here (renegotiate, or refuse with RFC 3145 code 2). */
  | { kind: "unacceptable"; reason: string }
  /** The AVPs do not parse: the call fails with this reason. */
  | { kind: "malformed"; reason: string };

/** RFC 1661 §6.1: the MRU when none was negotiated. */
const DEFAULT_MRU = 1500;

/** Options a proxied LCP may carry (anything else, MRRU, endpoint discriminator, callback …, is refused). */
const ALLOWED: ReadonlySet<string> = new Set(["mru", "accm", "authProtocol", "magicNumber", "pfc", "acfc"]);

function optionName(option: LcpOption): string {
  return option.kind === "unknown" ? `option ${(option as { type: number }).type}` : option.kind;
}

function side(options: readonly LcpOption[]): LcpSide {
  const s: LcpSide = { magic: 0, mru: DEFAULT_MRU, pfc: false, acfc: false };
  for (const o of options) {
    if (o.kind === "magicNumber") s.magic = o.value;
    else if (o.kind === "mru") s.mru = o.value;
    else if (o.kind === "pfc") s.pfc = true;
    else if (o.kind === "acfc") s.acfc = true;
  }
  return s;
}

/** The authentication protocol an Auth-Protocol option names, or a reason it is none we run. */
function authOf(options: readonly LcpOption[]): { auth: AuthMethod | undefined } | { refused: string } {
  for (const o of options) {
    if (o.kind !== "authProtocol") continue;
    if (o.protocol === PppProtocol.PAP) return { auth: "pap" };
    if (o.protocol === PppProtocol.CHAP && o.algorithm === ChapAlgorithm.MD5) return { auth: "chap" };
    const algorithm = o.algorithm !== undefined ? ` algorithm 0x${o.algorithm.toString(16)}` : "";
    return { refused: `Auth-Protocol 0x${o.protocol.toString(16)}${algorithm} is not one this LNS runs` };
  }
  return { auth: undefined };
}

/** The Proxy Authen Type an authentication protocol goes with (RFC 2661 §4.4.5). */
function proxyTypeOf(auth: AuthMethod | undefined): number {
  return auth === "pap" ? ProxyAuthenType.pap : auth === "chap" ? ProxyAuthenType.chap : ProxyAuthenType.none;
}

/** Judges a session's proxy LCP (the ICCN's AVPs) against the LNS's policy. */
export function judgeProxyLcp(avps: Avps, policy: ProxyLcpPolicy): ProxyLcpVerdict {
  // Proxy LCP counts as present when Last Sent CONFREQ is.
  if (avps.lastSentLcpConfReq === undefined) return { kind: "absent" };
  if (avps.lastReceivedLcpConfReq === undefined) {
    return { kind: "malformed", reason: "Last Sent LCP CONFREQ without Last Received LCP CONFREQ" };
  }
  const sent = decodeOptions(avps.lastSentLcpConfReq, lcpOptions, "Last Sent LCP CONFREQ");
  if (!sent.ok) return { kind: "malformed", reason: `${sent.error.field}: ${sent.error.reason}` };
  const received = decodeOptions(avps.lastReceivedLcpConfReq, lcpOptions, "Last Received LCP CONFREQ");
  if (!received.ok) return { kind: "malformed", reason: `${received.error.field}: ${received.error.reason}` };
  if (avps.initialReceivedLcpConfReq !== undefined) {
    const initial = decodeOptions(avps.initialReceivedLcpConfReq, lcpOptions, "Initial Received LCP CONFREQ");
    if (!initial.ok) return { kind: "malformed", reason: `${initial.error.field}: ${initial.error.reason}` };
  }
  for (const [list, name] of [
    [sent.value, "Last Sent"],
    [received.value, "Last Received"],
  ] as const) {
    for (const o of list) {
      if (!ALLOWED.has(o.kind)) {
        return {
          kind: "unacceptable",
          reason: `${name} LCP CONFREQ has ${optionName(o)}, which the LNS does not take over`,
        };
      }
    }
  }
  const local = side(sent.value);
  const peer = side(received.value);
  if (peer.mru < policy.minMru) {
    return {
      kind: "unacceptable",
      reason: `the subscriber's MRU ${peer.mru} is below the minimum ${policy.minMru}`,
    };
  }
  if (peer.mru > policy.maxMru) {
    return {
      kind: "unacceptable",
      reason: `the subscriber's MRU ${peer.mru} does not fit the path (${policy.maxMru})`,
    };
  }
  // RFC 1661 §6.4: equal magic numbers mean a looped-back link.
  if (local.magic !== 0 && local.magic === peer.magic) {
    return { kind: "unacceptable", reason: "the two magic numbers are equal" };
  }
  const auth = authOf(sent.value);
  if ("refused" in auth) return { kind: "unacceptable", reason: auth.refused };
  if (auth.auth === undefined) {
    if (policy.authProtocols.length > 0) {
      return {
        kind: "unacceptable",
        reason: "the LAC negotiated no authentication and this LNS requires it",
      };
    }
  } else if (!policy.authProtocols.includes(auth.auth)) {
    return { kind: "unacceptable", reason: `${auth.auth.toUpperCase()} is not allowed on this LNS` };
  }
  if (avps.proxyAuthenType !== undefined && avps.proxyAuthenType !== proxyTypeOf(auth.auth)) {
    return {
      kind: "unacceptable",
      reason: `Proxy Authen Type ${avps.proxyAuthenType} does not match the negotiated ${auth.auth?.toUpperCase() ?? "no authentication"}`,
    };
  }
  return { kind: "acceptable", local, peer, auth: auth.auth };
}

/**
 * A LAC's proxy AVPs for the ICCN (RFC 2661 §4.4.5, AVPs 26-33) from its real negotiation with the
 * subscriber: the LCP Configure-Requests its server endpoint kept (settings.lac) and the credentials
 * the subscriber presented. PAP's Proxy Authen Response is the password in clear: the tunnel hides it
 * (RFC 2661 §4.3) whenever it has a secret, and the event log redacts it.
 */
export function proxyAvpsOf(
  negotiated: {
    lcpInitialReceived?: Uint8Array | undefined;
    lcpLastSent?: Uint8Array | undefined;
    lcpLastReceived?: Uint8Array | undefined;
    /** The Identifier of the subscriber's PAP Authenticate-Request or of our CHAP Challenge. */
    authId: number;
  },
  credentials: Credentials,
): ProxyInfo {
  const out: ProxyInfo = {};
  if (negotiated.lcpInitialReceived) out.initialReceivedLcpConfReq = negotiated.lcpInitialReceived;
  if (negotiated.lcpLastSent) out.lastSentLcpConfReq = negotiated.lcpLastSent;
  if (negotiated.lcpLastReceived) out.lastReceivedLcpConfReq = negotiated.lcpLastReceived;
  out.proxyAuthenName = credentials.user;
  switch (credentials.method) {
    case "pap":
      out.proxyAuthenType = ProxyAuthenType.pap;
      // The LNS's Authenticate-Ack must carry the request's Identifier (RFC 1334 §2.2.2).
      out.proxyAuthenId = negotiated.authId;
      out.proxyAuthenResponse = credentials.password;
      break;
    case "chap":
      out.proxyAuthenType = ProxyAuthenType.chap;
      out.proxyAuthenChallenge = credentials.challenge;
      out.proxyAuthenId = credentials.id;
      out.proxyAuthenResponse = credentials.response;
      break;
    case "none":
      out.proxyAuthenType = ProxyAuthenType.none;
      break;
  }
  return out;
}
