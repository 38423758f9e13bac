/**
 * The benchmarks' side of bench/lns-child.ts: starts the lab's LNS in a process of the same runtime
 * (so that each side's RSS and CPU are its own) and speaks its line protocol.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { NODE_ALLOCATOR_ENV } from "../adapters/allocator/index.ts";
import type { LabLns, LabReport } from "../bin/commands/lab.ts";
import type { RecordingSummary } from "../bin/commands/recording.ts";
import { runtimeCommand as benchCommand } from "./measure.ts";

/** Runtime flags that write a CPU profile into `dir`, as .cpuprofile and Markdown (Bun only: Deno has no --cpu-prof). */
export function profileFlags(dir: string | undefined): string[] {
  return dir && !("Deno" in globalThis)
    ? ["--cpu-prof", "--cpu-prof-md", "--cpu-prof-interval=250", `--cpu-prof-dir=${dir}`]
    : [];
}

/** The command line that runs a script of bench/ on the runtime running this one. */
export const runtimeCommand = (script: string, args: string[], flags: string[] = []): [string, string[]] =>
  benchCommand(script, import.meta.url, args, flags);

/** The LNS child: its lab handle, a command channel, and what it said when it closed. */
export interface ChildLns {
  lab: LabLns;
  /** The same LNS, whose close leaves it running once its tunnels are gone (for a round before the last). */
  settling: LabLns;
  /** Asks the child (`count`, `registries`, `heap`; see bench/lns-child.ts) and resolves with its answer. */
  ask(command: "count" | "registries" | "heap"): Promise<Record<string, unknown>>;
  final?: { peakRss: number; cpuMicros: number };
}

/** Starts bench/lns-child.ts in a process of the same runtime and speaks its line protocol. */
export async function startChildLns(
  profile: string | undefined,
  events: string | undefined,
  extraArgs: string[] = [],
): Promise<ChildLns> {
  const [cmd, args] = runtimeCommand(
    "./lns-child.ts",
    [...(events ? ["--events", events] : []), ...extraArgs],
    profileFlags(profile),
  );
  // The node's allocator options (adapters/allocator) in its environment: a profiled child cannot start
  // itself again with them. The caller's own environment wins.
  const child = spawn(cmd, args, {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...NODE_ALLOCATOR_ENV, ...process.env },
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  // One command at a time: answers come back in order.
  let queue: Promise<unknown> = Promise.resolve();
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next();
    if (line.done) throw new Error("bench/setup: the LNS child exited");
    return JSON.parse(line.value);
  };
  const ask = (command: string): Promise<Record<string, unknown>> => {
    const answer = queue.then(() => {
      child.stdin.write(`${command}\n`);
      return next();
    });
    queue = answer.catch(() => {});
    return answer;
  };
  const { port } = (await next()) as { port: number };
  /** What the child answers when a round ends (settle) or when it closes. */
  type RoundEnd = {
    registries: LabReport["leftover"]["lns"];
    sent: Record<string, number>;
    peakRss?: number;
    cpuMicros?: number;
    events?: RecordingSummary;
  };
  // Both handles reach the same LNS; they differ in what ends a round.
  const lnsHandle = (end: (answer: RoundEnd) => LabReport["leftover"]["lns"], command: string): LabLns => {
    const lab: LabLns = {
      peer: { address: "127.0.0.1", port },
      count: async () => (await ask("count")) as { tunnels: number; sessions: number },
      close: async () => {
        const answer = (await ask(command)) as RoundEnd;
        lab.sent = answer.sent;
        if (answer.events) lab.events = answer.events;
        return end(answer);
      },
    };
    return lab;
  };
  const handle: ChildLns = {
    ask,
    // A settled LNS still runs: its system actor and its destinations' actors stay (a destination ends
    // only after its idle time). What it holds beyond those is what the lab's leftover check must see
    // (all zero when nothing leaked).
    settling: lnsHandle(
      ({ registries: r }) => ({ ...r, liveActors: r.liveActors - 1 - r.destinations, destinations: 0 }),
      "settle",
    ),
    lab: lnsHandle((answer) => {
      handle.final = { peakRss: answer.peakRss ?? 0, cpuMicros: answer.cpuMicros ?? 0 };
      return answer.registries;
    }, "close"),
  };
  return handle;
}
