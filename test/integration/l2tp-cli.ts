/**
 * The `l2tp` command as an operator runs it, for the integration tests: a process of its own on this
 * runtime, either run to its end (`l2tp`) or started as a node and left running (`startNode`).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { freePort } from "../support/ports.ts";

/** The CLI's entry point. */
export const cli = join(import.meta.dir, "../../bin/l2tp.ts");

const started: ChildProcess[] = [];

/** Runs `l2tp ARGS` to its end (killed after `timeoutMs`, in `cwd` if given); its exit code and what it printed. */
export function l2tpWithin(
  timeoutMs: number,
  args: string[],
  cwd?: string,
): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: "utf8",
    timeout: timeoutMs,
    ...(cwd ? { cwd } : {}),
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Runs `l2tp ARGS` to its end (killed after 20 s); its exit code and what it printed. */
export function l2tp(...args: string[]): { code: number; out: string; err: string } {
  return l2tpWithin(20_000, args);
}

/**
 * Writes `yaml` to DIR/NAME.yaml and starts `l2tp run --config` on it with `args`; resolves once it
 * printed its admin API, with the process and a getter of everything it printed on stdout.
 */
export function startNode(
  dir: string,
  name: string,
  yaml: string,
  args: string[] = [],
): Promise<{ child: ChildProcess; out: () => string; err: () => string }> {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, yaml);
  const child = spawn(process.execPath, [cli, "run", "--config", path, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child);
  let out = "";
  let err = "";
  child.stderr?.on("data", (chunk) => {
    err += chunk;
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (chunk) => {
      out += chunk;
      if (out.includes("admin API")) resolve({ child, out: () => out, err: () => err });
    });
    child.on("exit", (code) => reject(new Error(`${name} exited ${code} before it was up: ${out}${err}`)));
  });
}

/** How `startLnsAndLac` differs from its defaults. */
export interface LnsAndLacOptions {
  /** Fields added to the LAC's destination (`, hide: [assignedSessionId]`). */
  lacDestination?: string;
  /** The nodes' names (default lns1 and lac1). */
  names?: [lns: string, lac: string];
  /** Options added to both `l2tp run` command lines (`--events file:DIR`). */
  args?: string[];
}

/**
 * An LNS (UDP 127.0.0.1:`udp`) and a LAC (127.0.0.2, toward the LNS) from YAML files in `dir`, secret
 * s3cret, events in memory unless `args` say otherwise, their admin APIs on free loopback ports.
 */
export async function startLnsAndLac(dir: string, options: LnsAndLacOptions = {}) {
  const { lacDestination = "", names = ["lns1", "lac1"], args = [] } = options;
  const [lnsAdmin, lacAdmin] = [await freePort(), await freePort()];
  const udp = 20000 + Math.floor(Math.random() * 20000);
  const lns = await startNode(
    dir,
    "lns",
    `node: { name: ${names[0]}, hostName: lns.test }
listen: [{ address: 127.0.0.1, port: ${udp} }]
admin: { address: 127.0.0.1, port: ${lnsAdmin} }
events: "memory:"
destinations: [{ address: 127.0.0.2, secret: s3cret, peerHostName: lac.test }]
`,
    args,
  );
  const lac = await startNode(
    dir,
    "lac",
    `node: { name: ${names[1]}, hostName: lac.test }
listen: [{ address: 127.0.0.2, port: 0 }]
admin: { address: 127.0.0.1, port: ${lacAdmin} }
events: "memory:"
destinations: [{ address: 127.0.0.1, port: ${udp}, secret: s3cret${lacDestination} }]
`,
    args,
  );
  return { lns, lac, udp, lnsUrl: `http://127.0.0.1:${lnsAdmin}`, lacUrl: `http://127.0.0.1:${lacAdmin}` };
}

/** Kills (SIGKILL) every node `startNode` started that is still there: for `afterEach`. */
export function killStartedNodes(): void {
  for (const c of started.splice(0)) c.kill("SIGKILL");
}

/**
 * Runs `l2tp ARGS` to its end without blocking this process's event loop (for a node served by this
 * same process); its exit code and what it printed. `env` is added to this process's environment.
 */
export function l2tpAsync(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const child = spawn(process.execPath, [cli, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk) => {
    out += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    err += chunk;
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, out, err })));
}
