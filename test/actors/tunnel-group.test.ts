import { describe, expect, test } from "bun:test";
import { MemoryEventLog } from "../../adapters/event-log/memory.ts";
import { createRecorder } from "../../events/recorder.ts";
import { timelineLine } from "../../events/timeline.ts";
import type { TunnelSelected } from "../../machines/system.ts";
import { group } from "../machines/tunnel-groups.ts";
import { LAC, Lab, lacConfig, lnsConfig } from "./lab.ts";

const LNS_A = { address: "127.0.0.3", port: 1701 };
const LNS_B = { address: "127.0.0.4", port: 1701 };

/** A LAC that records to a memory event log; `selections()` reads its tunnel selections back from it. */
function lac(lab: Lab) {
  const log = new MemoryEventLog();
  const recorder = createRecorder({ node: "lac", clock: lab.clock, log });
  const node = lab.node(
    LAC.address,
    lacConfig({
      destinations: [{ secret: "s3cret", accept: false }],
      channel: { maxRetransmits: 3 },
    }),
    { deps: { inspect: recorder.inspect } },
  );
  /** The tunnel selections the LAC recorded (its system actor's `selection`), in order, and their timeline lines. */
  const selections = async () => {
    await recorder.flush();
    const recorded = log.envelopes.filter((e) => e.machine === "system" && e.data.selection !== undefined);
    return {
      chosen: recorded.map((e) => e.data.selection as TunnelSelected),
      lines: recorded.map((e) => timelineLine(e, { maxData: 0 })),
    };
  };
  return { node, selections };
}

describe("node: tunnel groups (E-series tunnel selection)", () => {
  test("the preference-0 endpoint down: the call fails over to preference 1 and the first is locked out; the next call skips it", async () => {
    const lab = new Lab(11);
    const { node, selections } = lac(lab);
    lab.node(LNS_B.address, lnsConfig());
    const g = group([
      { peer: LNS_A, preference: 0, maxSessions: 0 },
      { peer: LNS_B, preference: 1, maxSessions: 0 },
    ]);
    const o = await lab.until(node.openSession({ group: g }));
    expect(o.ok).toBe(true);
    expect(o.ok && o.path.destination).toBe("127.0.0.4:1701");
    const snap = node.snapshot();
    expect(snap.destinations.find((d) => d.key === "127.0.0.3:1701")?.state).toBe("lockedOut");
    const again = await lab.until(node.openSession({ group: g }));
    expect(again.ok && again.tunnelId).toBe(o.ok && o.tunnelId);
    const { chosen, lines } = await selections();
    expect(chosen.map((s) => [s.choice, s.destination])).toEqual([
      ["open", "127.0.0.3:1701"],
      ["open", "127.0.0.4:1701"],
      ["reuse", "127.0.0.4:1701"],
    ]);
    expect(chosen[1]?.reason).toContain("preference 1");
    expect(chosen[2]?.reason).toContain("127.0.0.3:1701 locked out until");
    // What `replay` prints: the system's line says why the call went to B.
    expect(lines[1]).toContain(
      "group isp.example: failover after 127.0.0.3:1701 failed: preference 1, random among 1: 127.0.0.4:1701, a new tunnel",
    );
    await lab.closeAll();
  });

  test("max sessions per tunnel: a full tunnel gets a sibling; Tunnel-Assignment-Ids get tunnels of their own", async () => {
    const lab = new Lab(12);
    const { node, selections } = lac(lab);
    lab.node(LNS_A.address, lnsConfig());
    const full = group([{ peer: LNS_A, preference: 0, maxSessions: 2 }]);
    const calls = [];
    for (let i = 0; i < 5; i++) calls.push(await lab.until(node.openSession({ group: full })));
    const tunnels = calls.map((c) => (c.ok ? c.tunnelId : 0));
    expect(tunnels.every((t) => t > 0)).toBe(true);
    expect(new Set(tunnels).size).toBe(3);
    for (const t of new Set(tunnels)) expect(tunnels.filter((x) => x === t).length).toBeLessThanOrEqual(2);

    const x = group([{ peer: LNS_A, preference: 0, maxSessions: 0, assignmentId: "x" }]);
    const y = group([{ peer: LNS_A, preference: 0, maxSessions: 0, assignmentId: "y" }]);
    const x1 = await lab.until(node.openSession({ group: x }));
    const y1 = await lab.until(node.openSession({ group: y }));
    const x2 = await lab.until(node.openSession({ group: x }));
    expect(x1.ok && y1.ok && x2.ok).toBe(true);
    if (!x1.ok || !y1.ok || !x2.ok) return;
    expect(x2.tunnelId).toBe(x1.tunnelId);
    expect(y1.tunnelId).not.toBe(x1.tunnelId);
    expect(tunnels).not.toContain(x1.tunnelId);
    const { chosen } = await selections();
    expect(chosen.filter((s) => s.reason.includes("its tunnels are full (max 2): a sibling"))).toHaveLength(
      2,
    );
    expect(chosen.at(-2)?.reason).toContain("a new tunnel for Tunnel-Assignment-Id y");
    await lab.closeAll();
  });

  test("every endpoint down: the first locked out is retried once, then the call is refused with a cause", async () => {
    const lab = new Lab(13);
    const { node, selections } = lac(lab);
    const g = group([
      { peer: LNS_A, preference: 0, maxSessions: 0 },
      { peer: LNS_B, preference: 1, maxSessions: 0 },
    ]);
    const o = await lab.until(node.openSession({ group: g }));
    expect(o.ok).toBe(false);
    if (o.ok) return;
    expect(o.cause.reason).toBe("refused");
    expect(o.cause.message).toContain("retried once");
    const { chosen, lines } = await selections();
    expect(chosen.map((s) => [s.choice, s.destination])).toEqual([
      ["open", "127.0.0.3:1701"],
      ["open", "127.0.0.4:1701"],
      ["lastResort", "127.0.0.3:1701"],
      ["refuse", undefined],
    ]);
    expect(lines[2]).toContain("every destination is locked out: 127.0.0.3:1701, locked out first");
    // Two tunnels to A: the first and the last resort.
    expect(lab.sent("SCCRQ").filter((w) => w.to === "127.0.0.3:1701").length).toBe(2);
    await lab.closeAll();
  });

  test("calls queued behind the test tunnel after a lockout keep their Tunnel-Assignment-Id: each id gets its own tunnel, none the test tunnel", async () => {
    const lab = new Lab(14);
    const { node, selections } = lac(lab);
    const x = group([{ peer: LNS_A, preference: 0, maxSessions: 0, assignmentId: "x" }]);
    const y = group([{ peer: LNS_A, preference: 0, maxSessions: 0, assignmentId: "y" }]);
    // A is down: the call is refused (after its last resort) and A is locked out.
    expect((await lab.until(node.openSession({ group: x }))).ok).toBe(false);
    lab.node(LNS_A.address, lnsConfig());
    const stateOfA = () => node.snapshot().destinations.find((d) => d.key === "127.0.0.3:1701")?.state;
    expect(stateOfA()).toBe("lockedOut");
    await lab.run(301_000, 1_000);
    expect(stateOfA()).toBe("probing");
    // The first call opens the test tunnel; all three wait behind it, then are placed again.
    const calls = Promise.all([
      node.openSession({ group: x }),
      node.openSession({ group: y }),
      node.openSession({ group: x }),
    ]);
    expect(node.snapshot().registries.pendingRequests).toBe(3);
    const [x1, y1, x2] = await lab.until(calls);
    expect(x1.ok && y1.ok && x2.ok).toBe(true);
    if (!x1.ok || !y1.ok || !x2.ok) return;
    expect(x2.tunnelId).toBe(x1.tunnelId);
    expect(y1.tunnelId).not.toBe(x1.tunnelId);
    const tunnels = node.snapshot().destinations.find((d) => d.key === "127.0.0.3:1701")?.tunnels ?? [];
    const test = tunnels.find((t) => t.id !== x1.tunnelId && t.id !== y1.tunnelId);
    expect(test?.sessions ?? []).toEqual([]);
    const { chosen } = await selections();
    // Chosen again once the test tunnel was up, each choice recorded: x and y a tunnel each, x again shares x's.
    const again = chosen.slice(-3);
    expect(again.map((s) => s.choice)).toEqual(["open", "open", "reuse"]);
    expect(again[0]?.reason).toContain("a new tunnel for Tunnel-Assignment-Id x");
    expect(again[1]?.reason).toContain("a new tunnel for Tunnel-Assignment-Id y");
    expect(again[2]?.tunnelId).toBe(x1.tunnelId);
    await lab.closeAll();
  });

  test("a single destination still works as before, and a bad group is refused naming the field", async () => {
    const lab = new Lab(14);
    const { node } = lac(lab);
    lab.node(LNS_A.address, lnsConfig());
    const o = await lab.until(node.openSession({ destination: LNS_A }));
    expect(o.ok).toBe(true);
    const bad = await node.openSession({ group: group([{ peer: LNS_A, preference: 9, maxSessions: 0 }]) });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.cause.message).toContain("tunnels[0].preference: expected an integer 0-7");
    await lab.closeAll();
  });

  test("a group tunnel's own secret (RADIUS Tunnel-Password) authenticates the tunnel; a wrong one fails over", async () => {
    const lab = new Lab(15);
    // The LAC knows no secret for these peers: only the group's tunnels carry one.
    const node = lab.node(LAC.address, lacConfig({ destinations: [] }));
    lab.node(
      LNS_A.address,
      lnsConfig({ destinations: [{ secret: "from-radius", peerHostName: "lac.test" }] }),
    );
    lab.node(LNS_B.address, lnsConfig({ destinations: [{ secret: "other", peerHostName: "lac-b" }] }));
    const secret = (s: string) => new TextEncoder().encode(s);
    const right = await lab.until(
      node.openSession({
        group: group([{ peer: LNS_A, preference: 0, maxSessions: 0, secret: secret("from-radius") }]),
      }),
    );
    expect(right.ok).toBe(true);
    const o = await lab.until(
      node.openSession({
        group: group(
          [
            { peer: LNS_A, preference: 0, maxSessions: 0, secret: secret("wrong"), assignmentId: "w" },
            { peer: LNS_B, preference: 1, maxSessions: 0, secret: secret("other"), clientAuthId: "lac-b" },
          ],
          { name: "radius:isp.example" },
        ),
      }),
    );
    expect(o.ok && o.path.destination).toBe("127.0.0.4:1701");
    // Tunnel-Client-Auth-Id is our Host Name toward B.
    expect(lab.sent("SCCRQ", LAC.address).at(-1)?.message.avps.hostName).toBe("lac-b");
    await lab.closeAll();
  });
});
