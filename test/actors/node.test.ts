import { describe, expect, test } from "bun:test";
import { emit } from "xstate";
import { createNode } from "../../actors/node.ts";
import { MemoryEventLog } from "../../adapters/event-log/memory.ts";
import { SeededRandom } from "../../adapters/random/seeded.ts";
import type { Envelope } from "../../events/envelope.ts";
import { createRecorder } from "../../events/recorder.ts";
import { cause } from "../../machines/common.ts";
import { tunnelMachine } from "../../machines/tunnel.ts";
import { expectEmptyRegistries } from "../support/registries.ts";
import { LAC, Lab, LNS, lacConfig, lnsConfig } from "./lab.ts";

describe("node: LAC ↔ LNS over the memory network", () => {
  test("a tunnel with authentication both ways carries N sessions; data is counted per session", async () => {
    const lab = new Lab();
    const lac = lab.node(LAC.address, lacConfig());
    const lns = lab.node(LNS.address, lnsConfig());
    const outcomes = await lab.until(
      Promise.all(Array.from({ length: 5 }, () => lac.openSession({ destination: LNS }))),
    );
    for (const o of outcomes) expect(o.ok).toBe(true);
    // Auth both ways: the SCCRQ and SCCRP carry challenges, the SCCRP and SCCCN responses.
    expect(lab.sent("SCCRQ")[0].message.avps.challenge).toBeDefined();
    expect(lab.sent("SCCRP")[0].message.avps.challenge).toBeDefined();
    expect(lab.sent("SCCRP")[0].message.avps.challengeResponse).toBeDefined();
    expect(lab.sent("SCCCN")[0].message.avps.challengeResponse).toBeDefined();
    expect(lab.sent("SCCRQ")).toHaveLength(1); // one tunnel for all five
    expect(lab.sent("ICRQ")).toHaveLength(5);
    expect(lab.sent("ICCN")).toHaveLength(5);
    const l = lac.snapshot();
    expect(l.destinations).toHaveLength(1);
    expect(l.destinations[0].tunnels).toHaveLength(1);
    expect(l.destinations[0].tunnels[0].state).toBe("established");
    expect(l.destinations[0].tunnels[0].sessions.map((s) => s.state)).toEqual(Array(5).fill("established"));
    const n = lns.snapshot();
    expect(n.destinations[0].tunnels[0].sessions.map((s) => s.state)).toEqual(Array(5).fill("established"));
    // Data both ways, straight to the session.
    const first = outcomes[0];
    if (!first.ok) throw new Error("unreachable");
    expect(lac.sendData(first.tunnelId, first.sessionId, new Uint8Array([0xff, 0x03, 0xc0, 0x21]))).toBe(
      true,
    );
    await lab.run(10);
    const lnsSession = lns
      .snapshot()
      .destinations[0].tunnels[0].sessions.find((s) => s.id === first.peerSessionId);
    expect(lnsSession?.packetsIn).toBe(1);
    expect(lns.sendData(first.peerTunnelId, first.peerSessionId, new Uint8Array([1, 2]))).toBe(true);
    await lab.run(10);
    expect(
      lac.snapshot().destinations[0].tunnels[0].sessions.find((s) => s.id === first.sessionId)?.packetsIn,
    ).toBe(1);
    await lab.closeAll();
    expectEmptyRegistries(lac.snapshot().registries, lns.snapshot().registries);
  });

  test("closing a destination with 10 tunnels × 100 sessions sends exactly 10 StopCCNs and no CDN", async () => {
    const lab = new Lab(2);
    const lac = lab.node(LAC.address, lacConfig({ maxSessionsPerTunnel: 100 }));
    const lns = lab.node(LNS.address, lnsConfig());
    const outcomes = await lab.until(
      Promise.all(Array.from({ length: 1000 }, () => lac.openSession({ destination: LNS }))),
    );
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const before = lac.snapshot({ sessions: false });
    expect(before.destinations[0].tunnels).toHaveLength(10);
    expect(before.registries.sessions).toBe(1000);
    expect(lns.snapshot({ sessions: false }).registries.sessions).toBe(1000);
    const ended = Promise.all(
      outcomes.map((o) => (o.ok ? o.ended : Promise.resolve(cause("internal", "x")))),
    );
    expect(lac.closeDestination(LNS)).toBe(true);
    const causes = await lab.until(ended);
    expect(causes.every((c) => c.reason === "tunnel-gone")).toBe(true);
    await lab.run(32_000);
    expect(lab.sent("StopCCN")).toHaveLength(10);
    expect(lab.sent("CDN")).toHaveLength(0);
    for (const node of [lac, lns]) {
      const r = node.snapshot().registries;
      expect(r.tunnels).toBe(0);
      expect(r.tunnelsByPeer).toBe(0);
      expect(r.sessions).toBe(0);
    }
    // The LAC's destination ended with its tunnels; only the system is left.
    expect(lac.snapshot().registries.liveActors).toBe(1);
    expect(lac.snapshot().registries.destinations).toBe(0);
    await lab.closeAll();
    expect(lns.snapshot().registries.liveActors).toBe(0);
  });

  test("a CDN from either side ends the call on both", async () => {
    const lab = new Lab(3);
    const lac = lab.node(LAC.address, lacConfig());
    const lns = lab.node(LNS.address, lnsConfig());
    const [a, b] = await lab.until(
      Promise.all([lac.openSession({ destination: LNS }), lac.openSession({ destination: LNS })]),
    );
    if (!a.ok || !b.ok) throw new Error("setup failed");
    // From the LAC.
    lac.closeSession(a.tunnelId, a.sessionId);
    expect(await lab.until(a.ended)).toMatchObject({ reason: "admin" });
    await lab.run(100);
    expect(lab.sent("CDN", LAC.address)).toHaveLength(1);
    expect(lab.sent("CDN", LAC.address)[0].message.avps.resultCode?.result).toBe(3);
    expect(lns.snapshot().destinations[0].tunnels[0].sessions.map((s) => s.id)).toEqual([b.peerSessionId]);
    // From the LNS.
    lns.closeSession(b.peerTunnelId, b.peerSessionId, cause("admin", "operator at the LNS"));
    const why = await lab.until(b.ended);
    expect(why.reason).toBe("peer");
    expect(why.resultCode?.result).toBe(3);
    expect(lac.snapshot().registries.sessions).toBe(0);
    expect(lns.snapshot().registries.sessions).toBe(0);
    // The tunnel lives on without sessions.
    expect(lac.snapshot().destinations[0].tunnels[0].state).toBe("established");
    await lab.closeAll();
  });

  test("an LNS destination counts the tunnels it accepted: not idle while they live, closed by StopCCN conversation", async () => {
    const lab = new Lab(13);
    const lac = lab.node(LAC.address, lacConfig({ destinationIdleMs: 60_000 }));
    const lns = lab.node(LNS.address, lnsConfig({ destinationIdleMs: 1000 }), { inspect: true });
    const call = await lab.until(lac.openSession({ destination: LNS }));
    if (!call.ok) throw new Error("setup failed");
    // Well past the LNS destination's idle time: the tunnel and its call are still up.
    await lab.run(5000);
    expect(lns.snapshot().destinations.map((d) => d.state)).toEqual(["available.used"]);
    expect(lns.snapshot().registries.sessions).toBe(1);
    // Closing it on the LNS: StopCCN, the LAC's ack, then the tunnel ends on its own (not stopped under it).
    expect(lns.closeDestination(LAC)).toBe(true);
    expect(await lab.until(call.ended)).toMatchObject({ reason: "tunnel-gone" });
    await lab.run(2000);
    const tunnelEndings = (lab.inspected.get("lns") ?? []).filter((e) => {
      const s =
        e.type === "@xstate.snapshot"
          ? (e.snapshot as { status?: string; context?: { path?: { tunnel?: number; session?: number } } })
          : undefined;
      return (
        s?.status === "done" && s.context?.path?.tunnel !== undefined && s.context.path.session === undefined
      );
    });
    expect(tunnelEndings).toHaveLength(1);
    expect(lns.snapshot().registries).toMatchObject({ tunnels: 0, destinations: 0 });
    await lab.closeAll();
  });
});

describe("node: the LNS answers from another port (RFC 2661 §8.1)", () => {
  test("the LAC takes the SCCRP from the new port and sends everything after it there", async () => {
    const lab = new Lab(21);
    const lac = lab.node(LAC.address, lacConfig());
    // An LNS that hears on 1701 but answers from 40000 (as an LNS with a socket per tunnel does).
    const heard = lab.net.bind(LNS.address, LNS.port);
    const answering = lab.net.bind(LNS.address, 40000);
    const lns = createNode(lnsConfig(), {
      clock: lab.clock,
      random: new SeededRandom(5),
      transport: {
        local: heard.local,
        send: (packet, to) => answering.send(packet, to),
        onReceive(handler) {
          heard.onReceive(handler);
          answering.onReceive(handler);
        },
        close: async () => {
          await Promise.all([heard.close(), answering.close()]);
        },
      },
    });
    lab.nodes.push(lns);
    const call = await lab.until(lac.openSession({ destination: LNS }));
    expect(call.ok).toBe(true);
    expect(lab.sent("SCCRP")[0].from).toBe(`${LNS.address}:40000`);
    const fromLac = lab.wire.filter((w) => w.from.startsWith(LAC.address));
    expect(fromLac[0]).toMatchObject({ to: `${LNS.address}:1701`, message: { type: "SCCRQ" } });
    // SCCCN, ICRQ, ICCN: all to the port the SCCRP came from.
    expect(fromLac.slice(1).map((w) => w.to)).toEqual(Array(fromLac.length - 1).fill(`${LNS.address}:40000`));
    expect(fromLac.map((w) => w.message.type)).toEqual(["SCCRQ", "SCCCN", "ICRQ", "ICCN"]);
    await lab.closeAll();
    expectEmptyRegistries(lac.snapshot().registries, lns.snapshot().registries);
  });
});

describe("node: the numbers of a call", () => {
  test("Calling and Called Number of an ICRQ are in the LNS session's recorded events", async () => {
    const lab = new Lab(9);
    const log = new MemoryEventLog();
    const recorder = createRecorder({ node: "lns", clock: lab.clock, log });
    const lac = lab.node(LAC.address, lacConfig());
    lab.node(LNS.address, lnsConfig(), { deps: { inspect: (e) => recorder.inspect(e) } });
    const call = await lab.until(
      lac.openSession({ destination: LNS, requestAvps: { callingNumber: "5550001", calledNumber: "800" } }),
    );
    expect(call.ok).toBe(true);
    await recorder.flush();
    const sessionEvents: Envelope[] = [];
    for await (const e of log.read()) if (e.path.session !== undefined) sessionEvents.push(e);
    expect(sessionEvents[0].data).toMatchObject({ callingNumber: "5550001", calledNumber: "800" });
    await lab.closeAll();
  });
});

describe("node: refusals", () => {
  test("a wrong secret: the LAC refuses the SCCRP's response with StopCCN 4, and is locked out", async () => {
    const lab = new Lab(4);
    const lac = lab.node(LAC.address, lacConfig());
    lab.node(LNS.address, lnsConfig({ destinations: [{ secret: "wrong", peerHostName: "lac.test" }] }));
    const o = await lab.until(lac.openSession({ destination: LNS }));
    expect(o.ok).toBe(false);
    if (o.ok) return;
    expect(o.cause.reason).toBe("auth");
    const stop = lab.sent("StopCCN", LAC.address);
    expect(stop).toHaveLength(1);
    expect(stop[0].message.avps.resultCode).toMatchObject({ result: 4 });
    await lab.run(100);
    expect(lac.snapshot().destinations[0].state).toBe("lockedOut");
    const again = await lab.until(lac.openSession({ destination: LNS }));
    expect(again.ok ? "ok" : again.cause.reason).toBe("lockout");
    await lab.closeAll();
  });

  test("a LAC without a secret refuses the LNS's challenge with result 4", async () => {
    const lab = new Lab(5);
    const lac = lab.node(
      LAC.address,
      lacConfig({ destinations: [{ address: LNS.address, port: 1701, accept: false }] }),
    );
    lab.node(LNS.address, lnsConfig());
    const o = await lab.until(lac.openSession({ destination: LNS }));
    expect(o.ok).toBe(false);
    if (o.ok) return;
    expect(o.cause.reason).toBe("auth");
    expect(lab.sent("StopCCN", LAC.address)[0].message.avps.resultCode?.result).toBe(4);
    await lab.closeAll();
  });

  test("a LAC whose SCCCN answers the challenge wrongly is refused by the LNS with StopCCN 4, counted as refused", async () => {
    const lab = new Lab(5);
    // As in the capture xl2tpd-lns-badauth: an SCCCN whose Challenge Response is all zeros.
    const badTunnel = tunnelMachine.provide({
      actions: {
        sendSccn: emit({
          type: "send" as const,
          message: { type: "SCCCN" as const, avps: { challengeResponse: new Uint8Array(16) } },
        }),
      },
    });
    const lac = lab.node(LAC.address, lacConfig(), { deps: { machines: { tunnel: badTunnel } } });
    const lns = lab.node(LNS.address, lnsConfig());
    const o = await lab.until(lac.openSession({ destination: LNS }));
    expect(o.ok).toBe(false);
    if (o.ok) return;
    // The LAC counts the tunnel up once its SCCCN is sent (RFC 2661 §7.2); the StopCCN then ends it.
    expect(o.cause.reason).toBe("tunnel-gone");
    expect(o.cause.resultCode).toMatchObject({ result: 4 });
    expect(lns.snapshot().stats.refusedTunnels).toBe(1);
    expect(lab.sent("StopCCN", LNS.address)).toHaveLength(1);
    // The ICRQ the LAC sent right after its SCCCN (as xl2tpd does) meets a closing tunnel: the StopCCN
    // speaks for it (RFC 2661 §5.7), no CDN follows the StopCCN.
    expect(lab.sent("ICRQ", LAC.address)).toHaveLength(1);
    expect(lab.sent("CDN", LNS.address)).toEqual([]);
    await lab.closeAll();
  });

  test("an unknown peer gets StopCCN result 4 and the LAC fails with the peer's cause", async () => {
    const lab = new Lab(6);
    const lac = lab.node(LAC.address, lacConfig());
    lab.node(LNS.address, lnsConfig({ destinations: [{ address: "127.0.0.99", secret: "s3cret" }] }));
    const o = await lab.until(lac.openSession({ destination: LNS }));
    expect(o.ok).toBe(false);
    if (o.ok) return;
    expect(o.cause.reason).toBe("peer");
    expect(o.cause.resultCode?.result).toBe(4);
    await lab.closeAll();
  });

  test("a wrong host name is refused with result 4", async () => {
    const lab = new Lab(7);
    const lac = lab.node(LAC.address, lacConfig({ hostName: "intruder.test" }));
    lab.node(LNS.address, lnsConfig());
    const o = await lab.until(lac.openSession({ destination: LNS }));
    expect(o.ok ? 0 : o.cause.resultCode?.result).toBe(4);
    await lab.closeAll();
  });
});
