/**
 * On Bun, what the handling of a burst of received datagrams sends leaves at the burst's end in one
 * sendmmsg (adapters/clock/burst.ts), and a timer of the real clock lets held output out before its own
 * work. Bun only: the other runtimes send through node:dgram one datagram at a time (adapters/udp/node.ts).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { realClock } from "../../../adapters/clock/index.ts";
import { type BunUdpSocket, bunTransport, isBun } from "../../../adapters/udp/bun.ts";
import { newUdpStats, type UdpTransport } from "../../../adapters/udp/stats.ts";

type DataHandler = (socket: BunUdpSocket, data: Uint8Array, port: number, address: string) => void;
interface BunApi {
  udpSocket(options: object): Promise<BunUdpSocket>;
}
const bun = (globalThis as unknown as { Bun?: BunApi }).Bun;

const closing: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

/** A Bun socket on 127.0.0.1 whose datagrams go to `onData` (set later). */
async function rawSocket(): Promise<{ socket: BunUdpSocket; setData(h: DataHandler): void }> {
  let onData: DataHandler = () => {};
  const socket = await (bun as BunApi).udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    binaryType: "uint8array",
    socket: { data: (s: BunUdpSocket, d: Uint8Array, p: number, a: string) => onData(s, d, p, a) },
  });
  closing.push(() => socket.close());
  return { socket, setData: (h) => (onData = h) };
}

/** The transport of the adapter over a real socket, counting its calls into the kernel. */
async function countedTransport(): Promise<{
  transport: UdpTransport;
  calls: { send: number; sendMany: number };
}> {
  const { socket, setData } = await rawSocket();
  const calls = { send: 0, sendMany: 0 };
  const counted: BunUdpSocket = {
    get hostname() {
      return socket.hostname;
    },
    get port() {
      return socket.port;
    },
    get closed() {
      return socket.closed;
    },
    send(d, p, a) {
      calls.send++;
      return socket.send(d, p, a);
    },
    sendMany(packets) {
      calls.sendMany++;
      return socket.sendMany(packets);
    },
    close: () => socket.close(),
  };
  const made = bunTransport(counted, { address: "127.0.0.1", port: socket.port }, newUdpStats(), async () =>
    socket.close(),
  );
  setData(made.onData);
  closing.push(() => made.transport.close());
  return { transport: made.transport, calls };
}

/** A peer that sends `count` datagrams (numbered in their first byte) in one sendmmsg, and collects what comes back. */
async function burstPeer(to: number, count: number) {
  const { socket, setData } = await rawSocket();
  const back: number[] = [];
  setData((_s, d) => back.push(d[0] as number));
  const fire = () => {
    const packets: (Uint8Array | number | string)[] = [];
    for (let i = 0; i < count; i++) packets.push(Uint8Array.of(i, 0, 0, 0), to, "127.0.0.1");
    socket.sendMany(packets);
  };
  return { fire, back };
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe.skipIf(!isBun())("Bun UDP: a burst's replies leave together", () => {
  test("64 datagrams received in one burst are each answered, in order, with far fewer calls than datagrams", async () => {
    const { transport, calls } = await countedTransport();
    transport.onReceive((packet, from) => transport.send(packet, from));
    const peer = await burstPeer(transport.local.port, 64);
    peer.fire();
    await until(() => peer.back.length === 64);
    expect(peer.back).toEqual([...Array(64).keys()]);
    expect(transport.stats.sent).toBe(64);
    // One call per received datagram before (a microtask flush after each): now per burst read.
    expect(calls.send + calls.sendMany).toBeLessThanOrEqual(8);
  });

  test("a send outside any burst still leaves at its turn's next microtask", async () => {
    const { transport, calls } = await countedTransport();
    const { socket } = await rawSocket();
    transport.send(Uint8Array.of(7), { address: "127.0.0.1", port: socket.port });
    transport.send(Uint8Array.of(8), { address: "127.0.0.1", port: socket.port });
    expect(transport.stats.sent).toBe(0);
    await Promise.resolve();
    expect(transport.stats.sent).toBe(2);
    expect(calls.sendMany).toBe(1);
  });

  test("a real-clock timer due during a burst runs after the burst's held replies have left", async () => {
    const { transport } = await countedTransport();
    let sentWhenTimerRan = -1;
    realClock.setTimeout(() => {
      sentWhenTimerRan = transport.stats.sent;
    }, 5);
    const due = Date.now() + 20;
    transport.onReceive((packet, from) => {
      // Handle the burst past the timer's time: Bun runs it before the burst's immediates.
      while (Date.now() < due) {}
      transport.send(packet, from);
    });
    const peer = await burstPeer(transport.local.port, 4);
    peer.fire();
    await until(() => peer.back.length === 4);
    expect(sentWhenTimerRan).toBe(4);
  });
});
