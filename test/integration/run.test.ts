/**
 * `l2tp run` as an operator runs it: two processes (an LNS and a LAC) from YAML files on loopback UDP,
 * driven through their admin APIs with the CLI (dial, show, drain, close), stopped with SIGINT.
 * And a bad config file: every bad field named with its fix, exit code 2, nothing started.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { freePort } from "../support/ports.ts";
import { killStartedNodes, l2tp, startLnsAndLac, startNode } from "./l2tp-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "l2tp-run-"));
afterEach(killStartedNodes);
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

test("an LNS and a LAC from config files, operated through the CLI", async () => {
  const { lns, lac, udp, lnsUrl, lacUrl } = await startLnsAndLac(dir, {
    lacDestination: ", hide: [assignedSessionId]",
  });

  // Each node started again with its allocator's options (adapters/allocator) and says so.
  if (process.env.MIMALLOC_PURGE_DELAY === undefined)
    for (const node of [lns, lac])
      expect(node.out()).toContain("allocator: mimalloc keeps the pages it frees");

  const dialed = l2tp("dial", `127.0.0.1:${udp}`, "--count", "3", "--admin", lacUrl);
  expect(dialed.err).toBe("");
  expect(dialed.out.match(/^established: tunnel \d+ session \d+$/gm)).toHaveLength(3);

  const shown = l2tp("show", "--sessions", "--admin", lnsUrl);
  expect(shown.out).toContain("tunnels 1  sessions 3");
  expect(shown.out.match(/session \d+ → \d+ {2}established/g)).toHaveLength(3);

  // Drain on the LNS: the LAC's next call is refused, the existing ones live on.
  expect(l2tp("drain", "--admin", lnsUrl).out).toBe("system: admin state drain\n");
  const refused = l2tp("dial", `127.0.0.1:${udp}`, "--admin", lacUrl);
  expect(refused.code).toBe(1);
  expect(refused.out).toMatch(/^failed: /m);
  expect(l2tp("show", "--admin", lnsUrl).out).toContain("sessions 3");
  l2tp("enable", "--admin", lnsUrl);

  expect(l2tp("close", "destination", `127.0.0.1:${udp}`, "--admin", lacUrl).code).toBe(0);
  for (let i = 0; i < 50 && !l2tp("show", "--admin", lnsUrl).out.includes("sessions 0"); i++)
    await Bun.sleep(50);
  expect(l2tp("show", "--admin", lnsUrl).out).toContain("sessions 0");

  for (const { child } of [lac, lns]) {
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  }
}, 30_000);

test("a bad config file: every bad field named with the fix, exit 2", () => {
  const path = join(dir, "bad.yaml");
  writeFileSync(
    path,
    `node: { name: lns1 }
listen: [{ address: 127.0.0.1, port: 70000 }]
destinations:
  - { address: 127.0.0.2, secrett: s3cret }
  - { address: 127.0.0.3, hide: [assignedSessionId] }
`,
  );
  const r = l2tp("run", "--config", path);
  expect(r.code).toBe(2);
  expect(r.out).toBe("");
  expect(r.err).toContain("config listen[0].port");
  expect(r.err).toContain('config destinations[0].secrett: unknown field; did you mean "secret"?');
  // Rules across fields are checked once every field reads right.
  writeFileSync(
    path,
    "node: { name: lns1 }\ndestinations: [{ address: 127.0.0.3, hide: [assignedSessionId] }]\n",
  );
  const hide = l2tp("run", "--config", path);
  expect(hide.code).toBe(2);
  expect(hide.err).toContain("config destinations[0].hide");
  expect(l2tp("run", "--config", join(dir, "missing.yaml")).err).toContain("no such file");
}, 30_000);

test("--warm-up N runs N synthetic calls in the process before the node binds, and says so; a bad N exits 2", async () => {
  const [admin] = [await freePort()];
  const udp = 20000 + Math.floor(Math.random() * 20000);
  const node = await startNode(
    dir,
    "warm",
    `node: { name: warm, hostName: warm.test }
listen: [{ address: 127.0.0.1, port: ${udp} }]
admin: { address: 127.0.0.1, port: ${admin} }
events: "memory:"
`,
    ["--warm-up", "200"],
  );
  expect(node.err()).toMatch(
    /warm-up: 200 synthetic calls with PPP through a LAC and an LNS in this process/,
  );
  const exited = new Promise((resolve) => node.child.on("exit", resolve));
  node.child.kill("SIGINT");
  expect(await exited).toBe(0);
  const bad = l2tp("run", "--config", join(dir, "warm.yaml"), "--warm-up", "lots");
  expect(bad.code).toBe(2);
  expect(bad.err).toContain("--warm-up: expected a whole number from 0 to 20,000, got 'lots'");
}, 60_000);
