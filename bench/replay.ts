/**
 * bench/replay (issue 4): how fast `l2tp replay` folds a big file log. Writes N synthetic envelopes
 * (default 1,000,000: the life of sessions on 500 tunnels, as a busy LNS records it: created, set up,
 * established, closed, with context data like the real machines') to a file log in a temp dir, then
 * measures, each on a fresh read of the log:
 *   read      the log's read alone (CRC, UTF-8, JSON, envelope decode)
 *   fold      read + evolve into the tree: what `l2tp replay SOURCE --at TIME` does (treeAt)
 *   timeline  read + filter + one text line per envelope (no output): `l2tp replay SOURCE`
 *   cli       the real command in a child process: `l2tp replay file:DIR --at now --json > /dev/null`
 *
 *   node_modules/.bin/bun bench/replay.ts [--events N] [--dir DIR] [--keep]
 *   node_modules/.bin/deno run -A bench/replay.ts
 * Prints a human line per case and one JSON line with every figure.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { openFileEventLog } from "../adapters/event-log/file.ts";
import { timeline, treeAt } from "../bin/commands/replay.ts";
import type { Envelope } from "../events/envelope.ts";
import { timelineLine } from "../events/timeline.ts";
import { runtimeName } from "./measure.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    dir: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const total = Number(values.events);
const dir = values.dir ?? mkdtempSync(join(tmpdir(), "l2tp-bench-replay-"));
const T0 = 1_700_000_000_000;
const DESTINATION = "127.0.0.2:1701";

/** The i-th synthetic envelope of node `lns` (seq i + 1): sessions live through four states. */
function envelope(i: number): Envelope {
  const step = i % 4;
  const call = Math.floor(i / 4);
  const tunnel = 1 + (call % 500);
  const session = 1 + (Math.floor(call / 500) % 65_000);
  const base = {
    v: 1 as const,
    node: "lns",
    seq: i + 1,
    time: T0 + Math.floor(i / 10),
    machine: "session" as const,
  };
  const path = { destination: DESTINATION, tunnel, session };
  switch (step) {
    case 0:
      return {
        ...base,
        path,
        from: null,
        to: "wait-connect",
        cause: "xstate.init",
        data: {
          kind: "lns-incoming",
          localSessionId: session,
          setupTimeoutMs: 120_000,
          peerSessionId: call & 0xffff,
          wasEstablished: false,
        },
      };
    case 1:
      return {
        ...base,
        path,
        from: "wait-connect",
        to: "established",
        cause: "rx.ICCN",
        data: { wasEstablished: true },
      };
    case 2:
      return {
        ...base,
        path,
        from: "established",
        to: "established",
        cause: "rx.SLI",
        data: { accm: { send: 0, receive: 0xffffffff } },
      };
    default:
      return {
        ...base,
        path,
        from: "established",
        to: "closed",
        cause: "rx.CDN",
        data: {
          status: "done",
          cause: {
            reason: "peer",
            message: "peer disconnected the call (CDN result 1)",
            resultCode: { result: 1 },
          },
        },
      };
  }
}

async function write(): Promise<number> {
  const log = openFileEventLog(dir, { fsync: "never" });
  const started = performance.now();
  const batch = 1000;
  for (let i = 0; i < total; i += batch) {
    const envelopes: Envelope[] = [];
    for (let j = i; j < Math.min(total, i + batch); j++) envelopes.push(envelope(j));
    await log.append(envelopes);
  }
  await log.close();
  return (performance.now() - started) / 1000;
}

interface Case {
  name: string;
  events: number;
  seconds: number;
  perSecond: number;
}

async function timed(name: string, run: () => Promise<number>): Promise<Case> {
  const started = performance.now();
  const events = await run();
  const seconds = (performance.now() - started) / 1000;
  return { name, events, seconds, perSecond: Math.round(events / seconds) };
}

const written = await write();
const cases: Case[] = [
  { name: "write", events: total, seconds: written, perSecond: Math.round(total / written) },
];

cases.push(
  await timed("read", async () => {
    const log = openFileEventLog(dir);
    let n = 0;
    for await (const _ of log.read()) n++;
    await log.close();
    return n;
  }),
);
cases.push(
  await timed("fold", async () => {
    const log = openFileEventLog(dir);
    const tree = await treeAt(log, Number.POSITIVE_INFINITY);
    await log.close();
    const sessions = Object.values(tree.nodes.lns?.destinations[DESTINATION]?.tunnels ?? {}).reduce(
      (n, t) => n + Object.keys(t.sessions).length,
      0,
    );
    if (sessions !== Math.min(total / 4, 500 * 65_000)) throw new Error(`fold: ${sessions} sessions`);
    return tree.events;
  }),
);
cases.push(
  await timed("timeline", async () => {
    const log = openFileEventLog(dir);
    let chars = 0;
    const { matched } = await timeline(log, { cause: "rx.*" }, (e) => {
      chars += timelineLine(e).length;
    });
    await log.close();
    if (chars === 0) throw new Error("timeline: nothing");
    return (matched * 4) / 3; // every envelope was read and filtered; 3 of 4 printed
  }),
);
cases.push(
  await timed("cli", async () => {
    const cli = new URL("../bin/l2tp.ts", import.meta.url).pathname;
    const args = ["replay", `file:${dir}`, "--at", "now", "--json"];
    const [cmd, argv] =
      "Deno" in globalThis
        ? [process.execPath, ["run", "-A", cli, ...args]]
        : [process.execPath, [cli, ...args]];
    const r = spawnSync(cmd, argv, { stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`l2tp replay exited ${r.status}`);
    const tree = JSON.parse(String(r.stdout)) as { events: number };
    return tree.events;
  }),
);

const n = (x: number) => Math.round(x).toLocaleString("en-US");
for (const c of cases) {
  console.log(
    `${runtimeName().padEnd(5)} replay ${c.name.padEnd(8)} ${n(c.events).padStart(9)} events in ${c.seconds.toFixed(2).padStart(6)} s: ${n(c.perSecond).padStart(9)} events/s`,
  );
}
console.log(JSON.stringify({ bench: "replay", runtime: runtimeName(), events: total, cases }));
if (!values.keep && values.dir === undefined) rmSync(dir, { recursive: true, force: true });
