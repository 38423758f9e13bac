/** Counters every UDP adapter keeps, so that losses at the socket are visible rather than thrown. */
import type { Transport } from "../../actors/ports.ts";

/** What a socket did: datagrams sent and received, and those it could not send or had nobody to give to. */
export interface UdpStats {
  sent: number;
  received: number;
  /** Sends the runtime refused (bad address, full buffer, closed socket): the datagram is lost. */
  sendErrors: number;
  /** Datagrams received before any handler was set, or after close. */
  unhandled: number;
}

/** A bound UDP socket with its counters. */
export interface UdpTransport extends Transport {
  /** The counters so far (a live object: read it, do not keep it). */
  readonly stats: Readonly<UdpStats>;
}

/** Fresh zeroed counters. */
export function newUdpStats(): UdpStats {
  return { sent: 0, received: 0, sendErrors: 0, unhandled: 0 };
}
