/**
 * The replay side: seeking from checkpoints gives the same tree as folding from the start, in any order
 * of seeks; spans carry their outcome and cause; the statecharts come from the machines' definitions.
 */
import { describe, expect, test } from "bun:test";
import { ANY_STATE, machineGraph } from "../../../adapters/inspector/graphs.ts";
import { CHECKPOINT_GAP, RecordedLog } from "../../../adapters/inspector/recorded.ts";
import type { Envelope } from "../../../events/envelope.ts";
import { replay } from "../../../events/replay.ts";
import { SESSION_STATES } from "../../../machines/session.ts";
import { envelopesOf } from "../../events/envelopes.ts";

/** An LNS's log: `tunnels` tunnels of `perTunnel` sessions each, set up then closed, plus one failed tunnel. */
function incident(tunnels: number, perTunnel: number): Envelope[] {
  const { ev } = envelopesOf("lns");
  const out: Envelope[] = [];
  let time = 1000;
  const d = "127.0.0.2:1701";
  out.push(ev(time, "system", {}, null, "running", "xstate.init"));
  out.push(ev(time, "destination", { destination: d }, null, "available.unused", "xstate.init"));
  for (let t = 1; t <= tunnels; t++) {
    out.push(ev(time++, "tunnel", { destination: d, tunnel: t }, null, "idle", "xstate.init"));
    out.push(ev(time++, "tunnel", { destination: d, tunnel: t }, "idle", "established", "rx.SCCCN"));
    for (let s = 1; s <= perTunnel; s++) {
      const path = { destination: d, tunnel: t, session: s };
      out.push(ev(time++, "session", path, null, "wait-connect", "xstate.init"));
      out.push(ev(time++, "session", path, "wait-connect", "established", "rx.ICCN"));
    }
  }
  for (let t = 1; t <= tunnels; t++) {
    for (let s = 1; s <= perTunnel; s++) {
      out.push(
        ev(
          time++,
          "session",
          { destination: d, tunnel: t, session: s },
          "established",
          "closed",
          "tunnelGone",
          {
            cause: { reason: "tunnel-gone", message: "tunnel closing" },
          },
        ),
      );
    }
    out.push(ev(time++, "tunnel", { destination: d, tunnel: t }, "established", "closed", "rx.StopCCN"));
  }
  const bad = { destination: d, tunnel: tunnels + 1 };
  out.push(ev(time++, "tunnel", bad, null, "idle", "xstate.init"));
  out.push(
    ev(time++, "tunnel", bad, "idle", "closed", "rx.SCCRQ", {
      cause: { reason: "auth", message: "SCCRQ challenge response does not match the secret" },
    }),
  );
  return out;
}

/** A tree as plain data, without the copy-on-write generations a fold from the start has none of. */
function withoutGenerations(tree: unknown): unknown {
  return JSON.parse(JSON.stringify(tree, (key, value) => (key === "generation" ? undefined : value)));
}

describe("RecordedLog", () => {
  test("a seek from a checkpoint gives the tree of a fold from the start, in any order of seeks", () => {
    const envelopes = incident(10, 1000); // 30,000+ envelopes: several checkpoints
    const recorded = RecordedLog.of(envelopes);
    expect(recorded.checkpoints).toBeGreaterThan(2);
    const positions = [envelopes.length, 7, 25_000, 25_001, 12_345, CHECKPOINT_GAP, 0, 20_000];
    for (const at of positions) {
      const expected = replay(envelopes.slice(0, at));
      expect(withoutGenerations(recorded.treeAt(at))).toEqual(expected);
    }
  }, 30_000);

  test("spans: established then closed, and a failure with its cause; indexAt finds moments", () => {
    const envelopes = incident(2, 3);
    const recorded = RecordedLog.of(envelopes);
    const spans = recorded.spans();
    expect(spans.filter((s) => s.machine === "session").map((s) => s.outcome)).toEqual(
      Array(6).fill("closed"),
    );
    const failed = spans.filter((s) => s.outcome === "failed");
    expect(failed).toHaveLength(1);
    expect(failed[0].cause).toBe("auth: SCCRQ challenge response does not match the secret");
    const closeAt = envelopes.find((e) => e.to === "closed")?.time as number;
    const before = recorded.treeAt(recorded.indexAt(closeAt - 1));
    expect(before.nodes.lns.destinations["127.0.0.2:1701"].tunnels["1"].sessions["1"].state).toBe(
      "established",
    );
    const after = recorded.treeAt(recorded.indexAt(closeAt));
    expect(after.nodes.lns.destinations["127.0.0.2:1701"].tunnels["1"].sessions["1"].state).toBe("closed");
    const density = recorded.density(10);
    expect(density.events.reduce((a, b) => a + b, 0)).toBe(envelopes.length);
    expect(density.failures.reduce((a, b) => a + b, 0)).toBe(1);
  });
});

describe("machine graphs", () => {
  test("the session's graph is its table: every state, the table's arrows, the final state", () => {
    const graph = machineGraph("session");
    expect(graph.states.map((s) => s.id)).toEqual([...Object.keys(SESSION_STATES), ANY_STATE]);
    expect(graph.states.find((s) => s.final)?.id).toBe("closed");
    const edge = graph.edges.find((e) => e.source === "wait-connect" && e.target === "established");
    expect(edge?.events).toContain("rx.ICCN");
  });

  test("a PPP link's graph is its phase graph, each arrow labelled with the events that make the move", () => {
    const graph = machineGraph("ppp");
    expect(graph.edges.length).toBeGreaterThan(10);
    expect(graph.edges.filter((e) => e.events.length === 0)).toEqual([]);
    const edge = (source: string, target: string) =>
      graph.edges.find((e) => e.source === source && e.target === target)?.events;
    expect(edge("authenticate", "network")).toEqual(["frame", "authenticated"]);
    expect(edge("opened", "closed")).toEqual(["lowerDown", "keepaliveFailed"]);
  });

  test("the tunnel's graph comes from its XState definition, nested states named as the log names them", () => {
    const graph = machineGraph("tunnel");
    const ids = graph.states.map((s) => s.id);
    expect(ids).toContain("closing.stop-sent");
    expect(ids).not.toContain("closing"); // a compound state is drawn as its leaves
    expect(graph.states.find((s) => s.initial)?.id).toBe("idle");
    expect(
      graph.edges.find((e) => e.source === "wait-ctl-reply" && e.target === "established")?.events,
    ).toEqual(["rx.SCCRP"]);
  });
});
