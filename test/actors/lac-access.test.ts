/**
 * The LAC's subscriber side end to end over the memory network: simulated subscribers (real PPP
 * clients) → our LAC (a PPP server that stops at authentication, the domain map, tunnel selection,
 * proxy AVPs, the relay) → our LNS (proxy LCP accepted, local AAA, a pool, the echo data plane).
 */
import { describe, expect, test } from "bun:test";
import type { Aaa, AccountingRecord, SessionCounters } from "../../actors/aaa.ts";
import { LacAccess } from "../../actors/lac-access.ts";
import type { L2tpNode } from "../../actors/node.ts";
import { LocalAaa } from "../../adapters/aaa/local.ts";
import { RadiusClient } from "../../adapters/aaa/radius.ts";
import type { Access, AccessLine } from "../../adapters/access/index.ts";
import { SubscriberSimulator } from "../../adapters/access/simulator.ts";
import { EchoDataPlane } from "../../adapters/dataplane/index.ts";
import { SeededRandom } from "../../adapters/random/seeded.ts";
import type { DomainRoute, LacPolicy } from "../../machines/lac-decision.ts";
import { PppDisconnectCode } from "../../machines/ppp/disconnect.ts";
import { icmpEchoRequest, isIcmpEchoReply } from "../../protocol/ipv4.ts";
import { dataPayloadOffset } from "../../protocol/l2tp/header.ts";
import { decodeFrame } from "../../protocol/ppp/frame.ts";
import { attribute } from "../../protocol/radius/index.ts";
import { group } from "../machines/tunnel-groups.ts";
import { type ScriptedRadius, scriptedRadius, value } from "../support/scripted-radius.ts";
import { LAC, Lab, LNS, lacConfig, lnsConfig } from "./lab.ts";

const KEEPALIVE_MS = 10_000;

/**
 * The simulator's lines, each of which can be cut toward the subscriber (frames from the LAC vanish, the
 * line stays up): a subscriber that went dead without hanging up. Each line's frames and octets are
 * counted as the LAC sees them (in: from the subscriber, RFC 2866 §5.3, §5.4), to hold accounting to.
 */
class CuttableAccess implements Access {
  readonly #cut = new Set<string>();
  readonly #inner: Access;
  readonly counts = new Map<string, SessionCounters>();
  /** LCP Configure-Requests on each line, each way. */
  readonly lcpRequests = new Map<string, { toSubscriber: number; fromSubscriber: number }>();
  constructor(inner: Access) {
    this.#inner = inner;
  }
  cut(id: string): void {
    this.#cut.add(id);
  }
  onLine(handler: (line: AccessLine) => void): void {
    this.#inner.onLine((line) => {
      const cut = this.#cut;
      const n: SessionCounters = { octetsIn: 0, octetsOut: 0, packetsIn: 0, packetsOut: 0 };
      this.counts.set(line.id, n);
      const requests = { toSubscriber: 0, fromSubscriber: 0 };
      this.lcpRequests.set(line.id, requests);
      const isLcpRequest = (frame: Uint8Array) => {
        const f = decodeFrame(frame);
        return f.ok && f.value.protocol === 0xc021 && f.value.payload[0] === 1;
      };
      handler({
        id: line.id,
        ...(line.callingNumber !== undefined ? { callingNumber: line.callingNumber } : {}),
        send: (frame) => {
          n.packetsOut++;
          n.octetsOut += frame.length;
          if (isLcpRequest(frame)) requests.toSubscriber++;
          if (!cut.has(line.id)) line.send(frame);
        },
        onFrame: (h) =>
          line.onFrame((frame) => {
            n.packetsIn++;
            n.octetsIn += frame.length;
            if (isLcpRequest(frame)) requests.fromSubscriber++;
            h(frame);
          }),
        onDown: (h) => line.onDown(h),
        close: () => line.close(),
      });
    });
  }
}

const policy: LacPolicy = {
  domainSeparator: "@",
  stripDomain: false,
  domains: new Map<string, DomainRoute>([
    ["isp.example", { kind: "tunnel", group: group([{ peer: LNS, preference: 0, maxSessions: 0 }]) }],
    ["local.example", { kind: "terminate" }],
  ]),
  radiusGroup: { weightedLoadBalancing: false, failoverWithinPreference: false, maxSessions: 0 },
};

function setup(
  authProtocols: ("chap" | "pap")[] = ["chap", "pap"],
  lacAaaOf?: Aaa | ((lab: Lab) => Aaa),
  proxyLcp: "accept" | "renegotiate-always" = "accept",
  accounting: { interimMs?: number; required?: boolean } = {},
) {
  const lab = new Lab(31);
  const lacAaa = typeof lacAaaOf === "function" ? lacAaaOf(lab) : lacAaaOf;
  /** LCP Configure-Requests (code 1) seen inside the tunnel's data messages, either way. */
  const lcpConfReqsInTunnel: string[] = [];
  lab.net.tap((packet, from) => {
    if (((packet[0] as number) & 0x80) !== 0) return;
    const at = dataPayloadOffset(packet);
    const f = at >= 0 ? decodeFrame(packet.subarray(at)) : undefined;
    if (f?.ok && f.value.protocol === 0xc021 && f.value.payload[0] === 1)
      lcpConfReqsInTunnel.push(from.address);
  });
  let access: LacAccess | undefined;
  // The LAC's own PPP (pools, keepalive, accounting): what serves the subscribers it terminates itself.
  const lacNode: L2tpNode = lab.node(
    LAC.address,
    lacConfig({
      ppp: {
        pools: [{ name: "lac", start: "10.9.0.1", end: "10.9.0.9" }],
        keepaliveMs: KEEPALIVE_MS,
        keepaliveMisses: 2,
        accounting: { enabled: true, ...accounting },
      },
    }),
    {
      deps: {
        onData: (s, p) => access?.onData(s, p),
        dataPlane: new EchoDataPlane(),
        ...(lacAaa ? { aaa: lacAaa } : {}),
      },
    },
  );
  const lns = lab.node(
    LNS.address,
    lnsConfig({
      ppp: {
        lns: { authProtocols: ["chap", "pap"], localAddress: "10.0.0.1", proxyLcp },
        pools: [{ name: "main", start: "10.1.0.1", end: "10.1.0.100" }],
      },
    }),
    {
      deps: {
        aaa: new LocalAaa([{ name: "alice@isp.example", password: "alice-pw" }]),
        dataPlane: new EchoDataPlane(),
      },
    },
  );
  const subscribers = new SubscriberSimulator(lab.clock);
  const lines = new CuttableAccess(subscribers);
  access = new LacAccess({
    node: lacNode,
    access: lines,
    policy,
    clock: lab.clock,
    random: new SeededRandom(5),
    ppp: { authProtocols },
    ...(lacAaa ? { aaa: lacAaa } : {}),
  });
  return { lab, lacNode, lns, subscribers, access, lcpConfReqsInTunnel, lines };
}

describe("LAC: subscribers tunnelled by their domain, proxy LCP accepted by our LNS", () => {
  for (const method of ["chap", "pap"] as const) {
    test(`${method}: exactly one LCP negotiation (with the subscriber), none in the tunnel; the address from the LNS's pool; an ICMP echo answered`, async () => {
      const { lab, lns, subscribers, access, lcpConfReqsInTunnel } = setup([method]);
      const alice = subscribers.dial({
        user: "alice@isp.example",
        password: "alice-pw",
        authProtocols: [method],
      });
      const address = await lab.until(alice.up, 60_000);
      expect(address).toBe("10.1.0.1");
      expect(lns.snapshot().ppp?.proxyLcp).toBe(1);
      expect(lns.snapshot().ppp?.lcpRenegotiated).toBe(0);
      expect(lcpConfReqsInTunnel).toEqual([]);
      expect(access.stats.tunnelled).toBe(1);
      expect(alice.sendIp(icmpEchoRequest(address, "10.0.0.1", 1, 1, new Uint8Array(8)))).toBe(true);
      await lab.run(100);
      expect(alice.received.some((p) => isIcmpEchoReply(p, 1, 1))).toBe(true);
      await lab.closeAll();
    });
  }

  test("the LAC answers a line before its subscriber has started: its first LCP request waits on the line, not lost (one request each way, none sent again)", async () => {
    const { lab, subscribers, lines } = setup(["chap"]);
    const alice = subscribers.dial({ user: "alice@isp.example", password: "alice-pw" });
    const dialled = lab.clock.now();
    await lab.until(alice.up, 60_000);
    expect(lines.lcpRequests.get(alice.id)).toEqual({ toSubscriber: 1, fromSubscriber: 1 });
    // Well within the LAC's early resend (100 ms): nothing waited for a timer.
    expect(lab.clock.now() - dialled).toBeLessThan(100);
    await lab.closeAll();
  });

  test("the subscriber's LCP Terminate-Request gives a CDN with RFC 3145 code 3; nothing is left", async () => {
    const { lab, lacNode, subscribers, access } = setup();
    const alice = subscribers.dial({ user: "alice@isp.example", password: "alice-pw" });
    await lab.until(alice.up, 60_000);
    alice.hangUp();
    await lab.run(5_000);
    const cdn = lab.sent("CDN", LAC.address);
    expect(cdn).toHaveLength(1);
    expect(cdn[0]?.message.avps.pppDisconnectCause?.code).toBe(PppDisconnectCode.normal);
    expect(access.stats.subscriberTerminates).toBe(1);
    expect(access.relayed.size).toBe(0);
    expect(lacNode.snapshot().registries.sessions).toBe(0);
    await lab.closeAll();
  });

  test("a CDN from the LNS gives the subscriber an LCP Terminate-Request", async () => {
    const { lab, lns, subscribers, access } = setup();
    const alice = subscribers.dial({ user: "alice@isp.example", password: "alice-pw" });
    await lab.until(alice.up, 60_000);
    const s = lns.snapshot().destinations[0]?.tunnels[0];
    const sessionId = s?.sessions[0]?.id as number;
    lns.closeSession(s?.id as number, sessionId);
    const why = await lab.until(alice.ended, 60_000);
    expect(why.message).toContain("Terminate-Request");
    expect(access.stats.lnsDisconnects).toBe(1);
    await lab.closeAll();
  });

  test("nothing found for the domain: an authentication failure with the cause, no call placed", async () => {
    const { lab, lacNode, subscribers, access } = setup(["pap"]);
    const dave = subscribers.dial({ user: "dave@nowhere.example", password: "x", authProtocols: ["pap"] });
    const why = await lab.until(dave.ended, 60_000);
    expect(why.code).toBe(PppDisconnectCode.authFailed);
    expect(why.message).toContain("domain nowhere.example not in the domain map");
    expect(access.stats.refused).toBe(1);
    expect(lab.sent("SCCRQ")).toEqual([]);
    expect(lacNode.snapshot().registries.sessions).toBe(0);
    await lab.closeAll();
  });

  test("accounting on the LAC: Start once tunnelled with the tunnel it went into, Stop with counters and User-Request", async () => {
    const aaa = new LocalAaa([{ name: "alice@isp.example", password: "alice-pw" }]);
    const { lab, lacNode, subscribers } = setup(["chap"], aaa);
    const alice = subscribers.dial({
      user: "alice@isp.example",
      password: "alice-pw",
      callingNumber: "5550100",
    });
    const address = await lab.until(alice.up, 60_000);
    alice.sendIp(icmpEchoRequest(address, "10.0.0.1", 1, 1, new Uint8Array(8)));
    await lab.run(100);
    expect(aaa.records().map((r) => r.status)).toEqual(["start"]);
    const tunnel = lacNode.snapshot().destinations[0]?.tunnels[0];
    const session = tunnel?.sessions[0];
    const hex = (n: number | undefined) => (n ?? -1).toString(16).padStart(4, "0");
    // RFC 2867 §3, §4.1: the tunnel's type, medium, both endpoints, and both ends' ids of the call.
    expect(aaa.records()[0]).toMatchObject({
      user: "alice@isp.example",
      callingNumber: "5550100",
      tunnel: { type: 3, mediumType: 1, clientEndpoint: LAC.address, serverEndpoint: LNS.address },
      tunnelConnection: `${hex(tunnel?.id)}${hex(session?.id)}${hex(tunnel?.peerTunnelId)}${hex(session?.peerSessionId)}`,
    });
    alice.hangUp();
    await lab.run(1_000);
    const stop = aaa.records()[1];
    expect(stop?.status).toBe("stop");
    expect(stop?.terminateCause).toBe(1);
    expect(stop?.sessionId).toBe(aaa.records()[0]?.sessionId);
    expect(stop?.tunnel).toEqual(aaa.records()[0]?.tunnel);
    expect(stop?.tunnelConnection).toBe(aaa.records()[0]?.tunnelConnection);
    expect(stop?.counters?.packetsIn).toBeGreaterThan(0);
    expect(stop?.counters?.packetsOut).toBeGreaterThan(0);
    await lab.closeAll();
  });

  test("the LAC's AAA rejects the subscriber: an authentication failure, no call placed", async () => {
    const aaa = new LocalAaa([{ name: "alice@isp.example", password: "other" }]);
    const { lab, subscribers } = setup(["pap"], aaa);
    const alice = subscribers.dial({
      user: "alice@isp.example",
      password: "alice-pw",
      authProtocols: ["pap"],
    });
    const why = await lab.until(alice.ended, 60_000);
    expect(why.code).toBe(PppDisconnectCode.authFailed);
    expect(lab.sent("SCCRQ")).toEqual([]);
    expect(aaa.records()).toEqual([]);
    await lab.closeAll();
  });

  test("an LNS that renegotiates LCP: the relay carries the second negotiation through to the subscriber", async () => {
    const { lab, lns, subscribers, lcpConfReqsInTunnel } = setup(["chap"], undefined, "renegotiate-always");
    const alice = subscribers.dial({ user: "alice@isp.example", password: "alice-pw" });
    expect(await lab.until(alice.up, 60_000)).toBe("10.1.0.1");
    expect(lns.snapshot().ppp?.lcpRenegotiated).toBe(1);
    // Both sides' Configure-Requests crossed the tunnel this time.
    expect(new Set(lcpConfReqsInTunnel)).toEqual(new Set([LAC.address, LNS.address]));
    await lab.closeAll();
  });

  test("terminate locally: this node is the PPP server (AAA, an address from its own pool, IP answered), no call placed", async () => {
    const aaa = new LocalAaa([{ name: "carol@local.example", password: "carol-pw" }]);
    const { lab, subscribers, access } = setup(["chap"], aaa);
    const carol = subscribers.dial({ user: "carol@local.example", password: "carol-pw" });
    const address = await lab.until(carol.up, 60_000);
    expect(address).toBe("10.9.0.1");
    expect(access.stats.terminatedHere).toBe(1);
    expect(lab.sent("SCCRQ")).toEqual([]);
    expect(carol.sendIp(icmpEchoRequest(address, "10.0.0.1", 7, 1, new Uint8Array(8)))).toBe(true);
    expect(carol.received.some((p) => isIcmpEchoReply(p, 7, 1))).toBe(true);
    // A wrong password here is refused by the same AAA.
    const mallory = subscribers.dial({ user: "carol@local.example", password: "guess" });
    expect((await lab.until(mallory.ended, 60_000)).code).toBe(PppDisconnectCode.authFailed);
    await lab.closeAll();
  });

  test("terminated locally, the node's PPP serves it as an LNS would: accounting Start (its address) and Stop (User-Request, counters)", async () => {
    const aaa = new LocalAaa([{ name: "carol@local.example", password: "carol-pw" }]);
    const { lab, lacNode, subscribers } = setup(["chap"], aaa);
    const carol = subscribers.dial({
      user: "carol@local.example",
      password: "carol-pw",
      callingNumber: "5550199",
    });
    const address = await lab.until(carol.up, 60_000);
    carol.sendIp(icmpEchoRequest(address, "10.0.0.1", 9, 1, new Uint8Array(8)));
    await lab.run(100);
    expect(aaa.records().map((r) => r.status)).toEqual(["start"]);
    expect(aaa.records()[0]).toMatchObject({
      user: "carol@local.example",
      framedIpAddress: address,
      callingNumber: "5550199",
    });
    expect(lacNode.ppp?.linksUp).toBe(1);
    carol.hangUp();
    await lab.run(1_000);
    const stop = aaa.records()[1];
    expect(stop?.status).toBe("stop");
    expect(stop?.sessionId).toBe(aaa.records()[0]?.sessionId);
    expect(stop?.terminateCause).toBe(1); // RFC 2866 §5.10 User-Request
    expect(stop?.counters?.packetsIn).toBeGreaterThan(0);
    expect(stop?.counters?.packetsOut).toBeGreaterThan(0);
    expect(lacNode.ppp?.linksUp).toBe(0);
    // The address went back to the node's pool.
    expect(lacNode.ppp?.snapshot().pools[0]?.inUse).toBe(0);
    await lab.closeAll();
  });

  test("terminated locally: LCP Echo keepalive; a subscriber that answers stays, one gone silent is ended", async () => {
    const aaa = new LocalAaa([{ name: "carol@local.example", password: "carol-pw" }]);
    const { lab, lacNode, subscribers, lines, access } = setup(["chap"], aaa);
    const carol = subscribers.dial({ user: "carol@local.example", password: "carol-pw" });
    const mute = subscribers.dial({ user: "carol@local.example", password: "carol-pw" });
    await lab.until(carol.up, 60_000);
    await lab.until(mute.up, 60_000);
    lines.cut(mute.id);
    await lab.run(KEEPALIVE_MS * 6);
    const stats = lacNode.ppp?.stats;
    expect(stats?.echoRequestsSent).toBeGreaterThan(2);
    expect(stats?.keepaliveFailures).toBe(1);
    expect(lacNode.ppp?.linksUp).toBe(1);
    expect(carol.context().ended).toBeFalsy();
    expect(carol.context().lcp).toBe("opened");
    const stop = aaa.records().find((r) => r.status === "stop");
    expect(stop?.user).toBe("carol@local.example");
    expect(access.stats.terminatedHere).toBe(2);
    await lab.closeAll();
  });

  for (const timeout of ["session", "idle"] as const) {
    test(`terminated locally: RADIUS ${timeout === "session" ? "Session-Timeout" : "Idle-Timeout"} ends the link (LCP Terminate-Request, the Stop says why)`, async () => {
      const aaa = new LocalAaa([
        {
          name: "carol@local.example",
          password: "carol-pw",
          ...(timeout === "session" ? { sessionTimeout: 30 } : { idleTimeout: 20 }),
        },
      ]);
      const { lab, subscribers } = setup(["chap"], aaa);
      const carol = subscribers.dial({ user: "carol@local.example", password: "carol-pw" });
      await lab.until(carol.up, 60_000);
      const started = lab.clock.now();
      const why = await lab.until(carol.ended, 120_000);
      expect(why.message).toContain("Terminate-Request");
      expect(lab.clock.now() - started).toBeGreaterThanOrEqual(timeout === "session" ? 29_000 : 19_000);
      await lab.run(1_000);
      const stop = aaa.records().find((r) => r.status === "stop");
      // RFC 2866 §5.10: 5 Session-Timeout, 4 Idle-Timeout.
      expect(stop?.terminateCause).toBe(timeout === "session" ? 5 : 4);
      await lab.closeAll();
    });
  }

  test("a fault in deciding (an AAA adapter that breaks its promise and throws) ends that subscriber with the cause, not the process", async () => {
    const broken = new LocalAaa([]);
    broken.authenticate = () => Promise.reject(new Error("adapter bug"));
    const { lab, subscribers, access } = setup(["pap"], broken);
    const eve = subscribers.dial({ user: "eve@isp.example", password: "x", authProtocols: ["pap"] });
    const why = await lab.until(eve.ended, 60_000);
    expect(why.code).toBe(PppDisconnectCode.authFailed);
    expect(why.message).toContain("LAC decision failed: Error: adapter bug");
    expect(access.stats.refused).toBe(1);
    await lab.closeAll();
  });
});

const INTERIM_MS = 60_000;

/**
 * The local AAA, noting the subscriber's line counts at the moment each accounting record is sent: a
 * record's counters must move exactly as the line's did (the link counts from its start, after LCP and
 * CHAP on the line, so a record and its line differ by a constant).
 */
class LineWatchingAaa extends LocalAaa {
  readonly atRecord: SessionCounters[] = [];
  line: (() => SessionCounters) | undefined;
  override account(record: AccountingRecord) {
    const line = this.line?.();
    if (line) this.atRecord.push({ ...line });
    return super.account(record);
  }
}

/** The counters of a record minus those of its line at that moment. */
function offset(record: AccountingRecord | undefined, line: SessionCounters | undefined) {
  const r = record?.counters;
  if (!r || !line) return undefined;
  return {
    octetsIn: r.octetsIn - line.octetsIn,
    octetsOut: r.octetsOut - line.octetsOut,
    packetsIn: r.packetsIn - line.packetsIn,
    packetsOut: r.packetsOut - line.packetsOut,
  };
}

/** A RADIUS client of the LAC toward scripted servers on 127.0.0.20 (auth 1812, accounting 1813). */
function scriptedRadiusAaa(
  lab: Lab,
  servers: { acct?: ScriptedRadius; auth?: ScriptedRadius },
  interimS?: number,
) {
  const auth = scriptedRadius(lab.net, "127.0.0.20", 1812, lab.clock, "radius-secret");
  if (interimS !== undefined) auth.acceptAttributes = [attribute("Acct-Interim-Interval", interimS)];
  servers.auth = auth;
  servers.acct = scriptedRadius(lab.net, "127.0.0.20", 1813, lab.clock, "radius-secret");
  return new RadiusClient(
    {
      servers: [{ address: "127.0.0.20", authPort: 1812, acctPort: 1813, secret: "radius-secret" }],
      nasIdentifier: "lac",
      timeoutMs: 1000,
      retries: 2,
      maxInFlight: 256,
      deadTimeMs: 30_000,
      requireMessageAuthenticator: false,
    },
    { clock: lab.clock, random: new SeededRandom(9), bind: async () => lab.net.bind(LAC.address) },
  );
}

/** Acct-Status-Type (RFC 2866 §5.1) of a request: 1 Start, 2 Stop, 3 Interim-Update. */
const statusOf = (p: { attributes: readonly Parameters<typeof value>[0][number][] }) =>
  value(p.attributes, "Acct-Status-Type");

/**
 * k pings (ICMP echo to the far end's 10.0.0.1, id `id`) in the k-th of `intervals` interims' periods:
 * each an IPv4 frame from the subscriber and its echo reply back.
 */
async function pingEachInterval(
  lab: Lab,
  who: { sendIp(packet: Uint8Array): boolean },
  address: string,
  id: number,
  intervals = 3,
): Promise<void> {
  for (let k = 1; k <= intervals; k++) {
    for (let i = 0; i < k; i++) {
      expect(who.sendIp(icmpEchoRequest(address, "10.0.0.1", id, k * 10 + i, new Uint8Array(32)))).toBe(true);
    }
    await lab.run(INTERIM_MS, 100);
  }
}

/**
 * A subscriber (tunnelled or terminated here, by its domain) whose RADIUS Accept says Acct-Interim-Interval
 * 60 s while the config says ten minutes, pinging through three minutes: its accounting requests as the
 * server saw them, checked to be a Start and an Interim-Update a minute (the server's interval wins).
 */
async function underRadiusInterval(user: string, password: string, pingId: number) {
  const servers: { acct?: ScriptedRadius } = {};
  const { lab, subscribers } = setup(["chap"], (lab) => scriptedRadiusAaa(lab, servers, 60), "accept", {
    interimMs: 10 * INTERIM_MS,
  });
  const who = subscribers.dial({ user, password });
  const address = await lab.until(who.up, 60_000);
  await pingEachInterval(lab, who, address, pingId);
  // The last interim's way to the server.
  await lab.run(1_000);
  const sent = (servers.acct?.seen ?? []).map((s) => ({ at: s.at, attributes: s.packet.attributes }));
  expect(sent.map(statusOf)).toEqual([1, 3, 3, 3]);
  const start = sent[0]?.at ?? 0;
  expect(sent.slice(1).map((s) => Math.round((s.at - start) / 1000))).toEqual([60, 120, 180]);
  return { lab, address, sent };
}

describe("LAC: interim accounting of a subscriber terminated here (RFC 2866 Interim-Update)", () => {
  test("every accounting.interimMs an Interim-Update with the session time and the counters so far; the Stop after them has the final counters", async () => {
    const aaa = new LineWatchingAaa([{ name: "carol@local.example", password: "carol-pw" }]);
    const { lab, subscribers, lines } = setup(["chap"], aaa, "accept", { interimMs: INTERIM_MS });
    const carol = subscribers.dial({ user: "carol@local.example", password: "carol-pw" });
    aaa.line = () => lines.counts.get(carol.id) as SessionCounters;
    const address = await lab.until(carol.up, 60_000);
    await pingEachInterval(lab, carol, address, 11);
    const records = aaa.records();
    expect(records.map((r) => r.status)).toEqual(["start", "interim", "interim", "interim"]);
    const interims = records.slice(1);
    // RFC 2866 §5.7 Acct-Session-Time: seconds since the Start, one interval apart.
    expect(interims.map((r) => r.sessionTime)).toEqual([60, 120, 180]);
    expect(new Set(records.map((r) => r.sessionId)).size).toBe(1);
    for (const r of interims) expect(r.framedIpAddress).toBe(address);
    for (let k = 1; k < interims.length; k++) {
      const before = interims[k - 1]?.counters;
      const now = interims[k]?.counters;
      expect(now?.packetsIn).toBeGreaterThanOrEqual((before?.packetsIn ?? 0) + k + 1);
      expect(now?.packetsOut).toBeGreaterThanOrEqual((before?.packetsOut ?? 0) + k + 1);
      expect(now?.octetsIn).toBeGreaterThan(before?.octetsIn ?? 0);
      expect(now?.octetsOut).toBeGreaterThan(before?.octetsOut ?? 0);
    }
    carol.hangUp();
    await lab.run(1_000);
    const stop = aaa.records()[4];
    expect(stop?.status).toBe("stop");
    expect(stop?.sessionId).toBe(records[0]?.sessionId);
    expect(stop?.sessionTime).toBeGreaterThanOrEqual(180);
    expect(stop?.sessionTime).toBeLessThanOrEqual(181);
    // The final counters: the Terminate-Request and -Ack after the last interim are in them.
    expect(stop?.counters?.packetsIn).toBeGreaterThan(interims[2]?.counters?.packetsIn ?? 0);
    expect(stop?.counters?.packetsOut).toBeGreaterThan(interims[2]?.counters?.packetsOut ?? 0);
    // Each record moved exactly as the line did: nothing lost, nothing counted twice, none stale.
    const first = offset(interims[0], aaa.atRecord[1]);
    for (const k of [2, 3, 4]) expect(offset(aaa.records()[k], aaa.atRecord[k])).toEqual(first);
    await lab.closeAll();
  });

  test("no interim outlives its subscriber (hung up, gone silent, the node closed): several intervals later, no record more and no timer left", async () => {
    const users = ["carol", "mute", "erin"].map((n) => ({ name: `${n}@local.example`, password: "pw" }));
    const aaa = new LocalAaa(users);
    const { lab, subscribers, lines } = setup(["chap"], aaa, "accept", { interimMs: INTERIM_MS });
    const [carol, mute, erin] = users.map((u) => subscribers.dial({ user: u.name, password: "pw" }));
    for (const s of [carol, mute, erin]) await lab.until(s?.up as Promise<string>, 60_000);
    const statuses = (who: string) =>
      aaa
        .records()
        .filter((r) => r.user === `${who}@local.example`)
        .map((r) => r.status);
    // mute stops answering: keepalive (2 misses of 10 s) ends it before its first interim would be due.
    lines.cut(mute?.id as string);
    await lab.run(INTERIM_MS + 1_000, 100);
    carol?.hangUp();
    await lab.run(1_000);
    expect(statuses("carol")).toEqual(["start", "interim", "stop"]);
    expect(statuses("mute")).toEqual(["start", "stop"]);
    await lab.run(5 * INTERIM_MS, 100);
    expect(statuses("carol")).toEqual(["start", "interim", "stop"]);
    expect(statuses("mute")).toEqual(["start", "stop"]);
    expect(statuses("erin")).toEqual(["start", ...Array(6).fill("interim")]);
    await lab.closeAll();
    expect(statuses("erin")).toEqual(["start", ...Array(6).fill("interim"), "stop"]);
    // Nothing of them is left on the clock: no interim timer fires later, even to do nothing.
    expect(lab.clock.pending).toBe(0);
    const total = aaa.records().length;
    await lab.run(5 * INTERIM_MS, 1_000);
    expect(aaa.records().length).toBe(total);
  });

  test("RADIUS Acct-Interim-Interval (RFC 2869 §5.16) wins over accounting.interimMs, as on the LNS", async () => {
    const { lab, address, sent } = await underRadiusInterval("carol@local.example", "carol-pw", 12);
    expect(address).toBe("10.9.0.1");
    expect(sent.slice(1).map((s) => value(s.attributes, "Acct-Session-Time"))).toEqual([60, 120, 180]);
    const packetsIn = sent.slice(1).map((s) => value(s.attributes, "Acct-Input-Packets") ?? 0);
    const packetsOut = sent.slice(1).map((s) => value(s.attributes, "Acct-Output-Packets") ?? 0);
    for (const k of [1, 2]) {
      // A ping and its reply in each interval.
      expect(packetsIn[k]).toBeGreaterThanOrEqual((packetsIn[k - 1] ?? 0) + 1);
      expect(packetsOut[k]).toBeGreaterThanOrEqual((packetsOut[k - 1] ?? 0) + 1);
    }
    await lab.closeAll();
  });
});

describe("LAC: interim accounting of a tunnelled subscriber (RFC 2866 Interim-Update, the relay's counters)", () => {
  test("every accounting.interimMs an Interim-Update with the tunnel's attributes and the relayed frames so far; the Stop after them has the final counters", async () => {
    const aaa = new LineWatchingAaa([{ name: "alice@isp.example", password: "alice-pw" }]);
    const { lab, subscribers, lines, access } = setup(["chap"], aaa, "accept", { interimMs: INTERIM_MS });
    const alice = subscribers.dial({ user: "alice@isp.example", password: "alice-pw" });
    /** The relay's own counts of frames at each record (one subscriber: all of them are its). */
    const relayed: { toLns: number; toSubscriber: number }[] = [];
    aaa.line = () => {
      relayed.push({ toLns: access.stats.framesToLns, toSubscriber: access.stats.framesToSubscriber });
      return lines.counts.get(alice.id) as SessionCounters;
    };
    // Relayed: the pings to the LNS and their replies.
    await pingEachInterval(lab, alice, await lab.until(alice.up, 60_000), 13);
    const records = aaa.records();
    expect(records.map((r) => r.status)).toEqual(["start", "interim", "interim", "interim"]);
    const [start, ...interims] = records;
    // RFC 2866 §5.7 Acct-Session-Time: seconds since the Start, one interval apart.
    expect(interims.map((r) => r.sessionTime)).toEqual([60, 120, 180]);
    for (const r of interims) {
      expect(r.sessionId).toBe(start?.sessionId as string);
      // RFC 2867: the tunnel it went into and the call's ids in it, as in the Start.
      expect(r.tunnel).toEqual(start?.tunnel);
      expect(r.tunnelConnection).toBe(start?.tunnelConnection as string);
    }
    for (let k = 0; k < interims.length; k++) {
      // Every frame relayed so far, each way, and nothing else.
      expect(interims[k]?.counters?.packetsIn).toBe(relayed[k + 1]?.toLns as number);
      expect(interims[k]?.counters?.packetsOut).toBe(relayed[k + 1]?.toSubscriber as number);
      if (k === 0) continue;
      expect(interims[k]?.counters?.packetsIn).toBeGreaterThanOrEqual(
        (interims[k - 1]?.counters?.packetsIn ?? 0) + k + 1,
      );
      expect(interims[k]?.counters?.octetsOut).toBeGreaterThan(interims[k - 1]?.counters?.octetsOut ?? 0);
    }
    // Each record moved exactly as the line did since the hand-off: octets too, none lost or twice.
    const first = offset(interims[0], aaa.atRecord[1]);
    for (const k of [2, 3]) expect(offset(records[k], aaa.atRecord[k])).toEqual(first);
    alice.hangUp();
    await lab.run(1_000);
    const stop = aaa.records()[4];
    expect(stop?.status).toBe("stop");
    expect(stop?.terminateCause).toBe(1); // RFC 2866 §5.10 User-Request
    expect(stop?.sessionTime).toBe(180);
    expect(stop?.tunnel).toEqual(start?.tunnel);
    // The final counters: the line's at its end, the Terminate-Request and its Ack included.
    expect(offset(stop, lines.counts.get(alice.id))).toEqual(first);
    await lab.closeAll();
  });

  for (const ending of ["hung up", "CDN from the LNS", "destination closed", "node closed"] as const) {
    test(`no interim outlives a tunnelled subscriber (${ending}): the Stop, then nothing more and no timer left`, async () => {
      const aaa = new LocalAaa([{ name: "alice@isp.example", password: "alice-pw" }]);
      const { lab, lacNode, lns, subscribers, access } = setup(["chap"], aaa, "accept", {
        interimMs: INTERIM_MS,
      });
      const alice = subscribers.dial({ user: "alice@isp.example", password: "alice-pw" });
      await lab.until(alice.up, 60_000);
      await lab.run(INTERIM_MS + 1_000, 100);
      expect(aaa.records().map((r) => r.status)).toEqual(["start", "interim"]);
      if (ending === "hung up") alice.hangUp();
      if (ending === "CDN from the LNS") {
        const t = lns.snapshot().destinations[0]?.tunnels[0];
        lns.closeSession(t?.id as number, t?.sessions[0]?.id as number);
      }
      if (ending === "destination closed") lacNode.closeDestination(LNS);
      if (ending === "node closed") await lab.until(lacNode.close());
      else await lab.until(alice.ended, 60_000);
      // A few seconds for the call's own teardown; its next interim would be due 59 s after the end.
      await lab.run(5_000);
      expect(aaa.records().map((r) => r.status)).toEqual(["start", "interim", "stop"]);
      // RFC 2866 §5.10: 1 User-Request; the LNS's CDN and our closing of its tunnel (the session sees the
      // tunnel gone, RFC 2661 §5.7) 3 Lost-Service.
      expect(aaa.records()[2]?.terminateCause).toBe(ending === "hung up" ? 1 : 3);
      expect(access.relayed.size).toBe(0);
      // Nothing of it is left on the clock once the nodes are closed (well before its next interim was
      // due): no interim timer fires later, even to do nothing.
      await lab.closeAll();
      expect(lab.clock.pending).toBe(0);
      await lab.run(5 * INTERIM_MS, 1_000);
      expect(aaa.records()).toHaveLength(3);
    });
  }

  test("RADIUS Acct-Interim-Interval wins over accounting.interimMs; each interim carries the RFC 2867 tunnel attributes", async () => {
    const { lab, sent } = await underRadiusInterval("alice@isp.example", "alice-pw", 14);
    const connection = value(sent[0]?.attributes ?? [], "Acct-Tunnel-Connection");
    expect(connection).toMatch(/^[0-9a-f]{16}$/);
    for (const s of sent.slice(1)) {
      expect(value(s.attributes, "Tunnel-Type")).toEqual({ tag: 0, value: 3 });
      expect(value(s.attributes, "Tunnel-Medium-Type")).toEqual({ tag: 0, value: 1 });
      expect(value(s.attributes, "Tunnel-Client-Endpoint")).toEqual({ tag: 0, value: LAC.address });
      expect(value(s.attributes, "Tunnel-Server-Endpoint")).toEqual({ tag: 0, value: LNS.address });
      expect(value(s.attributes, "Acct-Tunnel-Connection")).toBe(connection as string);
    }
    const packetsIn = sent.slice(1).map((s) => value(s.attributes, "Acct-Input-Packets") ?? 0);
    // The relay's counters, a ping more in each interval.
    expect(packetsIn[0]).toBeGreaterThan(0);
    for (const k of [1, 2]) expect(packetsIn[k]).toBeGreaterThan(packetsIn[k - 1] ?? 0);
    await lab.closeAll();
  });

  for (const required of [false, true]) {
    test(`an unanswered interim is retried, counted and ends nothing${required ? " (accounting.required: only an unanswered Start ends the subscriber, as on the LNS)" : ""}`, async () => {
      const servers: { acct?: ScriptedRadius } = {};
      const { lab, subscribers, access } = setup(
        ["chap"],
        (lab) => scriptedRadiusAaa(lab, servers),
        "accept",
        {
          interimMs: INTERIM_MS,
          required,
        },
      );
      const alice = subscribers.dial({ user: "alice@isp.example", password: "alice-pw" });
      const address = await lab.until(alice.up, 60_000);
      // The accounting server answers the Start, then nothing more.
      if (servers.acct) servers.acct.answer = (p) => statusOf(p) === 1;
      // Two interims and every retry of the second (timeouts of 1, 2 and 4 s at most).
      await lab.run(2 * INTERIM_MS + 20_000, 100);
      const sent = (servers.acct?.seen ?? []).map((s) => statusOf(s.packet));
      // Each interim tried three times (retries: 2).
      expect(sent).toEqual([1, 3, 3, 3, 3, 3, 3]);
      expect(access.stats.accountingUnanswered).toBe(2);
      expect(access.relayed.size).toBe(1);
      expect(alice.sendIp(icmpEchoRequest(address, "10.0.0.1", 15, 1, new Uint8Array(8)))).toBe(true);
      await lab.run(100);
      expect(alice.received.some((p) => isIcmpEchoReply(p, 15, 1))).toBe(true);
      await lab.closeAll();
    });
  }

  test("accounting.required and the Start unanswered: the call (a CDN) and the subscriber end, counted", async () => {
    const servers: { acct?: ScriptedRadius } = {};
    const { lab, subscribers, access } = setup(["chap"], (lab) => scriptedRadiusAaa(lab, servers), "accept", {
      interimMs: INTERIM_MS,
      required: true,
    });
    const alice = subscribers.dial({ user: "alice@isp.example", password: "alice-pw" });
    if (servers.acct) servers.acct.answer = false;
    await lab.until(alice.up, 60_000);
    const why = await lab.until(alice.ended, 60_000);
    expect(why.message).toContain("Terminate-Request");
    await lab.run(1_000);
    expect(lab.sent("CDN", LAC.address)).toHaveLength(1);
    expect(access.relayed.size).toBe(0);
    expect(access.stats.accountingUnanswered).toBeGreaterThanOrEqual(1);
    // No interim after it: the Start (three tries), then only the Stop's.
    await lab.run(3 * INTERIM_MS, 1_000);
    expect(new Set((servers.acct?.seen ?? []).map((s) => statusOf(s.packet)))).toEqual(new Set([1, 2]));
    await lab.closeAll();
  });
});

describe("LAC: an LNS that answers a call with CDN result 2, error 7 (try another)", () => {
  test("the subscriber's call is placed on the next destination of its group and gets that LNS's address; the first is not locked out", async () => {
    const lab = new Lab(32);
    const LNS_B = { address: "127.0.0.4", port: 1701 };
    const users = [
      { name: "alice@isp.example", password: "alice-pw" },
      { name: "bob@isp.example", password: "bob-pw" },
    ];
    let access: LacAccess | undefined;
    const lacNode = lab.node(
      LAC.address,
      lacConfig({ destinations: [{ secret: "s3cret", peerHostName: "lns.test", accept: false }] }),
      { deps: { onData: (s, p) => access?.onData(s, p) } },
    );
    // Two LNSes with their own pools; the preferred one takes one session per tunnel (our LNS then answers
    // the next ICRQ with CDN 2/7, RFC 2661 §4.4.2).
    for (const [peer, pool, extra] of [
      [LNS, "10.1.0.1", { name: "lns-a", maxSessionsPerTunnel: 1 }],
      [LNS_B, "10.2.0.1", { name: "lns-b" }],
    ] as const) {
      lab.node(
        peer.address,
        lnsConfig({
          ...extra,
          ppp: {
            lns: { authProtocols: ["chap"], localAddress: "10.0.0.1" },
            pools: [{ name: "main", start: pool, end: pool.replace(/\.1$/, ".9") }],
          },
        }),
        { deps: { aaa: new LocalAaa(users), dataPlane: new EchoDataPlane() } },
      );
    }
    const subscribers = new SubscriberSimulator(lab.clock);
    access = new LacAccess({
      node: lacNode,
      access: subscribers,
      policy: {
        ...policy,
        domains: new Map<string, DomainRoute>([
          [
            "isp.example",
            {
              kind: "tunnel",
              group: group([
                { peer: LNS, preference: 0, maxSessions: 0 },
                { peer: LNS_B, preference: 1, maxSessions: 0 },
              ]),
            },
          ],
        ]),
      },
      clock: lab.clock,
      random: new SeededRandom(6),
      ppp: { authProtocols: ["chap"] },
    });
    const alice = subscribers.dial({ user: "alice@isp.example", password: "alice-pw" });
    expect(await lab.until(alice.up, 60_000)).toBe("10.1.0.1");
    const bob = subscribers.dial({ user: "bob@isp.example", password: "bob-pw" });
    expect(await lab.until(bob.up, 60_000)).toBe("10.2.0.1");
    // The preferred LNS refused bob's first try with "try another"; the LAC went on to the next.
    const cdn = lab.sent("CDN", LNS.address);
    expect(cdn).toHaveLength(1);
    expect(cdn[0]?.message.avps.resultCode).toMatchObject({ result: 2, error: 7 });
    expect(
      lab.sent("ICRQ", LAC.address).filter((w) => w.to === `${LNS_B.address}:${LNS_B.port}`),
    ).toHaveLength(1);
    expect(access.stats.tunnelled).toBe(2);
    expect(access.stats.refused).toBe(0);
    expect(lacNode.snapshot().destinations.find((d) => d.key === "127.0.0.3:1701")?.state).toStartWith(
      "available",
    );
    await lab.closeAll();
  });
});
