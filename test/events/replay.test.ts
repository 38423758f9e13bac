import { describe, expect, test } from "bun:test";
import type { Envelope } from "../../events/envelope.ts";
import {
  copyTree,
  evolve,
  initialTree,
  matchesFilter,
  replay,
  replayAsync,
  selectEnvelopes,
  UNKNOWN_DESTINATION,
} from "../../events/replay.ts";
import { envelopesOf } from "./envelopes.ts";

const D = "127.0.0.1:1701";
/** Hand-written envelopes of node lns-1. */
const { ev, restart } = envelopesOf("lns-1");

/** A node that starts, meets a LAC, opens a tunnel with two sessions, closes one session and the tunnel. */
function story(): Envelope[] {
  restart();
  return [
    ev(100, "system", {}, null, "running", "xstate.init", { admin: "enabled" }),
    ev(200, "destination", { destination: D }, null, "enabled", "xstate.init"),
    ev(201, "tunnel", { destination: D, tunnel: 7 }, null, "idle", "xstate.init", { peerTunnelId: 0 }),
    ev(202, "tunnel", { destination: D, tunnel: 7 }, "idle", "waitCtlConn", "rx.SCCRQ", { peerTunnelId: 41 }),
    ev(210, "tunnel", { destination: D, tunnel: 7 }, "waitCtlConn", "established", "rx.SCCCN", {
      peerHost: "lac.test",
    }),
    ev(300, "session", { destination: D, tunnel: 7, session: 1 }, null, "idle", "xstate.init"),
    ev(301, "session", { destination: D, tunnel: 7, session: 1 }, "idle", "waitConnect", "rx.ICRQ", {
      peerSessionId: 9,
    }),
    ev(305, "session", { destination: D, tunnel: 7, session: 1 }, "waitConnect", "established", "rx.ICCN"),
    ev(400, "session", { destination: D, tunnel: 7, session: 2 }, null, "idle", "xstate.init"),
    ev(401, "session", { destination: D, tunnel: 7, session: 2 }, "idle", "waitConnect", "rx.ICRQ", {
      peerSessionId: 10,
    }),
    ev(500, "session", { destination: D, tunnel: 7, session: 1 }, "established", "closed", "rx.CDN", {
      status: "done",
    }),
    ev(600, "tunnel", { destination: D, tunnel: 7 }, "established", "closing.waitAck", "close"),
    ev(601, "tunnel", { destination: D, tunnel: 7 }, "closing.waitAck", "closed", "drained", {
      status: "done",
    }),
  ];
}

describe("replay: given these events, then this tree", () => {
  test("a system's first snapshot starts a new life: what a killed life left open is forgotten", () => {
    // The first life is cut off after its tunnel and a session came up (kill -9: nothing recorded the close).
    const firstLife = story().slice(0, 8);
    const secondLife = [
      ev(900, "system", {}, null, "running", "xstate.init", { admin: "enabled" }),
      ev(910, "destination", { destination: D }, null, "enabled", "xstate.init"),
    ];
    const tree = [...firstLife, ...secondLife].reduce(evolve, initialTree());
    const node = tree.nodes["lns-1"];
    expect(node?.system).toMatchObject({ state: "running", since: 900, events: 1 });
    expect(Object.keys(node?.destinations[D]?.tunnels ?? {})).toEqual([]);
    expect(node?.lastSeq).toBe(secondLife[1].seq);
    // Up to the first life's end, its tunnel is there, established.
    const before = firstLife.reduce(evolve, initialTree());
    expect(before.nodes["lns-1"]?.destinations[D]?.tunnels["7"]?.actor?.state).toBe("established");
  });

  test("no events: an empty tree", () => {
    expect([].reduce(evolve, initialTree())).toEqual({ nodes: {}, time: null, events: 0 });
  });

  test("the whole story: every actor with its state, when it entered it, and its last data", () => {
    const tree = story().reduce(evolve, initialTree());
    expect(tree.events).toBe(13);
    expect(tree.time).toBe(601);
    const node = tree.nodes["lns-1"];
    expect(node?.lastSeq).toBe(13);
    expect(node?.system).toMatchObject({ state: "running", data: { admin: "enabled" }, events: 1 });
    const destination = node?.destinations[D];
    expect(destination?.actor).toMatchObject({ machine: "destination", state: "enabled" });
    const tunnel = destination?.tunnels["7"];
    // A final state removes nothing: the tunnel is shown closed, with everything it learnt.
    expect(tunnel?.actor).toMatchObject({
      state: "closed",
      previous: "closing.waitAck",
      since: 601,
      cause: "drained",
      data: { peerTunnelId: 41, peerHost: "lac.test", status: "done" },
      events: 5,
      lastSeq: 13,
    });
    expect(Object.keys(tunnel?.sessions ?? {})).toEqual(["1", "2"]);
    expect(tunnel?.sessions["1"]).toMatchObject({ state: "closed", since: 500, data: { peerSessionId: 9 } });
    expect(tunnel?.sessions["2"]).toMatchObject({ state: "waitConnect", since: 401, previous: "idle" });
  });

  test("--at: the tree as it was at a moment", () => {
    const envelopes = story();
    const at305 = replay(envelopes, { at: 305 });
    const tunnel = at305.nodes["lns-1"]?.destinations[D]?.tunnels["7"];
    expect(tunnel?.actor?.state).toBe("established");
    expect(tunnel?.sessions["1"]?.state).toBe("established");
    expect(tunnel?.sessions["2"]).toBeUndefined();
    expect(at305.time).toBe(305);
    expect(replay(envelopes, { at: 99 })).toEqual(initialTree());
    expect(replay(envelopes)).toEqual(envelopes.reduce(evolve, initialTree()));
  });

  test("a context-only change keeps the state and its since, and merges the data", () => {
    restart();
    const path = { destination: D, tunnel: 3 };
    const tree = [
      ev(10, "tunnel", path, null, "established", "xstate.init", { hellos: 0, peerHost: "a" }),
      ev(20, "tunnel", path, "established", "established", "rx.HELLO", { hellos: 1 }),
    ].reduce(evolve, initialTree());
    expect(tree.nodes["lns-1"]?.destinations[D]?.tunnels["3"]?.actor).toMatchObject({
      state: "established",
      since: 10,
      updated: 20,
      cause: "rx.HELLO",
      data: { hellos: 1, peerHost: "a" },
    });
  });

  test("an actor's first data is its envelope's own object until a second envelope, and no envelope is written into", () => {
    restart();
    const call = { destination: D, tunnel: 3, session: 8 };
    const envelopes = [
      ev(10, "session", call, null, "wait-connect", "xstate.init", {
        peerSessionId: 4,
        kind: "lns-incoming",
      }),
      ev(20, "session", call, "wait-connect", "established", "rx.ICCN", { wasEstablished: true }),
      ev(30, "session", call, "established", "established", "rx.SLI", { peerSessionId: 5 }),
    ];
    const recorded = envelopes.map((e) => structuredClone(e.data));
    const tree = initialTree();
    const view = () => tree.nodes["lns-1"]?.destinations[D]?.tunnels["3"]?.sessions["8"];
    evolve(tree, envelopes[0] as Envelope);
    expect(view()?.data).toBe(envelopes[0]?.data as Record<string, unknown>); // shared, not copied
    evolve(tree, envelopes[1] as Envelope);
    expect(view()?.data).not.toBe(envelopes[0]?.data as Record<string, unknown>);
    evolve(tree, envelopes[2] as Envelope);
    expect(view()?.data).toEqual({ peerSessionId: 5, kind: "lns-incoming", wasEstablished: true });
    // Every envelope's data as it was recorded (the log and the inspector's ring keep them).
    expect(envelopes.map((e) => e.data)).toEqual(recorded);
  });

  test("a session seen before its tunnel (a log read from the middle) still has a place", () => {
    restart();
    const tree = [ev(1, "session", { tunnel: 5, session: 2 }, "a", "b", "x")].reduce(evolve, initialTree());
    const tunnel = tree.nodes["lns-1"]?.destinations[UNKNOWN_DESTINATION]?.tunnels["5"];
    expect(tunnel?.actor).toBeUndefined();
    expect(tunnel?.sessions["2"]?.state).toBe("b");
  });

  test("two nodes fold into two subtrees", () => {
    restart();
    const a = ev(1, "system", {}, null, "running", "xstate.init");
    const b = { ...ev(2, "system", {}, null, "shutdown", "xstate.init"), node: "lns-2", seq: 1 };
    const tree = replay([a, b]);
    expect(Object.keys(tree.nodes)).toEqual(["lns-1", "lns-2"]);
    expect(tree.nodes["lns-2"]?.system?.state).toBe("shutdown");
  });

  test("replayAsync gives the same tree from an async stream", async () => {
    const envelopes = story();
    async function* stream() {
      yield* envelopes;
    }
    expect(await replayAsync(stream(), { at: 401 })).toEqual(replay(envelopes, { at: 401 }));
  });
});

describe("copyTree", () => {
  /** A tree as plain data, without the copy-on-write generations (a fold from the start has none). */
  const plain = (tree: unknown): unknown =>
    JSON.parse(JSON.stringify(tree, (key, value) => (key === "generation" ? undefined : value)));

  test("a copy equals the tree, and folding into either leaves the other as it was", () => {
    const events = story();
    const tree = replay(events.slice(0, 8));
    const copy = copyTree(tree);
    expect(plain(copy)).toEqual(plain(tree));
    const before = plain(tree);
    for (const e of events.slice(8)) evolve(copy, e);
    expect(plain(tree)).toEqual(before);
    expect(plain(copy)).toEqual(plain(replay(events)));
    // And the other way: folding into the original leaves the copy as it was.
    const original = replay(events.slice(0, 8));
    const kept = copyTree(original);
    for (const e of events.slice(8)) evolve(original, e);
    expect(plain(kept)).toEqual(before);
    expect(plain(original)).toEqual(plain(replay(events)));
  });

  test("a LAC's subscribers and their PPP links are copied on write too", () => {
    const { ev: at } = envelopesOf("lac");
    const line = { subscriber: "sim:1" };
    const link = { subscriber: "sim:1", ppp: true } as never;
    const first = [
      at(1, "system", {}, null, "running", "xstate.init"),
      at(2, "subscriber", line, null, "deciding", "xstate.init", { user: "u@isp" }),
      at(3, "ppp", link, null, "establish", "xstate.init"),
    ];
    const then = [
      at(4, "ppp", link, "establish", "authenticate", "frame"),
      at(5, "subscriber", line, "deciding", "tunnelled", "decided", { lns: "127.0.0.2:1701" }),
    ];
    const tree = replay(first);
    const before = plain(tree);
    const copy = copyTree(tree);
    for (const e of then) evolve(copy, e);
    expect(plain(tree)).toEqual(before);
    expect(plain(copy)).toEqual(plain(replay([...first, ...then])));
    expect(copy.nodes.lac?.subscribers?.["sim:1"]?.ppp?.state).toBe("authenticate");
  });

  test("a copy of a copy, folded in turn, shares what did not change and keeps every tree apart", () => {
    const events = story();
    const first = replay(events.slice(0, 5));
    const second = copyTree(first);
    for (const e of events.slice(5, 9)) evolve(second, e);
    const third = copyTree(second);
    for (const e of events.slice(9)) evolve(third, e);
    expect(plain(first)).toEqual(plain(replay(events.slice(0, 5))));
    expect(plain(second)).toEqual(plain(replay(events.slice(0, 9))));
    expect(plain(third)).toEqual(plain(replay(events)));
  });
});

describe("filters over envelopes", () => {
  const envelopes = story();
  const seqs = (filter: Parameters<typeof selectEnvelopes>[1]) =>
    selectEnvelopes(envelopes, filter).map((e) => e.seq);

  test("by time window", () => {
    expect(seqs({ since: 300, until: 401 })).toEqual([6, 7, 8, 9, 10]);
  });

  test("by destination, tunnel (with its sessions) and session", () => {
    expect(seqs({ destination: D }).length).toBe(12);
    expect(seqs({ tunnel: 7 })).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(seqs({ tunnel: 7, machine: "tunnel" })).toEqual([3, 4, 5, 12, 13]);
    expect(seqs({ session: 2 })).toEqual([9, 10]);
  });

  test("by cause, exact or as a prefix", () => {
    expect(seqs({ cause: "rx.ICRQ" })).toEqual([7, 10]);
    expect(seqs({ cause: "rx.*" })).toEqual([4, 5, 7, 8, 10, 11]);
    expect(seqs({ cause: "xstate.init", machine: "session" })).toEqual([6, 9]);
  });

  test("by node; an empty filter keeps everything; a filter keeps order", () => {
    expect(seqs({ node: "other" })).toEqual([]);
    expect(seqs({})).toEqual(envelopes.map((e) => e.seq));
    expect(matchesFilter(envelopes[0] as Envelope, { node: "lns-1", machine: "system" })).toBe(true);
  });

  test("filter then fold: the tree of one session", () => {
    const tree = replay(selectEnvelopes(envelopes, { session: 1 }));
    const tunnel = tree.nodes["lns-1"]?.destinations[D]?.tunnels["7"];
    expect(tunnel?.actor).toBeUndefined();
    expect(Object.keys(tunnel?.sessions ?? {})).toEqual(["1"]);
  });
});
