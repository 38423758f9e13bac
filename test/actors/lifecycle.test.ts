import { describe, expect, test } from "bun:test";
import type { AnyActorRef } from "xstate";
import type { Random } from "../../actors/ports.ts";
import { SeededRandom } from "../../adapters/random/seeded.ts";
import { sessionMachine } from "../../machines/session.ts";
import { LAC, Lab, LNS, lacConfig, lnsConfig } from "./lab.ts";

/** A Random whose first Tie Breaker (the first 8-byte draw) is fixed. */
function fixedFirstTieBreaker(seed: number, value: number): Random {
  const inner = new SeededRandom(seed);
  let first = true;
  return {
    uint32: () => inner.uint32(),
    bytes: (n) => {
      if (n === 8 && first) {
        first = false;
        return new Uint8Array(8).fill(value);
      }
      return inner.bytes(n);
    },
  };
}

/** Two nodes that each place calls toward the other (both LAC and LNS). */
function peers(lab: Lab, randomA: Random, randomB: Random) {
  const a = lab.node(
    LAC.address,
    {
      name: "a",
      hostName: "a.test",
      destinations: [{ address: LNS.address, port: 1701, secret: "s3cret", peerHostName: "b.test" }],
    },
    { random: randomA },
  );
  const b = lab.node(
    LNS.address,
    {
      name: "b",
      hostName: "b.test",
      destinations: [{ address: LAC.address, port: 1701, secret: "s3cret", peerHostName: "a.test" }],
    },
    { random: randomB },
  );
  return { a, b };
}

describe("node: simultaneous SCCRQs (RFC 2661 §4.4.3, §5.1)", () => {
  test("the lower tie breaker wins; the loser discards its tunnel silently and its call moves to the winner's", async () => {
    const lab = new Lab(11);
    const { a, b } = peers(lab, fixedFirstTieBreaker(1, 0x10), fixedFirstTieBreaker(2, 0x20));
    const [oa, ob] = await lab.until(
      Promise.all([a.openSession({ destination: LNS }), b.openSession({ destination: LAC })]),
    );
    expect(oa.ok && ob.ok).toBe(true);
    expect(lab.sent("SCCRQ")).toHaveLength(2); // they crossed
    expect(lab.sent("SCCRP")).toHaveLength(1); // only the winner's was answered
    expect(lab.sent("StopCCN")).toHaveLength(0); // the loser is silent
    expect(a.snapshot().stats.tieBreakerDrops).toBe(1); // a (0x10) dropped b's SCCRQ
    for (const n of [a, b]) {
      const s = n.snapshot();
      expect(s.destinations[0].tunnels).toHaveLength(1);
      expect(s.destinations[0].tunnels[0].sessions).toHaveLength(2);
    }
    expect(a.snapshot().destinations[0].tunnels[0].role).toBe("initiator");
    expect(b.snapshot().destinations[0].tunnels[0].role).toBe("responder");
    await lab.closeAll();
  });

  test("equal tie breakers: both discard, then try again with new ones", async () => {
    const lab = new Lab(12);
    const { a, b } = peers(lab, fixedFirstTieBreaker(1, 0x33), fixedFirstTieBreaker(2, 0x33));
    const [oa, ob] = await lab.until(
      Promise.all([a.openSession({ destination: LNS }), b.openSession({ destination: LAC })]),
    );
    expect(oa.ok && ob.ok).toBe(true);
    expect(a.snapshot().stats.tieBreakerDrops).toBeGreaterThanOrEqual(1);
    expect(b.snapshot().stats.tieBreakerDrops).toBeGreaterThanOrEqual(1);
    expect(lab.sent("SCCRQ").length).toBeGreaterThanOrEqual(4);
    for (const n of [a, b]) expect(n.snapshot().destinations[0].tunnels).toHaveLength(1);
    await lab.closeAll();
  });
});

describe("node: failure, lockout and the test tunnel", () => {
  test("retries exhausted: the tunnel fails with a cause, the destination is locked out, then a test tunnel goes first", async () => {
    const lab = new Lab(13);
    const lac = lab.node(LAC.address, lacConfig());
    // Nobody at the LNS address yet.
    const o = await lab.until(lac.openSession({ destination: LNS }));
    expect(o.ok).toBe(false);
    if (o.ok) return;
    expect(o.cause.reason).toBe("retries");
    expect(lab.sent("SCCRQ")).toHaveLength(1);
    expect(lab.wire.filter((w) => w.message.type === "SCCRQ")).toHaveLength(6); // 1 + 5 retransmissions
    await lab.run(10);
    expect(lac.snapshot().destinations[0].state).toBe("lockedOut");
    expect(lac.snapshot().registries.tunnels).toBe(0);
    // Locked out: refused at once, nothing sent.
    const refused = await lab.until(lac.openSession({ destination: LNS }));
    expect(refused.ok ? "ok" : refused.cause.reason).toBe("lockout");
    expect(lab.sent("SCCRQ")).toHaveLength(1);
    // The LNS comes up; after 300 s the next use opens a test tunnel, and the call waits for it.
    lab.node(LNS.address, lnsConfig());
    await lab.run(300_000, 1000);
    expect(lac.snapshot().destinations[0].state).toBe("probing");
    const pending = lac.openSession({ destination: LNS });
    await lab.run(0);
    const probing = lac.snapshot();
    expect(probing.destinations[0].state).toBe("testing");
    expect(probing.destinations[0].tunnels).toHaveLength(1);
    expect(probing.destinations[0].tunnels[0].test).toBe(true);
    expect(probing.destinations[0].tunnels[0].sessions).toHaveLength(0); // no session before the test tunnel is up
    const later = await lab.until(pending);
    expect(later.ok).toBe(true);
    expect(lab.sent("SCCRQ")).toHaveLength(2);
    expect(lac.snapshot().destinations[0].state).toStartWith("available");
    await lab.closeAll();
  });
});

describe("node: admin states", () => {
  test("LNS system drain refuses new calls with CDN result 4; existing ones live on; enable takes calls again", async () => {
    const lab = new Lab(14);
    const lac = lab.node(LAC.address, lacConfig());
    const lns = lab.node(LNS.address, lnsConfig());
    const first = await lab.until(lac.openSession({ destination: LNS }));
    expect(first.ok).toBe(true);
    lns.setAdmin({ level: "system" }, "drain");
    const refused = await lab.until(lac.openSession({ destination: LNS }));
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.cause.reason).toBe("peer");
      expect(refused.cause.resultCode?.result).toBe(4);
    }
    expect(lns.snapshot().registries.sessions).toBe(1);
    lns.setAdmin({ level: "system" }, "enabled");
    expect((await lab.until(lac.openSession({ destination: LNS }))).ok).toBe(true);
    await lab.closeAll();
  });

  test("LAC destination drain refuses new sessions locally; shutdown closes its tunnels; tunnel drain opens another tunnel", async () => {
    const lab = new Lab(15);
    const lac = lab.node(LAC.address, lacConfig());
    lab.node(LNS.address, lnsConfig());
    const a = await lab.until(lac.openSession({ destination: LNS }));
    if (!a.ok) throw new Error("setup");
    // Tunnel drain: the next call goes on a new tunnel.
    expect(lac.setAdmin({ level: "tunnel", tunnelId: a.tunnelId }, "drain")).toBe(true);
    const b = await lab.until(lac.openSession({ destination: LNS }));
    if (!b.ok) throw new Error("b");
    expect(b.tunnelId).not.toBe(a.tunnelId);
    // Destination drain: refused here, nothing sent.
    lac.setAdmin({ level: "destination", peer: LNS }, "drain");
    const c = await lab.until(lac.openSession({ destination: LNS }));
    expect(c.ok ? "ok" : c.cause.reason).toBe("refused");
    expect(lac.snapshot().registries.sessions).toBe(2);
    // Shutdown: StopCCN on both tunnels, sessions end without CDN.
    lac.setAdmin({ level: "destination", peer: LNS }, "shutdown");
    const causes = await lab.until(Promise.all([a.ended, b.ended]));
    expect(causes.map((x) => x.reason)).toEqual(["tunnel-gone", "tunnel-gone"]);
    await lab.run(1000);
    expect(lab.sent("StopCCN", LAC.address)).toHaveLength(2);
    expect(lab.sent("StopCCN", LAC.address)[0].message.avps.resultCode?.result).toBe(6);
    expect(lab.sent("CDN")).toHaveLength(0);
    expect(lac.snapshot().destinations[0].admin).toBe("shutdown");
    await lab.closeAll();
  });

  test("system shutdown closes every destination's tunnels and accepts nothing", async () => {
    const lab = new Lab(16);
    const lac = lab.node(LAC.address, lacConfig());
    const lns = lab.node(LNS.address, lnsConfig());
    expect((await lab.until(lac.openSession({ destination: LNS }))).ok).toBe(true);
    lns.setAdmin({ level: "system" }, "shutdown");
    await lab.run(32_000, 100);
    expect(lns.snapshot().registries.tunnels).toBe(0);
    expect(lac.snapshot().registries.tunnels).toBe(0);
    expect(lab.sent("StopCCN", LNS.address)).toHaveLength(1);
    const refused = await lab.until(lac.openSession({ destination: LNS }));
    expect(refused.ok).toBe(false);
    await lab.closeAll();
  });
});

describe("node: outgoing calls (RFC 2661 §5.2, §7.4, §7.5)", () => {
  test("the LNS asks the LAC to dial over the tunnel the LAC opened: OCRQ → OCRP → OCCN", async () => {
    const lab = new Lab(17);
    const lac = lab.node(
      LAC.address,
      lacConfig({
        destinations: [{ address: LNS.address, port: 1701, secret: "s3cret" }],
        outgoingCalls: true,
      }),
    );
    const lns = lab.node(LNS.address, lnsConfig());
    expect((await lab.until(lac.openSession({ destination: LNS }))).ok).toBe(true);
    const out = await lab.until(
      lns.openSession({ destination: LAC, call: "outgoing", requestAvps: { calledNumber: "5551234" } }),
    );
    expect(out.ok).toBe(true);
    expect(lab.sent("OCRQ")).toHaveLength(1);
    expect(lab.sent("OCRQ")[0].message.avps.calledNumber).toBe("5551234");
    expect(lab.sent("OCCN")).toHaveLength(1);
    expect(lab.sent("SCCRQ")).toHaveLength(1); // the existing tunnel was used
    expect(lac.snapshot().registries.sessions).toBe(2);
    await lab.closeAll();
  });

  test("a node that places no outgoing calls refuses an OCRQ with CDN result 5, no OCRP, no OCCN", async () => {
    const lab = new Lab(17);
    // An LNS-only node (no dialer, outgoingCalls unset) holds a tunnel its peer asks to dial through.
    const lnsOnly = lab.node(
      LAC.address,
      lacConfig({ destinations: [{ address: LNS.address, port: 1701, secret: "s3cret" }] }),
    );
    const asker = lab.node(LNS.address, lnsConfig());
    expect((await lab.until(lnsOnly.openSession({ destination: LNS }))).ok).toBe(true);
    const out = await lab.until(
      asker.openSession({ destination: LAC, call: "outgoing", requestAvps: { calledNumber: "5551234" } }),
    );
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.cause.resultCode).toMatchObject({
      result: 5,
      message: "this node places no outgoing calls (LNS only)",
    });
    expect(lab.sent("OCRP")).toHaveLength(0);
    expect(lab.sent("OCCN")).toHaveLength(0);
    const cdn = lab.sent("CDN", LAC.address);
    expect(cdn).toHaveLength(1);
    expect(cdn[0].sessionId).toBe(lab.sent("OCRQ")[0].message.avps.assignedSessionId ?? -1);
    expect(lnsOnly.snapshot().registries.sessions).toBe(1); // the call it placed itself, nothing else
    await lab.closeAll();
  });
});

describe("node: supervision", () => {
  test("an action that throws fails only its own session; the parent hears of it; nothing leaks", async () => {
    const lab = new Lab(18);
    let icrps = 0;
    const brittle = sessionMachine.provide({
      actions: {
        sendIcrp: () => {
          icrps++;
          if (icrps === 2) throw new Error("broken ICRP");
        },
      },
    });
    const lac = lab.node(LAC.address, lacConfig({ sessionSetupTimeoutMs: 5000 }));
    const lns = lab.node(LNS.address, lnsConfig(), { deps: { machines: { session: brittle } } });
    const outcomes = await lab.until(Promise.all([1, 2, 3].map(() => lac.openSession({ destination: LNS }))));
    // The first and third sessions' ICRPs were swallowed by the replaced action: they time out too.
    expect(outcomes.every((o) => !o.ok)).toBe(true);
    expect(outcomes.map((o) => (o.ok ? "ok" : o.cause.reason))).toEqual(["timeout", "timeout", "timeout"]);
    await lab.run(100);
    // The broken session ended (reported to its tunnel), the others answered the CDNs; the tunnel lives.
    expect(lns.snapshot().registries.sessions).toBe(0);
    expect(lns.snapshot().destinations[0].tunnels[0].state).toBe("established");
    await lab.closeAll();
    expect(lns.snapshot().registries.liveActors).toBe(0);
  });

  test("sessions run by XState's interpreter (sessionMachine) are wired as the default logic's are", async () => {
    const lab = new Lab(20);
    const lac = lab.node(LAC.address, lacConfig(), { deps: { machines: { session: sessionMachine } } });
    const lns = lab.node(LNS.address, lnsConfig(), { deps: { machines: { session: sessionMachine } } });
    const outcomes = await lab.until(Promise.all([1, 2].map(() => lac.openSession({ destination: LNS }))));
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(lab.sent("ICCN")).toHaveLength(2);
    expect(lns.snapshot().registries.sessions).toBe(2);
    await lab.closeAll();
    expect(lac.snapshot().registries.liveActors).toBe(0);
  });

  test("a listener added with actor.on still hears what a session emits (its wiring hears it first)", async () => {
    const lab = new Lab(21);
    const lac = lab.node(LAC.address, lacConfig());
    const lns = lab.node(LNS.address, lnsConfig(), { inspect: true });
    const heard: string[] = [];
    const o = await lab.until(lac.openSession({ destination: LNS }));
    if (!o.ok) throw new Error("setup");
    const tunnel = lns.snapshot().destinations[0].tunnels[0];
    const actor = (lab.inspected.get("lns") ?? [])
      .map((e) => e.actorRef as AnyActorRef)
      .find((a) => lns.pathOf(a)?.session === tunnel.sessions[0].id);
    if (!actor) throw new Error("no session actor seen");
    actor.on("*", (e: { type: string; message?: { type: string } }) =>
      heard.push(e.message ? `${e.type} ${e.message.type}` : e.type),
    );
    lns.closeSession(tunnel.id, tunnel.sessions[0].id);
    await lab.run(100);
    expect(heard).toEqual(["send CDN"]);
    expect(lab.sent("CDN")).toHaveLength(1);
    await lab.closeAll();
  });

  test("one inspect observer sees every actor of the tree with its path", async () => {
    const lab = new Lab(19);
    const lac = lab.node(LAC.address, lacConfig(), { inspect: true });
    lab.node(LNS.address, lnsConfig());
    const o = await lab.until(lac.openSession({ destination: LNS }));
    if (!o.ok) throw new Error("setup");
    const events = lab.inspected.get("lac") ?? [];
    const levels = new Set<string>();
    for (const e of events) {
      if (e.type !== "@xstate.snapshot") continue;
      const path = lac.pathOf(e.actorRef as AnyActorRef);
      expect(path).toBeDefined();
      if (!path) continue;
      levels.add(
        path.session !== undefined
          ? "session"
          : path.tunnel !== undefined
            ? "tunnel"
            : path.destination
              ? "destination"
              : "system",
      );
    }
    expect([...levels].sort()).toEqual(["destination", "session", "system", "tunnel"]);
    const sessionStates = events
      .filter(
        (e) =>
          e.type === "@xstate.snapshot" && lac.pathOf(e.actorRef as AnyActorRef)?.session === o.sessionId,
      )
      .map((e) => (e as unknown as { snapshot: { value: unknown } }).snapshot.value);
    expect(sessionStates).toContain("wait-reply");
    expect(sessionStates).toContain("established");
    await lab.closeAll();
    expect(lab.inspected.get("lac")?.length).toBeGreaterThan(events.length - 1);
  });
});
