/**
 * The tunnel machine against real xl2tpd handshakes (test/fixtures/captures): fed the captured
 * messages, with the captured challenge of our side as its own, it must accept what xl2tpd sent and
 * answer with what the other side of the capture answered.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { readCapture } from "../../adapters/capture/pcap.ts";
import { type TunnelInput, tunnelMachine } from "../../machines/tunnel.ts";
import { type ControlMessage, decodeControl } from "../../protocol/l2tp/messages.ts";
import { drive } from "./harness.ts";

const secret = new TextEncoder().encode("s3cret");

function messages(file: string): ControlMessage[] {
  const capture = readCapture(
    new Uint8Array(readFileSync(new URL(`../fixtures/captures/${file}`, import.meta.url))),
  );
  if (!capture.ok) throw new Error(capture.error);
  const out: ControlMessage[] = [];
  for (const d of capture.datagrams) {
    const p = decodeControl(d.payload, { secret });
    if (p.ok && p.value.message) out.push(p.value.message);
  }
  return out;
}

function sent(d: ReturnType<typeof drive>): ControlMessage[] {
  return d.of("send").map((e) => e.message as ControlMessage);
}

describe("tunnel machine against xl2tpd captures", () => {
  test("as LNS: accepts xl2tpd's SCCRQ and its SCCCN response to our challenge (xl2tpd-lac-realpppd)", () => {
    const [sccrq, sccrp, sccn] = messages("xl2tpd-lac-realpppd.pcapng");
    expect([sccrq.type, sccrp.type, sccn.type]).toEqual(["SCCRQ", "SCCRP", "SCCCN"]);
    const lns = drive(tunnelMachine, {
      path: { system: "lns" },
      role: "responder",
      localTunnelId: sccrp.avps.assignedTunnelId ?? 1,
      hostName: "lns.test",
      receiveWindow: 8,
      secret,
      challenge: sccrp.avps.challenge,
      peerHostName: "lac.test",
    } satisfies TunnelInput);
    lns.actor.send({ type: "rx.SCCRQ", message: sccrq });
    // Our answer to xl2tpd's challenge is the one the capture's LNS gave, which xl2tpd accepted.
    expect(sent(lns)[0].avps.challengeResponse).toEqual(sccrp.avps.challengeResponse);
    lns.actor.send({ type: "rx.SCCCN", message: sccn });
    expect(lns.state()).toBe("established");
  });

  test("as LAC: accepts xl2tpd's SCCRP and answers its challenge as the capture's LAC did (xl2tpd-lns-realpppd)", () => {
    const [sccrq, sccrp, sccn] = messages("xl2tpd-lns-realpppd.pcapng");
    const lac = drive(tunnelMachine, {
      path: { system: "lac" },
      role: "initiator",
      localTunnelId: sccrq.avps.assignedTunnelId ?? 1,
      hostName: "lac.test",
      receiveWindow: 4,
      secret,
      challenge: sccrq.avps.challenge,
      peerHostName: "lns.test",
    } satisfies TunnelInput);
    lac.actor.send({ type: "open" });
    lac.actor.send({ type: "rx.SCCRP", message: sccrp });
    expect(lac.state()).toBe("established");
    expect(sent(lac)[1]).toEqual({ type: "SCCCN", avps: { challengeResponse: sccn.avps.challengeResponse } });
  });

  test("a wrong response is refused with result 4 (RFC 2661 §4.4.2), where xl2tpd sends 2/6 (xl2tpd-lns-badauth)", () => {
    const captured = messages("xl2tpd-lns-badauth.pcapng");
    const [sccrq, sccrp, badSccn] = captured;
    const xl2tpdStop = captured.find((m) => m.type === "StopCCN");
    const lns = drive(tunnelMachine, {
      path: { system: "lns" },
      role: "responder",
      localTunnelId: 9,
      hostName: "lns.test",
      receiveWindow: 8,
      secret,
      challenge: sccrp.avps.challenge,
    } satisfies TunnelInput);
    lns.actor.send({ type: "rx.SCCRQ", message: sccrq });
    lns.actor.send({ type: "rx.SCCCN", message: badSccn });
    const ours = sent(lns).at(-1);
    expect(ours?.type).toBe("StopCCN");
    expect(xl2tpdStop?.avps.resultCode).toMatchObject({ result: 2, error: 6 });
    expect(ours?.avps.resultCode).toEqual({
      result: 4,
      error: 0,
      message: "challenge response does not match",
    });
  });
});
