/**
 * UDP on Bun through its native UDP socket (`Bun.udpSocket`, also what Bun's node:dgram is made of):
 * what the handling of a burst of received datagrams sends leaves in one `sendMany` call (sendmmsg) at
 * the burst's end (../clock/burst.ts), any other send with what its turn sends at the next microtask, and
 * datagrams are handed over without node:dgram's event and `rinfo` objects.
 * `Bun.udpSocket` cannot set SO_RCVBUF, so `bindUdp` binds with node:dgram (which can) and drives its
 * native socket through `bunSocketOf` + `bunTransport`; `bindBunUdp` is the plain Bun.udpSocket path.
 * `Bun` is reached through `globalThis` with a local type, so that this file also type-checks under Deno.
 */
import type { PeerAddress } from "../../actors/ports.ts";
import { beginBurst, holdOutput, inBurst } from "../clock/burst.ts";
import { MAX_SEND_ATTEMPTS, newUdpStats, type UdpStats, type UdpTransport } from "./stats.ts";

/** The data callback of Bun's UDP socket. */
type BunDataHandler = (socket: BunUdpSocket, data: Uint8Array, port: number, address: string) => void;

/** The callbacks of Bun's UDP socket. */
interface BunSocketCallbacks {
  data: BunDataHandler;
  error?(socket: BunUdpSocket, error: Error): void;
}

/** The part of Bun's UDP socket this adapter uses. */
export interface BunUdpSocket {
  readonly hostname: string;
  readonly port: number;
  readonly closed: boolean;
  send(data: Uint8Array, port: number, address: string): boolean;
  sendMany(packets: readonly (Uint8Array | number | string)[]): number;
  /** Replaces the socket's callbacks (Bun's node:dgram installs its own). */
  reload?(handlers: BunSocketCallbacks & { socket?: BunSocketCallbacks; binaryType?: "uint8array" }): void;
  close(): void;
}

interface BunUdpApi {
  udpSocket(options: {
    hostname: string;
    port: number;
    binaryType: "uint8array";
    socket: {
      data: BunDataHandler;
      error?(socket: BunUdpSocket, error: Error): void;
    };
  }): Promise<BunUdpSocket>;
}

/** True when running on Bun (where `bindBunUdp` works). */
export function isBun(): boolean {
  return typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
}

/**
 * The native socket under a node:dgram socket on Bun (its `Symbol(state symbol)`.handle.socket), when
 * it has the methods this adapter needs; undefined anywhere else or if Bun's internals change.
 */
export function bunSocketOf(dgramSocket: object): BunUdpSocket | undefined {
  if (!isBun()) return undefined;
  const state = Object.getOwnPropertySymbols(dgramSocket).find((s) => s.description === "state symbol");
  const inner = state
    ? (dgramSocket as Record<symbol, { handle?: { socket?: Partial<BunUdpSocket> } }>)[state]?.handle?.socket
    : undefined;
  return inner &&
    typeof inner.sendMany === "function" &&
    typeof inner.send === "function" &&
    typeof inner.reload === "function"
    ? (inner as BunUdpSocket)
    : undefined;
}

/** A transport over a bound Bun UDP socket: batched sends; `onData` is what its data callback must call. */
export function bunTransport(
  socket: BunUdpSocket,
  local: PeerAddress,
  stats: UdpStats,
  closeSocket: () => Promise<void>,
): { transport: UdpTransport; onData: BunDataHandler } {
  let handler: ((packet: Uint8Array, from: PeerAddress) => void) | undefined;
  let closed = false;
  // Flat [data, port, address, …] as sendMany takes it for an unconnected socket.
  let batch: (Uint8Array | number | string)[] = [];
  let flushQueued = false;

  const onData: BunDataHandler = (_socket, data, port, address) => {
    if (!handler || closed) {
      stats.unhandled++;
      return;
    }
    stats.received++;
    beginBurst();
    handler(data, { address, port });
  };

  // Linux reports an ICMP error queued on the socket (IP_RECVERR, which Bun sets: a peer that closed
  // its port answers a datagram with port unreachable) by failing the socket's next send, whoever it
  // goes to, with ECONNREFUSED: that datagram is not sent, and the error is cleared by the report. So a
  // datagram that fails is tried again, up to MAX_SEND_ATTEMPTS, and only then counted as lost.
  // Measured on Bun 1.4: send() throws ECONNREFUSED; sendMany() returns how many left before the one
  // that failed, or throws when the first one did. Arguments Bun rejects (a bad address or port) throw
  // a TypeError before anything is sent: those are the datagram's own and are not tried again.
  const sendOne = (data: Uint8Array, port: number, address: string): void => {
    for (let attempt = 1; ; attempt++) {
      try {
        if (socket.send(data, port, address)) {
          stats.sent++;
          return;
        }
      } catch (error) {
        if (error instanceof TypeError) break;
      }
      if (attempt === MAX_SEND_ATTEMPTS) break;
      stats.peerErrors++;
    }
    stats.sendErrors++;
  };

  const sendBatch = (packets: (Uint8Array | number | string)[]): void => {
    const count = packets.length / 3;
    let done = 0;
    let attempts = 0;
    while (done < count) {
      let sent = 0;
      try {
        sent = socket.sendMany(done === 0 ? packets : packets.slice(done * 3));
      } catch (error) {
        if (error instanceof TypeError) {
          // One datagram's bad argument refuses the whole batch: send one by one to lose only that one.
          for (let i = done * 3; i < packets.length; i += 3) {
            sendOne(packets[i] as Uint8Array, packets[i + 1] as number, packets[i + 2] as string);
          }
          return;
        }
      }
      stats.sent += sent;
      done += sent;
      if (done === count) return;
      // The datagram at `done` failed.
      attempts = sent > 0 ? 1 : attempts + 1;
      if (attempts < MAX_SEND_ATTEMPTS) {
        stats.peerErrors++;
      } else {
        stats.sendErrors++;
        done++;
        attempts = 0;
      }
    }
  };

  const flush = (): void => {
    flushQueued = false;
    const packets = batch;
    batch = [];
    const count = packets.length / 3;
    if (count === 0 || closed) {
      stats.sendErrors += count;
      return;
    }
    if (count === 1) sendOne(packets[0] as Uint8Array, packets[1] as number, packets[2] as string);
    else sendBatch(packets);
  };

  const transport: UdpTransport = {
    local,
    stats,
    implementation: "bun",
    send(packet, to) {
      if (closed) {
        stats.sendErrors++;
        return;
      }
      batch.push(packet, to.port, to.address);
      if (!flushQueued) {
        flushQueued = true;
        // While a burst of received datagrams is handled, its replies wait for its end (one sendmmsg,
        // ../clock/burst.ts); otherwise what one turn sends leaves at its next microtask.
        if (inBurst()) holdOutput(flush);
        else queueMicrotask(flush);
      }
    },
    onReceive(h) {
      handler = h;
    },
    async close() {
      if (closed) return;
      if (batch.length > 0) flush();
      closed = true;
      await closeSocket();
    },
  };
  return { transport, onData };
}

/** Binds a UDP socket with Bun.udpSocket; port 0 binds an ephemeral port, told in `local`. */
export async function bindBunUdp(local: PeerAddress): Promise<UdpTransport> {
  const bun = (globalThis as unknown as { Bun?: BunUdpApi }).Bun;
  if (!bun) throw new Error("bindBunUdp: not running on Bun");
  const stats = newUdpStats();
  let onData: BunDataHandler = () => {};
  const socket = await bun.udpSocket({
    hostname: local.address,
    port: local.port,
    binaryType: "uint8array",
    socket: {
      data: (s, data, port, address) => onData(s, data, port, address),
      error() {
        stats.peerErrors++; // an ICMP error about an earlier datagram (see bunTransport)
      },
    },
  });
  const made = bunTransport(
    socket,
    { address: socket.hostname || local.address, port: socket.port },
    stats,
    async () => socket.close(),
  );
  onData = made.onData;
  return made.transport;
}
