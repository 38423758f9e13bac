/**
 * Two checks of the UDP adapter over real loopback UDP, written once for both runtimes: the bun:test file
 * (send-checks.test.ts) calls them on Bun, and runs this file under Deno (`deno run -A`, which prints
 * their JSON results: a bun:test file cannot run under Deno, docs/ARCHITECTURE.md), once with Deno's
 * default adapter (libc over FFI) and once with `--implementation node` (node:dgram).
 *
 * - `controlBurstOrder`: a burst of 64 control messages on one tunnel (Ns 0…63, as a control channel
 *   with an open window sends them in one turn) leaves the socket in the order it was sent (issue 13.1:
 *   Deno's node:dgram sent such a burst in reverse).
 * - `peerErrorLoss`: a peer gone (its port closed) answers with an ICMP port unreachable, which reaches
 *   the sender's socket between its datagram to the gone peer and the next ones to a healthy peer; none
 *   of the healthy peer's datagrams may be lost (issue 12.1).
 */
import dgram from "node:dgram";
import process from "node:process";
import type { PeerAddress } from "../../../actors/ports.ts";
import {
  type BindUdpOptions,
  bindUdp,
  type UdpStats,
  type UdpTransport,
} from "../../../adapters/udp/index.ts";
import { decodeControl, encodeControl } from "../../../protocol/l2tp/index.ts";

/**
 * The adapters of a runtime: Bun has two (node:dgram driving Bun's native socket, and Bun.udpSocket), Deno
 * two (libc over FFI, node:dgram); undefined: bindUdp's default.
 */
export type Implementation = NonNullable<BindUdpOptions["implementation"]>;

const WAIT_MS = 2000;

/** Resolves with the first `n` datagrams `t` receives, or with what came within WAIT_MS. */
export function collect(t: UdpTransport, n: number): Promise<{ packet: Uint8Array; from: PeerAddress }[]> {
  const got: { packet: Uint8Array; from: PeerAddress }[] = [];
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(got), WAIT_MS);
    t.onReceive((packet, from) => {
      got.push({ packet: packet.slice(), from });
      if (got.length === n) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

/** What `controlBurstOrder` saw. */
export interface BurstResult {
  /** The adapter the sender got. */
  implementation: UdpTransport["implementation"];
  /** The Ns of each message, in the order the peer received them. */
  received: number[];
  sender: UdpStats;
}

/** Sends 64 ICRPs on one tunnel, Ns 0…63, in one turn; returns the Ns in the order they arrived. */
export async function controlBurstOrder(implementation?: Implementation): Promise<BurstResult> {
  const count = 64;
  const lns = await bindUdp({ address: "127.0.0.1", port: 0 }, { implementation });
  const lac = await bindUdp({ address: "127.0.0.2", port: 0 }, { implementation });
  try {
    const arriving = collect(lac, count);
    for (let ns = 0; ns < count; ns++) {
      const packet = encodeControl(
        { tunnelId: 7, sessionId: ns + 1, ns, nr: 1 },
        { type: "ICRP", avps: { assignedSessionId: 1000 + ns } },
      );
      lns.send(packet, lac.local);
    }
    const received = (await arriving).map(({ packet }) => {
      const decoded = decodeControl(packet);
      if (!decoded.ok) throw new Error(`controlBurstOrder: undecodable datagram: ${decoded.error.reason}`);
      return decoded.value.header.ns;
    });
    return { implementation: lns.implementation, received, sender: { ...lns.stats } };
  } finally {
    await Promise.all([lns.close(), lac.close()]);
  }
}

/** What `peerErrorLoss` saw. */
export interface PeerErrorResult {
  /** Datagrams sent to the healthy peer, and the ones it received (their first byte), in order. */
  sentToHealthy: number;
  received: number[];
  sender: UdpStats;
}

/** A UDP port on `address` that was bound a moment ago and is closed now: it answers port unreachable. */
async function closedPort(address: string): Promise<number> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Lets queued microtasks run (the adapter's batched send) without a turn of the event loop (no socket read). */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 4; i++) await Promise.resolve();
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The sender (an LNS) sends to a gone peer, then to a healthy one, three ways: in the same batch; in
 * the next batch before the event loop reads the socket (the ICMP error still queued on it); and after
 * a turn of the event loop. Returns what the healthy peer received.
 */
export async function peerErrorLoss(implementation?: Implementation): Promise<PeerErrorResult> {
  const lns = await bindUdp({ address: "127.0.0.1", port: 0 }, { implementation });
  const healthy = await bindUdp({ address: "127.0.0.2", port: 0 }, { implementation });
  const gone: PeerAddress = { address: "127.0.0.3", port: await closedPort("127.0.0.3") };
  try {
    const rounds = 5;
    const arriving = collect(healthy, rounds * 3);
    let next = 0;
    const toHealthy = () => lns.send(new Uint8Array([next++, 0xc8]), healthy.local);
    // An SCCRP to the peer that sent an SCCRQ and closed its socket.
    const toGone = () => lns.send(new Uint8Array([0xff, 0xc8]), gone);
    for (let round = 0; round < rounds; round++) {
      // One to a healthy peer in the same batch;
      toGone();
      toHealthy();
      await microtasks();
      // in the next batch, the ICMP error queued on the socket meanwhile;
      toGone();
      await microtasks();
      toHealthy();
      await microtasks();
      // after a turn of the event loop (the runtime may have read the error by then).
      toGone();
      await pause(5);
      toHealthy();
      await pause(5);
    }
    const received = (await arriving).map(({ packet }) => packet[0]);
    return { sentToHealthy: next, received, sender: { ...lns.stats } };
  } finally {
    await Promise.all([lns.close(), healthy.close()]);
  }
}

// `deno run -A test/adapters/udp/send-checks.ts [--implementation node]`: both checks with this runtime's
// default adapter or the one named, as JSON.
if (import.meta.main) {
  const at = process.argv.indexOf("--implementation");
  const implementation = at > 0 ? (process.argv[at + 1] as Implementation) : undefined;
  const result = {
    burst: await controlBurstOrder(implementation),
    peerError: await peerErrorLoss(implementation),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
