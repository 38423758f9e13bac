/**
 * The Stately bridge (adapters/inspector/stately.ts) on an LNS of the lab (memory network, simulated
 * clock) that records to an event log, with a real WebSocket server on 127.0.0.1 (Bun.serve) standing in
 * for Stately's inspector. What it receives is checked against the node's own inspection events, its
 * event log (what the inspector page folds) and `show`'s view.
 */
import { afterEach, expect, test } from "bun:test";
import type { AnyActorRef, InspectionEvent } from "xstate";
import type { L2tpNode } from "../../../actors/node.ts";
import { LocalAaa } from "../../../adapters/aaa/index.ts";
import { startAdminServer } from "../../../adapters/admin/server.ts";
import {
  parseStatelyUrl,
  StatelyBridge,
  StatelyError,
  statelyRoutes,
  withStately,
} from "../../../adapters/inspector/stately.ts";
import { type NodeRecording, openRecording, type Recording } from "../../../bin/commands/recording.ts";
import { type Envelope, stateValueToString } from "../../../events/envelope.ts";
import { PPP_PHASES } from "../../../machines/ppp/endpoint.ts";
import { PppProtocol } from "../../../protocol/ppp/numbers.ts";
import { flush, LAC, Lab, LNS, lacConfig, lnsConfig } from "../../actors/lab.ts";
import { l2tpAsync } from "../../integration/l2tp-cli.ts";
import { type StatelyMessage, statelyInspector as startInspector, until } from "../../support/stately.ts";

type Message = StatelyMessage;

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** The "Stately inspector", stopped after the test. */
function statelyInspector() {
  const inspector = startInspector();
  cleanup.push(inspector.stop);
  return inspector;
}

interface Rig {
  lab: Lab;
  lns: L2tpNode;
  lac: L2tpNode;
  bridge: StatelyBridge;
  recording: Recording;
  rec: NodeRecording;
  /** Every inspection event of the LNS, as its inspect callback got it. */
  seen: InspectionEvent[];
  ended: string[];
}

/** The lab's LNS recording to a memory log with a bridge in its inspect callback, as `l2tp run` wires it. */
async function rig(): Promise<Rig> {
  const lab = new Lab();
  const recording = await openRecording("memory:", { clock: lab.clock });
  const rec = recording.forNode("lns");
  const seen: InspectionEvent[] = [];
  const ended: string[] = [];
  const bridge = new StatelyBridge({ onEnd: (why) => ended.push(why) });
  const lns = lab.node(LNS.address, lnsConfig(), {
    deps: {
      inspect: withStately(bridge, (e) => {
        rec.inspect(e);
        seen.push(e);
      }),
      admit: rec.admit,
    },
  });
  rec.attach(lns);
  bridge.attach(lns);
  const lac = lab.node(LAC.address, lacConfig());
  cleanup.push(async () => {
    bridge.stop();
    await lab.closeAll();
    await recording.close(100);
  });
  return { lab, lns, lac, bridge, recording, rec, seen, ended };
}

/** A call from the LAC; the LNS's session as the inspector names it, and `show`'s state of it. */
async function call(r: Rig): Promise<{ name: string; tunnel: string; state: string; ids: [number, number] }> {
  const out = await r.lab.until(r.lac.openSession({ destination: LNS }));
  if (!out.ok) throw new Error(`the call failed: ${out.cause.message}`);
  const d = r.lns.snapshot().destinations[0];
  const t = d?.tunnels[0];
  const s = t?.sessions.find((x) => x.peerSessionId === out.sessionId);
  if (!d || !t || !s) throw new Error("the LNS has no such session");
  return {
    name: `lns/${d.key}/${t.id}/${s.id}`,
    tunnel: `lns/${d.key}/${t.id}`,
    state: s.state,
    ids: [t.id, s.id],
  };
}

function refOf(node: L2tpNode, tunnel: number, session: number): AnyActorRef {
  for (const a of node.liveActors()) {
    if (a.path.tunnel === tunnel && a.path.session === session && !a.path.ppp) return a.ref as AnyActorRef;
  }
  throw new Error("no such actor");
}

async function envelopesOf(recording: Recording, match: (e: Envelope) => boolean): Promise<Envelope[]> {
  const out: Envelope[] = [];
  for await (const e of recording.log.read({ node: "lns", fromSeq: 1 })) if (match(e)) out.push(e);
  return out;
}

/** States in order, a state repeated at once (a context change) counted once. */
function changes(states: string[]): string[] {
  return states.filter((s, i) => i === 0 || s !== states[i - 1]);
}

test("following a session: @xstate.actor, then that session's events and snapshots in order, states as the log says, nothing of other actors", async () => {
  const r = await rig();
  const followed = await call(r);
  const ref = refOf(r.lns, ...followed.ids);
  const inspector = statelyInspector();
  await r.lab.until(r.rec.recorder.flush());
  const seqAtFollow = r.recording.handedSeq("lns");
  const mark = r.seen.length;
  const status = await r.bridge.follow(inspector.url, followed.name);
  expect(status).toMatchObject({ following: true, actor: followed.name, connected: true });

  // Another call (other actors: its session, the tunnel, the destination), then the followed one closed.
  await call(r);
  expect(r.lns.closeSession(followed.ids[0], followed.ids[1])).toBe(true);
  await r.lab.run(3000);
  await until("the session's last snapshot", () =>
    inspector.received.some(
      (m) => m.type === "@xstate.snapshot" && (m.snapshot as { status: string }).status !== "active",
    ),
  );
  const got = inspector.received;

  // First the actor: its name, its definition (the session table as a machine), its state as show says it.
  const first = got[0] as Message;
  expect(first).toMatchObject({
    type: "@xstate.actor",
    sessionId: followed.name,
    name: followed.name,
    rootId: "lns",
  });
  const definition = JSON.parse(first.definition as string) as { states: Record<string, unknown> };
  expect(Object.keys(definition.states)).toContain("established");
  expect(stateValueToString((first.snapshot as { value: unknown }).value)).toBe(followed.state);
  expect(followed.state).toBe("established");

  // Then exactly the followed actor's events and snapshots, in the order the node had them.
  const expected = r.seen
    .slice(mark)
    .filter((e) => e.actorRef === ref && (e.type === "@xstate.event" || e.type === "@xstate.snapshot"))
    .map((e) => [e.type, (e as { event: { type: string } }).event.type]);
  expect(expected.length).toBeGreaterThan(1);
  expect(got.slice(1).map((m) => [m.type, (m.event as { type: string }).type])).toEqual(expected);
  expect(got.map((m) => m.id)).toEqual(got.map((_, i) => `${followed.name}#${i + 1}`));
  expect(got.every((m) => m.sessionId === followed.name && m._version !== undefined)).toBe(true);

  // Its states are the ones its envelopes (what the inspector page folds) went through.
  const envelopes = await envelopesOf(
    r.recording,
    (e) =>
      e.seq > seqAtFollow &&
      e.path.tunnel === followed.ids[0] &&
      e.path.session === followed.ids[1] &&
      e.machine === "session",
  );
  const bridged = got
    .filter((m) => m.type !== "@xstate.event")
    .map((m) => stateValueToString((m.snapshot as { value: unknown }).value));
  expect(changes(bridged)).toEqual(changes([followed.state, ...envelopes.map((e) => e.to)]));
  expect(changes(bridged).length).toBeGreaterThan(1);

  // The follow ended with its actor.
  await until("the follow ends", () => !r.bridge.status().following);
  expect(r.ended[0]).toContain(`${followed.name} ended`);
  expect(r.bridge.hook).toBeUndefined();
});

test("off, the hook is never installed nor called; stopped, it is removed", async () => {
  const r = await rig();
  const a = await call(r);
  r.lns.closeSession(a.ids[0], a.ids[1]);
  await r.lab.run(2000);
  expect(r.seen.length).toBeGreaterThan(20);
  expect(r.bridge.hook).toBeUndefined();
  expect(r.bridge.calls).toBe(0);
  expect(r.bridge.status()).toMatchObject({ following: false, connected: false, sent: 0 });

  const inspector = statelyInspector();
  const b = await call(r);
  await r.bridge.follow(inspector.url, b.tunnel);
  await call(r);
  expect(r.bridge.calls).toBeGreaterThan(0);
  r.bridge.stop();
  expect(r.bridge.hook).toBeUndefined();
  const calls = r.bridge.calls;
  await call(r);
  expect(r.bridge.calls).toBe(calls);
  expect(r.bridge.status()).toMatchObject({ following: false, ended: "stopped" });
});

test("the inspector going away ends the follow; the node and its event log go on untouched", async () => {
  const r = await rig();
  const a = await call(r);
  const inspector = statelyInspector();
  await r.bridge.follow(inspector.url, a.tunnel);
  await call(r);
  await until("the tunnel's events", () => inspector.received.length > 2);
  // The tunnel's context holds its secret: the inspector gets it redacted, as the page does.
  const text = JSON.stringify(inspector.received);
  expect(text).toContain("[redacted]");
  expect(text).not.toContain("s3cret");

  inspector.stop();
  await until("the bridge sees the inspector gone", () => !r.bridge.status().following);
  expect(r.ended[0]).toContain(`the Stately inspector at ${inspector.url}/ closed the connection`);
  expect(r.bridge.hook).toBeUndefined();

  // The node goes on: calls open and close, every transition is in the log, nothing failed to record.
  const more = [await call(r), await call(r)];
  for (const c of more) r.lns.closeSession(c.ids[0], c.ids[1]);
  await r.lab.run(2000);
  const rec = r.rec.recorder;
  await r.lab.until(rec.flush());
  expect(rec.stats.inspectErrors).toBe(0);
  const all = await envelopesOf(r.recording, () => true);
  expect(all.length).toBe(rec.stats.recorded);
  expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
  expect(all.filter((e) => e.machine === "session" && e.from === null).length).toBe(4);
});

test("a bad URL or an unknown actor is refused before anything opens; an inspector that is not there rejects", async () => {
  const r = await rig();
  const a = await call(r);
  expect(() => parseStatelyUrl("http://127.0.0.1:8080", "--url")).toThrow(
    /^--url: expected the WebSocket URL/,
  );
  expect(() => parseStatelyUrl("not a url")).toThrow(/^url: .*got 'not a url'/);
  await expect(r.bridge.follow("http://127.0.0.1:8080", a.name)).rejects.toThrow(/^url: .*ws:\/\/HOST:PORT/);
  await expect(r.bridge.follow("ws://127.0.0.1:8080", "lns/1.2.3.4:1701/9")).rejects.toThrow(
    /^actor: no live actor 'lns\/1.2.3.4:1701\/9'/,
  );
  expect(r.bridge.hook).toBeUndefined();

  const gone = statelyInspector();
  gone.stop();
  const refused = await r.bridge.follow(gone.url, a.name).catch((err: unknown) => err);
  expect(refused).toBeInstanceOf(StatelyError);
  expect((refused as Error).message).toContain(`cannot connect to a Stately inspector at ${gone.url}/`);
  expect(r.bridge.hook).toBeUndefined();
  expect(r.bridge.status().following).toBe(false);
});

test("l2tp stately through the admin API: follow, status, stop; a bad --url is a usage error naming it", async () => {
  const r = await rig();
  const a = await call(r);
  const admin = await startAdminServer(
    r.lns,
    { address: "127.0.0.1", port: 0 },
    { routes: statelyRoutes(r.bridge) },
  );
  cleanup.push(() => admin.close());
  const inspector = statelyInspector();

  const bad = await l2tpAsync([
    "stately",
    "--url",
    "http://127.0.0.1:9",
    "--actor",
    a.name,
    "--admin",
    admin.url,
  ]);
  expect(bad.code).toBe(2);
  expect(bad.err).toContain("--url: expected the WebSocket URL of a Stately inspector");

  const unknown = await l2tpAsync([
    "stately",
    "--url",
    inspector.url,
    "--actor",
    "lns/nowhere",
    "--admin",
    admin.url,
  ]);
  expect(unknown.code).toBe(1);
  expect(unknown.err).toContain("actor: no live actor 'lns/nowhere'");

  const follow = await l2tpAsync([
    "stately",
    "--url",
    inspector.url,
    "--actor",
    a.name,
    "--admin",
    admin.url,
  ]);
  expect(follow.err).toBe("");
  expect(follow.out).toContain(`stately: following ${a.name} to ${inspector.url}/ (connected`);
  await until("the actor announced", () => inspector.received.length > 0);
  expect(inspector.received[0]).toMatchObject({ type: "@xstate.actor", sessionId: a.name });

  const status = await l2tpAsync(["stately", "--admin", admin.url]);
  expect(status.out).toContain(`following ${a.name}`);
  const stop = await l2tpAsync(["stately", "--stop", "--admin", admin.url]);
  expect(stop.out).toContain("stately: following nothing (the last follow ended: stopped");
  expect(r.bridge.hook).toBeUndefined();
}, 60_000);

test("following a PPP link from its first step: its phases as show says, PAP's password never sent", async () => {
  const lab = new Lab(7);
  const bridge = new StatelyBridge();
  const lac = lab.node(
    LAC.address,
    lacConfig({
      ppp: { subscriber: { user: "alice", password: "alice-pw", authProtocols: ["pap"], dns: ["0.0.0.0"] } },
    }),
  );
  const lns = lab.node(
    LNS.address,
    lnsConfig({
      ppp: {
        lns: { authProtocols: ["pap"], localAddress: "10.0.0.1" },
        pools: [{ name: "main", start: "10.1.0.1", end: "10.1.0.9" }],
      },
    }),
    {
      deps: {
        aaa: new LocalAaa([{ name: "alice", password: "alice-pw" }]),
        inspect: withStately(bridge, () => {}),
      },
    },
  );
  bridge.attach(lns);
  cleanup.push(async () => {
    bridge.stop();
    await lab.closeAll();
  });
  const inspector = statelyInspector();
  const call = lac.openSession({ destination: LNS });
  // Step the simulated clock until the LNS's link exists, then follow it before it authenticates.
  let link: string | undefined;
  for (let i = 0; i < 5000 && !link; i++) {
    lab.clock.advance(1);
    await flush();
    for (const a of lns.liveActors()) {
      if (a.path.ppp) link = `lns/${a.path.destination}/${a.path.tunnel}/${a.path.session}/ppp`;
    }
  }
  if (!link) throw new Error("no PPP link on the LNS");
  const first = await bridge.follow(inspector.url, link);
  expect(first.following).toBe(true);
  expect((await lab.until(call)).ok).toBe(true);
  await lab.run(500);
  const server = lns.snapshot().destinations[0]?.tunnels[0]?.sessions[0];
  expect(server?.ppp).toMatchObject({ phase: "opened", user: "alice" });
  await until("the link's snapshots", () =>
    inspector.received.some(
      (m) => stateValueToString((m.snapshot as { value?: unknown } | undefined)?.value) === "opened",
    ),
  );
  const got = inspector.received;
  expect(got[0]).toMatchObject({ type: "@xstate.actor", sessionId: link });
  expect(Object.keys(JSON.parse(got[0]?.definition as string).states)).toEqual([...PPP_PHASES]);
  const phases = changes(
    got
      .filter((m) => m.type !== "@xstate.event")
      .map((m) => stateValueToString((m.snapshot as { value: unknown }).value)),
  );
  expect(phases.at(-1)).toBe(server?.ppp?.phase);
  expect(phases).toContain("authenticate");
  // The PAP Authenticate-Request reached the link as a frame event: sent, without its payload.
  const pap = got.filter(
    (m) => m.type === "@xstate.event" && (m.event as { protocol?: number }).protocol === PppProtocol.PAP,
  );
  expect(pap.length).toBeGreaterThan(0);
  expect(pap.every((m) => (m.event as { payload: unknown }).payload === "[redacted]")).toBe(true);
  const text = JSON.stringify(got);
  expect(text).not.toContain("alice-pw");
  expect(text).not.toContain(Buffer.from("alice-pw").toString("hex"));
});
