/**
 * Standby takeover on the memory network (issue 4): an LNS records every transition to a MemoryEventLog,
 * dies without a word (its socket and its timers go silent, as after kill -9), and a new LNS restored
 * from the log on the same address resumes the tunnel: the LAC never notices. Its HELLO is acked, ours
 * is acked, a new call opens on the same tunnel, and the LAC's CDN of an old call reaches the restored
 * session. A third LNS then resumes from the standby's own records (a failover of the failover).
 */
import { describe, expect, test } from "bun:test";
import { planSize, restorePlan, stateValueOf } from "../../actors/restore.ts";
import { MemoryEventLog } from "../../adapters/event-log/memory.ts";
import { evolve, initialTree, replay } from "../../events/replay.ts";
import { flush, LAC, Lab, LNS, lacConfig, lnsConfig } from "./lab.ts";
import { HELLO_MS, recordedLns, recordedNode } from "./recorded.ts";

describe("restore: a standby LNS resumes a recorded LNS's tunnel and calls", () => {
  test("state values of nested states", () => {
    expect(stateValueOf("established")).toBe("established");
    expect(stateValueOf("closing.stop-sent")).toEqual({ closing: "stop-sent" });
  });

  test("the LAC's tunnel continues: HELLOs acked both ways, a new call, a CDN of an old call", async () => {
    const lab = new Lab(7);
    const log = new MemoryEventLog();
    // Bound first so that lab.node (which binds address:1701) is not asked to bind it again.
    const lac = lab.node(LAC.address, lacConfig({ channel: { helloIntervalMs: HELLO_MS } }));
    const primary = recordedLns(lab, log);
    const calls = await lab.until(
      Promise.all(
        [0, 1, 2].map((i) =>
          lac.openSession({ destination: LNS, requestAvps: { callingNumber: `555000${i}` } }),
        ),
      ),
    );
    for (const c of calls) expect(c.ok).toBe(true);
    // Idle for a while: HELLOs both ways, everything acknowledged, every envelope stored.
    await lab.run(5000);
    await lab.until(primary.recorder.flush());
    const before = primary.node.snapshot();
    const tunnelBefore = before.destinations[0].tunnels[0];
    await primary.kill();

    const tree = replay(log.envelopes);
    const lnsView = tree.nodes.lns;
    expect(lnsView).toBeDefined();
    const plan = restorePlan(lnsView);
    expect(planSize(plan)).toEqual({ tunnels: 1, sessions: 3 });
    expect(plan.skipped).toEqual([]);
    // The channel state in the log is the one the primary's channel had.
    expect(plan.destinations[0].tunnels[0].channel).toMatchObject({
      peerTunnelId: tunnelBefore.peerTunnelId,
      peer: LAC,
      local: LNS,
    });

    const standby = recordedLns(lab, log, plan);
    const restored = standby.node.snapshot();
    expect(restored.destinations[0].tunnels.map((t) => [t.id, t.peerTunnelId, t.state, t.role])).toEqual([
      [tunnelBefore.id, tunnelBefore.peerTunnelId, "established", "responder"],
    ]);
    expect(restored.destinations[0].tunnels[0].sessions.map((s) => [s.id, s.peerSessionId, s.state])).toEqual(
      tunnelBefore.sessions.map((s) => [s.id, s.peerSessionId, "established"]),
    );
    // The subscriber's Calling Number is kept in the session's context alone: restored with it, so
    // show (and AAA, and the events) still have it after the takeover.
    expect(tunnelBefore.sessions.map((s) => s.callingNumber).sort()).toEqual([
      "5550000",
      "5550001",
      "5550002",
    ]);
    expect(restored.destinations[0].tunnels[0].sessions.map((s) => [s.id, s.callingNumber])).toEqual(
      tunnelBefore.sessions.map((s) => [s.id, s.callingNumber]),
    );
    expect(restored.registries).toMatchObject({ tunnels: 1, tunnelsByPeer: 1, destinations: 1, sessions: 3 });

    const lacChannelsBefore = lac.snapshot().channels;
    const helloMark = lab.wire.length;
    // Two hello intervals of silence: each side sends a HELLO, the other acknowledges it.
    await lab.run(2 * HELLO_MS + 500);
    const hellos = lab.wire.slice(helloMark).filter((w) => w.message.type === "HELLO");
    expect(hellos.some((w) => w.from.startsWith(LNS.address))).toBe(true);
    expect(hellos.some((w) => w.from.startsWith(LAC.address))).toBe(true);
    // No retransmission anywhere: every HELLO was acked at once (a wrong Ns or Nr would stall them).
    // The LAC's HELLO was delivered to the standby in order, not taken for a duplicate (an Nr too high).
    expect(standby.node.snapshot().channels).toMatchObject({
      timeouts: 0,
      retransmitted: 0,
      duplicates: 0,
      delivered: 1,
    });
    expect(lac.snapshot().channels.timeouts).toBe(lacChannelsBefore.timeouts);
    expect(lac.snapshot().channels.retransmitted).toBe(lacChannelsBefore.retransmitted);

    // A new call on the same tunnel, answered by the standby.
    const fresh = await lab.until(lac.openSession({ destination: LNS }));
    if (!fresh.ok) throw new Error(`new call failed: ${fresh.cause.message}`);
    expect(fresh.peerTunnelId).toBe(tunnelBefore.id);
    const after = standby.node.snapshot().destinations[0].tunnels[0];
    expect(after.sessions).toHaveLength(4);
    expect(after.sessions.find((s) => s.id === fresh.peerSessionId)?.state).toBe("established");

    // The LAC hangs up an old call: the restored session ends on the standby (CDN delivered in order).
    const old = calls[0];
    if (!old.ok) throw new Error("unreachable");
    expect(lac.closeSession(old.tunnelId, old.sessionId)).toBe(true);
    await lab.run(500);
    const left = standby.node.snapshot().destinations[0].tunnels[0].sessions.map((s) => s.id);
    expect(left).not.toContain(old.peerSessionId);
    expect(left).toHaveLength(3);
    expect(lab.sent("StopCCN")).toEqual([]);
    expect(lab.sent("CDN").map((w) => w.from.startsWith(LAC.address))).toEqual([true]);

    // The standby's own events continue the primary's sequence in the same log.
    await lab.until(standby.recorder.flush());
    const seqs = log.envelopes.filter((e) => e.node === "lns").map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    // The standby dies too: a third LNS resumes from the standby's own records (a second life of the
    // node in the same log: the fold starts again at the standby's system actor).
    await lab.run(500);
    await lab.until(standby.recorder.flush());
    const beforeSecond = standby.node.snapshot().destinations[0].tunnels[0];
    await standby.kill();
    const tree2 = initialTree();
    for (const e of log.envelopes) evolve(tree2, e);
    const plan2 = restorePlan(tree2.nodes.lns);
    expect(planSize(plan2)).toEqual({ tunnels: 1, sessions: 3 });
    const third = recordedLns(lab, log, plan2);
    expect(
      third.node.snapshot().destinations[0].tunnels[0].sessions.map((s) => [s.id, s.peerSessionId, s.state]),
    ).toEqual(beforeSecond.sessions.map((s) => [s.id, s.peerSessionId, "established"]));
    const again = await lab.until(lac.openSession({ destination: LNS }));
    expect(again.ok && again.peerTunnelId).toBe(tunnelBefore.id);
    await lab.run(2 * HELLO_MS + 500);
    expect(third.node.snapshot().channels).toMatchObject({ timeouts: 0, retransmitted: 0, duplicates: 0 });
    expect(lab.sent("StopCCN")).toEqual([]);

    await lab.until(Promise.all([lac.close(), third.node.close()]));
    await flush();
    expect(lab.wiringErrors).toEqual([]);
    expect(third.node.snapshot().registries).toMatchObject({ tunnels: 0, sessions: 0, liveActors: 0 });
  });
});

describe("restore: a standby LAC resumes a recorded LAC's tunnel and calls", () => {
  test("the LNS notices nothing: HELLOs acked both ways, old calls up, a new call on the restored tunnel, a CDN of an old call", async () => {
    const lab = new Lab(8);
    const log = new MemoryEventLog();
    const lns = lab.node(LNS.address, lnsConfig({ channel: { helloIntervalMs: HELLO_MS } }));
    const primary = recordedNode(lab, log, "lac");
    const calls = await lab.until(
      Promise.all([0, 1, 2].map(() => primary.node.openSession({ destination: LNS }))),
    );
    for (const c of calls) expect(c.ok).toBe(true);
    await lab.run(5000);
    await lab.until(primary.recorder.flush());
    const tunnelBefore = primary.node.snapshot().destinations[0].tunnels[0];
    await primary.kill();

    const plan = restorePlan(replay(log.envelopes).nodes.lac);
    expect(planSize(plan)).toEqual({ tunnels: 1, sessions: 3 });
    expect(plan.skipped).toEqual([]);
    const standby = recordedNode(lab, log, "lac", plan);
    const restored = standby.node.snapshot().destinations[0].tunnels;
    expect(restored.map((t) => [t.id, t.peerTunnelId, t.state, t.role])).toEqual([
      [tunnelBefore.id, tunnelBefore.peerTunnelId, "established", "initiator"],
    ]);
    const byId = (a: [number, number, string], b: [number, number, string]) => a[0] - b[0];
    expect(
      restored[0].sessions.map((s): [number, number, string] => [s.id, s.peerSessionId, s.state]).sort(byId),
    ).toEqual(
      tunnelBefore.sessions
        .map((s): [number, number, string] => [s.id, s.peerSessionId, "established"])
        .sort(byId),
    );

    const lnsChannelsBefore = lns.snapshot().channels;
    const helloMark = lab.wire.length;
    await lab.run(2 * HELLO_MS + 500);
    const hellos = lab.wire.slice(helloMark).filter((w) => w.message.type === "HELLO");
    expect(hellos.some((w) => w.from.startsWith(LAC.address))).toBe(true);
    expect(hellos.some((w) => w.from.startsWith(LNS.address))).toBe(true);
    expect(standby.node.snapshot().channels).toMatchObject({ timeouts: 0, retransmitted: 0, duplicates: 0 });
    expect(lns.snapshot().channels.timeouts).toBe(lnsChannelsBefore.timeouts);
    expect(lns.snapshot().channels.duplicates).toBe(lnsChannelsBefore.duplicates);

    // Placement on the standby finds the restored tunnel: the new call needs no new SCCRQ.
    const sccrqs = lab.sent("SCCRQ").length;
    const fresh = await lab.until(standby.node.openSession({ destination: LNS }));
    if (!fresh.ok) throw new Error(`new call failed: ${fresh.cause.message}`);
    expect(fresh.tunnelId).toBe(tunnelBefore.id);
    expect(lab.sent("SCCRQ")).toHaveLength(sccrqs);
    expect(lns.snapshot().destinations[0].tunnels[0].sessions).toHaveLength(4);

    // The standby hangs up an old call: the LNS's session ends with the CDN.
    const old = tunnelBefore.sessions[0];
    expect(standby.node.closeSession(tunnelBefore.id, old.id)).toBe(true);
    await lab.run(500);
    const onLns = lns.snapshot().destinations[0].tunnels[0].sessions.map((s) => s.id);
    expect(onLns).not.toContain(old.peerSessionId);
    expect(onLns).toHaveLength(3);
    expect(lab.sent("StopCCN")).toEqual([]);

    await lab.until(Promise.all([standby.node.close(), lns.close()]));
    await flush();
    expect(lab.wiringErrors).toEqual([]);
    expect(standby.node.snapshot().registries).toMatchObject({ tunnels: 0, sessions: 0, liveActors: 0 });
  });
});
