/**
 * The LAC's decision by a real FreeRADIUS (RFC 2868 tunnel attributes in the Access-Accept), all on
 * loopback UDP: a simulated subscriber → our LAC (PPP with the subscriber, RADIUS, tunnel selection,
 * proxy AVPs, the relay) → one of our LNSes (proxy LCP, local AAA, a pool).
 *
 * - bob@isp.example's Accept has two tagged tunnels: the call goes to the preference-1 endpoint.
 * - carol@isp.example's preference-1 endpoint is down: the call goes to the preference-2 endpoint and
 *   the first is locked out.
 * - dave's and erin's accounting lands in FreeRADIUS's detail file with the tunnel (RFC 2867): dave's
 *   Start and Stop, erin's Interim-Updates at the Acct-Interim-Interval of her Accept.
 * - The LAC has no secret of its own for either LNS: the Tunnel-Password FreeRADIUS sent (salted,
 *   RFC 2868 §3.5), decrypted, is what authenticates each tunnel.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LacAccess } from "../../../actors/lac-access.ts";
import { createNode, type L2tpNode } from "../../../actors/node.ts";
import type { PeerAddress, Transport } from "../../../actors/ports.ts";
import { LocalAaa } from "../../../adapters/aaa/local.ts";
import { RadiusClient } from "../../../adapters/aaa/radius.ts";
import { SubscriberSimulator } from "../../../adapters/access/simulator.ts";
import { realClock } from "../../../adapters/clock/index.ts";
import { EchoDataPlane } from "../../../adapters/dataplane/index.ts";
import { cryptoRandom } from "../../../adapters/random/index.ts";
import { bindUdp } from "../../../adapters/udp/index.ts";
import { until } from "../../support/until.ts";
import { type FreeRadius, startFreeRadius } from "./freeradius.ts";

const SECRET_A = "tunnel-secret-a";
const SECRET_B = "tunnel-secret-b-longer-than-16-octets";

let radius: FreeRadius;
let lnsA: L2tpNode;
let lnsB: L2tpNode;
let peerA: PeerAddress;
let peerB: PeerAddress;
/** A socket that never answers: an LNS that is down. */
let silent: Transport;
const open: { nodes: L2tpNode[]; transports: Transport[]; clients: RadiusClient[] } = {
  nodes: [],
  transports: [],
  clients: [],
};

/** An LNS at `address` taking the LAC's tunnels with `secret`, terminating PPP (proxy LCP accepted). */
async function startLns(address: string, name: string, secret: string): Promise<L2tpNode> {
  const socket = await bindUdp({ address, port: 0 });
  open.transports.push(socket);
  const node = createNode(
    {
      name,
      hostName: `${name}.test`,
      destinations: [{ address: "127.0.0.2", secret }],
      ppp: {
        lns: { authProtocols: ["chap", "pap"], localAddress: "10.0.0.1" },
        pools: [{ name: "main", start: "10.7.0.1", end: "10.7.0.50" }],
      },
    },
    {
      transport: socket,
      clock: realClock,
      random: cryptoRandom,
      aaa: new LocalAaa([
        { name: "bob@isp.example", password: "bob-pw" },
        { name: "carol@isp.example", password: "carol-pw" },
        { name: "dave@isp.example", password: "dave-pw" },
        { name: "erin@isp.example", password: "erin-pw" },
      ]),
      dataPlane: new EchoDataPlane(),
    },
  );
  open.nodes.push(node);
  (node as { peer?: PeerAddress }).peer = socket.local;
  return node;
}

function tunnel(
  tag: number,
  peer: PeerAddress,
  password: string,
  preference: number,
): [string, string | number][] {
  return [
    [`Tunnel-Type:${tag}`, "L2TP"],
    [`Tunnel-Medium-Type:${tag}`, "IPv4"],
    [`Tunnel-Server-Endpoint:${tag}`, `${peer.address}:${peer.port}`],
    [`Tunnel-Password:${tag}`, password],
    [`Tunnel-Preference:${tag}`, preference],
  ];
}

beforeAll(async () => {
  lnsA = await startLns("127.0.0.3", "lns-a", SECRET_A);
  lnsB = await startLns("127.0.0.4", "lns-b", SECRET_B);
  peerA = (lnsA as unknown as { peer: PeerAddress }).peer;
  peerB = (lnsB as unknown as { peer: PeerAddress }).peer;
  silent = await bindUdp({ address: "127.0.0.5", port: 0 });
  open.transports.push(silent);
  radius = await startFreeRadius({
    users: [
      {
        name: "bob@isp.example",
        password: "bob-pw",
        reply: [...tunnel(1, peerA, SECRET_A, 1), ...tunnel(2, peerB, SECRET_B, 2)],
      },
      {
        name: "carol@isp.example",
        password: "carol-pw",
        reply: [...tunnel(1, silent.local, "nobody-answers", 1), ...tunnel(2, peerB, SECRET_B, 2)],
      },
      {
        name: "dave@isp.example",
        password: "dave-pw",
        reply: [...tunnel(1, peerA, SECRET_A, 1), ["Tunnel-Assignment-Id:1", "dave-tunnel"]],
      },
      {
        // RFC 2869 §5.16: an Interim-Update every second (the LAC's config says none).
        name: "erin@isp.example",
        password: "erin-pw",
        reply: [...tunnel(1, peerA, SECRET_A, 1), ["Acct-Interim-Interval", 1]],
      },
    ],
  });
});

afterAll(async () => {
  for (const n of open.nodes) await n.close().catch(() => {});
  for (const c of open.clients) await c.close();
  for (const t of open.transports) await t.close();
  await radius?.dispose();
});

/** A LAC on 127.0.0.2 that asks FreeRADIUS where each subscriber goes; no tunnel secret of its own. */
async function startLac() {
  const aaa = new RadiusClient(
    {
      servers: [
        { address: "127.0.0.1", authPort: radius.authPort, acctPort: radius.acctPort, secret: radius.secret },
      ],
      nasIdentifier: "lac-radius-test",
      timeoutMs: 500,
      retries: 3,
      maxInFlight: 64,
      deadTimeMs: 1000,
      requireMessageAuthenticator: false,
    },
    { clock: realClock, random: cryptoRandom, bind: (local) => bindUdp(local) },
  );
  open.clients.push(aaa);
  const socket = await bindUdp({ address: "127.0.0.2", port: 0 });
  open.transports.push(socket);
  let access: LacAccess | undefined;
  const lac = createNode(
    {
      name: "lac",
      hostName: "lac.test",
      destinations: [],
      // A silent LNS is given up quickly (RFC 2661 §5.8 retransmissions: 0.2 + 0.4 s).
      channel: { retransmitInitialMs: 200, maxRetransmits: 2 },
    },
    { transport: socket, clock: realClock, random: cryptoRandom, onData: (s, p) => access?.onData(s, p) },
  );
  open.nodes.push(lac);
  const subscribers = new SubscriberSimulator(realClock);
  access = new LacAccess({
    node: lac,
    access: subscribers,
    aaa,
    clock: realClock,
    random: cryptoRandom,
    policy: {
      domainSeparator: "@",
      stripDomain: false,
      domains: new Map(),
      radiusGroup: { weightedLoadBalancing: false, failoverWithinPreference: false, maxSessions: 0 },
    },
  });
  return { lac, subscribers, access };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The RFC 2867 attributes of the LAC's one tunnelled call to lns-a, as FreeRADIUS decodes them: tag 0,
 * RFC 2868 §3.1-3.3, and RFC 2867 §4.1 both ends' tunnel and session ids.
 */
function tunnelAttributesOf(lac: L2tpNode): Record<string, string[]> {
  const tunnel = lac.snapshot().destinations[0]?.tunnels[0];
  const session = tunnel?.sessions[0];
  const hex = (n: number | undefined) => (n ?? -1).toString(16).padStart(4, "0");
  return {
    "Tunnel-Type:0": ["L2TP"],
    "Tunnel-Medium-Type:0": ["IPv4"],
    "Tunnel-Client-Endpoint:0": ["127.0.0.2"],
    "Tunnel-Server-Endpoint:0": ["127.0.0.3"],
    "Acct-Tunnel-Connection": [
      `${hex(tunnel?.id)}${hex(session?.id)}${hex(tunnel?.peerTunnelId)}${hex(session?.peerSessionId)}`,
    ],
  };
}

/** A user's accounting records in the detail file, once its Stop is there. */
async function recordsTillStop(user: string): Promise<Array<Record<string, string[]>>> {
  const records = () => radius.detailRecords().filter((r) => r["User-Name"]?.includes(user));
  await until(
    `${user}'s Stop in the detail file`,
    () => (records().some((r) => r["Acct-Status-Type"]?.includes("Stop")) ? true : undefined),
    8000,
  );
  return records();
}

describe("LAC with FreeRADIUS: RFC 2868 tunnel attributes decide", () => {
  test("bob@isp.example: two tagged tunnels, the call goes to the preference-1 endpoint, authenticated by its Tunnel-Password", async () => {
    const { lac, subscribers, access } = await startLac();
    const bob = subscribers.dial({ user: "bob@isp.example", password: "bob-pw", authProtocols: ["chap"] });
    const address = await within(bob.up, 8000, "bob's address");
    expect(address).toMatch(/^10\.7\.0\./);
    expect(access.stats.tunnelled).toBe(1);
    const d = lac.snapshot().destinations;
    expect(d.map((x) => x.key)).toEqual([`127.0.0.3:${peerA.port}`]);
    expect(d[0]?.tunnels[0]?.state).toBe("established");
    // The LNS took the proxy LCP over: one LCP negotiation, on the LAC.
    expect(lnsA.snapshot().ppp?.proxyLcp).toBe(1);
    expect(lnsB.snapshot().registries.tunnels).toBe(0);
    bob.hangUp();
    await within(bob.ended, 5000, "bob's hang-up");
  });

  test("carol@isp.example: the preference-1 endpoint is down, the call goes to preference 2 and the first is locked out", async () => {
    const { lac, subscribers } = await startLac();
    const carol = subscribers.dial({
      user: "carol@isp.example",
      password: "carol-pw",
      authProtocols: ["pap"],
    });
    const address = await within(carol.up, 10_000, "carol's address");
    expect(address).toMatch(/^10\.7\.0\./);
    const d = lac.snapshot().destinations;
    const dead = d.find((x) => x.key === `127.0.0.5:${silent.local.port}`);
    const live = d.find((x) => x.key === `127.0.0.4:${peerB.port}`);
    expect(dead?.state).toBe("lockedOut");
    expect(live?.tunnels[0]?.state).toBe("established");
    expect(lnsB.snapshot().ppp?.proxyLcp).toBeGreaterThanOrEqual(1);
    carol.hangUp();
    await within(carol.ended, 5000, "carol's hang-up");
  });

  test("dave@isp.example: the LAC's accounting Start and Stop in FreeRADIUS's detail file carry the tunnel (RFC 2867)", async () => {
    const { lac, subscribers } = await startLac();
    const dave = subscribers.dial({ user: "dave@isp.example", password: "dave-pw", authProtocols: ["chap"] });
    await within(dave.up, 8000, "dave's address");
    const tunnelled = tunnelAttributesOf(lac);
    dave.hangUp();
    await within(dave.ended, 5000, "dave's hang-up");
    const records = await recordsTillStop("dave@isp.example");
    expect(records.map((r) => r["Acct-Status-Type"]?.[0])).toEqual(["Start", "Stop"]);
    for (const r of records)
      expect(r).toMatchObject({ ...tunnelled, "Tunnel-Assignment-Id:0": ["dave-tunnel"] });
  });

  test("erin@isp.example: the LAC's Interim-Updates at her Acct-Interim-Interval land in the detail file with the tunnel and the relay's counters", async () => {
    const { lac, subscribers } = await startLac();
    const erin = subscribers.dial({ user: "erin@isp.example", password: "erin-pw", authProtocols: ["chap"] });
    await within(erin.up, 8000, "erin's address");
    const tunnelled = tunnelAttributesOf(lac);
    const erins = () => radius.detailRecords().filter((r) => r["User-Name"]?.includes("erin@isp.example"));
    const interims = () => erins().filter((r) => r["Acct-Status-Type"]?.includes("Interim-Update"));
    await until(
      "two of erin's Interim-Updates in the detail file",
      () => (interims().length >= 2 ? true : undefined),
      15_000,
    );
    erin.hangUp();
    await within(erin.ended, 5000, "erin's hang-up");
    const records = await recordsTillStop("erin@isp.example");
    expect(records[0]?.["Acct-Status-Type"]).toEqual(["Start"]);
    expect(records.filter((r) => r["Acct-Status-Type"]?.includes("Stop"))).toHaveLength(1);
    const sessionId = records[0]?.["Acct-Session-Id"];
    for (const r of interims()) {
      expect(r).toMatchObject({ ...tunnelled, "Acct-Session-Id": sessionId as string[] });
      // The relay's counters: the LNS's IPCP (and CHAP Success) went through it before any interim.
      expect(Number(r["Acct-Output-Packets"]?.[0])).toBeGreaterThan(0);
      expect(Number(r["Acct-Input-Packets"]?.[0])).toBeGreaterThan(0);
    }
  }, 40_000);
});
