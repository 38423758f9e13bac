/**
 * Replay shows exactly what the live system had (issue 4, the first "Must show"): a lab of 200 sessions
 * over 4 tunnels records both nodes into an event log (a file log in a temp dir; then JetStream on a
 * real nats-server), the test keeps every live actor's state straight from XState (`getSnapshot()`) in
 * the hold, just before the nodes close, and after they closed; then `l2tp replay SOURCE --at TIME
 * --json` (the CLI, in its own process) and the in-process fold must give the same state for every
 * destination, tunnel and session, every one closed at the end. The CLI's lab `--events` flag, the
 * timeline and its filters, and the errors for a bad source or a bad time are checked too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AnyActorRef, InspectionEvent } from "xstate";
import type { L2tpNode } from "../../actors/node.ts";
import { openEventLog } from "../../adapters/event-log/index.ts";
import { type LabSide, runLab } from "../../bin/commands/lab.ts";
import { parseTime, treeAt } from "../../bin/commands/replay.ts";
import { stateValueToString } from "../../events/envelope.ts";
import type { ActorTree, ActorView } from "../../events/replay.ts";
import { pathText } from "../../events/timeline.ts";
import { l2tpWithin } from "./l2tp-cli.ts";
import { type NatsServer, startNatsServer } from "./nats/server.ts";

const dir = mkdtempSync(join(tmpdir(), "l2tp-replay-"));
let nats: NatsServer;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** `l2tp ARGS` run to its end; a replay of a large log may take longer than the usual 20 s. */
function l2tp(...args: string[]): { code: number; out: string; err: string } {
  return l2tpWithin(60_000, args);
}

/** "node path" → "state" (with " status" once an actor is no longer active). */
type States = Map<string, string>;

/** The states of every recorded actor of the live nodes now, read from XState itself. */
class LiveStates {
  readonly nodes = new Map<LabSide, L2tpNode>();
  readonly actors = new Map<AnyActorRef, LabSide>();

  created(side: LabSide, node: L2tpNode): void {
    this.nodes.set(side, node);
  }

  inspect(side: LabSide, event: InspectionEvent): void {
    this.actors.set(event.actorRef as AnyActorRef, side);
  }

  /**
   * Every actor the node's registry knows, and its state now. The time is taken first and the thread
   * then waits for the clock to tick: no transition can carry the same millisecond after the capture.
   */
  capture(): { at: number; states: States } {
    const at = Date.now();
    const states: States = new Map();
    for (const [ref, side] of this.actors) {
      const node = this.nodes.get(side);
      const path = node?.pathOf(ref);
      if (!node || !path) continue;
      const snapshot = ref.getSnapshot() as { value: unknown; status: string };
      const status = snapshot.status === "active" ? "" : ` ${snapshot.status}`;
      states.set(`${node.name} ${pathText(path)}`, `${stateValueToString(snapshot.value)}${status}`);
    }
    while (Date.now() <= at) {
      // Busy-wait (at most 1 ms) so that later events are later than `at`.
    }
    return { at, states };
  }
}

/** The same map from a replayed tree. */
function treeStates(tree: ActorTree): States {
  const states: States = new Map();
  const add = (view: ActorView | undefined) => {
    if (!view) return;
    const status =
      typeof view.data.status === "string" && view.data.status !== "active" ? ` ${view.data.status}` : "";
    states.set(`${view.node} ${pathText(view.path)}`, `${view.state}${status}`);
  };
  for (const node of Object.values(tree.nodes)) {
    add(node.system);
    for (const d of Object.values(node.destinations)) {
      add(d.actor);
      for (const t of Object.values(d.tunnels)) {
        add(t.actor);
        for (const s of Object.values(t.sessions)) add(s);
      }
    }
  }
  return states;
}

/** `l2tp replay SOURCE --at TIME --json`, run as an operator runs it. */
function replayedAt(source: string, at: number): ActorTree {
  const r = l2tp("replay", source, "--at", String(at), "--json");
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as ActorTree;
}

function sorted(states: States): [string, string][] {
  return [...states.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** Counts of the states of one machine kind in a map ("lns 127.0.0.2:5/7/9" has 3 parts → session). */
function countByKind(states: States, kind: "destination" | "tunnel" | "session"): Record<string, number> {
  const depth = { destination: 1, tunnel: 2, session: 3 }[kind];
  const counts: Record<string, number> = {};
  for (const [key, state] of states) {
    const path = key.split(" ")[1] as string;
    if (path === "-" || path.split("/").length !== depth) continue;
    counts[state] = (counts[state] ?? 0) + 1;
  }
  return counts;
}

async function labAndReplay(source: string): Promise<void> {
  const live = new LiveStates();
  let mid: { at: number; states: States } | undefined;
  let beforeClose: { at: number; states: States } | undefined;
  const report = await runLab({
    sessions: 200,
    tunnels: 4,
    holdMs: 100,
    window: 200,
    events: source,
    observe: {
      created: (side, node) => live.created(side, node),
      inspect: (side, event) => live.inspect(side, event),
      established: async () => {
        // The LAC counts a call up once its ICCN is queued; the LNS's side follows a moment later.
        for (let i = 0; i < 100; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          mid = live.capture();
          if (countByKind(mid.states, "session").established === 400) break;
        }
      },
      closing: () => {
        beforeClose = live.capture();
      },
    },
  });
  const after = live.capture();
  expect(report.problems).toEqual([]);
  expect(report.established).toBe(200);
  expect(report.events?.unstored).toBe(0);
  expect(report.events?.where).toContain(source.startsWith("file:") ? dir : "nats");
  const recorded = Object.values(report.events?.recorded ?? {}).reduce((a, b) => a + b, 0);

  // In the hold: every session and tunnel established on both nodes, exactly as replayed at that moment.
  if (!mid || !beforeClose) throw new Error("the lab did not call its observer");
  expect(countByKind(mid.states, "session")).toEqual({ established: 400 });
  expect(countByKind(mid.states, "tunnel")).toEqual({ established: 8 });
  expect(sorted(treeStates(replayedAt(source, mid.at)))).toEqual(sorted(mid.states));

  // Just before the nodes close (the destination closed: sessions gone, the LNS tunnels in their hold).
  const log = await openEventLog(source);
  try {
    expect(sorted(treeStates(await treeAt(log, beforeClose.at)))).toEqual(sorted(beforeClose.states));
  } finally {
    await log.close();
  }

  // After the close: every actor of both nodes closed, the replay identical, every event folded.
  const final = replayedAt(source, Date.now());
  expect(final.events).toBe(recorded);
  expect(after.states.size).toBe(2 + 2 + 8 + 400);
  expect(sorted(treeStates(final))).toEqual(sorted(after.states));
  for (const state of after.states.values()) expect(state).toBe("closed done");
}

describe("l2tp replay rebuilds what the live system had", () => {
  test("file log: 200 sessions over 4 tunnels, in the hold, before close and after close", async () => {
    await labAndReplay(`file:${join(dir, "events")}`);
  }, 60_000);

  test("JetStream: the same lab on a real nats-server, replayed from nats://", async () => {
    await labAndReplay(`${nats.url}/LAB`);
  }, 60_000);
});

describe("the CLI: l2tp lab --events, then l2tp replay", () => {
  for (const kind of ["file", "nats"] as const) {
    test(`l2tp lab --events ${kind}: the summary says where, the replay has every session closed`, async () => {
      // Each source its own store: a second stream on the same server would overlap the subjects l2tp.>.
      const server = kind === "nats" ? await startNatsServer() : undefined;
      try {
        const source = server ? server.url : `file:${join(dir, "cli")}`;
        const lab = l2tp(
          "lab",
          "--sessions",
          "40",
          "--tunnels",
          "2",
          "--hold",
          "0.2",
          "--events",
          source,
          "--json",
        );
        if (lab.code !== 0) throw new Error(`l2tp lab failed (${lab.code}):\n${lab.out}${lab.err}`);
        const report = JSON.parse(lab.out.trim().split("\n").at(-1) as string);
        expect(report.events.unstored).toBe(0);
        // With --json the human report goes to stderr: stdout is the JSON line alone.
        expect(lab.out.trim().split("\n")).toHaveLength(1);
        expect(lab.err).toMatch(/events {7}[\d,]+ events recorded \(lns [\d,]+, lac [\d,]+\) in /);
        const tree = replayedAt(source, Date.now());
        expect(tree.events).toBe(report.events.recorded.lns + report.events.recorded.lac);
        const states = treeStates(tree);
        expect(countByKind(states, "session")).toEqual({ "closed done": 80 });
        expect(countByKind(states, "tunnel")).toEqual({ "closed done": 4 });

        // The timeline of one LNS session: its life in order, one line per transition.
        const lnsSession = [...states.keys()].find((k) => k.startsWith("lns ") && k.split("/").length === 3);
        const [destination, tunnel, session] = ((lnsSession as string).split(" ")[1] ?? "").split("/");
        const lines = l2tp("replay", source, "--node", "lns", "--session", session as string);
        expect(lines.code).toBe(0);
        const mine = lines.out.trim().split("\n");
        expect(mine.length).toBeGreaterThanOrEqual(3);
        // The session and its PPP link (the lab's calls carry a subscriber).
        for (const line of mine)
          expect(line).toMatch(new RegExp(` lns ${destination}/${tunnel}/${session} (session|ppp) `));
        expect(mine.some((line) => / ppp .* → opened /.test(line))).toBe(true);
        expect(mine[0]).toContain("(new) → ");
        expect(mine.some((line) => / → established {2}rx\.ICCN/.test(line))).toBe(true);
        expect(mine.at(-1)).toMatch(/ → closed {2}/);
        expect(lines.err).toMatch(new RegExp(`^${mine.length} of [\\d,]+ events in `));

        // Filters: the cause, and a time window that holds nothing.
        const iccn = l2tp("replay", source, "--cause", "rx.ICCN", "--json").out.trim().split("\n");
        expect(iccn.length).toBe(40); // the LNS's sessions, established by the LAC's ICCN (RFC 2661 §7.2.1)
        for (const json of iccn) expect(JSON.parse(json)).toMatchObject({ node: "lns", cause: "rx.ICCN" });
        const rx = l2tp("replay", source, "--cause", "rx.*", "--node", "lac", "--json")
          .out.trim()
          .split("\n");
        expect(new Set(rx.map((json) => JSON.parse(json).cause))).toEqual(new Set(["rx.SCCRP", "rx.ICRP"]));
        expect(l2tp("replay", source, "--until", "2000-01-01T00:00:00Z").out).toBe("");
        expect(l2tp("replay", source, "--since", "now", "--json").out).toBe("");
      } finally {
        await server?.dispose();
      }
    }, 60_000);
  }
});

/** The tests below run the CLI several times, each a Bun start: seconds on a loaded or fresh machine. */
const CLI_TEST_TIMEOUT_MS = 60_000;

describe("l2tp replay: clear errors", () => {
  test(
    "a bad SOURCE names the valid forms; a missing file log and memory: say why",
    () => {
      const bad = l2tp("replay", "kafka://x");
      expect(bad.code).toBe(1);
      expect(bad.err).toContain(
        "expected file:DIR, memory: or nats://host:port[,host:port…][/STREAM][?replicas=N]",
      );
      const missing = l2tp("replay", `file:${join(dir, "nothing-here")}`);
      expect(missing.code).toBe(1);
      expect(missing.err).toContain("no event log there");
      expect(l2tp("replay", "memory:").err).toContain("a memory log is gone when its process ends");
      expect(l2tp("replay").code).toBe(2);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  test(
    "a bad time names the flag and the forms",
    () => {
      const r = l2tp("replay", `file:${dir}`, "--since", "yesterday");
      expect(r.code).toBe(2); // a mistake of the command line
      expect(r.err).toContain("--since: 'yesterday' is not a time; expected ISO 8601");
      expect(l2tp("replay", `file:${dir}`, "--at=-5m", "--cause", "rx.CDN").err).toContain(
        "--since, --until and --cause are for the timeline only",
      );
    },
    CLI_TEST_TIMEOUT_MS,
  );

  test("parseTime: ISO 8601, epoch ms, now, relative", () => {
    const now = Date.parse("2024-05-01T10:00:00Z");
    expect(parseTime("--at", "2024-05-01T10:00:00Z", now)).toBe(now);
    expect(parseTime("--at", "2024-05-01T12:00:00.250+02:00", now)).toBe(now + 250);
    expect(parseTime("--at", "1714557600000", now)).toBe(now);
    expect(parseTime("--at", "now", now)).toBe(now);
    expect(parseTime("--at", "-5m", now)).toBe(now - 300_000);
    expect(parseTime("--at", "-1.5h", now)).toBe(now - 5_400_000);
    expect(parseTime("--at", "-250ms", now)).toBe(now - 250);
    for (const bad of ["May 1", "5m", "-5x", "2024-13-45T99:00:00Z", ""]) {
      expect(() => parseTime("--until", bad, now)).toThrow("--until: ");
    }
  });
});
