import { describe, expect, test } from "bun:test";
import { cause } from "../../machines/common.ts";
import { type TunnelInput, tieBreak, tunnelMachine } from "../../machines/tunnel.ts";
import { challengeResponse } from "../../protocol/l2tp/auth.ts";
import type { ControlMessage } from "../../protocol/l2tp/messages.ts";
import { drive } from "./harness.ts";

const secret = new TextEncoder().encode("s3cret");
const lacChallenge = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const lnsChallenge = Uint8Array.from({ length: 16 }, (_, i) => 100 + i);
const path = { system: "n", destination: "127.0.0.2:1701", tunnel: 1 };

function lac(extra: Partial<TunnelInput> = {}) {
  return drive(tunnelMachine, {
    path,
    role: "initiator",
    localTunnelId: 1111,
    hostName: "lac.test",
    receiveWindow: 16,
    secret,
    challenge: lacChallenge,
    tieBreaker: new Uint8Array(8).fill(7),
    stopHoldMs: 31_000,
    ...extra,
  } satisfies TunnelInput);
}

function lns(extra: Partial<TunnelInput> = {}) {
  return drive(tunnelMachine, {
    path,
    role: "responder",
    localTunnelId: 2222,
    hostName: "lns.test",
    receiveWindow: 8,
    secret,
    challenge: lnsChallenge,
    peerHostName: "lac.test",
    ...extra,
  } satisfies TunnelInput);
}

function sent(d: ReturnType<typeof lac>): ControlMessage[] {
  return d.of("send").map((e) => e.message as ControlMessage);
}

/** Runs the three-message setup between two tunnel machines, relaying what each sends. */
function handshake(a: ReturnType<typeof lac>, b: ReturnType<typeof lns>) {
  a.actor.send({ type: "open" });
  const sccrq = sent(a)[0];
  b.actor.send({ type: "rx.SCCRQ", message: sccrq });
  const sccrp = sent(b)[0];
  if (sccrp.type === "SCCRP") a.actor.send({ type: "rx.SCCRP", message: sccrp });
  const sccn = sent(a)[1];
  if (sccn?.type === "SCCCN") b.actor.send({ type: "rx.SCCCN", message: sccn });
  return { sccrq, sccrp, sccn };
}

describe("tieBreak (RFC 2661 §4.4.3)", () => {
  const v = (...b: number[]) => Uint8Array.from(b);
  test("lower value wins, equal values both lose, presence beats absence", () => {
    expect(tieBreak(v(1, 2), v(1, 3))).toBe("ours");
    expect(tieBreak(v(2, 0), v(1, 255))).toBe("theirs");
    expect(tieBreak(v(5, 5), v(5, 5))).toBe("neither");
    expect(tieBreak(v(9), undefined)).toBe("ours");
    expect(tieBreak(undefined, v(9))).toBe("theirs");
    expect(tieBreak(undefined, undefined)).toBe("both");
  });
});

describe("tunnel machine: setup with authentication both ways (RFC 2661 §5.1, §5.1.1, §7.2)", () => {
  test("SCCRQ → SCCRP → SCCCN establishes both sides", () => {
    const a = lac();
    const b = lns();
    const { sccrq, sccrp, sccn } = handshake(a, b);
    expect(sccrq.type).toBe("SCCRQ");
    expect(sccrq.avps).toMatchObject({
      protocolVersion: { version: 1, revision: 0 },
      hostName: "lac.test",
      assignedTunnelId: 1111,
      receiveWindowSize: 16,
      challenge: lacChallenge,
      tieBreaker: new Uint8Array(8).fill(7),
    });
    expect(sccrq.avps.framingCapabilities).toBeDefined();
    expect(sccrp.type).toBe("SCCRP");
    expect(sccrp.avps.assignedTunnelId).toBe(2222);
    expect(sccrp.avps.challenge).toEqual(lnsChallenge);
    expect(sccrp.avps.challengeResponse).toEqual(challengeResponse(2, secret, lacChallenge));
    expect(sccn.type).toBe("SCCCN");
    expect(sccn.avps.challengeResponse).toEqual(challengeResponse(3, secret, lnsChallenge));
    expect(a.state()).toBe("established");
    expect(b.state()).toBe("established");
    expect(a.of("established")).toHaveLength(1);
    expect(b.of("established")).toHaveLength(1);
    // The channel learns the peer's tunnel id before the first message addressed to it.
    expect(b.emitted.map((e) => e.type).slice(0, 2)).toEqual(["peer", "send"]);
    expect(b.of("peer")[0]).toMatchObject({ tunnelId: 1111, receiveWindow: 16 });
    expect(a.of("peer")[0]).toMatchObject({ tunnelId: 2222, receiveWindow: 8 });
  });

  test("no secret on either side: no challenge, still established", () => {
    const a = lac({ secret: undefined, challenge: undefined });
    const b = lns({ secret: undefined, challenge: undefined });
    const { sccrq, sccrp, sccn } = handshake(a, b);
    expect(sccrq.avps.challenge).toBeUndefined();
    expect(sccrp.avps.challengeResponse).toBeUndefined();
    expect(sccn.avps.challengeResponse).toBeUndefined();
    expect(b.state()).toBe("established");
  });

  test("a LAC with the wrong secret refuses the SCCRP response with StopCCN result 4 (not authorized)", () => {
    const a = lac({ secret: new TextEncoder().encode("wrong") });
    const b = lns();
    handshake(a, b);
    // The LAC, with the wrong secret, already refused the SCCRP's response.
    expect(a.state()).toBe("closing.stop-sent");
    const stop = sent(a).at(-1) as ControlMessage;
    expect(stop.type).toBe("StopCCN");
    expect(stop.avps).toMatchObject({ assignedTunnelId: 1111, resultCode: { result: 4 } });
    expect(a.actor.getSnapshot().context.cause?.reason).toBe("auth");
  });

  test("the LNS refuses an SCCCN whose response does not match", () => {
    const a = lac({ challenge: undefined, secret: undefined });
    const b = lns();
    a.actor.send({ type: "open" });
    b.actor.send({ type: "rx.SCCRQ", message: sent(a)[0] });
    b.actor.send({
      type: "rx.SCCCN",
      message: { type: "SCCCN", avps: { challengeResponse: new Uint8Array(16) } },
    });
    expect(b.state()).toBe("closing.stop-sent");
    const stop = sent(b).at(-1) as ControlMessage;
    expect(stop).toMatchObject({
      type: "StopCCN",
      avps: {
        assignedTunnelId: 2222,
        resultCode: { result: 4, message: "challenge response does not match" },
      },
    });
    expect(b.of("closing")[0]).toMatchObject({ stopSent: true, cause: { reason: "auth" } });
  });

  test("the LNS refuses an unexpected host name with result 4 (not authorized)", () => {
    const a = lac({ hostName: "stranger" });
    const b = lns();
    a.actor.send({ type: "open" });
    b.actor.send({ type: "rx.SCCRQ", message: sent(a)[0] });
    expect(b.state()).toBe("closing.stop-sent");
    expect(sent(b)[0]).toMatchObject({ type: "StopCCN", avps: { resultCode: { result: 4 } } });
    expect(b.of("peer")[0]).toMatchObject({ tunnelId: 1111 });
  });

  test("a challenge without a local secret is refused", () => {
    const a = lac();
    const b = lns({ secret: undefined, challenge: undefined });
    a.actor.send({ type: "open" });
    b.actor.send({ type: "rx.SCCRQ", message: sent(a)[0] });
    expect(sent(b)[0]).toMatchObject({ type: "StopCCN", avps: { resultCode: { result: 4 } } });
  });

  test("the LAC refuses an SCCRP without a response to its challenge", () => {
    const a = lac();
    a.actor.send({ type: "open" });
    a.actor.send({
      type: "rx.SCCRP",
      message: { type: "SCCRP", avps: { assignedTunnelId: 9, hostName: "lns.test" } },
    });
    expect(a.state()).toBe("closing.stop-sent");
    expect(sent(a)[1]).toMatchObject({
      type: "StopCCN",
      avps: { resultCode: { result: 4, message: "missing challenge response" } },
    });
  });

  test("an SCCCN while waiting for SCCRP is a state machine error (result 7)", () => {
    const a = lac();
    a.actor.send({ type: "open" });
    a.actor.send({ type: "rx.SCCCN", message: { type: "SCCCN", avps: {} } });
    expect(sent(a)[1]).toMatchObject({ type: "StopCCN", avps: { resultCode: { result: 7 } } });
  });
});

describe("tunnel machine: teardown (RFC 2661 §5.7)", () => {
  function up() {
    const a = lac();
    const b = lns();
    handshake(a, b);
    return { a, b };
  }

  test("close sends StopCCN, waits for the ack (drained), then is closed", () => {
    const { a } = up();
    a.actor.send({ type: "close", cause: cause("admin", "operator") });
    expect(a.state()).toBe("closing.stop-sent");
    const stop = sent(a).at(-1) as ControlMessage;
    expect(stop).toMatchObject({
      type: "StopCCN",
      avps: { assignedTunnelId: 1111, resultCode: { result: 1 } },
    });
    expect(a.of("closing")[0]).toMatchObject({ stopSent: true, cause: { reason: "admin" } });
    a.actor.send({ type: "close", cause: cause("admin", "again") });
    expect(sent(a).filter((m) => m.type === "StopCCN")).toHaveLength(1);
    a.actor.send({ type: "drained" });
    expect(a.actor.getSnapshot().status).toBe("done");
    expect(a.actor.getSnapshot().output).toMatchObject({ cause: { reason: "admin" }, wasEstablished: true });
  });

  test("the StopCCN receiver holds state for a full retransmission cycle", () => {
    const { b } = up();
    b.actor.send({
      type: "rx.StopCCN",
      message: {
        type: "StopCCN",
        avps: { assignedTunnelId: 1111, resultCode: { result: 1, message: "bye" } },
      },
    });
    expect(b.state()).toBe("closing.stop-received");
    expect(b.of("closing")[0]).toMatchObject({ stopSent: false, cause: { reason: "peer" } });
    b.clock.advance(30_999);
    expect(b.actor.getSnapshot().status).toBe("active");
    b.clock.advance(1);
    expect(b.actor.getSnapshot().status).toBe("done");
    expect(sent(b).filter((m) => m.type === "StopCCN")).toHaveLength(0);
  });

  test("a StopCCN refusing our SCCRQ teaches the peer's tunnel id (RFC 2661 §6.4), so our ack reaches it", () => {
    const a = lac();
    a.actor.send({ type: "open" });
    a.actor.send({
      type: "rx.StopCCN",
      message: { type: "StopCCN", avps: { assignedTunnelId: 33714, resultCode: { result: 2, error: 6 } } },
    });
    expect(a.state()).toBe("closing.stop-received");
    expect(a.of("peer")).toMatchObject([{ tunnelId: 33714 }]);
    expect(a.actor.getSnapshot().output).toBeUndefined();
    a.clock.advance(31_000);
    expect(a.actor.getSnapshot().output).toMatchObject({ cause: { reason: "peer" }, wasEstablished: false });
  });

  test("a local close during that hold ends the tunnel at once, keeping the peer's cause, sending nothing", () => {
    const { b } = up();
    b.actor.send({
      type: "rx.StopCCN",
      message: { type: "StopCCN", avps: { assignedTunnelId: 1111, resultCode: { result: 1 } } },
    });
    b.actor.send({ type: "close", cause: cause("parent", "node closing") });
    expect(b.actor.getSnapshot().status).toBe("done");
    expect(b.actor.getSnapshot().output).toMatchObject({ cause: { reason: "peer" } });
    expect(sent(b).filter((m) => m.type === "StopCCN")).toHaveLength(0);
  });

  test("retries exhausted end the tunnel at once with the channel's cause", () => {
    const a = lac();
    a.actor.send({ type: "open" });
    a.actor.send({ type: "channelFailed", cause: cause("retries", "no ack after 5 retransmissions") });
    expect(a.actor.getSnapshot().status).toBe("done");
    expect(a.actor.getSnapshot().output).toMatchObject({
      cause: { reason: "retries" },
      wasEstablished: false,
    });
  });

  test("losing the tie-breaker discards the tunnel silently", () => {
    const a = lac();
    a.actor.send({ type: "open" });
    a.actor.send({ type: "tieBreakerLost", bothLost: false });
    expect(a.actor.getSnapshot().status).toBe("done");
    expect(a.actor.getSnapshot().output?.cause.reason).toBe("tie-breaker");
    expect(sent(a)).toHaveLength(1);
  });

  test("admin shutdown closes with StopCCN result 6; drain only changes the admin state", () => {
    const { a } = up();
    a.actor.send({ type: "admin", state: "drain" });
    expect(a.state()).toBe("established");
    expect(a.actor.getSnapshot().context.admin).toBe("drain");
    a.actor.send({ type: "admin", state: "shutdown" });
    expect(sent(a).at(-1)).toMatchObject({ type: "StopCCN", avps: { resultCode: { result: 6 } } });
  });
});
