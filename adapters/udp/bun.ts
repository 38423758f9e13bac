/**
 * UDP on Bun through `Bun.udpSocket`, the fastest path there (TOOLCHAIN.md: 240-300k pps with sendMany).
 * Sends made in one turn of the event loop are batched into one `sendMany` call at the next microtask.
 * `Bun` is reached through `globalThis` with a local type, so that this file also type-checks under Deno.
 */
import type { PeerAddress } from "../../actors/ports.ts";
import { newUdpStats, type UdpTransport } from "./stats.ts";

/** The part of Bun's UDP socket this adapter uses. */
interface BunUdpSocket {
  readonly hostname: string;
  readonly port: number;
  readonly closed: boolean;
  send(data: Uint8Array, port: number, address: string): boolean;
  sendMany(packets: readonly (Uint8Array | number | string)[]): number;
  close(): void;
}

interface BunUdpApi {
  udpSocket(options: {
    hostname: string;
    port: number;
    binaryType: "uint8array";
    socket: {
      data(socket: BunUdpSocket, data: Uint8Array, port: number, address: string): void;
      error?(socket: BunUdpSocket, error: Error): void;
    };
  }): Promise<BunUdpSocket>;
}

/** True when running on Bun (where `bindBunUdp` works). */
export function isBun(): boolean {
  return typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
}

/** Binds a UDP socket with Bun.udpSocket; port 0 binds an ephemeral port, told in `local`. */
export async function bindBunUdp(local: PeerAddress): Promise<UdpTransport> {
  const bun = (globalThis as unknown as { Bun?: BunUdpApi }).Bun;
  if (!bun) throw new Error("bindBunUdp: not running on Bun");
  const stats = newUdpStats();
  let handler: ((packet: Uint8Array, from: PeerAddress) => void) | undefined;
  let closed = false;
  // Flat [data, port, address, …] as sendMany takes it for an unconnected socket.
  let batch: (Uint8Array | number | string)[] = [];
  let flushQueued = false;

  const socket = await bun.udpSocket({
    hostname: local.address,
    port: local.port,
    binaryType: "uint8array",
    socket: {
      data(_socket, data, port, address) {
        if (!handler || closed) {
          stats.unhandled++;
          return;
        }
        stats.received++;
        handler(data, { address, port });
      },
      error() {
        stats.sendErrors++;
      },
    },
  });

  const sendOne = (data: Uint8Array, port: number, address: string): void => {
    try {
      if (socket.send(data, port, address)) stats.sent++;
      else stats.sendErrors++;
    } catch {
      stats.sendErrors++;
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
    if (count === 1) {
      sendOne(packets[0] as Uint8Array, packets[1] as number, packets[2] as string);
      return;
    }
    try {
      const sent = socket.sendMany(packets);
      stats.sent += sent;
      stats.sendErrors += count - sent;
    } catch {
      // One bad destination fails the whole batch: send one by one to lose only that one.
      for (let i = 0; i < packets.length; i += 3) {
        sendOne(packets[i] as Uint8Array, packets[i + 1] as number, packets[i + 2] as string);
      }
    }
  };

  return {
    local: { address: socket.hostname || local.address, port: socket.port },
    stats,
    send(packet, to) {
      if (closed) {
        stats.sendErrors++;
        return;
      }
      batch.push(packet, to.port, to.address);
      if (!flushQueued) {
        flushQueued = true;
        queueMicrotask(flush);
      }
    },
    onReceive(h) {
      handler = h;
    },
    async close() {
      if (closed) return;
      if (batch.length > 0) flush();
      closed = true;
      socket.close();
    },
  };
}
