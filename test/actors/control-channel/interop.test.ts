/**
 * The channel against a real peer's numbering: xl2tpd's control packets from captures are fed to our
 * channel playing the other side (answering as the scripted peer of the capture did), and xl2tpd's Ns
 * and Nr must fit ours exactly: every message delivered once in order, every one of ours acknowledged.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { ControlChannel } from "../../../actors/control-channel/index.ts";
import { readCapture } from "../../../adapters/capture/pcap.ts";
import { SimulatedClock } from "../../../adapters/clock/index.ts";
import {
  type ControlMessage,
  type ControlPacket,
  decodeControl,
  peekIds,
} from "../../../protocol/l2tp/index.ts";

const secret = new TextEncoder().encode("s3cret");

function controlPacketsFrom(file: string, srcPort: number): { timeMs: number; packet: ControlPacket }[] {
  const capture = readCapture(readFileSync(new URL(`../../fixtures/captures/${file}`, import.meta.url)));
  if (!capture.ok) throw new Error(capture.error);
  const out: { timeMs: number; packet: ControlPacket }[] = [];
  for (const d of capture.datagrams) {
    if (d.srcPort !== srcPort || !peekIds(d.payload)?.isControl) continue;
    const decoded = decodeControl(d.payload, { secret });
    if (!decoded.ok)
      throw new Error(`${file} frame ${d.frame}: ${decoded.error.field}: ${decoded.error.reason}`);
    out.push({ timeMs: d.timeMicros / 1000, packet: decoded.value });
  }
  return out;
}

function replay(
  file: string,
  peerPort: number,
  answer: (m: ControlMessage, send: (m: ControlMessage, sessionId: number) => void) => void,
  before?: (channel: ControlChannel) => void,
) {
  const clock = new SimulatedClock();
  const sent: ControlPacket[] = [];
  const delivered: string[] = [];
  const failures: string[] = [];
  const channel: ControlChannel = new ControlChannel(
    { receiveWindow: 4 },
    {
      clock,
      transmit: (p) => {
        const d = decodeControl(p);
        if (!d.ok) throw new Error(d.error.reason);
        sent.push(d.value);
      },
      deliver: (message) => {
        delivered.push(message.type);
        if (message.avps.assignedTunnelId !== undefined) channel.peerTunnelId = message.avps.assignedTunnelId;
        answer(message, (m, sessionId) => channel.send(m, sessionId));
      },
      onFailure: (cause) => failures.push(cause),
    },
  );
  before?.(channel);
  const packets = controlPacketsFrom(file, peerPort);
  const start = packets[0]?.timeMs ?? 0;
  for (const { timeMs, packet } of packets) {
    // Keep the capture's pacing, but never let our retransmission timer fire between packets.
    clock.advance(Math.max(0, Math.min(timeMs - start - clock.now(), 300)));
    channel.receive(packet);
  }
  clock.advance(200); // the last ack
  return { channel, sent, delivered, failures };
}

test("xl2tpd as LAC (ICRQ sent before the SCCCN is acked): our LNS-side channel fits its Ns/Nr", () => {
  const { channel, sent, delivered, failures } = replay("xl2tpd-lac-realpppd.pcapng", 11711, (m, send) => {
    if (m.type === "SCCRQ")
      send({ type: "SCCRP", avps: { assignedTunnelId: 33779, hostName: "lns.test" } }, 0);
    if (m.type === "ICRQ") send({ type: "ICRP", avps: { assignedSessionId: 41235 } }, 555);
  });
  expect(delivered).toEqual(["SCCRQ", "SCCCN", "ICRQ", "ICCN", "CDN", "StopCCN"]);
  expect(failures).toEqual([]);
  expect(channel.outstanding).toBe(0);
  expect(channel.stats()).toMatchObject({ duplicates: 0, beyondWindow: 0, invalidAcks: 0, retransmitted: 0 });
  const messages = sent.filter((p) => p.message !== null);
  expect(messages.map((p) => `${p.message?.type} ns=${p.header.ns} t=${p.header.tunnelId}`)).toEqual([
    "SCCRP ns=0 t=33779",
    "ICRP ns=1 t=33779",
  ]);
  const zlbs = sent.filter((p) => p.message === null);
  expect(zlbs.length).toBeGreaterThan(0);
  // Session 0, except the ack of xl2tpd's CDN: it names xl2tpd's call (41235), which xl2tpd frees only then.
  expect(zlbs.map((z) => z.header.sessionId).filter((id) => id !== 0)).toEqual([41235]);
  expect(channel.state().nr).toBe(6);
});

test("xl2tpd as LNS with a HELLO: our LAC-side channel fits its Ns/Nr and acknowledges the HELLO", () => {
  const { channel, sent, delivered, failures } = replay(
    "xl2tpd-lns-hello.pcapng",
    11701,
    (m, send) => {
      if (m.type === "SCCRP") {
        send({ type: "SCCCN", avps: {} }, 0);
        send({ type: "ICRQ", avps: { assignedSessionId: 9034, callSerialNumber: 1 } }, 0);
      }
      if (m.type === "ICRP")
        send(
          { type: "ICCN", avps: { txConnectSpeed: 10_000_000, framingType: { async: false, sync: true } } },
          77,
        );
      if (m.type === "HELLO") {
        send({ type: "CDN", avps: { resultCode: { result: 1 }, assignedSessionId: 9034 } }, 77);
        send({ type: "StopCCN", avps: { assignedTunnelId: 5140, resultCode: { result: 1 } } }, 0);
      }
    },
    (channel) => channel.send({ type: "SCCRQ", avps: { assignedTunnelId: 5140, hostName: "lac.test" } }, 0),
  );
  expect(delivered).toEqual(["SCCRP", "ICRP", "HELLO"]);
  expect(failures).toEqual([]);
  expect(channel.outstanding).toBe(0);
  expect(channel.stats()).toMatchObject({ duplicates: 0, beyondWindow: 0, invalidAcks: 0 });
  expect(sent.filter((p) => p.message).map((p) => `${p.message?.type} ns=${p.header.ns}`)).toEqual([
    "SCCRQ ns=0",
    "SCCCN ns=1",
    "ICRQ ns=2",
    "ICCN ns=3",
    "CDN ns=4",
    "StopCCN ns=5",
  ]);
});
