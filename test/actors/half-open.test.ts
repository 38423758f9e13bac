/**
 * Bounds on half-open tunnels, on real UDP over loopback (issue 12 item 3): an LNS open to any peer
 * (`address: any`, as the example config) gets SCCRQs from many source ports that never complete the
 * handshake. Over the per-address and node-wide limits they get StopCCN 2/4, counted; the ones taken
 * get at most 1 + 2 SCCRPs and are forgotten soon, with no destination entry and no lockout left; a
 * legitimate LAC on another address sets its calls up meanwhile.
 */
import { afterEach, expect, test } from "bun:test";
import { cryptoRandom } from "../../adapters/random/index.ts";
import { decodeControl, encodeControl } from "../../protocol/l2tp/messages.ts";
import { UdpNodes } from "../support/udp-nodes.ts";

const udp = new UdpNodes();
afterEach(() => udp.closeAll());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What one flooding socket heard back: SCCRPs (first and retransmitted) and StopCCN result codes. */
interface Heard {
  sccrps: number;
  stops: { result: number; error?: number; message?: string }[];
}

/** Sends one SCCRQ from each of `count` sockets at `address` (distinct ports); never answers. */
async function flood(
  address: string,
  count: number,
  lns: { address: string; port: number },
): Promise<Heard[]> {
  const heard: Heard[] = [];
  for (let i = 0; i < count; i++) {
    const socket = await udp.socket(address);
    const mine: Heard = { sccrps: 0, stops: [] };
    heard.push(mine);
    socket.onReceive((packet) => {
      const d = decodeControl(packet);
      const m = d.ok ? d.value.message : null;
      if (m?.type === "SCCRP") mine.sccrps++;
      if (m?.type === "StopCCN" && m.avps.resultCode) mine.stops.push(m.avps.resultCode);
    });
    const sccrq = encodeControl(
      { tunnelId: 0, sessionId: 0, ns: 0, nr: 0 },
      {
        type: "SCCRQ",
        avps: {
          protocolVersion: { version: 1, revision: 0 },
          hostName: `flood-${i}`,
          framingCapabilities: { sync: true, async: true },
          assignedTunnelId: i + 1,
          challenge: cryptoRandom.bytes(16),
        },
      },
    );
    socket.send(sccrq, lns);
  }
  return heard;
}

test("half-open tunnels are bounded per address and node-wide; the rest is refused with StopCCN 2/4; nothing stays", async () => {
  const { node: lns, socket: lnsSocket } = await udp.node("127.0.0.1", {
    name: "lns",
    hostName: "lns.test",
    destinations: [{ secret: "s3cret" }],
    maxHalfOpenPerAddress: 20,
    maxHalfOpenTunnels: 30,
    handshakeTimeoutMs: 1_500,
    stopHoldMs: 200,
    channel: { retransmitInitialMs: 200, retransmitCapMs: 800 },
  });
  const { node: lac, socket: lacSocket } = await udp.node("127.0.0.2", {
    name: "lac",
    hostName: "lac.test",
    destinations: [{ ...lnsSocket.local, secret: "s3cret", accept: false }],
    stopHoldMs: 200,
    channel: { retransmitInitialMs: 200, retransmitCapMs: 800 },
  });

  const fromA = await flood("127.0.0.4", 40, lnsSocket.local);
  await sleep(100);
  let n = lns.snapshot({ sessions: false });
  expect(n.registries.halfOpenTunnels).toBe(20);
  expect(n.registries.halfOpenAddresses).toBe(1);
  expect(n.stats.halfOpenRefused).toBe(20);
  // The legitimate LAC, from another address, is not held back by the flood's address.
  const call = await lac.openSession({ destination: lnsSocket.local });
  expect(call.ok).toBe(true);

  // A second address fills the node-wide limit: 30 in their handshake at most.
  const fromB = await flood("127.0.0.5", 40, lnsSocket.local);
  await sleep(100);
  n = lns.snapshot({ sessions: false });
  expect(n.registries.halfOpenTunnels).toBe(30);
  expect(n.stats.halfOpenRefused).toBe(50);
  expect(n.stats.refusedTunnels).toBe(50);
  // The half-open ones are forgotten within the short handshake life, after at most 1 + 2 SCCRPs.
  await sleep(2_500);
  const refusals = [...fromA, ...fromB].flatMap((h) => h.stops);
  expect(refusals).toHaveLength(50);
  for (const r of refusals) expect(r).toMatchObject({ result: 2, error: 4 });
  expect(refusals[0].message).toContain("in their handshake");
  const sccrps = [...fromA, ...fromB].map((h) => h.sccrps);
  expect(sccrps.filter((c) => c > 0)).toHaveLength(30);
  expect(Math.max(...sccrps)).toBeLessThanOrEqual(3);
  n = lns.snapshot({ sessions: false });
  expect(n.registries.halfOpenTunnels).toBe(0);
  expect(n.registries.halfOpenAddresses).toBe(0);
  // Only the LAC that authenticated has a destination; none of the flood's peers is kept or locked out.
  expect(n.destinations.map((d) => [d.key, d.state, d.lockouts])).toEqual([
    [`127.0.0.2:${lacSocket.local.port}`, "available.used", 0],
  ]);
  expect(n.registries.tunnels).toBe(1);
  expect(n.registries.sessions).toBe(1);
}, 20_000);
