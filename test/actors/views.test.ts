/**
 * The destruct timeout (issue 11 item 2), on the simulated clock: tunnels and sessions that ended stay
 * visible (state `ended`, with their cause) in the snapshot and in `show`'s rows for destructTimeout,
 * then they are forgotten; at most maxEndedRecords are kept, the oldest dropped first.
 */
import { describe, expect, test } from "bun:test";
import type { OpenSessionOutcome } from "../../actors/node.ts";
import { showRows } from "../../adapters/admin/show.ts";
import { LAC, Lab, LNS, lacConfig, lnsConfig } from "./lab.ts";

describe("ended tunnels and sessions (destruct timeout)", () => {
  test("a cleared call and a closed tunnel stay visible with their cause for the timeout, then go", async () => {
    const lab = new Lab(11);
    const lac = lab.node(LAC.address, lacConfig({ destructTimeoutMs: 60_000 }));
    const lns = lab.node(LNS.address, lnsConfig({ destructTimeoutMs: 60_000 }));
    const outcomes: OpenSessionOutcome[] = await lab.until(
      Promise.all(Array.from({ length: 3 }, () => lac.openSession({ destination: LNS }))),
    );
    const calls = outcomes.flatMap((o) => (o.ok ? [o] : []));
    expect(calls).toHaveLength(3);
    const [first] = calls;
    if (!first) throw new Error("no call");

    // The LAC clears one call (CDN): both ends keep it as ended, with the cause.
    expect(
      lac.closeSession(first.tunnelId, first.sessionId, { reason: "admin", message: "operator cleared it" }),
    ).toBe(true);
    await lab.run(2_000);
    const lacEnded = lac.snapshot({ ended: true }).ended;
    expect(lacEnded?.sessions).toHaveLength(1);
    expect(lacEnded?.sessions[0]).toMatchObject({
      id: first.sessionId,
      tunnelId: first.tunnelId,
      state: "ended",
      cause: { reason: "admin", message: "operator cleared it" },
      destination: `${LNS.address}:${LNS.port}`,
    });
    const lnsEnded = lns.snapshot({ ended: true }).ended;
    expect(lnsEnded?.sessions).toHaveLength(1);
    expect(lnsEnded?.sessions[0]?.state).toBe("ended");
    expect(lnsEnded?.sessions[0]?.cause?.reason).toBe("peer");
    // Without asking, the snapshot carries none (the lab's registry polls stay cheap).
    expect(lac.snapshot().ended).toBeUndefined();

    // show: the ended call is a row among the live ones, and --state ended picks it.
    const rows = showRows(lac.snapshot({ sessions: true, ended: true }), "sessions");
    expect(rows.rows.map((r) => r.state).sort()).toEqual(["ended", "established", "established"]);
    const ended = showRows(lac.snapshot({ sessions: true, ended: true }), "sessions", { state: "ended" });
    expect(ended.rows).toHaveLength(1);
    expect(ended.rows[0]).toMatchObject({ state: "ended", cause: { reason: "admin" } });

    // The LAC closes the destination: the tunnel (StopCCN) and its two calls end, all kept.
    await lab.run(30_000);
    expect(lac.closeDestination(LNS, { reason: "admin", message: "maintenance" })).toBe(true);
    await lab.run(2_000);
    const all = lac.snapshot({ ended: true }).ended;
    expect(all?.tunnels).toHaveLength(1);
    // Closed by its destination: the cause says so, with the operator's words.
    expect(all?.tunnels[0]).toMatchObject({
      id: first.tunnelId,
      state: "ended",
      cause: { reason: "parent", message: "destination closing: maintenance" },
    });
    expect(all?.sessions).toHaveLength(3);
    const tunnelRows = showRows(lac.snapshot({ sessions: true, ended: true }), "tunnels", { state: "ended" });
    expect(tunnelRows.rows).toHaveLength(1);

    // 60 s after its end the first call is forgotten; the others ended 32 s later and stay a while.
    await lab.run(26_500);
    expect(lac.snapshot({ ended: true }).ended?.sessions.map((s) => s.id)).not.toContain(first.sessionId);
    expect(lac.snapshot({ ended: true }).ended?.sessions).toHaveLength(2);
    await lab.run(32_000);
    expect(lac.snapshot({ ended: true }).ended).toEqual({ tunnels: [], sessions: [] });
    await lab.closeAll();
  });

  test("a destination that failed shows 'locked out until' the lockout's end, then available again", async () => {
    const lab = new Lab(13);
    // No LNS answers: the SCCRQ is retransmitted until the tunnel gives up, and the destination locks out.
    const lac = lab.node(LAC.address, lacConfig({ lockoutMs: 120_000 }));
    const outcome = await lab.until(lac.openSession({ destination: LNS }));
    expect(outcome.ok).toBe(false);
    const failedAt = lab.clock.now();
    const rows = showRows(lac.snapshot({ sessions: true, ended: true }), "destinations");
    expect(rows.rows).toHaveLength(1);
    const row = rows.rows[0] as {
      state: string;
      lockedOutUntil?: number;
      lockouts: number;
      lastFailure?: unknown;
    };
    expect(row.state).toBe("lockedOut");
    expect(row.lockouts).toBe(1);
    expect(row.lastFailure).toMatchObject({ reason: "retries" });
    // The lockout started when the tunnel failed, a moment before the call's outcome settled.
    expect(row.lockedOutUntil).toBeGreaterThan(failedAt + 120_000 - 1_000);
    expect(row.lockedOutUntil).toBeLessThanOrEqual(failedAt + 120_000);
    // The failed tunnel is among the ended ones, with the cause.
    const tunnels = showRows(lac.snapshot({ sessions: true, ended: true }), "tunnels", { state: "ended" });
    expect(tunnels.rows[0]).toMatchObject({ cause: { reason: "retries" } });
    await lab.run(120_000);
    const after = showRows(lac.snapshot({ sessions: true }), "destinations").rows[0] as { state: string };
    expect(after.state).not.toBe("lockedOut");
    await lab.closeAll();
  });

  test("at most maxEndedRecords are kept, the oldest dropped first", async () => {
    const lab = new Lab(12);
    const lac = lab.node(LAC.address, lacConfig({ maxEndedRecords: 4 }));
    lab.node(LNS.address, lnsConfig());
    const outcomes: OpenSessionOutcome[] = await lab.until(
      Promise.all(Array.from({ length: 6 }, () => lac.openSession({ destination: LNS }))),
    );
    const calls = outcomes.flatMap((o) => (o.ok ? [o] : []));
    expect(calls).toHaveLength(6);
    for (const call of calls) {
      lac.closeSession(call.tunnelId, call.sessionId);
      await lab.run(1_000);
    }
    const kept = lac.snapshot({ ended: true }).ended?.sessions ?? [];
    expect(kept.map((s) => s.id)).toEqual(calls.slice(2).map((c) => c.sessionId));
    // Default: 600 s.
    await lab.run(599_000 - 6_000);
    expect(lac.snapshot({ ended: true }).ended?.sessions).toHaveLength(4);
    await lab.run(8_000);
    expect(lac.snapshot({ ended: true }).ended?.sessions).toHaveLength(0);
    await lab.closeAll();
  });
});
