/**
 * `l2tp run` records every transition (issue 4 item 1): an LNS and a LAC started from config files that
 * say `events: "memory:"`, overridden on the command line with `--events file:DIR` (one directory for
 * both: a directory per node inside); calls dialled through the admin API; SIGINT; each process prints
 * how many events it recorded and where; `l2tp replay file:DIR` then shows both nodes' calls
 * established and closed, and the node names of the config files.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { ActorTree } from "../../events/replay.ts";

const cli = join(import.meta.dir, "../../bin/l2tp.ts");
const dir = mkdtempSync(join(tmpdir(), "l2tp-events-run-"));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function l2tp(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 20_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `l2tp run`; resolves with the process and a getter of everything it printed. */
function startNode(
  name: string,
  yaml: string,
  events: string,
): Promise<{ child: ChildProcess; out: () => string }> {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, yaml);
  const child = spawn(process.execPath, [cli, "run", "--config", path, "--events", events], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  let out = "";
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (chunk) => {
      out += chunk;
      if (out.includes("admin API")) resolve({ child, out: () => out });
    });
    child.on("exit", (code) => reject(new Error(`${name} exited ${code} before it was up: ${out}`)));
  });
}

test("l2tp run --events file:DIR overrides the config, records both nodes, says so on close", async () => {
  const events = `file:${join(dir, "events")}`;
  const [lnsAdmin, lacAdmin] = [await freePort(), await freePort()];
  const udp = 20000 + Math.floor(Math.random() * 20000);
  const lns = await startNode(
    "lns",
    `node: { name: lns-1, hostName: lns.test }
listen: [{ address: 127.0.0.1, port: ${udp} }]
admin: { address: 127.0.0.1, port: ${lnsAdmin} }
events: "memory:"
destinations: [{ address: 127.0.0.2, secret: s3cret, peerHostName: lac.test }]
`,
    events,
  );
  const lac = await startNode(
    "lac",
    `node: { name: lac_1, hostName: lac.test }
listen: [{ address: 127.0.0.2, port: 0 }]
admin: { address: 127.0.0.1, port: ${lacAdmin} }
events: "memory:"
destinations: [{ address: 127.0.0.1, port: ${udp}, secret: s3cret }]
`,
    events,
  );
  expect(lns.out()).toContain(`events file:${join(dir, "events")};`);

  const dialed = l2tp("dial", `127.0.0.1:${udp}`, "--count", "3", "--admin", `http://127.0.0.1:${lacAdmin}`);
  expect(dialed.out.match(/^established: /gm)).toHaveLength(3);

  for (const node of [lac, lns]) {
    const exited = new Promise((resolve) => node.child.on("exit", resolve));
    node.child.kill("SIGINT");
    expect(await exited).toBe(0);
  }
  const recorded = (node: { out: () => string }, name: string) => {
    const match = new RegExp(
      `l2tp run: ([\\d,]+) events recorded \\(${name} ([\\d,]+)\\) in file:(.+)\\n`,
    ).exec(node.out());
    expect(match?.[3]).toBe(join(dir, "events"));
    return Number(match?.[1]?.replace(/,/g, ""));
  };
  const total = recorded(lns, "lns-1") + recorded(lac, "lac_1");

  const replayed = l2tp("replay", events, "--at", "now", "--json");
  expect(replayed.code).toBe(0);
  const tree = JSON.parse(replayed.out) as ActorTree;
  expect(tree.events).toBe(total);
  expect(Object.keys(tree.nodes).sort()).toEqual(["lac_1", "lns-1"]);
  for (const node of Object.values(tree.nodes)) {
    expect(node.system?.state).toBe("closed");
    const sessions = Object.values(node.destinations).flatMap((d) =>
      Object.values(d.tunnels).flatMap((t) => Object.values(t.sessions)),
    );
    expect(sessions).toHaveLength(3);
    for (const s of sessions) expect(s.state).toBe("closed");
  }
  // Each call went through established on both sides.
  const up = l2tp("replay", events, "--json")
    .out.trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  for (const name of ["lns-1", "lac_1"]) {
    expect(
      up.filter((e) => e.node === name && e.machine === "session" && e.to === "established"),
    ).toHaveLength(3);
  }
}, 30_000);

test("l2tp run with an event log it cannot open: a clear error, exit 1, nothing started", () => {
  const path = join(dir, "bad.yaml");
  writeFileSync(path, "node: { name: lns1 }\nlisten: [{ address: 127.0.0.1, port: 0 }]\n");
  const r = l2tp("run", "--config", path, "--events", "kafka://somewhere");
  expect(r.code).toBe(1);
  expect(r.err).toContain("cannot open the event log kafka://somewhere");
  expect(r.err).toContain("expected file:DIR, memory: or nats://host:port[/STREAM]");
  expect(r.out).toBe("");
});
