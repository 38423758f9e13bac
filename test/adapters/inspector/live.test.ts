/**
 * The live source (adapters/inspector/live.ts) on a LAC and an LNS over the memory network: seeded from
 * the nodes' live actors when the first page asks, then fed by the recorders' own batches. The event
 * log it is given refuses every read, so the tree cannot come from reading the log back; the counts
 * kept as envelopes fold are checked against a walk of the tree after calls open and close.
 */
import { afterEach, expect, test } from "bun:test";
import process from "node:process";
import { createNode } from "../../../actors/node.ts";
import { SimulatedClock } from "../../../adapters/clock/index.ts";
import { LiveSource } from "../../../adapters/inspector/index.ts";
import { MAX_PENDING, SEED_CAUSE } from "../../../adapters/inspector/live.ts";
import { BATCH_MS, type StreamSubscriber } from "../../../adapters/inspector/stream.ts";
import { levelCounts } from "../../../adapters/inspector/view.ts";
import { SeededRandom } from "../../../adapters/random/index.ts";
import { MemoryNetwork } from "../../../adapters/udp/index.ts";
import { openRecording } from "../../../bin/commands/recording.ts";
import type { Envelope } from "../../../events/envelope.ts";
import type { EventLog } from "../../../events/port.ts";
import { type NodeView, replay } from "../../../events/replay.ts";
import { envelopesOf } from "../../events/envelopes.ts";
import { liveFedByHand } from "../../support/live-fed.ts";

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function settle(clock: SimulatedClock, ms = 2000): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    clock.advance(50);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

test("the live tree is seeded from the live actors and follows the recorders without reading the log", async () => {
  const clock = new SimulatedClock();
  const random = new SeededRandom(11);
  const network = new MemoryNetwork({ clock, random });
  const recording = await openRecording("memory:", { clock });
  const lnsRec = recording.forNode("lns");
  const lacRec = recording.forNode("lac");
  const lns = createNode(
    { name: "lns", hostName: "lns.test", destinations: [{ address: "10.0.0.2", secret: "s3cret" }] },
    { transport: network.bind("10.0.0.1", 1701), clock, random, ...lnsRec },
  );
  lnsRec.attach(lns);
  const lac = createNode(
    {
      name: "lac",
      hostName: "lac.test",
      destinations: [{ address: "10.0.0.1", port: 1701, secret: "s3cret" }],
    },
    { transport: network.bind("10.0.0.2", 1701), clock, random, ...lacRec },
  );
  lacRec.attach(lac);
  const reads: string[] = [];
  const refusing: EventLog = {
    ...recording.log,
    description: recording.log.description,
    read: (options) => {
      reads.push(`read ${JSON.stringify(options)}`);
      throw new Error("the live source read the log back");
    },
    follow: (options) => {
      reads.push(`follow ${JSON.stringify(options)}`);
      throw new Error("the live source followed the log");
    },
  };
  const live = new LiveSource(refusing, recording, [lac, lns]);
  cleanup.push(async () => {
    live.stop();
    void lac.close();
    void lns.close();
    await settle(clock, 5000);
    await recording.close(100);
  });

  const destination = { destination: { address: "10.0.0.1", port: 1701 } };
  const before = [1, 2, 3].map(() => lac.openSession(destination));
  await settle(clock);
  const calls = [];
  for (const c of before) calls.push(await c);
  expect(calls.every((c) => c.ok)).toBe(true);
  expect(live.watching).toBe(false);

  // The first look: the actors that live now, each at the feed's seq of this moment.
  const seeded = live.tree().tree;
  expect(live.counts().session).toEqual({ established: 6 });
  expect(live.counts("lac").tunnel).toEqual({ established: 1 });
  expect(levelCounts(seeded)).toEqual(live.counts());
  const lacSessions = Object.values(seeded.nodes.lac?.destinations["10.0.0.1:1701"]?.tunnels ?? {})[0]
    ?.sessions;
  // Each seeded actor shows when and by what it entered its state, as its recorder saw it (not the
  // moment of the first look): its own envelope in the log says the same.
  const logged: Envelope[] = [];
  for await (const e of recording.log.read({ node: "lac" })) logged.push(e);
  for (const s of Object.values(lacSessions ?? {})) {
    const entering = [...logged]
      .reverse()
      .find(
        (e) =>
          e.machine === "session" &&
          e.path.session === s.path.session &&
          e.to === s.state &&
          e.from !== s.state,
      );
    if (!entering) throw new Error(`no envelope took session ${s.path.session} to ${s.state}`);
    expect([s.since, s.cause]).toEqual([entering.time, entering.cause]);
    expect(s.cause).not.toBe(SEED_CAUSE);
  }
  expect(Math.max(...Object.values(lacSessions ?? {}).map((s) => s.since))).toBeLessThan(clock.now());

  // From then on, the recorders' batches: two more calls, one of the first three closed.
  const more = [1, 2].map(() => lac.openSession(destination));
  const first = calls[0];
  if (!first?.ok) throw new Error("the first call failed");
  lac.closeSession(first.tunnelId, first.sessionId);
  await settle(clock);
  for (const c of more) expect((await c).ok).toBe(true);
  const { tree } = live.tree();
  expect(live.counts().session).toEqual({ established: 8 });
  expect(levelCounts(tree)).toEqual(live.counts());
  const sessions =
    Object.values(tree.nodes.lac?.destinations["10.0.0.1:1701"]?.tunnels ?? {})[0]?.sessions ?? {};
  expect(Object.keys(sessions)).not.toContain(String(first.sessionId)); // closed: gone from the live tree
  expect(Object.values(sessions).filter((s) => s.previous !== null)).toHaveLength(2); // seeded: no previous

  // Closing the tunnel takes its sessions out of the counts with it.
  lac.closeTunnel(first.tunnelId);
  await settle(clock);
  expect(live.counts("lac")).toEqual({
    system: { running: 1 },
    destination: live.counts("lac").destination,
    tunnel: {},
    session: {},
    ppp: {},
    subscriber: {},
  });
  expect(levelCounts(live.tree().tree)).toEqual(live.counts());
  expect(reads).toEqual([]);
});

/** A live source fed by hand (test/support/live-fed.ts), watching from the start and stopped after the test. */
function fedByHand(nodes: string[]): { live: LiveSource; hand: (batch: Envelope[]) => void } {
  const fed = liveFedByHand(nodes);
  fed.live.tree(); // starts watching
  cleanup.push(() => fed.live.stop());
  return fed;
}

/** The tree as plain data, without the live tree's own bookkeeping (the state each view is counted under). */
const plain = (tree: unknown): unknown =>
  JSON.parse(JSON.stringify(tree, (key, value) => (key === "counted" ? undefined : value)));

test("an actor that ends leaves the live tree as if its last envelope had been folded first: the tree is the replay of the actors that live on", async () => {
  const { ev } = envelopesOf("lac");
  const D = "10.0.0.1:1701";
  const tunnel = { destination: D, tunnel: 40_000 };
  const call = (session: number) => ({ ...tunnel, session });
  const link = call; // a PPP link has its session's path (machine "ppp")
  const line = (id: string) => ({ subscriber: id });
  const lineLink = line;
  const doomed = { destination: D, tunnel: 7 };
  const stays = [
    ev(1, "system", {}, null, "running", "xstate.init", { admin: "enabled" }),
    ev(2, "destination", { destination: D }, null, "available", "xstate.init", { admin: "enabled" }),
    ev(3, "tunnel", tunnel, null, "established", "xstate.init", { peerTunnelId: 9 }),
    ev(4, "session", call(30_001), null, "wait-connect", "xstate.init", { peerSessionId: 1 }),
    ev(5, "session", call(30_001), "wait-connect", "established", "rx.ICCN", { wasEstablished: true }),
    ev(6, "ppp", link(30_001), null, "network", "xstate.init", { user: "u@isp" }),
    ev(7, "subscriber", line("sim:1"), null, "ppp", "xstate.init", { callingNumber: "1" }),
  ];
  const ending = [
    // A session and its PPP link: the session's end takes the link with it.
    ev(10, "session", call(2), null, "wait-connect", "xstate.init", { peerSessionId: 2 }),
    ev(11, "ppp", link(2), null, "network", "xstate.init", { user: "v@isp" }),
    ev(12, "session", call(2), "wait-connect", "closed", "rx.CDN", { status: "done" }),
    // A PPP link stopped on its own.
    ev(13, "session", call(3), null, "established", "xstate.init", { peerSessionId: 3 }),
    ev(14, "ppp", link(3), null, "network", "xstate.init", { user: "w@isp" }),
    ev(15, "ppp", link(3), "network", "network", "xstate.stop", { status: "stopped" }),
    ev(16, "session", call(3), "established", "closed", "rx.CDN", { status: "done" }),
    // A tunnel with a session still up: both go.
    ev(17, "tunnel", doomed, null, "established", "xstate.init", { peerTunnelId: 8 }),
    ev(18, "session", { ...doomed, session: 5 }, null, "established", "xstate.init"),
    ev(19, "tunnel", doomed, "established", "closed", "rx.StopCCN", { status: "done" }),
    // A subscriber and its link; another whose link ends first.
    ev(20, "subscriber", line("sim:2"), null, "ppp", "xstate.init", { callingNumber: "2" }),
    ev(21, "ppp", lineLink("sim:2"), null, "establish", "xstate.init"),
    ev(22, "subscriber", line("sim:2"), "ppp", "ended", "hangup", { status: "done" }),
    ev(23, "ppp", lineLink("sim:1"), null, "establish", "xstate.init"),
    ev(24, "ppp", lineLink("sim:1"), "establish", "closed", "lcp.down", { status: "done" }),
    // The end of a session the tree never had (a log read from the middle), and a late envelope of an
    // actor that ended: each folded, then dropped again.
    ev(25, "session", { destination: D, tunnel: 9, session: 6 }, "established", "closed", "rx.CDN"),
    ev(26, "session", call(2), "closed", "closed", "late", { status: "done" }),
  ];
  const envelopes = [...stays, ...ending];
  const recorded = envelopes.map((e) => structuredClone(e.data));
  const { live, hand } = fedByHand(["lac"]);
  for (let i = 0; i < envelopes.length; i += 3) hand(envelopes.slice(i, i + 3));

  const { tree, version } = live.tree();
  const expected = replay([
    ...stays,
    ev(25, "session", { destination: D, tunnel: 9, session: 6 }, null, "x", "x"),
  ]);
  // What the fold of every envelope counts, whatever it dropped.
  const all = replay(envelopes);
  expected.events = all.events;
  expected.time = all.time;
  (expected.nodes.lac as NodeView).lastSeq = (all.nodes.lac as NodeView).lastSeq;
  delete expected.nodes.lac?.destinations[D]?.tunnels[9]?.sessions[6]; // made and dropped: its tunnel stays
  expect(plain(tree)).toEqual(plain(expected));
  expect(version).toBe(envelopes.length);
  expect(live.counts()).toEqual(levelCounts(tree));
  expect(live.counts().session).toEqual({ established: 1 });
  // The ring keeps every envelope as it was recorded.
  const kept = await live.recent("lac", () => true, 100);
  expect(kept).toEqual(envelopes);
  expect(kept.map((e) => e.data)).toEqual(recorded);
});

test("handed batches wait until a page asks, its stream is due or MAX_PENDING wait; then they fold in order, nothing lost", async () => {
  const { ev } = envelopesOf("lns");
  const { live, hand } = liveFedByHand(["lns"]);
  cleanup.push(() => live.stop());
  const pushed: number[] = [];
  let flushes = 0;
  // A page's stream, as the live source sees one (push and flush; never closed).
  const page = {
    closed: false,
    push: (e: Envelope) => pushed.push(e.seq),
    flush: () => void flushes++,
    end: () => {},
  } as unknown as StreamSubscriber;
  await live.subscribe(page, { lns: 0 });
  const D = "10.0.0.1:1701";
  const session = (n: number) => ({ destination: D, tunnel: 1, session: n });

  // Waits: the stream has nothing yet; a request folds first, so the page sees everything handed.
  hand([ev(1, "session", session(1), null, "wait-connect", "rx.ICRQ")]);
  hand([ev(2, "session", session(1), "wait-connect", "established", "rx.ICCN")]);
  expect(pushed).toEqual([]);
  expect(live.counts().session).toEqual({ established: 1 });
  expect(pushed).toEqual([1, 2]);

  // Without a request, the stream's tick folds and flushes what waits.
  hand([ev(3, "session", session(2), null, "wait-connect", "rx.ICRQ")]);
  const flushed = flushes;
  await Bun.sleep(BATCH_MS + 200);
  expect(pushed).toEqual([1, 2, 3]);
  expect(flushes).toBeGreaterThan(flushed);

  // MAX_PENDING waiting envelopes fold at once, before any tick.
  const many = Array.from({ length: MAX_PENDING }, (_, i) =>
    ev(4 + i, "session", session(100 + (i % 1000)), null, "wait-connect", "rx.ICRQ"),
  );
  hand(many.slice(0, MAX_PENDING - 1));
  expect(pushed).toHaveLength(3);
  hand(many.slice(MAX_PENDING - 1));
  expect(pushed).toHaveLength(3 + MAX_PENDING);
  expect(pushed.at(-1)).toBe(3 + MAX_PENDING);
  expect(live.counts().session).toEqual({ established: 1, "wait-connect": 1001 });
});

test("an envelope the live tree cannot take is said on stderr and skipped; the rest of its batch folds", () => {
  const { ev } = envelopesOf("lns");
  const { live, hand } = liveFedByHand(["lns"]);
  cleanup.push(() => live.stop());
  live.counts(); // watching from here
  const session = (n: number) => ({ destination: "10.0.0.1:1701", tunnel: 1, session: n });
  // No data at all: the fold reads its status, and throws. The envelope after it in its batch still folds.
  const bad = { ...ev(1, "session", session(1), null, "wait-connect", "rx.ICRQ"), data: null } as never;
  const next = ev(2, "session", session(2), null, "wait-connect", "rx.ICRQ");
  const said: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((text: string) => said.push(text) > 0) as typeof process.stderr.write;
  try {
    hand([bad, next]);
    hand([]);
    hand([bad, ev(3, "session", session(3), null, "wait-connect", "rx.ICRQ")]);
    expect(live.counts().session).toEqual({ "wait-connect": 2 });
  } finally {
    process.stderr.write = write;
  }
  // Said once: handed again, it is below the seq already taken (a retried batch) and skipped quietly.
  expect(said.filter((line) => line.includes("could not take envelope lns:1"))).toHaveLength(1);
});
