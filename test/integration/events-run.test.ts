/**
 * `l2tp run` records every transition (issue 4 item 1): an LNS and a LAC started from config files that
 * say `events: "memory:"`, overridden on the command line with `--events file:DIR` (one directory for
 * both: a directory per node inside); calls dialled through the admin API; SIGINT; each process prints
 * how many events it recorded and where; `l2tp replay file:DIR` then shows both nodes' calls
 * established and closed, and the node names of the config files.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ActorTree } from "../../events/replay.ts";
import { killStartedNodes, l2tp, startLnsAndLac } from "./l2tp-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "l2tp-events-run-"));
afterEach(killStartedNodes);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("l2tp run --events file:DIR overrides the config, records both nodes, says so on close", async () => {
  const events = `file:${join(dir, "events")}`;
  const { lns, lac, udp, lacUrl } = await startLnsAndLac(dir, {
    names: ["lns-1", "lac_1"],
    args: ["--events", events],
  });
  expect(lns.out()).toContain(`events file:${join(dir, "events")};`);

  const dialed = l2tp("dial", `127.0.0.1:${udp}`, "--count", "3", "--admin", lacUrl);
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
  expect(r.err).toContain(
    "expected file:DIR, memory: or nats://host:port[,host:port…][/STREAM][?replicas=N]",
  );
  expect(r.out).toBe("");
});
