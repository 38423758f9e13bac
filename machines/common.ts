/**
 * What the four machines (system → destination → tunnel → session) share: where an actor sits in the
 * tree, the administrative state every level has, and the cause an actor carries when it ends.
 */
import type { PppDisconnectCause, ResultCode } from "../protocol/l2tp/avps.ts";
import { StopCcnResult } from "../protocol/l2tp/result-codes.ts";

/**
 * Where an actor sits in the tree. Every machine keeps its path in its context, so that one `inspect`
 * observer (the event recorder) can tell which destination, tunnel or session a transition belongs to.
 */
export interface ActorPath {
  /** The node (one running system). */
  system: string;
  /** The destination: the peer's "address:port". */
  destination?: string;
  /** Our local tunnel id (RFC 2661 §4.4.3 Assigned Tunnel ID that we chose). */
  tunnel?: number;
  /** Our local session id within the tunnel (RFC 2661 §4.4.4 Assigned Session ID that we chose). */
  session?: number;
  /**
   * A LAC's subscriber (its Access line's id, "sim:7"): a level of its own under the system, whatever
   * destination its call goes to (docs/LAC.md). Its PPP link's path is the subscriber's with `ppp`.
   */
  subscriber?: string;
  /** Set on a session's (or a subscriber's) PPP link (its path is otherwise its owner's). */
  ppp?: true;
}

/**
 * Administrative state of a level (the E-series model): `enabled` takes new children, `drain` takes
 * none but lets the existing ones live on, `shutdown` closes everything below and accepts nothing.
 */
export type AdminState = "enabled" | "drain" | "shutdown";

/** The event that changes a level's administrative state. */
export interface AdminEvent {
  type: "admin";
  state: AdminState;
}

/** Every level's `setAdmin`: the state an `admin` event names, else the one the level has. */
export function adminAfter({
  context,
  event,
}: {
  context: { admin: AdminState };
  event: { type: string };
}): AdminState {
  return event.type === "admin" ? (event as AdminEvent).state : context.admin;
}

/** Every level's `isShutdown` guard: an `admin` event to `shutdown`. */
export function isShutdownEvent({ event }: { event: { type: string } }): boolean {
  return event.type === "admin" && (event as AdminEvent).state === "shutdown";
}

/** Why an actor ended (or a request failed), short enough to match on and clear enough to read. */
export interface Cause {
  /** A stable, machine-readable reason. */
  reason: CauseReason;
  /** For a person: what happened. */
  message: string;
  /** The Result Code sent or received in the StopCCN or CDN, when one was. */
  resultCode?: ResultCode;
  /** The PPP Disconnect Cause (RFC 3145) when PPP ended the call; a CDN carries it as AVP 46. */
  ppp?: PppDisconnectCause;
}

/** The reasons an actor ends; each names who or what ended it. */
export type CauseReason =
  /** An operator or the API closed it (admin close, shutdown, node close). */
  | "admin"
  /** Its parent closed it as part of closing itself. */
  | "parent"
  /** The peer ended it (StopCCN, CDN). */
  | "peer"
  /** The tunnel under a session went away (RFC 2661 §5.7: a StopCCN ends every session). */
  | "tunnel-gone"
  /** Tunnel authentication failed (RFC 2661 §5.1.1). */
  | "auth"
  /** The peer is not configured, or not allowed now (admin state, limits). */
  | "refused"
  /** The peer broke the protocol (unexpected message, invalid AVPs). */
  | "protocol"
  /** The control channel gave up retransmitting (RFC 2661 §5.8). */
  | "retries"
  /** Lost the tie-breaker of simultaneous SCCRQs (RFC 2661 §4.4.3, §5.1). */
  | "tie-breaker"
  /** The destination is locked out after a failed tunnel. */
  | "lockout"
  /** A waiting period ran out. */
  | "timeout"
  /** A local failure (an exception in an action, a resource limit). */
  | "internal"
  /** The PPP link inside the session ended it (authentication failed, LCP terminated, no address …). */
  | "ppp";

/** Builds a Cause. */
export function cause(reason: CauseReason, message: string, resultCode?: ResultCode): Cause {
  return resultCode ? { reason, message, resultCode } : { reason, message };
}

/** The close request a parent (or the API) sends to a child: do your protocol teardown, then finish. */
export interface CloseEvent {
  type: "close";
  cause: Cause;
}

/** The cause a closing level sends its children: its own reason, and the Result Code to pass on. */
export function parentClosing(level: string, why: Cause | undefined): Cause {
  return cause("parent", `${level} closing: ${why?.message ?? "closed"}`, why?.resultCode);
}

/** The cause of an administrative shutdown (RFC 2661 §4.4.2 StopCCN result 6: the sender is being shut down). */
export function adminShutdown(message: string): Cause {
  return cause("admin", message, { result: StopCcnResult.shuttingDown });
}

/** A received StopCCN's or CDN's Result Code in short, for a cause: "CDN result 2 error 6: bad secret". */
export function resultCodeSummary(messageType: "StopCCN" | "CDN", rc: ResultCode | undefined): string {
  if (!rc) return messageType;
  const error = rc.error ? ` error ${rc.error}` : "";
  return `${messageType} result ${rc.result}${error}${rc.message ? `: ${rc.message}` : ""}`;
}

/** The key of a destination in the registries and its path: "address:port" ("[v6]:port"). */
export function peerKey(peer: { address: string; port: number }): string {
  return peer.address.includes(":") ? `[${peer.address}]:${peer.port}` : `${peer.address}:${peer.port}`;
}
