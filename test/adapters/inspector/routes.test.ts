/**
 * The inspector's routes on a live pair: a LAC and an LNS on the memory network, both recording to one
 * memory event log, the LNS's admin server with the inspector on loopback. Tree counts, lists, actor
 * detail (context redacted, recent events), the SSE stream resumed with Last-Event-ID, and actions
 * refused unless allowed.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createNode, type L2tpNode } from "../../../actors/node.ts";
import { type AdminServer, startAdminServer } from "../../../adapters/admin/server.ts";
import { SimulatedClock } from "../../../adapters/clock/index.ts";
import { createInspector, type Inspector } from "../../../adapters/inspector/index.ts";
import { SeededRandom } from "../../../adapters/random/index.ts";
import { MemoryNetwork } from "../../../adapters/udp/index.ts";
import { openRecording, type Recording } from "../../../bin/commands/recording.ts";

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const TOKEN = "inspector-test-token-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Pair {
  lac: L2tpNode;
  lns: L2tpNode;
  admin: AdminServer;
  inspector: Inspector;
  clock: SimulatedClock;
  recording: Recording;
}

async function pair(actions: boolean): Promise<Pair> {
  const clock = new SimulatedClock();
  const random = new SeededRandom(7);
  const network = new MemoryNetwork({ clock, random });
  const recording = await openRecording("memory:", { clock });
  const lnsRec = recording.forNode("lns");
  const lacRec = recording.forNode("lac");
  const lnsAddress = { address: "10.0.0.1", port: 1701 };
  const lns = createNode(
    { name: "lns", hostName: "lns.test", destinations: [{ address: "10.0.0.2", secret: "s3cret" }] },
    { transport: network.bind(lnsAddress.address, lnsAddress.port), clock, random, ...lnsRec },
  );
  lnsRec.attach(lns);
  const lac = createNode(
    { name: "lac", hostName: "lac.test", destinations: [{ ...lnsAddress, secret: "s3cret" }] },
    { transport: network.bind("10.0.0.2", 1701), clock, random, ...lacRec },
  );
  lacRec.attach(lac);
  const inspector = createInspector({
    mode: "live",
    log: recording.log,
    feed: recording,
    nodes: [lac, lns],
    actions,
  });
  const admin = await startAdminServer(
    lns,
    { address: "127.0.0.1", port: 0 },
    { routes: inspector.handle, token: TOKEN },
  );
  cleanup.push(async () => {
    inspector.close();
    await admin.close();
    void lac.close();
    void lns.close();
    await settle(clock, 5000);
    await recording.close(100);
  });
  return { lac, lns, admin, inspector, clock, recording };
}

async function settle(clock: SimulatedClock, ms = 2000): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    clock.advance(50);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

async function getJson<T = Record<string, unknown>>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

/** Reads SSE events from a response until `count` batches came. */
async function readBatches(res: Response, count: number): Promise<{ id: string; data: unknown }[]> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  const out: { id: string; data: unknown }[] = [];
  while (out.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
    let end = text.indexOf("\n\n");
    while (end >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const id = /^id: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (id !== undefined && data !== undefined) out.push({ id, data: JSON.parse(data) });
      end = text.indexOf("\n\n");
    }
  }
  await reader.cancel();
  return out;
}

describe("inspector routes (live)", () => {
  test("the tree counts actors per level and state; lists page on the server; detail redacts", async () => {
    const { lac, admin, clock, inspector } = await pair(false);
    const calls = [1, 2, 3].map(() => lac.openSession({ destination: { address: "10.0.0.1", port: 1701 } }));
    await settle(clock);
    for (const c of calls) expect((await c).ok).toBe(true);
    expect(inspector.watching).toBe(false); // no page yet: no inspection work

    const tree = await getJson<{
      counts: Record<string, Record<string, number>>;
      rows: { node: string }[];
      total: number;
    }>(`${admin.url}/inspector/api/tree`);
    expect(tree.status).toBe(200);
    expect(inspector.watching).toBe(true);
    expect(tree.body.total).toBe(2);
    expect(tree.body.rows.map((r) => r.node).sort()).toEqual(["lac", "lns"]);
    expect(tree.body.counts.session).toEqual({ established: 6 });
    expect(tree.body.counts.tunnel).toEqual({ established: 2 });

    const lacTree = await getJson<{
      counts: Record<string, Record<string, number>>;
      rows: { destination: string }[];
    }>(`${admin.url}/inspector/api/tree?node=lac`);
    expect(lacTree.body.counts.session).toEqual({ established: 3 });
    expect(lacTree.body.rows.map((r) => r.destination)).toEqual(["10.0.0.1:1701"]);

    const page = await getJson<{ total: number; rows: { node: string; session: number }[] }>(
      `${admin.url}/inspector/api/list?level=session&sort=-path&limit=2&search=lac`,
    );
    expect(page.body.total).toBe(3);
    expect(page.body.rows).toHaveLength(2);
    expect(page.body.rows[0].session).toBeGreaterThan(page.body.rows[1].session);
    expect((await getJson(`${admin.url}/inspector/api/list?level=call`)).body).toEqual({
      error: "level: expected one of system, destination, tunnel, session, ppp, subscriber",
    });

    const t = page.body.rows[0] as unknown as {
      node: string;
      destination: string;
      tunnel: number;
      session: number;
    };
    const detail = await getJson<{
      state: string;
      context: Record<string, unknown>;
      counters: Record<string, number>;
      cause: string;
      since: number;
      recent: { to: string; from: string | null; cause: string; time: number }[];
    }>(
      `${admin.url}/inspector/api/actor?node=${t.node}&destination=${t.destination}&tunnel=${t.tunnel}&session=${t.session}`,
    );
    expect(detail.body.state).toBe("established");
    expect(detail.body.counters).toEqual({ packetsIn: 0, packetsOut: 0 });
    expect(detail.body.recent.at(-1)?.to).toBe("established");
    // Established before the page's first look: when and by what, from its events, not the seed.
    const entered = [...detail.body.recent]
      .reverse()
      .find((e) => e.to === "established" && e.from !== "established");
    expect(entered).toBeDefined();
    expect(detail.body.cause).toBe(entered?.cause as string);
    expect(detail.body.since).toBe(entered?.time as number);
    const tunnelDetail = await getJson<{ context: Record<string, unknown>; admin: string }>(
      `${admin.url}/inspector/api/actor?node=lac&destination=${t.destination}&tunnel=${t.tunnel}`,
    );
    expect(tunnelDetail.body.admin).toBe("enabled");
    expect(JSON.stringify(tunnelDetail.body.context)).not.toContain("s3cret");

    const graphs = await getJson<Record<string, { states: { id: string }[] }>>(
      `${admin.url}/inspector/api/graphs`,
    );
    expect(Object.keys(graphs.body).sort()).toEqual([
      "destination",
      "ppp",
      "session",
      "subscriber",
      "system",
      "tunnel",
    ]);
    expect(graphs.body.session.states.map((s) => s.id)).toContain("wait-connect");
  });

  test("the stream resumes from Last-Event-ID; closed actors leave the live tree", async () => {
    const { lac, admin, clock } = await pair(false);
    const first = lac.openSession({ destination: { address: "10.0.0.1", port: 1701 } });
    await settle(clock);
    expect((await first).ok).toBe(true);
    // A page subscribes, reads its first batch (nothing yet: it starts now), then goes away.
    const res = await fetch(`${admin.url}/inspector/api/events?level=session`);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const second = lac.openSession({ destination: { address: "10.0.0.1", port: 1701 } });
    await settle(clock, 500);
    const [batch] = await readBatches(res, 1);
    const envelopes = (batch.data as { envelopes: { node: string; machine: string; seq: number }[] })
      .envelopes;
    expect(envelopes.length).toBeGreaterThan(0);
    expect(envelopes.every((e) => e.machine === "session")).toBe(true);
    expect(batch.id).toMatch(/^(lac|lns):\d+,(lac|lns):\d+$/);
    const outcome = await second;
    if (!outcome.ok) throw new Error("second call failed");

    // The call closes while the page is away; it comes back with its Last-Event-ID.
    lac.closeSession(outcome.tunnelId, outcome.sessionId);
    await settle(clock, 500);
    const again = await fetch(`${admin.url}/inspector/api/events?level=session`, {
      headers: { "last-event-id": batch.id },
    });
    const [resumed] = await readBatches(again, 1);
    const missed = (resumed.data as { envelopes: { node: string; seq: number; to: string }[] }).envelopes;
    const seen = new Set(envelopes.map((e) => `${e.node}:${e.seq}`));
    expect(missed.some((e) => seen.has(`${e.node}:${e.seq}`))).toBe(false);
    expect(missed.filter((e) => e.to === "closed").length).toBe(2); // both ends of the call
    const counts = await getJson<{ counts: Record<string, Record<string, number>> }>(
      `${admin.url}/inspector/api/tree`,
    );
    expect(counts.body.counts.session).toEqual({ established: 2 });
  });

  test("actions are refused unless allowed; allowed, drain and close act on the node", async () => {
    const off = await pair(false);
    const refused = await fetch(`${off.admin.url}/inspector/api/action`, {
      method: "POST",
      headers: AUTH,
      body: JSON.stringify({ node: "lns", action: "drain" }),
    });
    expect(refused.status).toBe(403);
    expect(off.lns.snapshot().system.admin).toBe("enabled");

    const on = await pair(true);
    // Another site's page in the operator's browser: its Origin, or its hostname rebound to loopback.
    const crossSite = await fetch(`${on.admin.url}/inspector/api/action`, {
      method: "POST",
      headers: { ...AUTH, origin: "http://evil.example" },
      body: JSON.stringify({ node: "lns", action: "shutdown" }),
    });
    expect(crossSite.status).toBe(403);
    const rebound = await fetch(`${on.admin.url}/inspector/api/info`, { headers: { host: "evil.example" } });
    expect(rebound.status).toBe(403);
    expect(on.lns.snapshot().system.admin).toBe("enabled");
    // Without the admin token, the admin API's own rule (access.ts) refuses any action.
    const tokenless = await fetch(`${on.admin.url}/inspector/api/action`, {
      method: "POST",
      body: JSON.stringify({ node: "lns", action: "shutdown" }),
    });
    expect(tokenless.status).toBe(401);
    const post = (body: unknown) =>
      fetch(`${on.admin.url}/inspector/api/action`, {
        method: "POST",
        headers: AUTH,
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    expect((await post({ node: "lns", action: "drain" })).status).toBe(200);
    expect(on.lns.snapshot().system.admin).toBe("drain");
    expect((await post({ node: "lns", action: "enable" })).status).toBe(200);
    expect(on.lns.snapshot().system.admin).toBe("enabled");
    expect(await post({ node: "lns", action: "reboot" })).toEqual({
      status: 400,
      body: { error: "action: expected one of drain, shutdown, enable, close" },
    });
    expect((await post({ node: "nope", action: "drain" })).body.error).toBe("node: expected one of lac, lns");
    const call = on.lac.openSession({ destination: { address: "10.0.0.1", port: 1701 } });
    await settle(on.clock);
    expect((await call).ok).toBe(true);
    expect((await post({ node: "lac", destination: "10.0.0.1:1701", action: "close" })).status).toBe(200);
    await settle(on.clock, 5000);
    expect(on.lac.snapshot().registries.sessions).toBe(0);
  });
});
