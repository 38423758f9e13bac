/**
 * bench/ppp-path: the PPP code path of one subscriber set-up, both ends in this process with no network
 * (LCP both ways, CHAP, IPCP with a Nak of 0.0.0.0 and DNS): what bench/ppp's CPU per set-up is made of
 * once the L2TP call and the sockets are taken away.
 *
 *   node_modules/.bin/bun bench/ppp-path.ts
 *
 * Cases, each per set-up of both ends (a server and a client endpoint):
 * - "endpoint": pppStart/pppStep alone, effects relayed by hand: the protocol work (the reference);
 * - "actors": the same endpoints as XState actors (pppLogic) spawned by the node's Supervisor under a
 *   session-level parent, frames sent to them with actor.send, effects through their sink, stopped at
 *   the end: what a node runs per set-up, less the L2TP session and the sockets.
 * The difference is what the actor machinery costs. Prints a human line per case and one JSON line.
 *
 * On Bun it also reports the bytes each case allocates per set-up: what the garbage collector's threads
 * (JSCWarmUp, HeapHelper) and the main thread's collections cost in proportion to. JSC says nothing of
 * it through an API, so the bench runs itself again with JSC's GC log on (`BUN_JSC_logGC=1`: a line at
 * each collection with the bytes allocated since the last) and adds those up between its marks, over
 * 20,000 set-ups a case (one collection's worth, ~8 MB, is the error: under 2%).
 */

import process from "node:process";
import { Supervisor } from "../actors/supervisor.ts";
import { realClock } from "../adapters/clock/index.ts";
import type { ActorPath } from "../machines/common.ts";
import {
  PPP_DEFAULTS,
  type PppContext,
  type PppEffect,
  type PppEvent,
  type PppInput,
  type PppSettings,
  pppStart,
  pppStep,
} from "../machines/ppp/endpoint.ts";
import { type PppLogic, pppLogic, sinkPppEffects } from "../machines/ppp/ppp-logic.ts";
import { systemMachine } from "../machines/system.ts";
import { runtimeName } from "./measure.ts";

const server: PppSettings = {
  ...PPP_DEFAULTS,
  role: "server",
  hostName: "lns.bench",
  authProtocols: ["chap"],
  localAddress: "10.0.0.1",
  dns: ["10.0.0.53", "10.0.0.54"],
};
const client: PppSettings = {
  ...PPP_DEFAULTS,
  role: "client",
  hostName: "lac.bench",
  authProtocols: ["chap"],
  user: "user0",
  password: "pw-0-secret",
  dns: ["0.0.0.0"],
};
const challenge = new Uint8Array(16).fill(7);
const path: ActorPath = { system: "bench", destination: "d", tunnel: 1, session: 1, ppp: true };
const inputs = (i: number): [PppInput, PppInput] => [
  { path, settings: server, magic: (0x1234 + i) >>> 0 || 1, challenge },
  { path, settings: client, magic: (0x9876 + i) >>> 0 || 1 },
];

/** What one end asks of the other (frames) and of its wiring (AAA, address), as events to deliver. */
function relay(side: number, effect: PppEffect, queue: [number, PppEvent][]): boolean {
  if (effect.type === "send")
    queue.push([side ^ 1, { type: "frame", protocol: effect.protocol, payload: effect.payload }]);
  else if (effect.type === "authenticate")
    queue.push([side, { type: "authenticated", ok: true, message: "" }]);
  else if (effect.type === "needAddress") queue.push([side, { type: "address", address: "10.64.0.1" }]);
  return effect.type === "up";
}

let n = 0;

/** Both endpoints as pure functions: the protocol's own work. */
function endpointSetup(): number {
  const queue: [number, PppEvent][] = [];
  const [s, c] = inputs(n++);
  let up = 0;
  const contexts: PppContext[] = [];
  for (const [side, input] of [s, c].entries()) {
    const out: PppEffect[] = [];
    contexts[side] = pppStart(input, out);
    for (const e of out) if (relay(side, e, queue)) up++;
  }
  for (let next = queue.shift(); next; next = queue.shift()) {
    const out: PppEffect[] = [];
    contexts[next[0]] = pppStep(contexts[next[0]], next[1], out);
    for (const e of out) if (relay(next[0], e, queue)) up++;
  }
  return up;
}

const supervisor = new Supervisor({ clock: realClock });
const root = supervisor.spawn({
  level: "system",
  key: "bench",
  path: { system: "bench" },
  machine: systemMachine,
  input: { path: { system: "bench" }, hostName: "bench" },
});
// Two long-lived parents at the session level (the PPP actor's parent on a node), joined to the root.
let parents = [0, 1].map((key) =>
  supervisor.spawn({ level: "session", key, path, machine: pppLogic, parent: root, input: inputs(key)[1] }),
);

/** Both endpoints as the node runs them: XState actors under a session-level parent. */
function actorSetup(): number {
  return actorPair(true);
}

/** One set-up of both ends as actors; `stop`: both are stopped once up (else they stay, for the heap figure). */
function actorPair(stop: boolean): number {
  const queue: [number, PppEvent][] = [];
  let up = 0;
  const nodes = inputs(n++).map((input, side) =>
    supervisor.spawn<PppLogic>({
      level: "ppp",
      key: "ppp",
      path,
      machine: pppLogic,
      input,
      parent: parents[side],
      wire: (actor) =>
        sinkPppEffects(actor, {
          pppEffect: (e) => {
            if (relay(side, e, queue)) up++;
          },
        }),
    }),
  );
  for (let next = queue.shift(); next; next = queue.shift()) nodes[next[0]].actor.send(next[1]);
  if (stop) for (const node of nodes) supervisor.stop(node);
  return up;
}

/**
 * CPU time (µs) per call of `op`, the median of `rounds` rounds of `count` calls after a warm-up round:
 * CPU rather than wall time, as the machine is shared (a busy neighbour stretches wall time, not CPU).
 */
function cpuPerCall(
  name: string,
  op: () => number,
  count = 5000,
  rounds = 7,
): { name: string; micros: number } {
  const cpu = () => {
    const { user, system } = process.cpuUsage();
    return user + system;
  };
  for (let i = 0; i < count; i++) op();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = cpu();
    for (let i = 0; i < count; i++)
      if (op() !== 2) throw new Error(`bench/ppp-path: ${name}: a set-up did not come up`);
    samples.push((cpu() - start) / count);
  }
  samples.sort((a, b) => a - b);
  return { name, micros: samples[Math.floor(rounds / 2)] };
}

/**
 * Heap (after a full GC, Bun only) per established link: `count` set-ups of both ends kept alive, each
 * end under a parent of its own (as each session is the parent of its PPP link).
 */
function heapPerLink(count = 10_000): number | undefined {
  const gc = (globalThis as { Bun?: { gc(full: boolean): void } }).Bun?.gc;
  if (!gc) return undefined;
  const heap = () => {
    gc(true);
    return process.memoryUsage().heapUsed;
  };
  let key = 2;
  const spawnParent = () =>
    supervisor.spawn({
      level: "session",
      key: key++,
      path,
      machine: pppLogic,
      parent: root,
      input: inputs(0)[1],
    });
  const spawnParents = () => [spawnParent(), spawnParent()];
  const families = Array.from({ length: count }, spawnParents);
  const before = heap();
  for (const family of families) {
    parents = family;
    actorPair(false);
  }
  const after = heap();
  if (families.length !== count) throw new Error("unreachable");
  return (after - before) / (2 * count);
}

/** The cases, by name, as `op`s of cpuPerCall. */
const CASES = { endpoint: endpointSetup, actors: actorSetup };
const ALLOCATION_SETUPS = 20_000;
const MARK = "bench/ppp-path allocation";

if (process.argv.includes("--allocation-child")) {
  // The child of allocationPerSetup: each case between two marks on stderr, where JSC's GC log goes.
  for (const [name, op] of Object.entries(CASES)) {
    for (let i = 0; i < 2000; i++) op();
    process.stderr.write(`${MARK} ${name} begin\n`);
    for (let i = 0; i < ALLOCATION_SETUPS; i++) op();
    process.stderr.write(`${MARK} ${name} end\n`);
  }
  process.exit(0);
}

/** Bytes each case allocates per set-up (Bun: JSC's GC log of a run of this bench in a child), or undefined. */
function allocationPerSetup(): Record<string, number> | undefined {
  const bun = (globalThis as { Bun?: { spawnSync(options: object): { stderr: Uint8Array } } }).Bun;
  if (!bun) return undefined;
  const child = bun.spawnSync({
    cmd: [process.execPath, import.meta.path, "--allocation-child"],
    env: { ...process.env, BUN_JSC_logGC: "1" },
    stdout: "ignore",
    stderr: "pipe",
  });
  const bytes: Record<string, number> = {};
  let current: string | undefined;
  for (const line of new TextDecoder().decode(child.stderr).split("\n")) {
    const mark = line.startsWith(MARK) ? line.slice(MARK.length + 1).split(" ") : undefined;
    if (mark) current = mark[1] === "begin" ? mark[0] : undefined;
    const allocated = /bytes allocated this cycle: (\d+)/.exec(line);
    if (current && allocated) bytes[current] = (bytes[current] ?? 0) + Number(allocated[1]);
  }
  // No GC line at all: this JSC words its log otherwise, and the figure is unknown rather than zero.
  if (Object.keys(bytes).length === 0) return undefined;
  return Object.fromEntries(
    Object.entries(bytes).map(([name, n]) => [name, Math.round(n / ALLOCATION_SETUPS)]),
  );
}

const results = Object.entries(CASES).map(([name, op]) => cpuPerCall(name, op));
const heapBytes = heapPerLink();
const allocated = allocationPerSetup();
for (const r of results) {
  console.log(
    `${runtimeName()} ppp-path ${r.name.padEnd(9)} ${r.micros.toFixed(1).padStart(6)} µs of CPU per set-up (both ends)`,
  );
}
for (const [name, bytes] of Object.entries(allocated ?? {}))
  console.log(
    `${runtimeName()} ppp-path ${name.padEnd(9)} ${bytes.toLocaleString("en-US")} B allocated per set-up (both ends)`,
  );
if (heapBytes !== undefined)
  console.log(
    `${runtimeName()} ppp-path heap per established link (actor, context, its parent's record): ${Math.round(heapBytes)} B`,
  );
console.log(
  JSON.stringify({
    bench: "ppp-path",
    runtime: runtimeName(),
    cpuMicrosPerSetup: Object.fromEntries(results.map((r) => [r.name, +r.micros.toFixed(2)])),
    heapBytesPerLink: heapBytes === undefined ? null : Math.round(heapBytes),
    allocatedBytesPerSetup: allocated ?? null,
  }),
);
