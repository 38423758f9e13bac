/**
 * PPP end to end over the memory network: a LAC whose calls each carry a simulated subscriber (a client
 * PPP link) and an LNS that terminates PPP (server links, local AAA, a pool, the echo data plane).
 */
import { describe, expect, test } from "bun:test";
import type { DataPlane, DataPlaneStats, PppLinkPort } from "../../actors/data-plane.ts";
import type { Transport } from "../../actors/ports.ts";
import type { PppNodeConfig } from "../../actors/ppp-link.ts";
import { EARLY_FRAMES_KEPT } from "../../actors/ppp-link.ts";
import { LocalAaa, type LocalUser } from "../../adapters/aaa/local.ts";
import { EchoDataPlane } from "../../adapters/dataplane/index.ts";
import { PppDisconnectCode } from "../../machines/ppp/disconnect.ts";
import { pppFrame } from "../../machines/ppp/endpoint.ts";
import { icmpEchoRequest, isIcmpEchoReply } from "../../protocol/ipv4.ts";
import { icmpv6EchoRequest, isIcmpv6EchoReply } from "../../protocol/ipv6.ts";
import { MESSAGE_TYPE_BY_CODE } from "../../protocol/l2tp/message-types.ts";
import { encodeIpcp } from "../../protocol/ppp/ipcp.ts";
import { linkLocalOf } from "../../protocol/ppp/ipv6cp.ts";
import { PppProtocol } from "../../protocol/ppp/numbers.ts";
import { expectEmptyRegistries } from "../support/registries.ts";
import { LAC, Lab, LNS, lacConfig, lnsConfig } from "./lab.ts";

/** A subscriber-side data plane that keeps what it receives. */
class Inbox implements DataPlane {
  readonly packets: Uint8Array[] = [];
  receive(_link: PppLinkPort, packet: Uint8Array): void {
    this.packets.push(packet.slice());
  }
  receiveIpv6(_link: PppLinkPort, packet: Uint8Array): void {
    this.packets.push(packet.slice());
  }
  stats(): DataPlaneStats {
    return { packetsIn: this.packets.length, bytesIn: 0, packetsOut: 0, bytesOut: 0 };
  }
}

const USERS: LocalUser[] = [
  { name: "alice", password: "alice-pw" },
  { name: "bob", password: "bob-pw", framedIpAddress: "10.9.9.9" },
];

function lnsPpp(extra: Partial<PppNodeConfig> = {}, lns: PppNodeConfig["lns"] = {}): PppNodeConfig {
  return {
    lns: {
      authProtocols: ["chap", "pap"],
      localAddress: "10.0.0.1",
      dns: ["10.0.0.53", "10.0.0.54"],
      ...lns,
    },
    pools: [{ name: "main", start: "10.1.0.1", end: "10.1.0.100" }],
    ...extra,
  };
}

function subscriber(
  user: string,
  password: string,
  authProtocols: ("pap" | "chap")[] = ["chap", "pap"],
): PppNodeConfig {
  return { subscriber: { user, password, authProtocols, dns: ["0.0.0.0"] } };
}

function setup(options: { lac?: PppNodeConfig; lns?: PppNodeConfig; users?: LocalUser[] } = {}) {
  const lab = new Lab(7);
  const inbox = new Inbox();
  const echo = new EchoDataPlane();
  const lac = lab.node(LAC.address, lacConfig({ ppp: options.lac ?? subscriber("alice", "alice-pw") }), {
    deps: { dataPlane: inbox },
  });
  const lns = lab.node(LNS.address, lnsConfig({ ppp: options.lns ?? lnsPpp() }), {
    deps: { aaa: new LocalAaa(options.users ?? USERS), dataPlane: echo },
  });
  return { lab, lac, lns, inbox, echo };
}

/** A LAC socket (127.0.0.2:1702) that sends its ICCNs `ms` late and everything else at once. */
function holdingIccn(lab: Lab, ms: number): Transport {
  const socket = lab.net.bind(LAC.address, 1702);
  return {
    local: socket.local,
    send(packet, to) {
      // RFC 2661 §3.1: a control message's first AVP, the Message Type, at octets 18-19 (no offset).
      const iccn = packet[0] & 0x80 && MESSAGE_TYPE_BY_CODE[(packet[18] << 8) | packet[19]]?.name === "ICCN";
      if (iccn) lab.clock.setTimeout(() => socket.send(packet, to), ms);
      else socket.send(packet, to);
    },
    onReceive: (handler) => socket.onReceive(handler),
    close: () => socket.close(),
  };
}

function sessionsOf(node: ReturnType<typeof setup>["lac"]) {
  return node.snapshot().destinations.flatMap((d) => d.tunnels.flatMap((t) => t.sessions));
}

describe("PPP over L2TP: subscriber → LAC → LNS", () => {
  test("CHAP: LCP, authentication through AAA, IPCP gives a pool address and DNS; a ping to the LNS is answered", async () => {
    const { lab, lac, lns, inbox, echo } = setup();
    const outcome = await lab.until(lac.openSession({ destination: LNS }));
    expect(outcome.ok).toBe(true);
    await lab.run(200);
    const [server] = sessionsOf(lns);
    const [client] = sessionsOf(lac);
    expect(server.ppp).toMatchObject({
      phase: "opened",
      lcp: "opened",
      ipcp: "opened",
      user: "alice",
      address: "10.1.0.1",
      proxied: false,
    });
    expect(client.ppp).toMatchObject({ phase: "opened", address: "10.1.0.1" });
    const link = (
      lac as unknown as { rt: { tunnels: Map<number, { sessions: Map<number, { ppp: PppLinkPort }> }> } }
    ).rt;
    const clientLink = [...link.tunnels.values()][0].sessions.values().next().value?.ppp as PppLinkPort;
    expect(clientLink.sendIp(icmpEchoRequest("10.1.0.1", "10.0.0.1", 7, 1, new Uint8Array([1, 2, 3])))).toBe(
      true,
    );
    await lab.run(20);
    expect(echo.echoes).toBe(1);
    expect(inbox.packets.some((p) => isIcmpEchoReply(p, 7, 1))).toBe(true);
    const stats = lns.snapshot().ppp;
    expect(stats).toMatchObject({ links: 1, up: 1, authAccepted: 1, authRejected: 0, linksUp: 1 });
    await lab.closeAll();
    expectEmptyRegistries(lac.snapshot().registries, lns.snapshot().registries);
  });

  test("dual stack: IPV6CP opens beside IPCP, a ping to the LNS's link-local address is answered over IPv6", async () => {
    const { lab, lac, lns, inbox, echo } = setup({
      lac: { subscriber: { user: "alice", password: "alice-pw", authProtocols: ["chap"], ipv6: true } },
      lns: lnsPpp({}, { ipv6: true }),
    });
    expect((await lab.until(lac.openSession({ destination: LNS }))).ok).toBe(true);
    await lab.run(200);
    const [server] = sessionsOf(lns);
    const [client] = sessionsOf(lac);
    expect(server.ppp).toMatchObject({
      phase: "opened",
      ipcp: "opened",
      ipv6cp: "opened",
      address: "10.1.0.1",
    });
    expect(client.ppp).toMatchObject({ ipv6cp: "opened" });
    expect(server.ppp?.ipv6Address).toMatch(/^fe80::/);
    const rt = (
      lac as unknown as {
        rt: {
          tunnels: Map<
            number,
            { sessions: Map<number, { ppp: PppLinkPort & { peerInterfaceId?: string } }> }
          >;
        };
      }
    ).rt;
    const clientLink = [...rt.tunnels.values()][0].sessions.values().next().value?.ppp as PppLinkPort & {
      peerInterfaceId: string;
    };
    const ours = clientLink.interfaceId as string;
    expect(server.ppp?.ipv6Address).toBe(linkLocalOf(ours));
    const request = icmpv6EchoRequest(ours, clientLink.peerInterfaceId, 9, 1, Uint8Array.of(4, 5, 6));
    expect(clientLink.sendIpv6?.(request)).toBe(true);
    await lab.run(20);
    expect(echo.echoes).toBe(1);
    expect(inbox.packets.some((p) => isIcmpv6EchoReply(p, 9, 1))).toBe(true);
    expect(lns.snapshot().ppp).toMatchObject({ up: 1, ipv6Up: 1 });
    await lab.closeAll();
    expectEmptyRegistries(lac.snapshot().registries, lns.snapshot().registries);
  });

  test("IPv6 on the LNS, a subscriber without it: the subscriber rejects IPV6CP, IPv4 stays up", async () => {
    const { lab, lac, lns } = setup({ lns: lnsPpp({}, { ipv6: true }) });
    expect((await lab.until(lac.openSession({ destination: LNS }))).ok).toBe(true);
    await lab.run(200);
    expect(sessionsOf(lns)[0].ppp).toMatchObject({ phase: "opened", ipcp: "opened", ipv6cp: "stopped" });
    expect(lns.snapshot().ppp).toMatchObject({ up: 1, ipv6Up: 0 });
    await lab.closeAll();
  });

  test("PAP only: the LNS asks for PAP, the Framed-IP-Address of the user is assigned", async () => {
    const { lab, lac, lns } = setup({
      lac: subscriber("bob", "bob-pw", ["pap"]),
      lns: lnsPpp({}, { authProtocols: ["pap"] }),
    });
    expect((await lab.until(lac.openSession({ destination: LNS }))).ok).toBe(true);
    await lab.run(200);
    expect(sessionsOf(lns)[0].ppp).toMatchObject({ phase: "opened", user: "bob", address: "10.9.9.9" });
    await lab.closeAll();
  });

  test("a wrong password: CHAP Failure, LCP Terminate, then a CDN with RFC 3145 code 16 (authentication failed)", async () => {
    const { lab, lac, lns } = setup({ lac: subscriber("alice", "wrong") });
    expect((await lab.until(lac.openSession({ destination: LNS }))).ok).toBe(true);
    await lab.run(8000);
    const cdns = lab.sent("CDN", LNS.address);
    expect(cdns).toHaveLength(1);
    expect(cdns[0].message.avps.pppDisconnectCause).toMatchObject({
      code: PppDisconnectCode.authFailed,
      protocol: 0xc223,
    });
    expect(lns.snapshot().ppp).toMatchObject({ authRejected: 1, up: 0 });
    expect(sessionsOf(lns)).toHaveLength(0);
    expect(sessionsOf(lac)).toHaveLength(0);
    await lab.closeAll();
    expectEmptyRegistries(lac.snapshot().registries, lns.snapshot().registries);
  });

  test("an exhausted pool ends the call with RFC 3145 code 18, counted; the address comes back when a call ends", async () => {
    const { lab, lac, lns } = setup({
      lns: lnsPpp({ pools: [{ name: "tiny", start: "10.2.0.1", end: "10.2.0.1" }] }),
    });
    const first = await lab.until(lac.openSession({ destination: LNS }));
    await lab.run(200);
    expect(sessionsOf(lns)[0].ppp?.address).toBe("10.2.0.1");
    expect((await lab.until(lac.openSession({ destination: LNS }))).ok).toBe(true);
    await lab.run(8000);
    const cdns = lab.sent("CDN", LNS.address);
    expect(cdns).toHaveLength(1);
    expect(cdns[0].message.avps.pppDisconnectCause?.code).toBe(PppDisconnectCode.noNcps);
    expect(lns.snapshot().ppp?.noAddress).toBe(1);
    // The first call ends: its address is free again for the next subscriber.
    if (!first.ok) throw new Error("unreachable");
    lac.closeSession?.(first.tunnelId, first.sessionId);
    await lab.run(5000);
    expect((await lab.until(lac.openSession({ destination: LNS }))).ok).toBe(true);
    await lab.run(300);
    expect(sessionsOf(lns).map((s) => s.ppp?.address)).toContain("10.2.0.1");
    await lab.closeAll();
  });

  test("the subscriber hangs up (LCP Terminate-Request, Terminate-Ack): one CDN, carrying RFC 3145 code 3; both sides clean", async () => {
    const { lab, lac, lns } = setup();
    expect((await lab.until(lac.openSession({ destination: LNS }))).ok).toBe(true);
    await lab.run(200);
    const rt = (
      lac as unknown as {
        rt: {
          tunnels: Map<
            number,
            { sessions: Map<number, { ppp: { node: { actor: { send(e: unknown): void } } } }> }
          >;
        };
      }
    ).rt;
    const link = [...rt.tunnels.values()][0].sessions.values().next().value?.ppp;
    link?.node.actor.send({
      type: "close",
      cause: { code: 3, protocol: 0xc021, direction: 2, message: "user logout" },
    });
    await lab.run(5000);
    // The subscriber's side ends at the Terminate-Ack, before the LNS's restart period: its CDN leaves first.
    const cdns = lab.sent("CDN");
    expect(cdns).toHaveLength(1);
    expect(cdns[0].message.avps.pppDisconnectCause).toMatchObject({
      code: PppDisconnectCode.normal,
      protocol: 0xc021,
    });
    expect(sessionsOf(lns)).toHaveLength(0);
    expect(sessionsOf(lac)).toHaveLength(0);
    await lab.closeAll();
  });

  test("the subscriber's LCP overtakes the ICCN (held in the LAC's control channel): the LNS keeps it for the link, no restart period lost", async () => {
    const lab = new Lab(7);
    // The ICCN is held back 50 ms, as a control channel waiting for its window would, while the
    // subscriber's first Configure-Request (a data message) leaves at once.
    const lac = lab.node(LAC.address, lacConfig({ ppp: subscriber("alice", "alice-pw") }), {
      deps: { transport: holdingIccn(lab, 50) },
    });
    const lns = lab.node(LNS.address, lnsConfig({ ppp: lnsPpp() }), { deps: { aaa: new LocalAaa(USERS) } });
    expect((await lab.until(lac.openSession({ destination: LNS }))).ok).toBe(true);
    // Well within LCP's restart period (3 s, RFC 1661 §4.6): a dropped first request would take that long.
    await lab.run(300);
    expect(lns.pppStats).toMatchObject({ earlyFrames: 1, earlyFramesDropped: 0, up: 1 });
    expect(sessionsOf(lns)[0].ppp).toMatchObject({ phase: "opened", address: "10.1.0.1" });
    expect(lac.pppStats?.up).toBe(1);
    await lab.closeAll();
    expectEmptyRegistries(lac.snapshot().registries, lns.snapshot().registries);
  });

  test(`at most ${EARLY_FRAMES_KEPT} early frames are kept per session; the rest are counted and dropped`, async () => {
    const lab = new Lab(7);
    // The ICCN waits 16 s: the subscriber sends its Configure-Request every 3 s meanwhile (6 by 15 s).
    const lac = lab.node(LAC.address, lacConfig({ ppp: subscriber("alice", "alice-pw") }), {
      deps: { transport: holdingIccn(lab, 16_000) },
    });
    const lns = lab.node(LNS.address, lnsConfig({ ppp: lnsPpp() }), { deps: { aaa: new LocalAaa(USERS) } });
    await lab.until(lac.openSession({ destination: LNS }));
    await lab.run(15_000);
    expect(lns.pppStats).toMatchObject({ earlyFrames: EARLY_FRAMES_KEPT, earlyFramesDropped: 2, links: 0 });
    // The kept requests are stale by now (the LNS acks them, the subscriber ignores Acks of old
    // Identifiers, RFC 1661 §5.2): the link comes up with the subscriber's next request, at 18 s.
    await lab.run(4000);
    expect(lns.pppStats).toMatchObject({ links: 1, up: 1 });
    await lab.closeAll();
  });
});

describe("malformed PPP frames on an up link", () => {
  test("are counted and dropped, each kind; the link stays up and still answers IP", async () => {
    const { lab, lac, lns, echo } = setup();
    const call = await lab.until(lac.openSession({ destination: LNS }));
    if (!call.ok) throw new Error("no call");
    await lab.run(500);
    expect(lns.snapshot().ppp?.linksUp).toBe(1);
    for (const frame of [
      Uint8Array.of(), // no header at all
      Uint8Array.of(0xff), // Address without Control
      Uint8Array.of(0xff, 0x05, 0xc0, 0x21), // Address then not 0x03
      Uint8Array.of(0xff, 0x03), // no Protocol
      Uint8Array.of(0xff, 0x03, 0xc0), // half a Protocol
      Uint8Array.of(0xff, 0x03, 0xc0, 0x20), // an even low octet (RFC 1661 §2)
    ]) {
      lac.sendData(call.tunnelId, call.sessionId, frame);
    }
    await lab.run(200);
    expect(lns.snapshot().ppp).toMatchObject({ malformedFrames: 6, linksUp: 1 });
    const ping = icmpEchoRequest("10.1.0.1", "10.0.0.1", 7, 1, new Uint8Array(4));
    lac.sendData(call.tunnelId, call.sessionId, Uint8Array.of(0xff, 0x03, 0x00, 0x21, ...ping));
    await lab.run(50);
    expect(echo.echoes).toBe(1);
    await lab.closeAll();
  });
});

describe("PPP keepalive (RFC 1661 §5.8 Echo)", () => {
  function keepaliveSetup() {
    return setup({ lns: lnsPpp({ keepaliveMs: 1000, keepaliveMisses: 3 }) });
  }

  test("a peer that keeps talking gets no Echo-Request", async () => {
    const { lab, lac, lns } = keepaliveSetup();
    const call = await lab.until(lac.openSession({ destination: LNS }));
    if (!call.ok) throw new Error("no call");
    await lab.run(200);
    for (let i = 0; i < 10; i++) {
      // An IP packet every half second: the link is never silent for a whole period.
      lac.sendData(call.tunnelId, call.sessionId, Uint8Array.of(0xff, 0x03, 0x00, 0x21, 0x45));
      await lab.run(500);
    }
    expect(lns.snapshot().ppp).toMatchObject({ echoRequestsSent: 0, keepaliveFailures: 0, linksUp: 1 });
    await lab.closeAll();
  });

  test("a silent peer gets Echo-Requests; three unanswered end the link with a CDN carrying RFC 3145 code 8", async () => {
    const { lab, lac, lns } = keepaliveSetup();
    expect((await lab.until(lac.openSession({ destination: LNS }))).ok).toBe(true);
    await lab.run(200);
    // An answered Echo-Request keeps the link: the subscriber answers while the path is up.
    await lab.run(2500);
    expect(lns.snapshot().ppp?.echoRequestsSent).toBeGreaterThan(0);
    expect(lns.snapshot().ppp?.linksUp).toBe(1);
    // Then the subscriber's side goes silent.
    lab.net.setLink(LAC.address, LNS.address, { loss: 1 });
    await lab.run(6000);
    expect(lns.snapshot().ppp).toMatchObject({ keepaliveFailures: 1, linksUp: 0 });
    const cdn = lab.sent("CDN", LNS.address);
    expect(cdn[0]?.message.avps.pppDisconnectCause?.code).toBe(PppDisconnectCode.lcpKeepalive);
    lab.net.setLink(LAC.address, LNS.address, { loss: 0 });
    await lab.closeAll();
  });
});

describe("AAA limits on a link", () => {
  test("Session-Timeout ends the link (RFC 3145 code 3 from our side); accounting Stop says Session-Timeout (5)", async () => {
    const aaa = new LocalAaa([{ name: "alice", password: "alice-pw", sessionTimeout: 4 }]);
    const lab = new Lab(9);
    const lac = lab.node(LAC.address, lacConfig({ ppp: subscriber("alice", "alice-pw") }));
    const lns = lab.node(LNS.address, lnsConfig({ ppp: lnsPpp({ accounting: { enabled: true } }) }), {
      deps: { aaa },
    });
    expect((await lab.until(lac.openSession({ destination: LNS }))).ok).toBe(true);
    await lab.run(3000);
    expect(lns.snapshot().ppp?.linksUp).toBe(1);
    await lab.run(6000);
    expect(lns.snapshot().ppp?.linksUp).toBe(0);
    const cdn = lab.sent("CDN");
    expect(cdn).toHaveLength(1);
    expect(cdn[0].message.avps.pppDisconnectCause?.code).toBe(PppDisconnectCode.normal);
    const stop = aaa.records().find((r) => r.status === "stop");
    expect(stop).toMatchObject({ user: "alice", terminateCause: 5 });
    expect(aaa.records().filter((r) => r.status === "start")).toHaveLength(1);
    await lab.closeAll();
  });
});

describe("IPCP renegotiated on an opened link", () => {
  test("the subscriber's new IPCP Configure-Request reopens IPCP: counted up once, one accounting Start", async () => {
    const aaa = new LocalAaa(USERS);
    const lab = new Lab(11);
    const lac = lab.node(LAC.address, lacConfig({ ppp: subscriber("alice", "alice-pw") }));
    const lns = lab.node(LNS.address, lnsConfig({ ppp: lnsPpp({ accounting: { enabled: true } }) }), {
      deps: { aaa },
    });
    const call = await lab.until(lac.openSession({ destination: LNS }));
    if (!call.ok) throw new Error("the call failed");
    await lab.run(300);
    expect(sessionsOf(lns)[0].ppp).toMatchObject({ phase: "opened", address: "10.1.0.1" });
    // RFC 1661 §4.1: a Configure-Request in Opened takes the layer down (tld) and renegotiates.
    const request = encodeIpcp({
      code: "Configure-Request",
      id: 200,
      options: [{ kind: "ipAddress", address: "10.1.0.1" }],
    });
    expect(lac.sendData(call.tunnelId, call.sessionId, pppFrame(PppProtocol.IPCP, request))).toBe(true);
    await lab.run(300);
    expect(sessionsOf(lns)[0].ppp).toMatchObject({ phase: "opened", ipcp: "opened" });
    expect(lns.pppStats?.up).toBe(1);
    expect(aaa.records().filter((r) => r.status === "start")).toHaveLength(1);
    await lab.closeAll();
  });
});

describe("closing a tunnel with PPP links", () => {
  test("every subscriber gets an LCP Terminate-Request before the StopCCN; nothing is left", async () => {
    const { lab, lac, lns } = setup();
    const order: string[] = [];
    lab.net.tap((packet, from) => {
      if (from.address !== LNS.address) return;
      // Data messages with an LCP Terminate-Request (code 5) vs the StopCCN (control).
      if ((packet[0] & 0x80) === 0 && packet.includes(0xc0) && packet[packet.length - 4] === 5)
        order.push("TermReq");
      else if ((packet[0] & 0x80) !== 0 && packet.length > 12) order.push("control");
    });
    await lab.until(Promise.all([0, 1, 2].map(() => lac.openSession({ destination: LNS }))));
    await lab.run(300);
    order.length = 0;
    lns.closeDestination(LAC, { reason: "admin", message: "maintenance" });
    await lab.run(3000);
    expect(order.slice(0, 4)).toEqual(["TermReq", "TermReq", "TermReq", "control"]);
    expect(lab.sent("StopCCN", LNS.address)).toHaveLength(1);
    expect(lab.sent("CDN")).toHaveLength(0);
    await lab.closeAll();
  });
});
