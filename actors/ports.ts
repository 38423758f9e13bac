/**
 * Ports of the living system: the only ways in which actors, machines and the control channel reach
 * time, randomness and the network. Each has a real adapter and a deterministic one in `adapters/`
 * (clock/, random/, udp/), so that every protocol test runs on simulated time over a simulated network.
 */

/**
 * Time, in milliseconds. The shape is XState's own `clock` option, so the same object drives both the
 * control channel's timers and every `after` delay of the machines: `createActor(machine, { clock })`.
 */
export interface Clock {
  /** Milliseconds on this clock's time line (monotonic for the simulated clock; wall time for the real one). */
  now(): number;
  /** Calls `fn` once, `ms` milliseconds from now; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a pending timer; a handle that already fired or was cleared is ignored. */
  clearTimeout(handle: unknown): void;
}

/** Randomness: tunnel-auth challenges, Random Vectors of hidden AVPs, tie breakers, id choice. */
export interface Random {
  /** `n` fresh random bytes. */
  bytes(n: number): Uint8Array;
  /** A random integer in [0, 2^32). */
  uint32(): number;
}

/** A UDP endpoint: an IPv4 or IPv6 address in text form and a port. */
export interface PeerAddress {
  address: string;
  port: number;
}

/** What a socket did (the UDP adapters count it; sending never throws, so losses show here). */
export interface TransportStats {
  sent: number;
  received: number;
  /** Sends the runtime refused: the datagram is lost. */
  sendErrors: number;
  /** Datagrams received with no handler set, or after close. */
  unhandled: number;
}

/**
 * One bound UDP socket. Sending never throws: a failed send is counted by the adapter and the datagram
 * is lost, as it could be on the wire (the control channel retransmits).
 */
export interface Transport {
  /** The address and port actually bound (the real port when 0 was asked for). */
  readonly local: PeerAddress;
  /** Sends one datagram to `to`. */
  send(packet: Uint8Array, to: PeerAddress): void;
  /** Sets the one handler of received datagrams (a later call replaces it). */
  onReceive(handler: (packet: Uint8Array, from: PeerAddress) => void): void;
  /** Releases the socket; later sends are dropped; resolves when the socket is closed. */
  close(): Promise<void>;
  /** Its counters, when the adapter keeps them (a live object: read it, do not keep it). */
  readonly stats?: Readonly<TransportStats>;
}
