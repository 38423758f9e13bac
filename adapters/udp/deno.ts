/**
 * UDP on Deno through libc over FFI (`Deno.dlopen`, needs --allow-ffi), Linux and IPv4 only: Deno's
 * node:dgram costs a syscall, an async op and a promise per datagram, cannot raise SO_RCVBUF, and its
 * concurrent sends reach the kernel out of order (node.ts). Here datagrams come in batches from a
 * blocking `recvmmsg(2)` on one of Deno's blocking threads (an FFI symbol declared `nonblocking`), and
 * leave in batches from a synchronous `sendmmsg(2)` on the JavaScript thread, in the order sent.
 * Anything else (IPv6, no FFI permission, not Linux, no glibc) takes node:dgram (`denoUdpUnavailable`
 * says why; index.ts).
 *
 * Measured (bench/lns-load.ts, 4 alternated runs against node:dgram and Bun, docs/ARCHITECTURE.md has
 * the table): the LNS's CPU per call fell to 0.32-0.65 of node:dgram's, 0.65-1.94 of Bun's; a profile
 * shows recvfrom and sendto gone, sendmmsg at 6-10% of the ticks. The cost is a thread hand-off when a
 * datagram waits alone: a ping-pong between two sockets took 43-60 µs of CPU per round trip against
 * node:dgram's 30-32.
 *
 * Structures are glibc's on 64-bit Linux (x86_64, aarch64: LP64, little-endian), from <sys/socket.h>,
 * <bits/uio.h> and <netinet/in.h>:
 *   struct mmsghdr   { struct msghdr msg_hdr; unsigned msg_len; }                     64 bytes
 *   struct msghdr    { void *name; u32 namelen; iovec *iov; size_t iovlen; void *control;
 *                      size_t controllen; int flags; }                                 56 bytes
 *   struct iovec     { void *base; size_t len; }                                       16 bytes
 *   struct sockaddr_in { u16 family; u16 port (big-endian); u32 addr (big-endian); u8 zero[8]; } 16 bytes
 */
import { isIPv4 } from "node:net";
import type { PeerAddress } from "../../actors/ports.ts";
import { MAX_SEND_ATTEMPTS, newUdpStats, type UdpStats, type UdpTransport } from "./stats.ts";

// <bits/socket.h>, <asm-generic/socket.h>, <asm-generic/errno.h> (the same on x86_64 and aarch64).
const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const MSG_DONTWAIT = 0x40;
const MSG_WAITFORONE = 0x10000;
const SHUT_RDWR = 2;
const EINTR = 4;
const EAGAIN = 11;
const ENOBUFS = 105;
/** The errno names `bindError` (index.ts) words, and a few more a bind may meet. */
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  12: "ENOMEM",
  13: "EACCES",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
};

const MMSGHDR = 64;
const IOVEC = 16;
const SOCKADDR_IN = 16;

/**
 * Datagrams one `recvmmsg` takes at most, and the room for each: longer ones are cut there, as on
 * node:dgram under Deno (node.ts, DENO_READ_BUFFER); L2TP's stay within the path MTU. The buffers are
 * zeroed memory the kernel maps as it is written: a batch of small datagrams touches a page each.
 */
const RECEIVE_BATCH = 64;
const RECEIVE_SLOT = 16 * 1024;
/** Batches taken on the JavaScript thread after one from the blocking thread, before timers get a turn. */
const SYNC_BATCHES = 8;
/**
 * Datagrams one `sendmmsg` takes at most (the kernel's limit is UIO_MAXIOV, 1024), and the room for each
 * in the send buffer they are copied to (a copy of some 100 bytes costs less than asking Deno for a
 * pointer to each datagram); a longer one leaves alone by `sendto`.
 */
const SEND_BATCH = 256;
const SEND_SLOT = 2048;
/** A full send buffer (EAGAIN, ENOBUFS) is tried again this often … */
const SEND_RETRY_MS = 1;
/**
 * … for this long without a datagram leaving; then what waits counts as lost (sendErrors): a peer
 * retransmits a control message after 1 s (RFC 2661 §5.8), and a queue must not grow without bound.
 */
const SEND_STALL_MS = 1000;

/** The libc functions used, as `Deno.dlopen` declares them. */
const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  // On a blocking thread of Deno's, returning a Promise: the JavaScript thread goes on meanwhile.
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32", nonblocking: true },
  // The same on the JavaScript thread, with MSG_DONTWAIT: what is already queued, without a thread hop.
  recvmmsgNow: { name: "recvmmsg", parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** The symbols as called here (exported for the tests' stand-in, test/adapters/udp/deno-logic.test.ts). */
export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, length: number): number;
  bind(fd: number, address: Uint8Array, length: number): number;
  getsockname(fd: number, address: Uint8Array, length: Uint8Array): number;
  recvmmsg(fd: number, vector: Uint8Array, length: number, flags: number, timeout: null): Promise<number>;
  recvmmsgNow(fd: number, vector: Uint8Array, length: number, flags: number, timeout: null): number;
  sendmmsg(fd: number, vector: Uint8Array, length: number, flags: number): number;
  sendto(
    fd: number,
    data: Uint8Array,
    length: number,
    flags: number,
    to: Uint8Array,
    toLength: number,
  ): number | bigint;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  __errno_location(): unknown;
}

/** The part of Deno's API used here (through `globalThis`, so that tsc without Deno's types checks it). */
interface DenoApi {
  build: { os: string; arch: string };
  permissions: { querySync(descriptor: { name: "ffi" }): { state: string } };
  dlopen(path: string, symbols: typeof SYMBOLS): { symbols: unknown };
  UnsafePointer: { of(buffer: ArrayBuffer): unknown; value(pointer: unknown): number | bigint };
  UnsafePointerView: new (pointer: unknown) => { getInt32(offset?: number): number };
}

/** libc loaded, with this thread's errno; or why it cannot be. */
type Loaded = { libc: Libc; errno: () => number } | { unavailable: string };
let loaded: Loaded | undefined;

function load(): Loaded {
  if (loaded) return loaded;
  loaded = tryLoad();
  return loaded;
}

function tryLoad(): Loaded {
  const deno = (globalThis as { Deno?: DenoApi }).Deno;
  if (!deno?.dlopen) return { unavailable: "not Deno" };
  if (deno.build.os !== "linux") return { unavailable: `not Linux (${deno.build.os})` };
  if (deno.build.arch !== "x86_64" && deno.build.arch !== "aarch64") {
    return { unavailable: `no known struct layout on ${deno.build.arch}` };
  }
  // Asked first: without the permission Deno would prompt on a terminal rather than fail.
  if (deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return { unavailable: "no FFI permission (--allow-ffi)" };
  }
  try {
    const libc = deno.dlopen("libc.so.6", SYMBOLS).symbols as Libc;
    // errno is per thread: this is the JavaScript thread's, read right after each synchronous call. A
    // `nonblocking` call's errno stays on its own thread, out of reach (see receiveLoop).
    const errnoView = new deno.UnsafePointerView(libc.__errno_location());
    return { libc, errno: () => errnoView.getInt32(0) };
  } catch (err) {
    return { unavailable: `dlopen libc.so.6: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Why `bindDenoUdp` cannot work in this process (then bindUdp takes node:dgram), or undefined when it can. */
export function denoUdpUnavailable(): string | undefined {
  const l = load();
  return "unavailable" in l ? l.unavailable : undefined;
}

/** The address of an ArrayBuffer's memory (V8 never moves an ArrayBuffer's backing store). */
function addressOf(buffer: ArrayBuffer): bigint {
  const deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
  return BigInt(deno.UnsafePointer.value(deno.UnsafePointer.of(buffer)));
}

/** An Error as node:dgram's bind errors look to `bindError` (its `code`). */
function errnoError(call: string, errno: number): Error {
  const code = ERRNO_NAMES[errno] ?? `errno ${errno}`;
  return Object.assign(new Error(`${call}: ${code}`), ERRNO_NAMES[errno] ? { code } : {});
}

/** IPv4 dotted quad → its 32-bit value; cached, as peers are few and sends many. */
const parsedAddresses = new Map<string, number>();
function ipv4Value(address: string): number | undefined {
  let value = parsedAddresses.get(address);
  if (value !== undefined) return value;
  if (!isIPv4(address)) return undefined;
  const [a, b, c, d] = address.split(".").map(Number);
  value = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  if (parsedAddresses.size >= 4096) parsedAddresses.clear();
  parsedAddresses.set(address, value);
  return value;
}

/** 32-bit value → dotted quad; cached, so that a datagram from a known peer builds no string. */
const addressStrings = new Map<number, string>();
function ipv4String(value: number): string {
  let s = addressStrings.get(value);
  if (s !== undefined) return s;
  s = `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
  if (addressStrings.size >= 4096) addressStrings.clear();
  addressStrings.set(value, s);
  return s;
}

/** Options of `bindDenoUdp`. */
export interface DenoUdpOptions {
  /** SO_RCVBUF to ask for, in bytes (the kernel caps it at net.core.rmem_max). */
  receiveBufferBytes: number;
}

/** Binds an IPv4 UDP socket through libc; port 0 binds an ephemeral port, told in `local`. */
export async function bindDenoUdp(local: PeerAddress, options: DenoUdpOptions): Promise<UdpTransport> {
  const l = load();
  if ("unavailable" in l) throw new Error(`UDP over FFI: ${l.unavailable}`);
  const { libc, errno } = l;
  const address = ipv4Value(local.address);
  if (address === undefined) throw new Error(`UDP over FFI: not an IPv4 address: ${local.address}`);

  // Blocking (no SOCK_NONBLOCK): the receive thread waits in recvmmsg; sends pass MSG_DONTWAIT.
  const fd = libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw errnoError("socket", errno());
  const name = new Uint8Array(SOCKADDR_IN);
  const nameView = new DataView(name.buffer);
  try {
    // Before bind, as node:dgram does after it: the kernel doubles it, capped at net.core.rmem_max
    // (socket(7)); refused, the default stays.
    libc.setsockopt(
      fd,
      SOL_SOCKET,
      SO_RCVBUF,
      new Uint8Array(new Int32Array([options.receiveBufferBytes]).buffer),
      4,
    );
    nameView.setUint16(0, AF_INET, true);
    nameView.setUint16(2, local.port, false);
    nameView.setUint32(4, address, false);
    if (libc.bind(fd, name, SOCKADDR_IN) !== 0) throw errnoError("bind", errno());
    const length = new Uint8Array(new Uint32Array([SOCKADDR_IN]).buffer);
    if (libc.getsockname(fd, name, length) !== 0) throw errnoError("getsockname", errno());
  } catch (err) {
    libc.close(fd);
    throw err;
  }
  const bound: PeerAddress = {
    address: ipv4String(nameView.getUint32(4, false)),
    port: nameView.getUint16(2, false),
  };
  return denoTransport(libc, errno, fd, bound);
}

/**
 * The transport over a bound socket `fd`. Exported for the tests, which drive it with a stand-in for
 * libc on any runtime (`pointerOf` then names buffers with made-up addresses the stand-in resolves).
 */
export function denoTransport(
  libc: Libc,
  errno: () => number,
  fd: number,
  local: PeerAddress,
  pointerOf: (buffer: ArrayBuffer) => bigint = addressOf,
): UdpTransport {
  const stats: UdpStats = newUdpStats();
  let handler: ((packet: Uint8Array, from: PeerAddress) => void) | undefined;
  let closing = false;
  let closed: Promise<void> | undefined;

  // Receiving and sending each have their vector of mmsghdrs; a sent datagram is copied to its slot,
  // its destination written to its slot's name.
  const incoming = new Slots(RECEIVE_BATCH, RECEIVE_SLOT, pointerOf);
  const outgoing = new Slots(SEND_BATCH, SEND_SLOT, pointerOf);
  for (let i = 0; i < SEND_BATCH; i++) outgoing.names.setUint16(i * SOCKADDR_IN, AF_INET, true);
  // A datagram longer than SEND_SLOT, with its destination, for sendto.
  const bigName = new Uint8Array(SOCKADDR_IN);
  const bigNameView = new DataView(bigName.buffer);
  bigNameView.setUint16(0, AF_INET, true);

  // Datagrams waiting to leave, in order, from `head` on: [packet, port, address as u32, …].
  let pending: (Uint8Array | number)[] = [];
  let head = 0;
  /** Failed tries of the datagram at `head` (MAX_SEND_ATTEMPTS). */
  let attempts = 0;
  /** A flush is queued (a microtask), or held to the end of the batch being handled. */
  let flushQueued = false;
  let handling = false;
  /** Waiting for room in a full send buffer: the retry timer, and since when nothing left. */
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let stalledSince = 0;
  const whenDrained: (() => void)[] = [];

  /**
   * Sends what waits, in order, in batches of SEND_BATCH. sendmmsg(2) returns how many left; fewer
   * than asked means the next one failed, and the error is lost (the man page's BUGS): trying again
   * from there reports it. A failed try is counted and tried again up to MAX_SEND_ATTEMPTS, as the
   * other adapters do (stats.ts: an ICMP error about an earlier datagram fails the next send); a full
   * send buffer is waited out on a timer instead, bounded by SEND_STALL_MS.
   */
  const flush = (): void => {
    flushQueued = false;
    if (retryTimer !== undefined) return;
    while (head < pending.length) {
      let count = 0;
      let result: number;
      const first = pending[head] as Uint8Array;
      if (first.length > SEND_SLOT) {
        bigNameView.setUint16(2, pending[head + 1] as number, false);
        bigNameView.setUint32(4, pending[head + 2] as number, false);
        result =
          Number(libc.sendto(fd, first, first.length, MSG_DONTWAIT, bigName, SOCKADDR_IN)) < 0 ? -1 : 1;
      } else {
        for (let i = head; i < pending.length && count < SEND_BATCH; i += 3) {
          const packet = pending[i] as Uint8Array;
          if (packet.length > SEND_SLOT) break;
          outgoing.data.set(packet, count * SEND_SLOT);
          outgoing.iovecs.setUint32(count * IOVEC + 8, packet.length, true);
          outgoing.names.setUint16(count * SOCKADDR_IN + 2, pending[i + 1] as number, false);
          outgoing.names.setUint32(count * SOCKADDR_IN + 4, pending[i + 2] as number, false);
          count++;
        }
        result = libc.sendmmsg(fd, outgoing.vector, count, MSG_DONTWAIT);
      }
      if (result > 0) {
        stats.sent += result;
        head += result * 3;
        attempts = 0;
        stalledSince = 0;
        continue;
      }
      const error = errno();
      if (error === EINTR) continue;
      if (error === EAGAIN || error === ENOBUFS) {
        const now = Date.now();
        if (stalledSince === 0) stalledSince = now;
        if (now - stalledSince < SEND_STALL_MS) {
          stats.sendWaits++;
          retryTimer = setTimeout(retry, SEND_RETRY_MS);
          return;
        }
        stats.sendErrors += (pending.length - head) / 3;
        head = pending.length;
        break;
      }
      if (++attempts < MAX_SEND_ATTEMPTS) {
        stats.peerErrors++;
      } else {
        stats.sendErrors++;
        head += 3;
        attempts = 0;
      }
    }
    pending = [];
    head = 0;
    stalledSince = 0;
    for (const resolve of whenDrained.splice(0)) resolve();
  };
  const retry = (): void => {
    retryTimer = undefined;
    flush();
  };
  const drained = (): Promise<void> => {
    if (head >= pending.length) return Promise.resolve();
    return new Promise((resolve) => whenDrained.push(resolve));
  };

  /** Hands the `count` datagrams of the last receive to the handler; what it sends leaves at the end. */
  const deliver = (count: number): void => {
    const packets: Uint8Array[] = new Array(count);
    const froms: PeerAddress[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const length = incoming.vectorView.getUint32(i * MMSGHDR + 56, true);
      packets[i] = incoming.data.slice(i * RECEIVE_SLOT, i * RECEIVE_SLOT + length);
      froms[i] = {
        address: ipv4String(incoming.names.getUint32(i * SOCKADDR_IN + 4, false)),
        port: incoming.names.getUint16(i * SOCKADDR_IN + 2, false),
      };
    }
    handling = true;
    try {
      for (let i = 0; i < count; i++) {
        if (!handler || closing) {
          stats.unhandled++;
          continue;
        }
        stats.received++;
        handler(packets[i], froms[i]);
      }
    } finally {
      handling = false;
      if (flushQueued) flush();
    }
  };

  /**
   * Waits in a blocking recvmmsg(2) on one of Deno's blocking threads (MSG_WAITFORONE: it returns once
   * one datagram is there, with all that are queued up to RECEIVE_BATCH). Once a batch is handled, what
   * came meanwhile is taken on the JavaScript thread (MSG_DONTWAIT), up to SYNC_BATCHES batches before
   * the event loop gets a turn: each blocking call costs a thread hand-off both ways (futex wake-ups,
   * about a fifth of the LNS's ticks under load when every batch went through one). close() ends a
   * waiting call with shutdown(2); only one call at a time uses the buffers, and they stay referenced
   * until the last has returned.
   */
  const receiveLoop = async (): Promise<void> => {
    for (;;) {
      let count = await libc.recvmmsg(fd, incoming.vector, RECEIVE_BATCH, MSG_WAITFORONE, null);
      if (closed) return;
      if (count < 0) {
        // Its errno is on the other thread. No error of a bound UDP socket's recvmmsg lasts (EINTR,
        // ENOMEM; no ICMP error without IP_RECVERR, which is not set): counted, and tried again after a
        // pause so that one that did last could not spin a core.
        stats.receiveErrors++;
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      for (let batches = 1; ; batches++) {
        deliver(count);
        if (closing || batches === SYNC_BATCHES) break;
        count = libc.recvmmsgNow(fd, incoming.vector, RECEIVE_BATCH, MSG_DONTWAIT, null);
        if (count <= 0) {
          if (count < 0 && errno() !== EAGAIN && errno() !== EINTR) stats.receiveErrors++;
          break;
        }
      }
    }
  };
  const receiving = receiveLoop();

  return {
    local,
    stats,
    implementation: "deno-ffi",
    send(packet, to) {
      const address = closing ? undefined : ipv4Value(to.address);
      const port = to.port;
      if (address === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
        // After close, or not an IPv4 destination this socket can reach: the datagram's own fault.
        stats.sendErrors++;
        return;
      }
      pending.push(packet, port, address);
      if (!flushQueued) {
        flushQueued = true;
        // While a received batch is handled the flush waits for its end; otherwise what this turn sends
        // leaves at its microtask checkpoint.
        if (!handling) queueMicrotask(flush);
      }
    },
    onReceive(h) {
      handler = h;
    },
    close() {
      if (closed) return closed;
      closing = true;
      closed = (async () => {
        // What was sent before close still leaves (a StopCCN sent just before the node stops).
        if (flushQueued) flush();
        await drained();
        // shutdown(2) on an unconnected UDP socket fails with ENOTCONN but still wakes a thread waiting
        // in recvmmsg, which returns at once (measured: 0.65 ms), as does any later call: the loop ends,
        // then the descriptor is closed (closing it first would leave the call waiting, or reading from
        // a socket that reused the number).
        libc.shutdown(fd, SHUT_RDWR);
        await receiving;
        libc.close(fd);
      })();
      return closed;
    },
  };
}

/**
 * `count` mmsghdrs (`vector`), each with one iovec (`iovecs`) of `slot` bytes in `data` and a
 * sockaddr_in in `names`, the pointers written once. The kernel is handed `vector` alone, so whatever
 * holds a Slots keeps every buffer it points to alive: a buffer only the kernel knows of would be
 * collected while a call writes to it (first try: an ArrayBuffer of iovecs referenced by nothing else
 * was freed, and recvmmsg failed or wrote elsewhere within a few hundred round trips).
 */
class Slots {
  readonly vector: Uint8Array;
  readonly vectorView: DataView;
  readonly iovecs: DataView;
  readonly names: DataView;
  readonly data: Uint8Array;

  constructor(count: number, slot: number, pointerOf: (buffer: ArrayBuffer) => bigint) {
    this.vector = new Uint8Array(count * MMSGHDR);
    this.vectorView = new DataView(this.vector.buffer);
    this.iovecs = new DataView(new ArrayBuffer(count * IOVEC));
    this.names = new DataView(new ArrayBuffer(count * SOCKADDR_IN));
    this.data = new Uint8Array(new ArrayBuffer(count * slot));
    const namesAt = pointerOf(this.names.buffer as ArrayBuffer);
    const iovecsAt = pointerOf(this.iovecs.buffer as ArrayBuffer);
    const dataAt = pointerOf(this.data.buffer as ArrayBuffer);
    for (let i = 0; i < count; i++) {
      this.iovecs.setBigUint64(i * IOVEC, dataAt + BigInt(i * slot), true); // iov_base
      this.iovecs.setBigUint64(i * IOVEC + 8, BigInt(slot), true); // iov_len
      const m = i * MMSGHDR;
      this.vectorView.setBigUint64(m, namesAt + BigInt(i * SOCKADDR_IN), true); // msg_name
      this.vectorView.setUint32(m + 8, SOCKADDR_IN, true); // msg_namelen
      this.vectorView.setBigUint64(m + 16, iovecsAt + BigInt(i * IOVEC), true); // msg_iov
      this.vectorView.setBigUint64(m + 24, 1n, true); // msg_iovlen
    }
  }
}
