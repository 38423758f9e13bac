/**
 * Configuration of a node: who we are, which peers we tunnel to and accept tunnels from (destination
 * profiles), and the timers and limits of every level. Plain data; defaults filled by `resolveConfig`.
 */
import { peerKey } from "../machines/common.ts";
import type { LacPolicy } from "../machines/lac-decision.ts";
import type { AvpName } from "../protocol/l2tp/avps.ts";
import type { ControlChannelOptions } from "./control-channel/channel.ts";
import type { PeerAddress } from "./ports.ts";
import type { PppNodeConfig } from "./ppp-link.ts";

/** One peer (or, with no address, any peer) and how to run tunnels with it. */
export interface DestinationProfile {
  /** The peer's address; undefined matches any address (an LNS open to every LAC with the secret). */
  address?: string;
  /** The peer's UDP port; undefined matches any port. */
  port?: number;
  /** The Host Name the peer must present (RFC 2661 §4.4.3); undefined accepts any. */
  peerHostName?: string;
  /** The shared tunnel secret (RFC 2661 §5.1.1); with one we challenge the peer and demand its response. */
  secret?: string | Uint8Array;
  /** Whether tunnels from this peer are accepted (LNS role); default true. */
  accept?: boolean;
  /** Our Host Name toward this peer; default the node's. */
  hostName?: string;
  /** AVPs to send hidden (RFC 2661 §4.3) when a secret is set. */
  hide?: readonly AvpName[];
  maxSessionsPerTunnel?: number;
  maxTunnels?: number;
  lockoutMs?: number;
}

/** A node's configuration. */
export interface NodeConfig {
  /** The node's name: the `system` part of every actor path. */
  name: string;
  /** Our Host Name AVP (RFC 2661 §4.4.3). */
  hostName: string;
  vendorName?: string;
  /** Peers we know; the first profile that matches a peer's address and port applies. */
  destinations?: readonly DestinationProfile[];
  /** Control channel tunables (RFC 2661 §5.8); defaults as the channel's. */
  channel?: Partial<ControlChannelOptions>;
  /** Send a Tie Breaker AVP in our SCCRQs (RFC 2661 §4.4.3); default true. */
  tieBreaker?: boolean;
  /** Responder: how long a peer may take to complete the handshake (SCCCN); default 10 s. */
  handshakeTimeoutMs?: number;
  /** Responder: SCCRP retransmissions toward a peer that has not authenticated yet; default 2. */
  maxRetransmitsUnauthenticated?: number;
  /** Tunnels from peers still in their handshake, node-wide (peers only a wildcard profile admits); over it an SCCRQ gets StopCCN 2/4. Default 1024. */
  maxHalfOpenTunnels?: number;
  /** Tunnels in their handshake from one source address; over it an SCCRQ gets StopCCN 2/4. Default 128. */
  maxHalfOpenPerAddress?: number;
  /** StopCCN hold (RFC 2661 §5.7); default 31 s. */
  stopHoldMs?: number;
  /** Lockout of a failed destination; default 300 s. */
  lockoutMs?: number;
  /** How long an unused destination stays before it is removed; default 600 s. */
  destinationIdleMs?: number;
  /** How long a closing destination waits for its tunnels; default 60 s. */
  destinationCloseTimeoutMs?: number;
  /** How long a closing system waits for its destinations; default 120 s. */
  systemCloseTimeoutMs?: number;
  /** Call setup timeout (CDN result 10); default 120 s. */
  sessionSetupTimeoutMs?: number;
  maxSessionsPerTunnel?: number;
  maxTunnels?: number;
  /** PPP on the node's sessions: the LNS's PPP, a LAC's simulated subscribers, pools, keepalive. */
  ppp?: PppNodeConfig;
  /** How long ended tunnels and sessions stay visible (views.ts); default 600 s. */
  destructTimeoutMs?: number;
  /** At most this many ended tunnels and sessions are kept, the oldest dropped first; default 10,000. */
  maxEndedRecords?: number;
  /**
   * Whether this node places the outgoing calls a peer asks for with an OCRQ (RFC 2661 §5.2, §7.4:
   * an LAC with a dialer). Default false: an LNS-only node refuses an OCRQ with CDN result 5 (no
   * facilities, permanent) instead of claiming a call it never placed.
   */
  outgoingCalls?: boolean;
  /** LAC: where an authenticated subscriber goes (domain map, RADIUS tunnel groups; machines/lac-decision.ts). */
  lac?: LacPolicy;
}

/** A profile with its secret as bytes. */
export interface ResolvedProfile extends DestinationProfile {
  secretBytes?: Uint8Array;
}

/** Finds the first profile matching a peer, or undefined. */
export function matchProfile(
  profiles: readonly ResolvedProfile[],
  peer: PeerAddress,
): ResolvedProfile | undefined {
  for (const p of profiles) {
    if (p.address !== undefined && p.address !== peer.address) continue;
    if (p.port !== undefined && p.port !== peer.port) continue;
    return p;
  }
  return undefined;
}

/** Turns secrets into bytes once. */
export function resolveProfiles(profiles: readonly DestinationProfile[] | undefined): ResolvedProfile[] {
  return (profiles ?? []).map((p) => ({
    ...p,
    secretBytes: typeof p.secret === "string" ? new TextEncoder().encode(p.secret) : p.secret,
  }));
}

/** The key of a destination in the registries and its path: "address:port". */
export function destinationKey(peer: PeerAddress): string {
  return peerKey(peer);
}
