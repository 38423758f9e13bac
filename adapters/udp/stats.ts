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
  /**
   * Errors the kernel reported about an earlier datagram rather than the one being sent: an ICMP
   * port or host unreachable from a peer that is gone (Linux, sockets with IP_RECVERR, as Bun's) fails
   * the socket's next send, whoever it is to. That send is tried again, so the error costs nothing to
   * the peer it reached.
   */
  peerErrors: number;
  /**
   * Times a send found the socket's send buffer full (EAGAIN, ENOBUFS) and waited for room (deno.ts;
   * the other adapters leave that to their runtime).
   */
  sendWaits: number;
  /** Receive calls that failed (deno.ts; the other runtimes do not report them). */
  receiveErrors: number;
}

/**
 * Tries of one datagram before it counts as lost (sendErrors). An ICMP error is reported once, by one
 * failed send, so a second try goes out unless another error arrived meanwhile or the datagram itself
 * is at fault (then every try fails, and the third is the last).
 */
export const MAX_SEND_ATTEMPTS = 3;

/** Which adapter a transport is: the runtime's socket API it went through. */
export type UdpImplementation = "deno-ffi" | "node:dgram" | "bun" | "memory";

/** A bound UDP socket with its counters. */
export interface UdpTransport extends Transport {
  /** The counters so far (a live object: read it, do not keep it). */
  readonly stats: Readonly<UdpStats>;
  /** The adapter bound (a diagnostic: on Deno, whether bindUdp fell back to node:dgram). */
  readonly implementation?: UdpImplementation;
}

/** Fresh zeroed counters. */
export function newUdpStats(): UdpStats {
  return { sent: 0, received: 0, sendErrors: 0, unhandled: 0, peerErrors: 0, sendWaits: 0, receiveErrors: 0 };
}
