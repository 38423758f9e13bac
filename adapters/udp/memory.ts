/**
 * An in-memory UDP network for deterministic tests: sockets bound to any address, datagrams carried on
 * the simulated clock (never delivered synchronously, so no handler runs inside a `send`), and per-link
 * loss, duplication, reordering and delay drawn from a seeded Random. Same seed, same run.
 */
import type { Clock, PeerAddress, Random } from "../../actors/ports.ts";
import { newUdpStats, type UdpStats, type UdpTransport } from "./stats.ts";

/** How one directed link (from one address to another) treats datagrams. */
export interface LinkOptions {
  /** One-way delay in ms (default 1). */
  delayMs: number;
  /** Probability in [0,1] that a datagram is lost. */
  loss: number;
  /** Probability in [0,1] that a datagram arrives twice (the copy with its own delay). */
  duplicate: number;
  /** Probability in [0,1] that a datagram is held back by a random extra delay, so later ones overtake it. */
  reorder: number;
  /** Upper bound of that extra delay in ms (default 50). */
  reorderMaxMs: number;
}

/** What the network did with the datagrams it was given. */
export interface MemoryNetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  reordered: number;
  /** Arrived where no socket was bound (or it was closed meanwhile). */
  unreachable: number;
}

/** What happened to one datagram, for observers set with `tap`. */
export type PacketFate = "delivered" | "lost" | "unreachable";

/** Options of a MemoryNetwork. */
export interface MemoryNetworkOptions {
  clock: Clock;
  random: Random;
  /** Applies to every link not set with `setLink` (default: 1 ms delay, no loss). */
  defaultLink?: Partial<LinkOptions>;
}

const FIRST_EPHEMERAL_PORT = 49152;

interface Endpoint {
  local: PeerAddress;
  handler?: (packet: Uint8Array, from: PeerAddress) => void;
  stats: UdpStats;
}

/** A simulated UDP network driven by a Clock and a Random (SimulatedClock and SeededRandom in tests). */
export class MemoryNetwork {
  /** Counters of what the network did (a live object). */
  readonly stats: MemoryNetworkStats = {
    sent: 0,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    unreachable: 0,
  };
  readonly #clock: Clock;
  readonly #random: Random;
  #defaultLink: LinkOptions;
  readonly #links = new Map<string, LinkOptions>();
  readonly #endpoints = new Map<string, Endpoint>();
  readonly #taps: ((packet: Uint8Array, from: PeerAddress, to: PeerAddress, fate: PacketFate) => void)[] = [];
  #nextPort = FIRST_EPHEMERAL_PORT;

  /** A network with no sockets yet. */
  constructor(options: MemoryNetworkOptions) {
    this.#clock = options.clock;
    this.#random = options.random;
    this.#defaultLink = withDefaults(options.defaultLink ?? {}, undefined);
  }

  /** Changes the behaviour of every link not set with `setLink`. */
  setDefaultLink(options: Partial<LinkOptions>): void {
    this.#defaultLink = withDefaults(options, this.#defaultLink);
  }

  /** Sets how datagrams from address `from` to address `to` are treated (one direction only). */
  setLink(from: string, to: string, options: Partial<LinkOptions>): void {
    const key = `${from}>${to}`;
    this.#links.set(key, withDefaults(options, this.#links.get(key) ?? this.#defaultLink));
  }

  /** Observes every datagram once its fate is known (delivered, lost, unreachable). */
  tap(observer: (packet: Uint8Array, from: PeerAddress, to: PeerAddress, fate: PacketFate) => void): void {
    this.#taps.push(observer);
  }

  /** Binds a socket at `address` and `port` (0 or absent: an ephemeral port); throws when it is taken. */
  bind(address: string, port = 0): UdpTransport {
    const chosen = port === 0 ? this.#ephemeralPort(address) : port;
    const key = endpointKey(address, chosen);
    if (this.#endpoints.has(key))
      throw new Error(`MemoryNetwork.bind: ${address}:${chosen} is already bound`);
    const endpoint: Endpoint = { local: { address, port: chosen }, stats: newUdpStats() };
    this.#endpoints.set(key, endpoint);
    let closed = false;
    return {
      local: endpoint.local,
      stats: endpoint.stats,
      implementation: "memory",
      send: (packet, to) => {
        if (closed) {
          endpoint.stats.sendErrors++;
          return;
        }
        endpoint.stats.sent++;
        this.#carry(packet, endpoint.local, to);
      },
      onReceive: (handler) => {
        endpoint.handler = handler;
      },
      close: () => {
        if (!closed) {
          closed = true;
          this.#endpoints.delete(key);
        }
        return Promise.resolve();
      },
    };
  }

  #ephemeralPort(address: string): number {
    for (let tries = 0; tries < 65536 - FIRST_EPHEMERAL_PORT; tries++) {
      const port = this.#nextPort;
      this.#nextPort = port === 65535 ? FIRST_EPHEMERAL_PORT : port + 1;
      if (!this.#endpoints.has(endpointKey(address, port))) return port;
    }
    throw new Error(`MemoryNetwork.bind: no ephemeral port left on ${address}`);
  }

  #chance(p: number): boolean {
    return p > 0 && this.#random.uint32() / 0x1_0000_0000 < p;
  }

  #carry(packet: Uint8Array, from: PeerAddress, to: PeerAddress): void {
    this.stats.sent++;
    const link = this.#links.get(`${from.address}>${to.address}`) ?? this.#defaultLink;
    // The sender may reuse its buffer once send returns, as with a real socket.
    const copy = packet.slice();
    const src = { address: from.address, port: from.port };
    const dst = { address: to.address, port: to.port };
    if (this.#chance(link.loss)) {
      this.stats.lost++;
      for (const tap of this.#taps) tap(copy, src, dst, "lost");
      return;
    }
    const copies = this.#chance(link.duplicate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      let delay = link.delayMs;
      if (this.#chance(link.reorder)) {
        this.stats.reordered++;
        delay += (this.#random.uint32() / 0x1_0000_0000) * link.reorderMaxMs;
      }
      this.#clock.setTimeout(() => this.#arrive(i === 0 ? copy : copy.slice(), src, dst), delay);
    }
  }

  #arrive(packet: Uint8Array, from: PeerAddress, to: PeerAddress): void {
    const endpoint = this.#endpoints.get(endpointKey(to.address, to.port));
    if (!endpoint) {
      this.stats.unreachable++;
      for (const tap of this.#taps) tap(packet, from, to, "unreachable");
      return;
    }
    this.stats.delivered++;
    for (const tap of this.#taps) tap(packet, from, to, "delivered");
    if (!endpoint.handler) {
      endpoint.stats.unhandled++;
      return;
    }
    endpoint.stats.received++;
    endpoint.handler(packet, from);
  }
}

function endpointKey(address: string, port: number): string {
  return `${address}|${port}`;
}

function withDefaults(options: Partial<LinkOptions>, base: LinkOptions | undefined): LinkOptions {
  const merged: LinkOptions = {
    delayMs: options.delayMs ?? base?.delayMs ?? 1,
    loss: options.loss ?? base?.loss ?? 0,
    duplicate: options.duplicate ?? base?.duplicate ?? 0,
    reorder: options.reorder ?? base?.reorder ?? 0,
    reorderMaxMs: options.reorderMaxMs ?? base?.reorderMaxMs ?? 50,
  };
  for (const name of ["loss", "duplicate", "reorder"] as const) {
    const p = merged[name];
    if (!(p >= 0 && p <= 1))
      throw new RangeError(`MemoryNetwork link ${name}: expected a probability in [0,1], got ${p}`);
  }
  if (!(merged.delayMs >= 0))
    throw new RangeError(`MemoryNetwork link delayMs: expected >= 0, got ${merged.delayMs}`);
  if (!(merged.reorderMaxMs >= 0)) {
    throw new RangeError(`MemoryNetwork link reorderMaxMs: expected >= 0, got ${merged.reorderMaxMs}`);
  }
  return merged;
}
