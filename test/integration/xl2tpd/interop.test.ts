/**
 * Interop of our node with a real xl2tpd 1.3.18 (issue 3), both ways: our LAC → xl2tpd LNS and
 * xl2tpd LAC → our LNS. Tunnel authentication with each side challenging (RFC 2661 §5.1.1), AVPs we
 * send hidden (§4.3) against xl2tpd's `hidden bit = yes`, calls kept up by the harness's stand-in pppd,
 * CDN and StopCCN from each side, our HELLO (§6.5) acknowledged by xl2tpd, and a wrong secret refused
 * both ways. Each fact is checked on the wire (a tshark capture decoded with our codec), in our node
 * (the outcome, the cause each actor ended with, the snapshot) and, where xl2tpd logs it, in its log.
 * Afterwards our registries are empty and no process is left. Needs xl2tpd, tshark and root
 * (scripts/setup.sh).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import type { DestinationProfile, NodeConfig } from "../../../actors/config.ts";
import type { PeerAddress } from "../../../actors/ports.ts";
import type { CapturedDatagram } from "../../../adapters/capture/pcap.ts";
import { describePacket } from "../../../protocol/describe.ts";
import {
  type ControlHeader,
  type ControlMessage,
  challengeResponse,
  decodeControl,
  type MessageTypeName,
} from "../../../protocol/l2tp/index.ts";
import { expectEmptyRegistries } from "../../support/registries.ts";
import { type LoopbackCapture, startLoopbackCapture } from "./capture.ts";
import { isProcessAlive, startXl2tpd, XL2TPD_LOG, type Xl2tpd, type Xl2tpdOptions } from "./harness.ts";
import { type ActorEnding, type OurNode, startOurNode } from "./our-node.ts";

const SECRET = "s3cret";
const secret = new TextEncoder().encode(SECRET);
/** xl2tpd listens here and our node on the next address: two hosts on loopback, no set-up needed. */
const XL2TPD_ADDRESS = "127.0.0.41";
const OUR_ADDRESS = "127.0.0.42";
/** Our HELLO interval: short enough to see a HELLO within a test (xl2tpd's own is fixed at 60 s). */
const HELLO_MS = 2000;
/** AVPs our profiles send hidden (RFC 2661 §4.3). */
const HIDE = ["assignedSessionId", "callingNumber"] as const;
/** The Result Code our node puts in a StopCCN or CDN for a wrong challenge response (as xl2tpd does). */
const BAD_RESPONSE = { result: 4, error: 0, message: "challenge response does not match" };

// --- what each test started, stopped in afterEach even when the test failed half-way ---------------

let xl2tpds: Xl2tpd[] = [];
let nodes: OurNode[] = [];
let capture: LoopbackCapture | undefined;
afterEach(async () => {
  await capture?.stop().catch(() => []);
  capture = undefined;
  await Promise.all(nodes.map((n) => n.close().catch(() => undefined)));
  nodes = [];
  await Promise.all(xl2tpds.map((x) => x.stop("SIGKILL")));
  xl2tpds = [];
});

async function startX(options: Xl2tpdOptions): Promise<Xl2tpd> {
  const instance = await startXl2tpd({ address: XL2TPD_ADDRESS, ...options });
  xl2tpds.push(instance);
  return instance;
}

/** Our node as LAC or LNS with one destination profile, a short HELLO interval and StopCCN hold. */
async function startOurs(
  role: "lac" | "lns",
  profile: DestinationProfile,
  overrides: Partial<NodeConfig> = {},
): Promise<OurNode> {
  const config: NodeConfig = {
    name: `our-${role}`,
    hostName: `${role}.test`,
    stopHoldMs: 1000,
    channel: { helloIntervalMs: HELLO_MS },
    destinations: [profile],
    ...overrides,
  };
  const node = await startOurNode(config, OUR_ADDRESS);
  nodes.push(node);
  return node;
}

/** Our LAC's profile for an xl2tpd LNS: the secret (so we challenge it), the AVPs we hide. */
function toXl2tpd(lns: Xl2tpd): DestinationProfile {
  return { address: lns.address, port: lns.port, peerHostName: "lns.test", secret: SECRET, hide: HIDE };
}

/** Our LNS's profile for the xl2tpd LAC (any port: it dials from its listening port). */
const FROM_XL2TPD: DestinationProfile = {
  address: XL2TPD_ADDRESS,
  peerHostName: "lac.test",
  secret: SECRET,
  hide: HIDE,
};

/** An xl2tpd LNS for our LAC: challenges us, `hidden bit = yes`, the stand-in pppd keeps calls up. */
function xl2tpdLns(secrets = [{ ours: "lns.test", theirs: "lac.test", secret: SECRET }]): Xl2tpdOptions {
  return {
    label: "xl2tpd-lns",
    secrets,
    lns: { hostname: "lns.test", challenge: true, hiddenBit: true },
    pppd: "stand-in",
  };
}

/** An xl2tpd LAC (`[lac peer]`) dialling our LNS, `hidden bit = yes`; it challenges us unless told not to. */
function xl2tpdLac(lns: PeerAddress, options: { challenge?: boolean; secret?: string } = {}): Xl2tpdOptions {
  return {
    label: "xl2tpd-lac",
    secrets: [{ ours: "lac.test", theirs: "lns.test", secret: options.secret ?? SECRET }],
    lacs: [
      {
        name: "peer",
        lns: { address: lns.address, port: lns.port },
        hostname: "lac.test",
        challenge: options.challenge ?? true,
        hiddenBit: true,
      },
    ],
    pppd: "stand-in",
  };
}

/**
 * `c peer` on an xl2tpd LAC whose previous call just ended. xl2tpd answers "already active" until it has
 * destroyed that call, which it does once the ZLB acknowledging the call's CDN (ours or its own) is in.
 */
async function redial(lac: Xl2tpd, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await lac.command("c peer");
    if (answer.startsWith("00")) return;
    if (!answer.includes("already active") || Date.now() > deadline) {
      throw lac.failure(`answered ${JSON.stringify(answer)} to c peer`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
}

// --- the wire --------------------------------------------------------------------------------------

/** One control packet in the capture, decoded with our codec. */
interface WirePacket {
  frame: number;
  from: "us" | "xl2tpd";
  header: ControlHeader;
  /** Null for a ZLB acknowledgement. */
  message: ControlMessage | null;
  text: string;
}

/** A control packet that is a message, not a ZLB. */
type WireMessage = WirePacket & { message: ControlMessage };

/** The wire of one test: the control packets between our node and xl2tpd, in capture order. */
class Wire {
  readonly packets: WirePacket[] = [];

  /** Decodes every control packet between the two; throws on any our codec cannot decode. */
  constructor(datagrams: CapturedDatagram[], us: PeerAddress, them: Xl2tpd) {
    for (const d of datagrams) {
      const fromUs = d.src === us.address && d.srcPort === us.port;
      const fromThem = d.src === them.address && d.srcPort === them.port;
      if (!fromUs && !fromThem) continue;
      if ((d.payload[0] & 0x80) === 0) continue; // T bit clear: a data message
      const decoded = decodeControl(d.payload, { secret });
      const text = describePacket(d.payload, { secret }).text;
      if (!decoded.ok) {
        throw new Error(
          `frame ${d.frame} does not decode: ${decoded.error.field}: ${decoded.error.reason}\n${text}`,
        );
      }
      this.packets.push({
        frame: d.frame,
        from: fromUs ? "us" : "xl2tpd",
        header: decoded.value.header,
        message: decoded.value.message,
        text,
      });
    }
  }

  /** The wire as text, for failure messages. */
  toString(): string {
    return this.packets.map((p) => `#${p.frame} ${p.from.padEnd(6)} ${p.text}`).join("\n");
  }

  /** The messages of a type from one side, in order. */
  all(from: WirePacket["from"], type: MessageTypeName): WireMessage[] {
    return this.packets.filter((p): p is WireMessage => p.from === from && p.message?.type === type);
  }

  /** The one message of a type from one side; throws with the wire when there is not exactly one. */
  only(from: WirePacket["from"], type: MessageTypeName): WireMessage {
    const found = this.all(from, type);
    if (found.length !== 1)
      throw new Error(`expected one ${type} from ${from}, found ${found.length}\n${this}`);
    return found[0];
  }

  /** Message types (ZLB for acks) from one side, in order. */
  types(from: WirePacket["from"]): string[] {
    return this.packets.filter((p) => p.from === from).map((p) => p.message?.type ?? "ZLB");
  }

  /** RFC 2661 §5.8: the first packet from the other side after `message` whose Nr acknowledges it. */
  ackOf(message: WirePacket): WirePacket {
    const nr = (message.header.ns + 1) & 0xffff;
    const ack = this.packets.find(
      (p) => p.frame > message.frame && p.from !== message.from && p.header.nr === nr,
    );
    if (!ack) throw new Error(`nothing acknowledges frame ${message.frame}\n${this}`);
    return ack;
  }

  /** `hidden bit = yes`: xl2tpd puts a Random Vector in every message and hides no AVP (docs/INTEROP.md). */
  expectXl2tpdHidesNothing(): void {
    for (const p of this.packets) {
      if (p.from !== "xl2tpd" || !p.message) continue;
      expect(p.message.avps.randomVector?.length ?? 0).toBeGreaterThan(0);
      expect(p.message.hidden ?? []).toEqual([]);
    }
  }
}

async function stopCapture(us: OurNode, them: Xl2tpd): Promise<Wire> {
  if (!capture) throw new Error("no capture running");
  const datagrams = await capture.stop();
  capture = undefined;
  return new Wire(datagrams, us.endpoint, them);
}

/** RFC 2661 §5.1.1: each side challenged, each answered the other's challenge right (MD5 over the secret). */
function expectMutualAuth(wire: Wire, lac: WirePacket["from"]): void {
  const lns = lac === "us" ? "xl2tpd" : "us";
  const sccrq = wire.only(lac, "SCCRQ").message;
  const sccrp = wire.only(lns, "SCCRP").message;
  const scccn = wire.only(lac, "SCCCN").message;
  expect(sccrq.avps.hostName).toBe("lac.test");
  expect(sccrp.avps.hostName).toBe("lns.test");
  const lacChallenge = sccrq.avps.challenge;
  const lnsChallenge = sccrp.avps.challenge;
  if (!lacChallenge || !lnsChallenge) throw new Error(`a side did not challenge\n${wire}`);
  expect(sccrp.avps.challengeResponse).toEqual(challengeResponse(2, secret, lacChallenge));
  expect(scccn.avps.challengeResponse).toEqual(challengeResponse(3, secret, lnsChallenge));
}

/** RFC 2661 §6.5: our HELLO went out on session 0 and xl2tpd acknowledged it with a ZLB. */
function expectHelloAcked(wire: Wire): void {
  const [hello] = wire.all("us", "HELLO");
  if (!hello) throw new Error(`we sent no HELLO\n${wire}`);
  expect(hello.header.sessionId).toBe(0);
  expect(wire.ackOf(hello).message).toBeNull();
}

/** Waits until our node saw its HELLO acknowledged, then checks the tunnel is still up on both sides. */
async function waitForHelloAcked(ours: OurNode, them: Xl2tpd): Promise<void> {
  const hello = await ours.waitFor(
    "HELLO sent",
    () => ours.control.find((c) => c.direction === "sent" && c.packet.message?.type === "HELLO"),
    HELLO_MS * 3,
  );
  const nr = (hello.packet.header.ns + 1) & 0xffff;
  await ours.waitFor("HELLO acknowledged", () =>
    ours.control.find((c) => c.direction === "received" && c.packet.header.nr === nr),
  );
  expect(ours.node.snapshot().destinations[0]?.tunnels.map((t) => t.state)).toEqual(["established"]);
  expect(them.matching(XL2TPD_LOG.tunnelClosed)).toEqual([]);
}

// --- endings ---------------------------------------------------------------------------------------

/** Our tunnels and sessions are gone (after the StopCCN hold), then the node closes to all zeros. */
async function expectNothingLeft(ours: OurNode): Promise<void> {
  await ours.waitFor("empty tunnel and session registries", () => {
    const r = ours.node.snapshot().registries;
    return r.tunnels === 0 && r.sessions === 0 && r.tunnelsByPeer === 0;
  });
  expectEmptyRegistries(await ours.close());
  expect(ours.wiringErrors).toEqual([]);
}

/** Stops xl2tpd (SIGTERM: it sends nothing) and checks that it and every pppd it started are gone. */
async function stopAndCheckGone(instance: Xl2tpd, signal: "SIGINT" | "SIGTERM" = "SIGTERM"): Promise<void> {
  const pids = [instance.pid, ...instance.standInPids()];
  await instance.stop(signal);
  expect(pids.filter(isProcessAlive)).toEqual([]);
  expect(instance.processes()).toEqual([]);
  expect(existsSync(instance.dir)).toBe(false);
}

/** Waits for the ending of our actor at `level` (the first, or the one with that session id). */
function endingOf(ours: OurNode, level: "tunnel" | "session", session?: number): Promise<ActorEnding> {
  return ours.waitFor(`the end of a ${level}${session === undefined ? "" : ` ${session}`}`, () =>
    ours.endings.find((e) => e.level === level && (session === undefined || e.path.session === session)),
  );
}

// --- the tests -------------------------------------------------------------------------------------

describe("our LAC → xl2tpd LNS", () => {
  test("auth both ways, hidden AVPs, call up, HELLO acked; our CDN, xl2tpd's CDN, our StopCCN", async () => {
    const lns = await startX(xl2tpdLns());
    const lac = await startOurs("lac", toXl2tpd(lns));
    capture = await startLoopbackCapture([lns.port, lac.endpoint.port]);

    const first = await lac.node.openSession({
      destination: lns.endpoint,
      requestAvps: { callingNumber: "5550001", callSerialNumber: 101 },
    });
    if (!first.ok) throw new Error(`openSession failed: ${JSON.stringify(first.cause)}\n${lac.trace()}`);
    const lnsTunnel = await lns.waitForLog(XL2TPD_LOG.tunnelEstablished);
    expect(lnsTunnel.slice(1, 5)).toEqual([
      OUR_ADDRESS,
      String(lac.endpoint.port),
      String(first.peerTunnelId),
      String(first.tunnelId),
    ]);
    const lnsCall = await lns.waitForLog(XL2TPD_LOG.callEstablished);
    // xl2tpd decrypted our hidden Assigned Session ID: its remote call is our session; our serial number.
    expect(lnsCall.slice(3, 6)).toEqual([String(first.peerSessionId), String(first.sessionId), "101"]);

    await waitForHelloAcked(lac, lns);
    expect(lac.node.snapshot().destinations[0]?.tunnels[0]?.sessions.map((s) => s.state)).toEqual([
      "established",
    ]);

    // Our CDN (RFC 2661 §5.6).
    let mark = lns.lines.length;
    expect(lac.node.closeSession(first.tunnelId, first.sessionId)).toBe(true);
    expect(await first.ended).toEqual({ reason: "admin", message: "session closed by the operator" });
    const closedByUs = await lns.waitForLog(XL2TPD_LOG.callClosedByPeer, 5000, mark);
    expect(closedByUs.slice(1)).toEqual([OUR_ADDRESS, "101", "session closed by the operator"]);

    // xl2tpd's CDN (`h CALLID`): the next call, on the same tunnel.
    const second = await lac.node.openSession({ destination: lns.endpoint });
    if (!second.ok) throw new Error(`second openSession failed: ${JSON.stringify(second.cause)}`);
    expect(second.tunnelId).toBe(first.tunnelId);
    // Our LAC counts the call up once its ICCN is sent (RFC 2661 §7.3); xl2tpd, once it has read it. An
    // `h` before that is lost (xl2tpd logs the hangup, brings the call up anyway and never answers).
    await lns.waitForLog(new RegExp(`Call established with .*Local: ${second.peerSessionId},`));
    await lns.hangupCall(second.peerSessionId);
    const secondEnded = await second.ended;
    expect(secondEnded).toMatchObject({
      reason: "peer",
      resultCode: { result: 1, error: 0, message: "Goodbye!" },
    });

    // Our StopCCN (closeTunnel): the third call ends with the tunnel, without a CDN (RFC 2661 §5.7).
    const third = await lac.node.openSession({ destination: lns.endpoint });
    if (!third.ok) throw new Error(`third openSession failed: ${JSON.stringify(third.cause)}`);
    mark = lns.lines.length;
    expect(lac.node.closeTunnel(first.tunnelId)).toBe(true);
    const stopCause = { result: 1, message: "tunnel closed by the operator" };
    expect(await third.ended).toMatchObject({ reason: "tunnel-gone", resultCode: stopCause });
    expect((await endingOf(lac, "tunnel")).cause).toMatchObject({ reason: "admin", resultCode: stopCause });
    const closed = await lns.waitForLog(XL2TPD_LOG.tunnelClosed, 5000, mark);
    expect(closed.slice(1)).toEqual([OUR_ADDRESS, String(lac.endpoint.port), stopCause.message]);
    await expectNothingLeft(lac);

    const wire = await stopCapture(lac, lns);
    expectMutualAuth(wire, "us");
    wire.expectXl2tpdHidesNothing();
    // RFC 2661 §4.3: what we hid, xl2tpd read: its ICRP is addressed to the session our ICRQ hid.
    const [icrq] = wire.all("us", "ICRQ");
    expect(icrq.message.hidden).toEqual(expect.arrayContaining(["assignedSessionId", "callingNumber"]));
    expect(icrq.message.avps).toMatchObject({
      assignedSessionId: first.sessionId,
      callingNumber: "5550001",
      callSerialNumber: 101,
    });
    expect(wire.all("xl2tpd", "ICRP")[0].header.sessionId).toBe(first.sessionId);
    expectHelloAcked(wire);
    // Our CDN: to xl2tpd's call, naming ours (hidden), result 3 (administrative); acknowledged.
    const ourCdn = wire.only("us", "CDN");
    expect(ourCdn.header.sessionId).toBe(first.peerSessionId);
    expect(ourCdn.message.hidden).toEqual(["assignedSessionId"]);
    expect(ourCdn.message.avps).toMatchObject({
      assignedSessionId: first.sessionId,
      resultCode: { result: 3, message: "session closed by the operator" },
    });
    wire.ackOf(ourCdn);
    // xl2tpd's CDN: what our session ended with; our ZLB acknowledging it names xl2tpd's call.
    const theirCdn = wire.only("xl2tpd", "CDN");
    expect(theirCdn.header.sessionId).toBe(second.sessionId);
    expect(theirCdn.message.avps.resultCode).toEqual(secondEnded.resultCode);
    const cdnAck = wire.ackOf(theirCdn);
    expect([cdnAck.message, cdnAck.header.sessionId]).toEqual([null, second.peerSessionId]);
    // Our StopCCN: our tunnel id and the cause's Result Code, acknowledged; no CDN for the third call.
    const stop = wire.only("us", "StopCCN");
    expect(stop.message.avps).toMatchObject({ assignedTunnelId: first.tunnelId, resultCode: stopCause });
    expect(wire.ackOf(stop).message).toBeNull();
    expect(wire.types("us").slice(-1)).toEqual(["StopCCN"]);
    await stopAndCheckGone(lns);
  }, 15000);

  test("the stand-in's death makes xl2tpd send a CDN; SIGINT a StopCCN that ends our tunnel and call", async () => {
    const lns = await startX(xl2tpdLns());
    const lac = await startOurs("lac", toXl2tpd(lns));
    capture = await startLoopbackCapture([lns.port, lac.endpoint.port]);

    const first = await lac.node.openSession({ destination: lns.endpoint });
    if (!first.ok) throw new Error(`openSession failed: ${JSON.stringify(first.cause)}\n${lac.trace()}`);
    await lns.waitForLog(/stand-in-pppd\[\d+\]: started/);
    const [standIn] = lns.standInPids();
    process.kill(standIn, "SIGTERM");
    expect(await first.ended).toMatchObject({ reason: "peer", resultCode: { result: 1 } });

    const second = await lac.node.openSession({ destination: lns.endpoint });
    if (!second.ok) throw new Error(`second openSession failed: ${JSON.stringify(second.cause)}`);
    expect(second.tunnelId).toBe(first.tunnelId);
    await lns.stop("SIGINT");
    const serverClosing = { result: 1, error: 0, message: "Server closing" };
    expect(await second.ended).toMatchObject({ reason: "tunnel-gone", resultCode: serverClosing });
    expect((await endingOf(lac, "tunnel")).cause).toMatchObject({
      reason: "peer",
      resultCode: serverClosing,
    });
    await expectNothingLeft(lac);

    const wire = await stopCapture(lac, lns);
    const cdn = wire.only("xl2tpd", "CDN");
    expect(cdn.header.sessionId).toBe(first.sessionId);
    expect(wire.ackOf(cdn).header.sessionId).toBe(first.peerSessionId);
    const stop = wire.only("xl2tpd", "StopCCN");
    expect(stop.header.tunnelId).toBe(first.tunnelId);
    expect(stop.message.avps.resultCode).toEqual(serverClosing);
    expect(wire.ackOf(stop).message).toBeNull(); // RFC 2661 §5.7: we acknowledge the StopCCN
    expect(wire.all("us", "CDN")).toEqual([]);
    expect(wire.all("us", "StopCCN")).toEqual([]);
    await stopAndCheckGone(lns, "SIGINT");
  }, 15000);

  test("wrong secret: our LAC finds xl2tpd's challenge response wrong, sends StopCCN 4 (not authorized), the call fails with auth", async () => {
    const lns = await startX(xl2tpdLns([{ ours: "lns.test", theirs: "lac.test", secret: "not-ours" }]));
    const lac = await startOurs("lac", toXl2tpd(lns));
    capture = await startLoopbackCapture([lns.port, lac.endpoint.port]);

    const outcome = await lac.node.openSession({ destination: lns.endpoint });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    // Both challenge and the LAC reads the first response: we find the mismatch before xl2tpd can.
    expect(outcome.cause).toEqual({
      reason: "auth",
      message: "SCCRP Challenge Response does not match (wrong secret?)",
      resultCode: BAD_RESPONSE,
    });
    const closed = await lns.waitForLog(XL2TPD_LOG.tunnelClosed);
    expect(closed[3]).toBe(BAD_RESPONSE.message);
    expect(lns.matching(XL2TPD_LOG.tunnelEstablished)).toEqual([]);
    await expectNothingLeft(lac);

    const wire = await stopCapture(lac, lns);
    const sccrq = wire.only("us", "SCCRQ").message;
    const sccrp = wire.only("xl2tpd", "SCCRP").message;
    if (!sccrq.avps.challenge) throw new Error(`we did not challenge\n${wire}`);
    expect(sccrp.avps.challengeResponse).not.toEqual(challengeResponse(2, secret, sccrq.avps.challenge));
    const stop = wire.only("us", "StopCCN");
    expect(stop.message.avps.resultCode).toEqual(BAD_RESPONSE);
    expect(wire.ackOf(stop).message).toBeNull();
    expect(wire.types("us")).toEqual(["SCCRQ", "StopCCN"]); // no SCCCN
    await stopAndCheckGone(lns);
  }, 15000);

  test("xl2tpd with no secret for us refuses our SCCRQ (StopCCN 2/6): the call fails with the peer's cause", async () => {
    const lns = await startX(xl2tpdLns([{ ours: "lns.test", theirs: "someone.else", secret: SECRET }]));
    const lac = await startOurs("lac", toXl2tpd(lns));
    capture = await startLoopbackCapture([lns.port, lac.endpoint.port]);

    const outcome = await lac.node.openSession({ destination: lns.endpoint });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    const refused = { result: 2, error: 6, message: "No secret on our side" };
    expect(outcome.cause).toMatchObject({ reason: "peer", resultCode: refused });
    expect((await lns.waitForLog(XL2TPD_LOG.tunnelClosed))[3]).toBe(refused.message);
    await expectNothingLeft(lac);

    const wire = await stopCapture(lac, lns);
    // RFC 2661 §6.4: the StopCCN names xl2tpd's tunnel; our ack goes to it (a ZLB to tunnel 0 would be
    // taken for a new tunnel, and xl2tpd would retransmit its StopCCN).
    const stop = wire.only("xl2tpd", "StopCCN");
    expect(stop.header.tunnelId).toBe(wire.only("us", "SCCRQ").message.avps.assignedTunnelId ?? -1);
    expect(stop.message.avps.resultCode).toEqual(refused);
    const ack = wire.ackOf(stop);
    expect([ack.message, ack.header.tunnelId]).toEqual([null, stop.message.avps.assignedTunnelId ?? -1]);
    expect(wire.all("xl2tpd", "SCCRP")).toEqual([]);
    expect(wire.types("us")).toEqual(["SCCRQ", "ZLB"]);
    await stopAndCheckGone(lns);
  }, 15000);
});

describe("xl2tpd LAC → our LNS", () => {
  test("auth both ways, hidden AVPs, call up, HELLO acked; xl2tpd's CDN, our CDN, our StopCCN", async () => {
    const lns = await startOurs("lns", FROM_XL2TPD);
    const lac = await startX(xl2tpdLac(lns.endpoint));
    capture = await startLoopbackCapture([lac.port, lns.endpoint.port]);
    const established = () =>
      lns.waitFor("an established session", () =>
        lns.node.snapshot().destinations[0]?.tunnels[0]?.sessions.find((s) => s.state === "established"),
      );

    await lac.dial("peer");
    const lacTunnel = await lac.waitForLog(XL2TPD_LOG.tunnelEstablished);
    const call1 = await lac.waitForLog(XL2TPD_LOG.callEstablished);
    const session1 = await established();
    const tunnel = lns.node.snapshot().destinations[0].tunnels[0];
    expect([tunnel.role, tunnel.id, tunnel.peerTunnelId]).toEqual([
      "responder",
      Number(lacTunnel[4]),
      Number(lacTunnel[3]),
    ]);
    // xl2tpd decrypted the Assigned Session ID our ICRP hid: its remote call is our session.
    expect([session1.peerSessionId, session1.id]).toEqual([Number(call1[3]), Number(call1[4])]);

    await waitForHelloAcked(lns, lac);

    // xl2tpd's CDN (`h CALLID`): our session ends with its Result Code.
    await lac.hangupCall(session1.peerSessionId);
    const ended1 = await endingOf(lns, "session", session1.id);
    expect(ended1.cause).toMatchObject({ reason: "peer", resultCode: { result: 1, message: "Goodbye!" } });

    // xl2tpd dials again only once it has freed the call: our ZLB acknowledging its CDN named it.
    await redial(lac);
    const session2 = await established();
    let mark = lac.lines.length;
    expect(lns.node.closeSession(tunnel.id, session2.id)).toBe(true);
    const closedByUs = await lac.waitForLog(XL2TPD_LOG.callClosedByPeer, 5000, mark);
    expect(closedByUs.slice(1)).toEqual([OUR_ADDRESS, "2", "session closed by the operator"]);
    expect((await endingOf(lns, "session", session2.id)).cause.reason).toBe("admin");

    // Our StopCCN (closeDestination): the third call ends with the tunnel, without a CDN.
    await redial(lac);
    const session3 = await established();
    mark = lac.lines.length;
    expect(lns.node.closeDestination(lac.endpoint)).toBe(true);
    const stopMessage = "destination closing: destination closed by the operator";
    const closed = await lac.waitForLog(XL2TPD_LOG.tunnelClosed, 5000, mark);
    expect(closed.slice(1)).toEqual([OUR_ADDRESS, String(lns.endpoint.port), stopMessage]);
    await expectNothingLeft(lns);
    expect((await endingOf(lns, "session", session3.id)).cause).toMatchObject({
      reason: "tunnel-gone",
      resultCode: { result: 1, message: stopMessage },
    });
    expect((await endingOf(lns, "tunnel")).cause).toMatchObject({ reason: "parent", message: stopMessage });

    const wire = await stopCapture(lns, lac);
    expectMutualAuth(wire, "xl2tpd");
    wire.expectXl2tpdHidesNothing();
    const icrps = wire.all("us", "ICRP");
    expect(icrps.map((p) => p.message.hidden)).toEqual([
      ["assignedSessionId"],
      ["assignedSessionId"],
      ["assignedSessionId"],
    ]);
    // xl2tpd's ICCN is addressed to the session our ICRP hid.
    expect(wire.all("xl2tpd", "ICCN").map((p) => p.header.sessionId)).toEqual([
      session1.id,
      session2.id,
      session3.id,
    ]);
    expectHelloAcked(wire);
    const theirCdn = wire.only("xl2tpd", "CDN");
    expect(theirCdn.message.avps.resultCode).toEqual(ended1.cause.resultCode);
    const cdnAck = wire.ackOf(theirCdn);
    expect([cdnAck.message, cdnAck.header.sessionId]).toEqual([null, session1.peerSessionId]);
    const ourCdn = wire.only("us", "CDN");
    expect(ourCdn.header.sessionId).toBe(session2.peerSessionId);
    expect(ourCdn.message.avps).toMatchObject({ assignedSessionId: session2.id, resultCode: { result: 3 } });
    const stop = wire.only("us", "StopCCN");
    expect(stop.message.avps).toMatchObject({
      assignedTunnelId: tunnel.id,
      resultCode: { result: 1, message: stopMessage },
    });
    expect(wire.ackOf(stop).message).toBeNull();
    await stopAndCheckGone(lac);
  }, 15000);

  test("xl2tpd's StopCCN (`d peer`) ends our tunnel and its call; we send no CDN", async () => {
    const lns = await startOurs("lns", FROM_XL2TPD);
    const lac = await startX(xl2tpdLac(lns.endpoint));
    capture = await startLoopbackCapture([lac.port, lns.endpoint.port]);

    await lac.dial("peer");
    await lac.waitForLog(XL2TPD_LOG.callEstablished);
    const session = await lns.waitFor("an established session", () =>
      lns.node.snapshot().destinations[0]?.tunnels[0]?.sessions.find((s) => s.state === "established"),
    );
    await lac.hangup("peer");
    const goodbye = { result: 1, error: 0, message: "Goodbye!" };
    const tunnelEnded = await endingOf(lns, "tunnel");
    expect(tunnelEnded.cause).toMatchObject({ reason: "peer", resultCode: goodbye });
    expect((await endingOf(lns, "session", session.id)).cause).toMatchObject({
      reason: "tunnel-gone",
      resultCode: goodbye,
    });
    await expectNothingLeft(lns);

    const wire = await stopCapture(lns, lac);
    const stop = wire.only("xl2tpd", "StopCCN");
    expect(stop.message.avps.resultCode).toEqual(goodbye);
    expect(wire.ackOf(stop).message).toBeNull();
    expect(wire.all("xl2tpd", "CDN")).toEqual([]);
    expect(wire.all("us", "CDN")).toEqual([]);
    expect(wire.all("us", "StopCCN")).toEqual([]);
    await stopAndCheckGone(lac);
  }, 15000);

  test("wrong secret, xl2tpd not challenging: our LNS refuses its SCCCN with StopCCN 4 and no CDN after it", async () => {
    const lns = await startOurs("lns", FROM_XL2TPD);
    const lac = await startX(xl2tpdLac(lns.endpoint, { challenge: false, secret: "not-ours" }));
    capture = await startLoopbackCapture([lac.port, lns.endpoint.port]);

    await lac.dial("peer");
    const closed = await lac.waitForLog(XL2TPD_LOG.tunnelClosed);
    expect(closed[3]).toBe(BAD_RESPONSE.message);
    const tunnelEnded = await endingOf(lns, "tunnel");
    expect(tunnelEnded.cause).toEqual({
      reason: "auth",
      message: "SCCCN Challenge Response does not match (wrong secret?)",
      resultCode: BAD_RESPONSE,
    });
    expect(tunnelEnded.wasEstablished).toBe(false);
    await expectNothingLeft(lns);
    expect(lns.endings.filter((e) => e.level === "session")).toEqual([]);

    const wire = await stopCapture(lns, lac);
    expect(wire.only("xl2tpd", "SCCRQ").message.avps.challenge).toBeUndefined();
    const stop = wire.only("us", "StopCCN");
    expect(stop.message.avps.resultCode).toEqual(BAD_RESPONSE);
    // xl2tpd sends its ICRQ right after the SCCCN; the StopCCN already answers for it.
    expect(wire.all("xl2tpd", "ICRQ")).toHaveLength(1);
    expect(wire.types("us").filter((t) => t !== "ZLB")).toEqual(["SCCRP", "StopCCN"]);
    expect(wire.ackOf(stop).message).toBeNull();
    await stopAndCheckGone(lac);
  }, 15000);

  test("wrong secret, xl2tpd challenging: it refuses our SCCRP's response with StopCCN 2/6, our tunnel ends with it", async () => {
    const lns = await startOurs("lns", FROM_XL2TPD);
    const lac = await startX(xl2tpdLac(lns.endpoint, { challenge: true, secret: "not-ours" }));
    capture = await startLoopbackCapture([lac.port, lns.endpoint.port]);

    await lac.dial("peer");
    expect((await lac.waitForLog(XL2TPD_LOG.authenticationFailed))[1]).toBe("lns.test");
    const invalid = { result: 2, error: 6, message: "Invalid challenge authentication" };
    const tunnelEnded = await endingOf(lns, "tunnel");
    expect(tunnelEnded.cause).toMatchObject({ reason: "peer", resultCode: invalid });
    await expectNothingLeft(lns);

    const wire = await stopCapture(lns, lac);
    const stop = wire.only("xl2tpd", "StopCCN");
    expect(stop.message.avps.resultCode).toEqual(invalid);
    expect(wire.ackOf(stop).message).toBeNull();
    expect(wire.all("xl2tpd", "SCCCN")).toEqual([]);
    expect(wire.types("us")).toEqual(["SCCRP", "ZLB"]);
    await stopAndCheckGone(lac);
  }, 15000);
});
