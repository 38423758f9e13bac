/**
 * Why a PPP link ended, in the words of RFC 3145 (L2TP Disconnect Cause Information): the code, the PPP
 * protocol that ended it and who did (direction), carried by the CDN's PPP Disconnect Cause Code AVP
 * (46) and recorded in the event log, and mapped to RADIUS Acct-Terminate-Cause (RFC 2866 §5.10).
 */
import { AcctTerminateCause } from "../../actors/aaa.ts";
import type { PppDisconnectCause } from "../../protocol/l2tp/avps.ts";

/** RFC 3145 §3.2 disconnect codes this product sends. */
export const PppDisconnectCode = {
  noInformation: 0,
  adminDisconnect: 1,
  /** LCP renegotiation at the LNS disabled (proxy LCP not acceptable and renegotiation off). */
  renegotiationDisabled: 2,
  /** Normal disconnection: an LCP Terminate-Request was sent (the direction says by whom). */
  normal: 3,
  /** LCP failed to converge (Max-Failure Naks, or the peer rejected what we cannot do without). */
  lcpFailedToConverge: 5,
  /** LCP: the peer was silent (Max-Configure Configure-Requests unanswered). */
  lcpPeerSilent: 6,
  /** LCP: the peer's Magic-Number was ours, again and again (a looped-back link). */
  lcpMagicNumberError: 7,
  /** LCP: Echo-Requests unanswered (keepalive). */
  lcpKeepalive: 8,
  /** Authentication timed out. */
  authTimeout: 13,
  /** No authentication protocol acceptable to both sides. */
  authProtocolRefused: 15,
  /** Authentication failed. */
  authFailed: 16,
  /** No NCP came up (IPCP: no address to assign, or it was rejected). */
  noNcps: 18,
  /** An NCP failed to converge. */
  ncpFailedToConverge: 19,
} as const;

/** RFC 3145 §3.1 direction: 0 global, 1 at the peer, 2 local. */
export const PppDirection = { global: 0, peer: 1, local: 2 } as const;

/** Why a PPP link ended. */
export interface PppCause extends PppDisconnectCause {
  /** For a person (also the AVP's advisory message, RFC 3145 §3.1). */
  message: string;
}

/** Builds a PppCause. */
export function pppCause(code: number, protocol: number, direction: number, message: string): PppCause {
  return { code, protocol, direction, message };
}

/** RFC 2866 §5.10 Acct-Terminate-Cause for a PPP cause. */
export function acctTerminateCause(cause: PppCause | undefined): number {
  switch (cause?.code) {
    case PppDisconnectCode.adminDisconnect:
      return AcctTerminateCause.adminReset;
    case PppDisconnectCode.normal:
      return cause.direction === PppDirection.peer
        ? AcctTerminateCause.userRequest
        : AcctTerminateCause.nasRequest;
    case PppDisconnectCode.lcpKeepalive:
    case PppDisconnectCode.lcpPeerSilent:
      return AcctTerminateCause.lostService;
    case PppDisconnectCode.authFailed:
    case PppDisconnectCode.authTimeout:
    case PppDisconnectCode.authProtocolRefused:
      return AcctTerminateCause.userError;
    case PppDisconnectCode.noNcps:
      return AcctTerminateCause.serviceUnavailable;
    default:
      return AcctTerminateCause.nasRequest;
  }
}
