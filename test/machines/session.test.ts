import { describe, expect, test } from "bun:test";
import { cause } from "../../machines/common.ts";
import { type SessionInput, sessionMachine } from "../../machines/session.ts";
import type { ControlMessage } from "../../protocol/l2tp/messages.ts";
import { drive } from "./harness.ts";

const path = { system: "n1", destination: "127.0.0.2:1701", tunnel: 10, session: 500 };

function start(kind: SessionInput["kind"], extra: Partial<SessionInput> = {}) {
  return drive(sessionMachine, { path, kind, localSessionId: 500, ...extra } satisfies SessionInput);
}

function msg(type: ControlMessage["type"], avps: ControlMessage["avps"] = {}): ControlMessage {
  return { type, avps };
}

function sent(d: ReturnType<typeof start>) {
  return d.of("send").map((e) => ({ ...(e.message as ControlMessage), sessionId: e.sessionId as number }));
}

describe("session machine: LAC incoming call (RFC 2661 §7.3)", () => {
  test("a Call Serial Number given in the request AVPs is the one sent in ICRQ and OCRQ (not our session id)", () => {
    for (const kind of ["lac-incoming", "lns-outgoing"] as const) {
      const d = start(kind, { requestAvps: { callSerialNumber: 4242 } });
      d.actor.send({ type: "tunnelUp" });
      expect(sent(d)[0].avps.callSerialNumber).toBe(4242);
    }
    const d = start("lac-incoming");
    d.actor.send({ type: "tunnelUp" });
    expect(sent(d)[0].avps.callSerialNumber).toBe(500); // none given: our session id
  });

  test("waits for the tunnel, then ICRQ → ICRP → ICCN → established", () => {
    const d = start("lac-incoming", { callSerialNumber: 9, requestAvps: { callingNumber: "555" } });
    expect(d.state()).toBe("wait-tunnel");
    expect(sent(d)).toEqual([]);
    d.actor.send({ type: "tunnelUp" });
    expect(d.state()).toBe("wait-reply");
    const [icrq] = sent(d);
    expect(icrq.type).toBe("ICRQ");
    expect(icrq.sessionId).toBe(0); // RFC 2661 §4.4.4: 0 until the peer assigned its id
    expect(icrq.avps).toMatchObject({ assignedSessionId: 500, callSerialNumber: 9, callingNumber: "555" });
    d.actor.send({ type: "rx.ICRP", message: msg("ICRP", { assignedSessionId: 77 }) });
    expect(d.state()).toBe("established");
    const iccn = sent(d)[1];
    expect(iccn.type).toBe("ICCN");
    expect(iccn.sessionId).toBe(77);
    expect(iccn.avps.txConnectSpeed).toBeGreaterThan(0);
    expect(iccn.avps.framingType).toBeDefined();
    expect(d.of("established")).toHaveLength(1);
    expect(d.actor.getSnapshot().context.peerSessionId).toBe(77);
  });

  test("an ICRP without an Assigned Session ID gets a CDN", () => {
    const d = start("lac-incoming");
    d.actor.send({ type: "tunnelUp" });
    d.actor.send({ type: "rx.ICRP", message: msg("ICRP") });
    expect(d.actor.getSnapshot().status).toBe("done");
    expect(sent(d).map((m) => m.type)).toEqual(["ICRQ", "CDN"]);
  });

  test("close while waiting for the tunnel sends nothing", () => {
    const d = start("lac-incoming");
    d.actor.send({ type: "close", cause: cause("admin", "bye") });
    expect(d.actor.getSnapshot().status).toBe("done");
    expect(sent(d)).toEqual([]);
    expect(d.actor.getSnapshot().output?.cause.reason).toBe("admin");
  });

  test("the setup timeout sends CDN result 10", () => {
    const d = start("lac-incoming", { setupTimeoutMs: 5000 });
    d.actor.send({ type: "tunnelUp" });
    d.clock.advance(4999);
    expect(d.state()).toBe("wait-reply");
    d.clock.advance(1);
    expect(d.actor.getSnapshot().status).toBe("done");
    const cdn = sent(d)[1];
    expect(cdn.type).toBe("CDN");
    expect(cdn.avps.resultCode?.result).toBe(10);
    expect(d.actor.getSnapshot().output?.cause.reason).toBe("timeout");
  });
});

describe("session machine: LNS incoming call (RFC 2661 §7.3)", () => {
  test("ICRQ → ICRP → wait-connect → ICCN → established", () => {
    const d = start("lns-incoming");
    expect(d.state()).toBe("idle");
    d.actor.send({ type: "rx.ICRQ", message: msg("ICRQ", { assignedSessionId: 55, callSerialNumber: 1 }) });
    expect(d.state()).toBe("wait-connect");
    expect(sent(d)).toEqual([{ type: "ICRP", avps: { assignedSessionId: 500 }, sessionId: 55 }]);
    d.actor.send({
      type: "rx.ICCN",
      message: msg("ICCN", { txConnectSpeed: 1, framingType: { sync: true, async: false } }),
    });
    expect(d.state()).toBe("established");
    expect(d.of("established")).toHaveLength(1);
  });

  test("an ICRQ without an Assigned Session ID is answered with a CDN", () => {
    const d = start("lns-incoming");
    d.actor.send({ type: "rx.ICRQ", message: msg("ICRQ", { callSerialNumber: 1 }) });
    expect(d.actor.getSnapshot().status).toBe("done");
    expect(sent(d)[0].type).toBe("CDN");
    expect(d.actor.getSnapshot().output?.cause.reason).toBe("protocol");
  });

  test("an unexpected ICRP in wait-connect is a CDN", () => {
    const d = start("lns-incoming");
    d.actor.send({ type: "rx.ICRQ", message: msg("ICRQ", { assignedSessionId: 55 }) });
    d.actor.send({ type: "rx.ICRP", message: msg("ICRP", { assignedSessionId: 55 }) });
    expect(d.actor.getSnapshot().status).toBe("done");
    expect(sent(d).map((m) => m.type)).toEqual(["ICRP", "CDN"]);
    expect(sent(d)[1].avps.resultCode?.result).toBe(2);
  });
});

describe("session machine: outgoing calls (RFC 2661 §7.4, §7.5)", () => {
  test("LAC: OCRQ → OCRP, the bearer answers → OCCN → established", () => {
    const d = start("lac-outgoing");
    d.actor.send({ type: "rx.OCRQ", message: msg("OCRQ", { assignedSessionId: 31, callSerialNumber: 2 }) });
    expect(d.state()).toBe("wait-cs-answer");
    expect(sent(d)[0]).toEqual({ type: "OCRP", avps: { assignedSessionId: 500 }, sessionId: 31 });
    d.actor.send({ type: "answered" });
    expect(d.state()).toBe("established");
    expect(sent(d)[1].type).toBe("OCCN");
    expect(sent(d)[1].sessionId).toBe(31);
  });

  test("LAC: the bearer fails → CDN", () => {
    const d = start("lac-outgoing");
    d.actor.send({ type: "rx.OCRQ", message: msg("OCRQ", { assignedSessionId: 31 }) });
    d.actor.send({ type: "answerFailed", cause: cause("internal", "no dial tone", { result: 9 }) });
    expect(d.actor.getSnapshot().status).toBe("done");
    expect(sent(d)[1].avps.resultCode?.result).toBe(9);
  });

  test("LNS: waits for the tunnel, OCRQ → OCRP → wait-connect → OCCN → established", () => {
    const d = start("lns-outgoing", { requestAvps: { calledNumber: "123" } });
    expect(d.state()).toBe("wait-tunnel");
    d.actor.send({ type: "tunnelUp" });
    const [ocrq] = sent(d);
    expect(ocrq.type).toBe("OCRQ");
    expect(ocrq.sessionId).toBe(0);
    expect(ocrq.avps).toMatchObject({ assignedSessionId: 500, calledNumber: "123" });
    expect(ocrq.avps.minimumBps).toBeDefined();
    expect(ocrq.avps.bearerType).toBeDefined();
    d.actor.send({ type: "rx.OCRP", message: msg("OCRP", { assignedSessionId: 8 }) });
    expect(d.state()).toBe("wait-connect");
    d.actor.send({ type: "rx.OCCN", message: msg("OCCN") });
    expect(d.state()).toBe("established");
    expect(sent(d)).toHaveLength(1);
  });
});

describe("session machine: teardown (RFC 2661 §5.6, §5.7)", () => {
  function established() {
    const d = start("lns-incoming");
    d.actor.send({ type: "rx.ICRQ", message: msg("ICRQ", { assignedSessionId: 55 }) });
    d.actor.send({ type: "rx.ICCN", message: msg("ICCN") });
    return d;
  }

  test("a CDN from the peer ends the call without an answer", () => {
    const d = established();
    d.actor.send({
      type: "rx.CDN",
      message: msg("CDN", { resultCode: { result: 1 }, assignedSessionId: 55 }),
    });
    const snap = d.actor.getSnapshot();
    expect(snap.status).toBe("done");
    expect(snap.output?.cause.reason).toBe("peer");
    expect(snap.output?.cause.resultCode?.result).toBe(1);
    expect(snap.output?.wasEstablished).toBe(true);
    expect(sent(d)).toHaveLength(1); // only the ICRP
  });

  test("a local close sends CDN result 3 with our Assigned Session ID to the peer's session id", () => {
    const d = established();
    d.actor.send({ type: "close", cause: cause("admin", "operator") });
    const cdn = sent(d)[1];
    expect(cdn.type).toBe("CDN");
    expect(cdn.sessionId).toBe(55);
    expect(cdn.avps.assignedSessionId).toBe(500);
    expect(cdn.avps.resultCode?.result).toBe(3);
    expect(d.actor.getSnapshot().status).toBe("done");
  });

  test("tunnel gone ends the call without a CDN", () => {
    const d = established();
    d.actor.send({ type: "tunnelGone", cause: cause("tunnel-gone", "StopCCN") });
    expect(d.actor.getSnapshot().status).toBe("done");
    expect(d.actor.getSnapshot().output?.cause.reason).toBe("tunnel-gone");
    expect(sent(d)).toHaveLength(1);
  });
});
