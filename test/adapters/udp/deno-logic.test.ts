/**
 * The logic of Deno's FFI adapter (adapters/udp/deno.ts) against a stand-in for libc, on Bun: what a
 * real socket on loopback never does (a full send buffer, a partial sendmmsg, an error reported on a
 * later send) is scripted here. The stand-in reads and writes the mmsghdr vectors as the kernel would,
 * through made-up addresses: each buffer the adapter describes gets one (its number in the high 32 bits).
 * The same adapter over real sockets under Deno: deno-ffi.test.ts.
 */
import { describe, expect, test } from "bun:test";
import type { PeerAddress } from "../../../actors/ports.ts";
import { denoTransport, type Libc } from "../../../adapters/udp/deno.ts";
import { MAX_SEND_ATTEMPTS } from "../../../adapters/udp/stats.ts";

const EAGAIN = 11;
const EINVAL = 22;
const ECONNREFUSED = 111;

interface Datagram {
  bytes: number[];
  port: number;
  address: string;
}

/** What one sendmmsg does: all it is given (absent), the first `sent`, or fail with `errno`. */
type SendStep = { sent: number } | { errno: number };

class FakeLibc implements Libc {
  readonly #buffers = new Map<bigint, ArrayBuffer>();
  #next = 1n;
  errno = 0;
  /** What the next sendmmsg calls do, in turn; `stuck`: every call fails with EAGAIN. */
  readonly plan: SendStep[] = [];
  stuck = false;
  /** The datagrams that left, in order, and the length of each sendmmsg call (0: a sendto). */
  readonly wire: Datagram[] = [];
  readonly calls: number[] = [];
  /** Datagrams waiting in the "kernel", and the blocking recvmmsg waiting for them. */
  readonly queued: Datagram[] = [];
  #waiting: { vector: Uint8Array; length: number; resolve: (n: number) => void } | undefined;
  readonly events: string[] = [];

  readonly pointerOf = (buffer: ArrayBuffer): bigint => {
    const id = this.#next++;
    this.#buffers.set(id, buffer);
    return id << 32n;
  };

  #at(pointer: bigint): DataView {
    const buffer = this.#buffers.get(pointer >> 32n);
    if (!buffer) throw new Error(`FakeLibc: no buffer at ${pointer}`);
    return new DataView(buffer, Number(pointer & 0xffffffffn));
  }

  /** The i-th mmsghdr's name, and its one iovec's bytes (`length` of them, or the iovec's). */
  #message(vector: Uint8Array, i: number, length?: number): { name: DataView; data: Uint8Array } {
    const header = new DataView(vector.buffer, vector.byteOffset + i * 64);
    const iovec = this.#at(header.getBigUint64(16, true));
    const base = this.#at(iovec.getBigUint64(0, true));
    const bytes = length ?? Number(iovec.getBigUint64(8, true));
    return {
      name: this.#at(header.getBigUint64(0, true)),
      data: new Uint8Array(base.buffer, base.byteOffset, bytes),
    };
  }

  #leave(name: DataView, data: Uint8Array): void {
    const a = name.getUint32(4, false);
    const address = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
    this.wire.push({ bytes: Array.from(data), port: name.getUint16(2, false), address });
  }

  #step(): SendStep | undefined {
    return this.stuck ? { errno: EAGAIN } : this.plan.shift();
  }

  sendmmsg(_fd: number, vector: Uint8Array, length: number): number {
    this.calls.push(length);
    const step = this.#step();
    if (step && "errno" in step) {
      this.errno = step.errno;
      return -1;
    }
    const sent = Math.min(step?.sent ?? length, length);
    for (let i = 0; i < sent; i++) {
      const header = new DataView(vector.buffer, vector.byteOffset + i * 64);
      const iovec = this.#at(header.getBigUint64(16, true));
      const { name, data } = this.#message(vector, i, Number(iovec.getBigUint64(8, true)));
      this.#leave(name, data);
    }
    return sent;
  }

  sendto(_fd: number, data: Uint8Array, length: number, _flags: number, to: Uint8Array): number {
    this.calls.push(0);
    const step = this.#step();
    if (step && "errno" in step) {
      this.errno = step.errno;
      return -1;
    }
    this.#leave(new DataView(to.buffer, to.byteOffset), data.subarray(0, length));
    return length;
  }

  /** Writes up to `length` queued datagrams into the vector, as recvmmsg does. */
  #receive(vector: Uint8Array, length: number): number {
    const count = Math.min(length, this.queued.length);
    for (let i = 0; i < count; i++) {
      const d = this.queued.shift() as Datagram;
      const { name, data } = this.#message(vector, i);
      data.set(d.bytes);
      name.setUint16(2, d.port, false);
      name.setUint32(
        4,
        d.address.split(".").reduce((v, x) => v * 256 + Number(x), 0),
        false,
      );
      new DataView(vector.buffer, vector.byteOffset + i * 64).setUint32(56, d.bytes.length, true);
    }
    return count;
  }

  recvmmsg(_fd: number, vector: Uint8Array, length: number): Promise<number> {
    if (this.#waiting) throw new Error("FakeLibc: two receive calls at once");
    if (this.queued.length > 0) return Promise.resolve(this.#receive(vector, length));
    return new Promise((resolve) => {
      this.#waiting = { vector, length, resolve };
    });
  }

  recvmmsgNow(_fd: number, vector: Uint8Array, length: number): number {
    if (this.#waiting) throw new Error("FakeLibc: a receive on the JavaScript thread while one waits");
    if (this.queued.length === 0) {
      this.errno = EAGAIN;
      return -1;
    }
    return this.#receive(vector, length);
  }

  /** Datagrams arrive: a waiting recvmmsg returns with as many as it takes. */
  arrive(...datagrams: Datagram[]): void {
    this.queued.push(...datagrams);
    const waiting = this.#waiting;
    if (!waiting) return;
    this.#waiting = undefined;
    waiting.resolve(this.#receive(waiting.vector, waiting.length));
  }

  shutdown(): number {
    this.events.push("shutdown");
    // Linux: a waiting recvmmsg returns one empty datagram.
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve(1);
    return -1;
  }

  close(): number {
    this.events.push(this.#waiting ? "close while a receive waits" : "close");
    return 0;
  }

  socket(): number {
    return 3;
  }
  setsockopt(): number {
    return 0;
  }
  bind(): number {
    return 0;
  }
  getsockname(): number {
    return 0;
  }
  __errno_location(): unknown {
    return null;
  }
}

const PEER: PeerAddress = { address: "192.0.2.7", port: 1701 };
const LOCAL: PeerAddress = { address: "127.0.0.1", port: 1701 };

function setup() {
  const libc = new FakeLibc();
  const transport = denoTransport(libc, () => libc.errno, 3, LOCAL, libc.pointerOf);
  return { libc, transport };
}

/** `n` datagrams numbered from `from`, as sent to PEER. */
const numbered = (n: number, from = 0, length = 3): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => new Uint8Array(length).fill((from + i) & 0xff));
const onWire = (packets: Uint8Array[]): Datagram[] => packets.map((p) => ({ bytes: Array.from(p), ...PEER }));
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("Deno's FFI adapter, sending", () => {
  test("what one turn sends leaves at its microtask checkpoint in one sendmmsg, beyond 256 in batches of 256", async () => {
    const { libc, transport } = setup();
    const packets = numbered(600);
    for (const p of packets) transport.send(p, PEER);
    expect(libc.calls).toEqual([]);
    await Promise.resolve();
    expect(libc.calls).toEqual([256, 256, 88]);
    expect(libc.wire).toEqual(onWire(packets));
    expect(transport.stats.sent).toBe(600);
    await transport.close();
  });

  test("a partial sendmmsg goes on with the rest, in order", async () => {
    const { libc, transport } = setup();
    libc.plan.push({ sent: 3 });
    const packets = numbered(10);
    for (const p of packets) transport.send(p, PEER);
    await turn();
    expect(libc.calls).toEqual([10, 7]);
    expect(libc.wire).toEqual(onWire(packets));
    expect(transport.stats).toMatchObject({ sent: 10, sendErrors: 0, peerErrors: 0 });
    await transport.close();
  });

  test("a full send buffer is waited out: nothing lost, later sends behind, the waits counted", async () => {
    const { libc, transport } = setup();
    libc.plan.push({ sent: 2 }, { errno: EAGAIN }, { errno: EAGAIN });
    const first = numbered(5);
    for (const p of first) transport.send(p, PEER);
    await Promise.resolve();
    expect(libc.wire).toEqual(onWire(first.slice(0, 2)));
    const later = numbered(3, 5);
    for (const p of later) transport.send(p, PEER);
    for (let i = 0; i < 100 && libc.wire.length < 8; i++) await turn();
    expect(libc.wire).toEqual(onWire([...first, ...later]));
    expect(transport.stats).toMatchObject({ sent: 8, sendWaits: 2, sendErrors: 0 });
    await transport.close();
  });

  test("a send buffer full for a second: what waits counts as lost, and close does not hang", async () => {
    const { libc, transport } = setup();
    libc.stuck = true;
    for (const p of numbered(4)) transport.send(p, PEER);
    const t0 = performance.now();
    await transport.close();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990);
    expect(transport.stats.sendErrors).toBe(4);
    expect(transport.stats.sent).toBe(0);
    expect(transport.stats.sendWaits).toBeGreaterThan(10);
  }, 5000);

  test("an error about an earlier datagram (ICMP) costs a try, not the datagram", async () => {
    const { libc, transport } = setup();
    libc.plan.push({ errno: ECONNREFUSED });
    const packets = numbered(4);
    for (const p of packets) transport.send(p, PEER);
    await turn();
    expect(libc.wire).toEqual(onWire(packets));
    expect(transport.stats).toMatchObject({ sent: 4, peerErrors: 1, sendErrors: 0 });
    await transport.close();
  });

  test(`a datagram refused ${MAX_SEND_ATTEMPTS} times is lost alone; the rest go in order`, async () => {
    const { libc, transport } = setup();
    libc.plan.push({ sent: 2 }, ...Array(MAX_SEND_ATTEMPTS).fill({ errno: EINVAL }));
    const packets = numbered(5);
    for (const p of packets) transport.send(p, PEER);
    await turn();
    expect(libc.wire).toEqual(onWire([...packets.slice(0, 2), ...packets.slice(3)]));
    expect(transport.stats).toMatchObject({ sent: 4, peerErrors: MAX_SEND_ATTEMPTS - 1, sendErrors: 1 });
    await transport.close();
  });

  test("a datagram longer than its slot leaves by sendto between batches, in order", async () => {
    const { libc, transport } = setup();
    const packets = [...numbered(2), ...numbered(1, 2, 3000), ...numbered(2, 3)];
    for (const p of packets) transport.send(p, PEER);
    await turn();
    expect(libc.calls).toEqual([2, 0, 2]);
    expect(libc.wire).toEqual(onWire(packets));
    await transport.close();
  });

  test("sends the socket cannot make are counted, never thrown", async () => {
    const { libc, transport } = setup();
    transport.send(new Uint8Array([1]), { address: "::1", port: 1701 });
    transport.send(new Uint8Array([1]), { address: "127.0.0.1", port: 0 });
    transport.send(new Uint8Array([1]), { address: "127.0.0.1", port: 1.5 });
    await turn();
    expect(libc.calls).toEqual([]);
    expect(transport.stats.sendErrors).toBe(3);
    await transport.close();
  });
});

describe("Deno's FFI adapter, receiving", () => {
  const from = { address: "192.0.2.9", port: 4000 };

  test("a batch goes to the handler as copies with their source; its replies leave in one sendmmsg at its end", async () => {
    const { libc, transport } = setup();
    const got: { bytes: Uint8Array; from: PeerAddress }[] = [];
    // How many sendmmsg calls were made when each datagram was handled.
    const callsSoFar: number[] = [];
    transport.onReceive((bytes, source) => {
      got.push({ bytes, from: source });
      callsSoFar.push(libc.calls.length);
      transport.send(bytes, source);
    });
    libc.arrive(...[1, 2, 3].map((n) => ({ bytes: [n, n], ...from })));
    await turn();
    expect(got.map((g) => Array.from(g.bytes))).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect(got[0].from).toEqual(from);
    expect(callsSoFar).toEqual([0, 0, 0]);
    expect(libc.calls).toEqual([3]);
    expect(libc.wire.map((d) => d.bytes)).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    // The slots are reused: what the handler was given does not change with the next batch.
    libc.arrive({ bytes: [9, 9], ...from });
    await turn();
    expect(Array.from(got[0].bytes)).toEqual([1, 1]);
    expect(transport.stats.received).toBe(4);
    await transport.close();
  });

  test("what is queued beyond a batch is taken on the same turn, in order, each batch's replies at its end", async () => {
    const { libc, transport } = setup();
    const got: number[] = [];
    transport.onReceive((bytes, source) => {
      got.push(bytes[0] | (bytes[1] << 8));
      transport.send(bytes, source);
    });
    libc.queued.push(...Array.from({ length: 200 }, (_, n) => ({ bytes: [n & 255, n >> 8], ...from })));
    libc.arrive();
    await Promise.resolve();
    await turn();
    expect(got).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect(libc.calls).toEqual([64, 64, 64, 8]);
    await transport.close();
  });

  test("close lets what waits leave, wakes the waiting receive with shutdown, then closes; twice is once", async () => {
    const { libc, transport } = setup();
    transport.send(new Uint8Array([7]), PEER);
    await Promise.all([transport.close(), transport.close()]);
    expect(libc.wire).toEqual(onWire([new Uint8Array([7])]));
    expect(libc.events).toEqual(["shutdown", "close"]);
    transport.send(new Uint8Array([8]), PEER);
    expect(transport.stats.sendErrors).toBe(1);
  });

  test("datagrams before a handler is set, or after close began, are counted as unhandled", async () => {
    const { libc, transport } = setup();
    libc.arrive({ bytes: [1], ...from });
    await turn();
    expect(transport.stats).toMatchObject({ received: 0, unhandled: 1 });
    await transport.close();
  });
});
