/**
 * A real nats-server with JetStream for integration tests and benchmarks (docs/INTEROP.md): started on
 * 127.0.0.1 on a free port with its own store directory, stopped by PID, restartable on the same store
 * (the outage test kills it and starts it again with the same `-sd`). Runs on Bun and Deno (node: APIs).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { terminate } from "../../support/child-process.ts";
import { freePort } from "../../support/ports.ts";

/** One running (or stopped) nats-server and its store directory. */
export interface NatsServer {
  /** The client URL, `nats://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory (`-sd`). */
  readonly storeDir: string;
  /** The PID of the current process, undefined while stopped. */
  readonly pid: number | undefined;
  /** Stops the process with `signal` (default SIGTERM) and waits until it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and store directory; resolves when it accepts connections. */
  restart(): Promise<void>;
  /** Stops it (SIGKILL if SIGTERM is not enough) and removes the store directory. */
  dispose(): Promise<void>;
}

/** Where scripts/setup.sh installs the server (Debian's package). */
function natsServerBinary(): string {
  const found = spawnSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" });
  const path = found.stdout?.trim();
  if (found.status !== 0 || !path) {
    throw new Error(
      "nats-server is not installed: run scripts/setup.sh (it installs Debian's nats-server 2.9 with apt-get)",
    );
  }
  return path;
}

/** Resolves once a TCP connection to 127.0.0.1:port succeeds, rejects after `timeoutMs`. */
async function waitForPort(port: number, timeoutMs: number, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = exited();
    if (why) throw new Error(`nats-server exited before accepting connections: ${why}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not accept connections on port ${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Starts `nats-server -js -a 127.0.0.1 -p PORT -sd DIR` and resolves when it accepts connections.
 * Throws naming scripts/setup.sh when the server is not installed.
 */
export async function startNatsServer(
  options: { port?: number; storeDir?: string; args?: readonly string[] } = {},
): Promise<NatsServer> {
  const binary = natsServerBinary();
  const port = options.port ?? (await freePort());
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), "l2tp-nats-"));
  let child: ChildProcess | undefined;
  let exitedWith: string | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = "";

  const launch = async (): Promise<void> => {
    exitedWith = undefined;
    output = "";
    const args = ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir, ...(options.args ?? [])];
    const proc = spawn(binary, args, {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child = proc;
    proc.stderr?.on("data", (chunk: Uint8Array) => {
      // Keep only the tail: enough to say why it failed to start.
      output = (output + new TextDecoder().decode(chunk)).slice(-2000);
    });
    exited = new Promise((resolve) => {
      proc.once("exit", (code, signal) => {
        exitedWith = `code ${code} signal ${signal}; ${output.trim().split("\n").slice(-3).join(" | ")}`;
        if (child === proc) child = undefined;
        resolve();
      });
      proc.once("error", (error) => {
        exitedWith = String(error);
        if (child === proc) child = undefined;
        resolve();
      });
    });
    await waitForPort(port, 10_000, () => exitedWith);
  };

  const stop = async (signal: NodeJS.Signals = "SIGTERM"): Promise<void> => {
    const proc = child;
    if (!proc?.pid) return;
    process.kill(proc.pid, signal);
    await exited;
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get pid() {
      return child?.pid;
    },
    stop,
    restart: launch,
    async dispose() {
      if (child) await terminate(child, exited);
      if (!options.storeDir) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** Three nats-servers on loopback joined as one JetStream cluster (INTEROP.md), each its own store. */
export interface NatsCluster {
  readonly servers: readonly NatsServer[];
  /** Server names n1, n2, n3 (as JetStream names a stream's leader), in `servers` order. */
  readonly names: readonly string[];
  /** `nats://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3` (an event-log address's server part). */
  readonly hosts: string;
  dispose(): Promise<void>;
}

/** Starts a three-server JetStream cluster; resolves when each accepts client connections. */
export async function startNatsCluster(): Promise<NatsCluster> {
  const clientPorts = [await freePort(), await freePort(), await freePort()];
  const clusterPorts = [await freePort(), await freePort(), await freePort()];
  const names = ["n1", "n2", "n3"];
  const servers = await Promise.all(
    names.map((name, i) =>
      startNatsServer({
        port: clientPorts[i],
        args: [
          "--server_name",
          name,
          "--cluster_name",
          "l2tp-test",
          "--cluster",
          `nats://127.0.0.1:${clusterPorts[i]}`,
          "--routes",
          clusterPorts
            .filter((_, j) => j !== i)
            .map((p) => `nats://127.0.0.1:${p}`)
            .join(","),
        ],
      }),
    ),
  );
  return {
    servers,
    names,
    hosts: clientPorts.map((p) => `127.0.0.1:${p}`).join(","),
    async dispose() {
      await Promise.all(servers.map((s) => s.dispose()));
    },
  };
}
