/**
 * What the pieces of a running node share: ports, configuration, the supervisor, the registries the
 * router reads, and the machines in use (tests may swap in a machine with a broken action).
 */

import type { Cause } from "../machines/common.ts";
import type { destinationMachine } from "../machines/destination.ts";
import type { sessionMachine } from "../machines/session.ts";
import type { SessionLogic } from "../machines/session-logic.ts";
import type { systemMachine } from "../machines/system.ts";
import type { tunnelMachine } from "../machines/tunnel.ts";
import type { Avps } from "../protocol/l2tp/avps.ts";
import type { NodeConfig, ResolvedProfile } from "./config.ts";
import { type ControlChannelStats, newChannelStats } from "./control-channel/channel.ts";
import type { HalfOpenTunnels } from "./half-open.ts";
import type { Clock, PeerAddress, Random, Transport } from "./ports.ts";
import type { PppService } from "./ppp-link.ts";
import type { Supervisor } from "./supervisor.ts";
import type { SessionHandle, TunnelHandle } from "./tunnel-actor.ts";
import type { EndedRecords } from "./views.ts";

/** The machines a node runs; the defaults are the ones in `machines/`. */
export interface Machines {
  system: typeof systemMachine;
  destination: typeof destinationMachine;
  tunnel: typeof tunnelMachine;
  /** The session logic: `sessionLogic` by default; `sessionMachine` (or a variant of it) behaves the same, slower. */
  session: SessionLogic | typeof sessionMachine;
}

/** Counters of the router, for statistics and tests. */
export interface RouterStats {
  /** Datagrams that are not L2TPv2. */
  malformed: number;
  /** Control packets that failed to decode before their header could be used. */
  undecodable: number;
  /** Control packets for a tunnel id we do not have. */
  unknownTunnel: number;
  /** Control messages for a session id the tunnel does not have. */
  unknownSession: number;
  /** Invalid ICRQs and OCRQs answered with a CDN to the Assigned Session ID they carry (RFC 2661 §4.1). */
  invalidCallsRefused: number;
  /**
   * Invalid session messages dropped after the ack because nobody can be answered: a call request
   * without a readable, non-zero Assigned Session ID, or a session message with session id 0.
   */
  invalidUnanswerable: number;
  /** Data packets delivered to a session. */
  dataDelivered: number;
  /** Data packets for no session we have. */
  dataUnknown: number;
  /**
   * Tunnels we refused: SCCRQs answered with a one-shot StopCCN (unknown peer, invalid, admin state,
   * no ids left), and tunnels we closed during their handshake for authentication, host name or version.
   */
  refusedTunnels: number;
  /** SCCRQs refused (StopCCN 2/4) because too many tunnels are in their handshake, node-wide or from the address. */
  halfOpenRefused: number;
  /** SCCRQs dropped because ours won the tie-breaker (RFC 2661 §4.4.3). */
  tieBreakerDrops: number;
}

/** Control-channel counters of every tunnel the node has had (RFC 2661 §5.8), summed. */
export type ChannelTotals = Pick<
  ControlChannelStats,
  | "sent"
  | "retransmitted"
  | "timeouts"
  | "zlbsSent"
  | "zlbsReceived"
  | "delivered"
  | "duplicates"
  | "heldOutOfOrder"
  | "beyondWindow"
  | "discarded"
>;

/** Called for every data message (T=0) of a session: PPP frames in a later issue. Never via XState. */
export type DataHandler = (session: SessionHandle, packet: Uint8Array) => void;

/** A request to place a LAC session (or an LNS outgoing call) and what to tell its caller. */
export interface SessionRequest {
  readonly id: number;
  readonly destination: PeerAddress;
  readonly call: "incoming" | "outgoing";
  readonly requestAvps?: Avps;
  readonly connectAvps?: Avps;
  /** Placements tried (a lost tie-breaker moves the session to the winning tunnel). */
  attempts: number;
  /** The session reached established. */
  onEstablished(session: SessionHandle): void;
  /** The session ended (before or after established), or the request could not be placed (session undefined). */
  onEnded(session: SessionHandle | undefined, cause: Cause): void;
  /**
   * Placed again after waiting behind a destination's test tunnel: a tunnel group's call chooses again
   * (its Tunnel-Assignment-Id and tunnel profile kept, the choice recorded); without it, the destination
   * places the request by its own rule.
   */
  reselect?(): void;
}

/** Everything the wiring of one node shares. */
export interface NodeRuntime {
  readonly config: NodeConfig;
  readonly profiles: readonly ResolvedProfile[];
  readonly clock: Clock;
  readonly random: Random;
  readonly supervisor: Supervisor;
  readonly machines: Machines;
  /** Tunnels by our tunnel id (the router's O(1) lookup). */
  readonly tunnels: Map<number, TunnelHandle>;
  /** Tunnels by "peer address:port/peer tunnel id", for tunnel-id-0 packets (SCCRQ retransmissions, early StopCCN). */
  readonly tunnelsByPeer: Map<string, TunnelHandle>;
  readonly stats: RouterStats;
  /** Tunnels peers asked for that are still in their handshake, bounded (actors/half-open.ts). */
  readonly halfOpen: HalfOpenTunnels;
  /** Channel counters of the tunnels that ended (live tunnels add theirs when asked). */
  readonly endedChannels: ChannelTotals;
  /** The ended tunnels and sessions an operator still sees (the destruct timeout). */
  readonly ended: EndedRecords;
  readonly onData?: DataHandler;
  /** PPP over the node's sessions (actors/ppp-link.ts), when the node runs it. */
  readonly ppp?: PppService;
  /** The transport new tunnels toward a peer use. */
  readonly defaultTransport: Transport;
  /**
   * Whether tunnels report their channel state (Ns, Nr, peer) to their actor once per turn: only when
   * someone observes the node's transitions (an event log feeding a standby, an inspector). Unobserved,
   * the report would be a tunnel step per turn (6% of an LNS's CPU at 20,000 calls/s) for nobody.
   */
  readonly recordsChannel: boolean;
}

/** Zeroed channel totals: a new channel's counters less those that are not summed. */
export function newChannelTotals(): ChannelTotals {
  const { invalidAcks: _invalid, hellos: _hellos, maxInFlight: _max, ...totals } = newChannelStats();
  return totals;
}

/** Adds one channel's counters to `totals`. */
export function addChannelStats(totals: ChannelTotals, stats: ChannelTotals): void {
  for (const key of Object.keys(totals) as (keyof ChannelTotals)[]) totals[key] += stats[key];
}

/** Why admission control refused new work (sent in the Result Code's message). */
export const INSUFFICIENT_RESOURCES = "insufficient resources (event log backlog), try later";
