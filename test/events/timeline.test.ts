import { describe, expect, test } from "bun:test";
import { createActor, setup } from "xstate";
import { pathOfNode } from "../../events/recorder.ts";
import { replay } from "../../events/replay.ts";
import { dataText, pathText, timelineLine, timeText, treeText } from "../../events/timeline.ts";
import { envelopesOf } from "./envelopes.ts";

const D = "127.0.0.2:1701";
/** Hand-written envelopes of node lns. */
const { ev, restart } = envelopesOf("lns");

const T0 = Date.parse("2024-05-01T10:00:00Z");

describe("timeline lines", () => {
  test("time, node, path, machine, from → to, cause, the changed data", () => {
    const line = timelineLine(
      ev(
        T0 + 123,
        "session",
        { destination: D, tunnel: 7, session: 3 },
        "wait-connect",
        "established",
        "rx.ICCN",
        {
          peerSessionId: 9,
          framing: "sync",
        },
      ),
    );
    expect(line).toBe(
      "2024-05-01T10:00:00.123Z lns 127.0.0.2:1701/7/3 session wait-connect → established  rx.ICCN  peerSessionId=9 framing=sync",
    );
  });

  test("a first snapshot reads (new) →, a context change = state, the system's path -", () => {
    expect(timelineLine(ev(T0, "system", {}, null, "running", "xstate.init"))).toBe(
      "2024-05-01T10:00:00.000Z lns - system (new) → running  xstate.init",
    );
    expect(
      timelineLine(
        ev(T0, "destination", { destination: D }, "enabled", "enabled", "tunnelOpened", { tunnels: 2 }),
      ),
    ).toBe("2024-05-01T10:00:00.000Z lns 127.0.0.2:1701 destination = enabled  tunnelOpened  tunnels=2");
  });

  test("data: bare words bare, the rest JSON, cut with … (or whole with 0)", () => {
    const data = {
      secret: "[redacted]",
      peer: { address: "127.0.0.1", port: 1701 },
      message: "a b",
      n: null,
    };
    expect(dataText(data, 0)).toBe(
      'secret="[redacted]" peer={"address":"127.0.0.1","port":1701} message="a b" n=null',
    );
    const cut = dataText({ long: "x".repeat(500) }, 40);
    expect(cut).toHaveLength(40);
    expect(cut.endsWith("…")).toBe(true);
    expect(pathText({ tunnel: 3 })).toBe("?/3");
    expect(timeText(Number.NaN)).toBe("NaN");
  });
});

describe("the tree at a moment as text", () => {
  test("nodes, destinations, tunnels with session counts per state; --sessions lists each", () => {
    restart();
    const tree = replay([
      ev(T0, "system", {}, null, "running", "xstate.init", { admin: "enabled" }),
      ev(T0 + 1, "destination", { destination: D }, null, "enabled", "xstate.init", { admin: "enabled" }),
      ev(T0 + 2, "tunnel", { destination: D, tunnel: 7 }, null, "established", "rx.SCCCN", {
        peerTunnelId: 41,
      }),
      ev(T0 + 3, "session", { destination: D, tunnel: 7, session: 1 }, null, "established", "rx.ICCN", {
        peerSessionId: 9,
      }),
      ev(T0 + 4, "session", { destination: D, tunnel: 7, session: 2 }, null, "wait-connect", "xstate.init"),
    ]);
    const text = treeText(tree);
    expect(text).toContain(
      "node lns  system running  admin enabled  since 2024-05-01T10:00:00.000Z  by xstate.init",
    );
    expect(text).toContain("destinations 1  tunnels 1  sessions 2  (last seq 5)");
    expect(text).toContain("  destination 127.0.0.2:1701  enabled  admin enabled");
    expect(text).toContain(
      "    tunnel 7 → 41  established  since 2024-05-01T10:00:00.002Z  by rx.SCCCN  sessions 2 (established 1, wait-connect 1)",
    );
    expect(text).not.toContain("session 1 → 9");
    expect(treeText(tree, { sessions: true })).toContain(
      "      session 1 → 9  established  since 2024-05-01T10:00:00.003Z  by rx.ICCN",
    );
    expect(treeText(replay([]))).toBe("no events\n");
  });
});

describe("pathOfNode", () => {
  const machine = setup({
    types: { context: {} as { path: { system: string; tunnel?: number } } },
  }).createMachine({
    context: { path: { system: "n", tunnel: 4 } },
  });

  test("before the node exists: the context path; after: only what the node's registry knows", () => {
    const known = createActor(machine);
    const stranger = createActor(machine);
    let node:
      | { pathOf(ref: unknown): { system: string; destination?: string; tunnel?: number } | undefined }
      | undefined;
    const pathOf = pathOfNode(() => node);
    const snapshot = known.getSnapshot();
    expect(pathOf(known, snapshot)).toEqual({ machine: "tunnel", path: { tunnel: 4 } });
    node = { pathOf: (ref) => (ref === known ? { system: "n", destination: D, tunnel: 5 } : undefined) };
    expect(pathOf(known, snapshot)).toEqual({ machine: "tunnel", path: { destination: D, tunnel: 5 } });
    expect(pathOf(stranger, snapshot)).toBeUndefined();
  });
});
