/**
 * UDP through `node:dgram`: Bun's default, and Deno's for IPv6 or without FFI (deno.ts is its default,
 * 1.5-3 times cheaper under load). The receive buffer is raised (SO_RCVBUF) because unpaced bursts
 * overflow the default one (docs/ARCHITECTURE.md); the kernel caps it at net.core.rmem_max, and
 * runtimes that cannot set it keep their default. On Bun the bound socket's native socket is then
 * driven directly (bun.ts: batched sendMany, no per-datagram event objects).
 */
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import type { PeerAddress } from "../../actors/ports.ts";
import { bunSocketOf, bunTransport } from "./bun.ts";
import { denoUdpUnavailable } from "./deno.ts";
import { MAX_SEND_ATTEMPTS, newUdpStats, type UdpStats, type UdpTransport } from "./stats.ts";

/** Receive buffer asked for by default: 4 MiB. */
export const DEFAULT_RECEIVE_BUFFER = 4 * 1024 * 1024;

/** On Deno: the size of node:dgram's read of each datagram (its receive buffer setting, doubled). */
export const DENO_READ_BUFFER = 16 * 1024;

/** Options of the node:dgram adapter. */
export interface NodeUdpOptions {
  /** SO_RCVBUF to ask for, in bytes (default 4 MiB); not on Deno, where it cannot be set (see above). */
  receiveBufferBytes?: number;
}

/**
 * The kernel default receive buffer below which a runtime that cannot set SO_RCVBUF is warned about.
 * Measured on Deno, 10,000 calls over 100 tunnels: at Linux's usual 208 KiB the LNS's socket dropped
 * 470 of 31,000 datagrams (3,900-4,300 calls/s, each loss a 1 s retransmission stall); at 4 MiB none
 * (9,100 calls/s).
 */
export const RECOMMENDED_KERNEL_RECEIVE_BUFFER = 4 * 1024 * 1024;

/** Linux's net.core.rmem_default in bytes, or undefined where it cannot be read. */
function kernelDefaultReceiveBuffer(): number | undefined {
  try {
    const value = Number(readFileSync("/proc/sys/net/core/rmem_default", "utf8").trim());
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A warning for the operator when this runtime's UDP sockets keep the kernel's default receive buffer
 * (Deno when it cannot use libc over FFI, deno.ts, and falls back to node:dgram, which does not pass
 * SO_RCVBUF on) and that default is small; undefined otherwise. A burst of calls then overflows the
 * socket, and each message lost stalls its tunnel for a retransmission timeout (RFC 2661 §5.8: 1 s).
 * Also when the default cannot be read: that one line is where a fallback to node:dgram shows.
 */
export function receiveBufferWarning(
  deno: boolean = isDeno(),
  readKernelDefault: () => number | undefined = kernelDefaultReceiveBuffer,
  ffiUnavailable: () => string | undefined = denoUdpUnavailable,
): string | undefined {
  if (!deno) return undefined;
  const why = ffiUnavailable();
  if (why === undefined) return undefined;
  // Deno 2.9 reads /proc/sys only with --allow-all, which would have allowed FFI: without it the value is
  // unknown, and the warning goes out without it.
  const kernelDefault = readKernelDefault();
  if (kernelDefault !== undefined && kernelDefault >= RECOMMENDED_KERNEL_RECEIVE_BUFFER) return undefined;
  return (
    `UDP on Deno goes through node:dgram here (${why}), which keeps the kernel's default receive buffer ` +
    `(net.core.rmem_default${kernelDefault === undefined ? "" : ` = ${kernelDefault} bytes`}): ` +
    "a burst of calls overflows it and each message lost stalls its tunnel for a 1 s retransmission. " +
    `Run with --allow-ffi (or -A), raise it (sysctl -w net.core.rmem_default=${RECOMMENDED_KERNEL_RECEIVE_BUFFER}) or run on Bun, which sets its own.`
  );
}

/** True when running on Deno. */
function isDeno(): boolean {
  return typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
}

/** Binds a UDP socket with node:dgram; port 0 binds an ephemeral port, told in `local`. */
export async function bindNodeUdp(local: PeerAddress, options: NodeUdpOptions = {}): Promise<UdpTransport> {
  const stats = newUdpStats();
  let handler: ((packet: Uint8Array, from: PeerAddress) => void) | undefined;
  let closed = false;
  const socket = dgram.createSocket({ type: isIPv6(local.address) ? "udp6" : "udp4" });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    socket.once("error", onError);
    socket.bind({ address: local.address, port: local.port, exclusive: true }, () => {
      socket.off("error", onError);
      resolve();
    });
  });
  // Deno's node:dgram does not pass SO_RCVBUF to the kernel (`ss -m` shows rb212992 either way) but
  // sizes its own per-datagram read buffer by it (twice the value, as Linux doubles SO_RCVBUF): at 4 MiB
  // every datagram cost a 4 MiB allocation, a round trip took 0.7-1.2 ms instead of 30-70 µs and a lab
  // of 1,000 calls grew to 580 MiB RSS; its default (64 KiB read) costs 40 µs of CPU per echo, a 16 KiB
  // read 17-25 µs. So on Deno the read buffer is 16 KiB (longer datagrams are cut there: L2TP's stay
  // within the path MTU, jumbo frames included); elsewhere (Node, Bun) the kernel buffer is raised.
  try {
    socket.setRecvBufferSize(
      isDeno() ? DENO_READ_BUFFER / 2 : (options.receiveBufferBytes ?? DEFAULT_RECEIVE_BUFFER),
    );
  } catch {
    // Not supported by this runtime, or refused: the default buffer stays.
  }
  // After bind, errors are reported asynchronously (an ICMP unreachable about an earlier datagram, on
  // runtimes that ask for them): the datagram that reached a live peer was not lost by it.
  socket.on("error", () => {
    stats.peerErrors++;
  });
  const bound = socket.address();
  const closeSocket = () => new Promise<void>((resolve) => socket.close(() => resolve()));
  // On Bun the socket is a native one with sendMany: keep the raised receive buffer, drive it directly.
  const native = bunSocketOf(socket);
  if (native?.reload) {
    const made = bunTransport(native, { address: bound.address, port: bound.port }, stats, closeSocket);
    const callbacks = {
      data: made.onData,
      // Bun reports an ICMP error queued on the socket (IP_RECVERR) here when it reads the socket before
      // the next send takes it: about an earlier datagram, no datagram is lost by it.
      error() {
        stats.peerErrors++;
      },
    };
    // Bun 1.4 reads the callbacks from `socket` (as Bun.udpSocket's options nest them), its types from the
    // top level: give both. Datagrams come as plain Uint8Arrays, not node:dgram's Buffers, whose `slice`
    // is a view: the PPP decoders copy what they keep (protocol/ppp/frame.ts says why).
    native.reload({ ...callbacks, socket: callbacks, binaryType: "uint8array" });
    return made.transport;
  }
  socket.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
    if (!handler || closed) {
      stats.unhandled++;
      return;
    }
    stats.received++;
    handler(msg, { address: rinfo.address, port: rinfo.port });
  });

  const queue = new SendQueue(socket, stats);
  return {
    local: { address: bound.address, port: bound.port },
    stats,
    implementation: "node:dgram",
    send(packet, to) {
      if (closed) {
        stats.sendErrors++;
        return;
      }
      queue.push(packet, to.port, to.address);
    },
    onReceive(h) {
      handler = h;
    },
    async close() {
      if (closed) return;
      closed = true;
      // What was sent before close still leaves (a StopCCN sent just before the node stops).
      await queue.drained();
      await closeSocket();
    },
  };
}

/** The part of a node:dgram socket the send queue uses. */
interface DgramSender {
  send(packet: Uint8Array, port: number, address: string, callback: (error: Error | null) => void): void;
}

/**
 * The datagrams of one socket, sent one at a time: the next leaves when node:dgram reports the last one
 * sent. Deno's node:dgram (and Deno.listenDatagram) runs each send as an async operation of its own, and
 * operations in flight together reach the kernel in no fixed order. Measured on Deno 2.9: the first burst
 * on a socket arrives reversed (64 sent in one turn arrive 63, 62 … 0), and an LNS under load sent
 * bursts out of order (bench/lns-load, 20,000 calls over 10 tunnels: 105-157 messages); the peer drops
 * a control message whose Ns is ahead of what it expects and the tunnel stalls for a retransmission
 * timeout (RFC 2661 §5.8). One send in flight keeps the order on every runtime. Its price on Deno: a turn
 * of the event loop per datagram; for a burst of 20,000 it took less CPU than sending all at once (26
 * against 84 µs per datagram), in the lab about 15% more CPU per call (a loaded machine: noisy).
 * A send that fails is tried again (MAX_SEND_ATTEMPTS): the error may belong to an earlier datagram.
 */
class SendQueue {
  /** Flat [packet, port, address, …] from `head` on; compacted when half of it is sent. */
  #pending: (Uint8Array | number | string)[] = [];
  #head = 0;
  #attempts = 0;
  #inFlight = false;
  #whenDrained: (() => void)[] = [];
  readonly #socket: DgramSender;
  readonly #stats: UdpStats;
  readonly #onSent = (error: Error | null): void => this.#sent(error);

  constructor(socket: DgramSender, stats: UdpStats) {
    this.#socket = socket;
    this.#stats = stats;
  }

  push(packet: Uint8Array, port: number, address: string): void {
    this.#pending.push(packet, port, address);
    if (!this.#inFlight) this.#sendHead();
  }

  /** Resolves when every datagram pushed so far has been handed to the kernel or counted as lost. */
  drained(): Promise<void> {
    if (!this.#inFlight) return Promise.resolve();
    return new Promise((resolve) => this.#whenDrained.push(resolve));
  }

  #sendHead(): void {
    const pending = this.#pending;
    while (this.#head < pending.length) {
      const i = this.#head;
      this.#inFlight = true;
      this.#attempts++;
      try {
        this.#socket.send(
          pending[i] as Uint8Array,
          pending[i + 1] as number,
          pending[i + 2] as string,
          this.#onSent,
        );
        return;
      } catch {
        // Refused at once (an address or port node:dgram rejects): the datagram's own fault, not retried.
        this.#stats.sendErrors++;
        this.#next();
      }
    }
    this.#inFlight = false;
    pending.length = 0;
    this.#head = 0;
    for (const resolve of this.#whenDrained.splice(0)) resolve();
  }

  #sent(error: Error | null): void {
    if (!error) {
      this.#stats.sent++;
      this.#next();
    } else if (this.#attempts < MAX_SEND_ATTEMPTS) {
      this.#stats.peerErrors++;
    } else {
      this.#stats.sendErrors++;
      this.#next();
    }
    this.#sendHead();
  }

  #next(): void {
    this.#attempts = 0;
    this.#head += 3;
    if (this.#head >= 3 * 1024 && this.#head * 2 >= this.#pending.length) {
      this.#pending.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
