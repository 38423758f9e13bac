/**
 * Invalid messages from a peer are answered as RFC 2661 §4.1 and §5.4 ask: an invalid call request
 * (ICRQ) gets a CDN to the Assigned Session ID it carries, result 2 with the error code that names the
 * problem; one that names nobody is dropped and counted; an invalid SCCRQ gets a StopCCN saying why.
 * The sloppy peer is a real LAC node whose outgoing ICRQs are spoilt on their way to the wire (its own
 * control channel keeps Ns/Nr right), so the test also proves that the peer's call ends at once.
 */
import { describe, expect, test } from "bun:test";
import { createNode } from "../../actors/node.ts";
import type { PeerAddress, Transport } from "../../actors/ports.ts";
import { SeededRandom } from "../../adapters/random/seeded.ts";
import { peekIds } from "../../protocol/l2tp/header.ts";
import { type ControlMessage, decodeControl, encodeControl } from "../../protocol/l2tp/messages.ts";
import { LAC, Lab, LNS, lacConfig, lnsConfig } from "./lab.ts";

const SECRET = new TextEncoder().encode("s3cret");

/** A transport that rewrites the control messages of one type before they leave. */
function spoiling(
  inner: Transport,
  type: ControlMessage["type"],
  spoil: (m: ControlMessage) => void,
): Transport {
  return {
    local: inner.local,
    onReceive: (handler) => inner.onReceive(handler),
    close: () => inner.close(),
    send(packet: Uint8Array, to: PeerAddress) {
      const ids = peekIds(packet);
      const decoded = ids?.isControl ? decodeControl(packet, { secret: SECRET }) : undefined;
      if (decoded?.ok && decoded.value.message?.type === type) {
        const message = decoded.value.message;
        spoil(message);
        return inner.send(encodeControl(decoded.value.header, message), to);
      }
      return inner.send(packet, to);
    },
  };
}

/** A LAC whose ICRQs are spoilt, and the standard LNS, on one lab. */
function sloppyLab(spoil: (m: ControlMessage) => void, seed: number) {
  const lab = new Lab(seed);
  /** The Assigned Session IDs of the ICRQs sent (the lab's tap cannot decode a spoilt ICRQ). */
  const calls: number[] = [];
  const lns = lab.node(LNS.address, lnsConfig());
  const lac = createNode(lacConfig({ sessionSetupTimeoutMs: 5_000 }), {
    transport: spoiling(lab.net.bind(LAC.address, LAC.port), "ICRQ", (m) => {
      calls.push(m.avps.assignedSessionId ?? 0);
      spoil(m);
    }),
    clock: lab.clock,
    random: new SeededRandom(seed),
    onWiringError: (error, path) => lab.wiringErrors.push({ error, path }),
  });
  lab.nodes.push(lac);
  return { lab, lac, lns, calls };
}

const opaque = (vendorId: number, attribute: number, value: number[], hidden = false) => ({
  vendorId,
  attribute,
  mandatory: true,
  hidden,
  value: new Uint8Array(value),
});

describe("an invalid ICRQ is answered with a CDN to its Assigned Session ID (RFC 2661 §4.1)", () => {
  const cases: { name: string; spoil: (m: ControlMessage) => void; error: number; field: string }[] = [
    {
      name: "an unknown AVP with the M bit",
      spoil: (m) => {
        m.opaque = [opaque(0, 250, [1, 2])];
      },
      error: 8,
      field: "unknown attribute 250",
    },
    {
      name: "a vendor AVP with the M bit",
      spoil: (m) => {
        m.opaque = [opaque(9, 1, [1])];
      },
      error: 8,
      field: "vendor 9 attribute 1",
    },
    {
      name: "a missing Call Serial Number",
      spoil: (m) => {
        delete m.avps.callSerialNumber;
      },
      error: 2,
      field: "ICRQ.callSerialNumber",
    },
    {
      name: "a hidden AVP without a Random Vector",
      spoil: (m) => {
        delete m.avps.callSerialNumber;
        m.opaque = [opaque(0, 15, [0, 4, 0, 0, 0, 1], true)];
      },
      error: 3,
      field: "Call Serial Number (15).hidden",
    },
  ];
  for (const c of cases) {
    test(`${c.name}: CDN result 2, error ${c.error}; the peer's call ends at once, the tunnel lives`, async () => {
      const { lab, lac, lns, calls } = sloppyLab(c.spoil, 11);
      const outcome = await lab.until(lac.openSession({ destination: LNS }));
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      // The LAC's call ended on the LNS's CDN, long before its own 5 s setup timer.
      expect(lab.clock.now()).toBeLessThan(1_000);
      expect(outcome.cause.resultCode).toMatchObject({ result: 2, error: c.error });
      expect(outcome.cause.resultCode?.message).toContain(c.field);
      const cdn = lab.sent("CDN", LNS.address);
      expect(cdn).toHaveLength(1);
      expect(calls).toHaveLength(1);
      expect(cdn[0].sessionId).toBe(calls[0]);
      expect(cdn[0].message.avps.resultCode).toMatchObject({ result: 2, error: c.error });
      const n = lns.snapshot();
      expect(n.stats.invalidCallsRefused).toBe(1);
      expect(n.registries.sessions).toBe(0);
      // One call's error is not the tunnel's: it stays up.
      expect(n.destinations[0].tunnels[0].state).toBe("established");
      await lab.closeAll();
    });
  }

  test("an Assigned Session ID of 0 names nobody: no CDN, dropped and counted", async () => {
    const { lab, lac, lns } = sloppyLab((m) => {
      m.avps.assignedSessionId = 0;
    }, 12);
    const outcome = await lab.until(lac.openSession({ destination: LNS }));
    expect(outcome.ok).toBe(false);
    expect(lab.sent("CDN", LNS.address)).toHaveLength(0);
    expect(lns.snapshot().stats.invalidUnanswerable).toBe(1);
    expect(lns.snapshot().stats.invalidCallsRefused).toBe(0);
    await lab.closeAll();
  });
});

describe("an invalid SCCRQ is answered with a StopCCN saying why", () => {
  /** Sends one SCCRQ from a raw peer and returns what the LNS answered. */
  async function answerTo(spoil: (m: ControlMessage) => void) {
    const lab = new Lab(13);
    const lns = lab.node(LNS.address, lnsConfig({ destinations: [{ peerHostName: "lac.test" }] }));
    const peer = lab.net.bind(LAC.address, 1701);
    const heard: ControlMessage[] = [];
    peer.onReceive((packet) => {
      const d = decodeControl(packet);
      if (d.ok && d.value.message) heard.push(d.value.message);
    });
    const sccrq: ControlMessage = {
      type: "SCCRQ",
      avps: {
        protocolVersion: { version: 1, revision: 0 },
        hostName: "lac.test",
        framingCapabilities: { sync: true, async: true },
        assignedTunnelId: 4321,
      },
    };
    spoil(sccrq);
    peer.send(encodeControl({ tunnelId: 0, sessionId: 0, ns: 0, nr: 0 }, sccrq), LNS);
    await lab.run(3_000);
    const snapshot = lns.snapshot();
    await lab.closeAll();
    return { heard, snapshot };
  }

  test("an unknown AVP with the M bit: StopCCN 2/8 naming it, no tunnel kept", async () => {
    const { heard, snapshot } = await answerTo((m) => {
      m.opaque = [opaque(0, 200, [0])];
    });
    expect(heard.map((m) => m.type)).toEqual(["StopCCN"]);
    expect(heard[0].avps.resultCode).toMatchObject({ result: 2, error: 8 });
    expect(heard[0].avps.resultCode?.message).toContain("unknown attribute 200");
    expect(snapshot.stats.refusedTunnels).toBe(1);
    expect(snapshot.registries.tunnels).toBe(0);
    expect(snapshot.registries.destinations).toBe(0);
  });

  test("a malformed AVP (Protocol Version of 3 bytes): StopCCN 2/2 naming it", async () => {
    const { heard } = await answerTo((m) => {
      delete m.avps.protocolVersion;
      m.opaque = [opaque(0, 2, [1, 0, 0])];
    });
    expect(heard.map((m) => m.type)).toEqual(["StopCCN"]);
    expect(heard[0].avps.resultCode).toMatchObject({ result: 2, error: 2 });
    expect(heard[0].avps.resultCode?.message).toContain("Protocol Version (2).length");
  });

  test("an SCCRQ whose Assigned Tunnel ID cannot be read names nobody: dropped, counted", async () => {
    const { heard, snapshot } = await answerTo((m) => {
      delete m.avps.assignedTunnelId;
      m.opaque = [opaque(0, 200, [0])];
    });
    expect(heard).toEqual([]);
    expect(snapshot.stats.undecodable).toBe(1);
  });
});
