/**
 * The Stately bridge in `l2tp run` (bin/commands/run.ts wires it into the node's inspect callback and its
 * admin API): a LAC and an LNS from YAML files on loopback; `l2tp stately` makes the LAC follow its
 * tunnel to a WebSocket server of this test on 127.0.0.1 (the "Stately inspector"); the server then goes
 * away, the node says so and goes on placing calls.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { statelyInspector, until } from "../support/stately.ts";
import { killStartedNodes, l2tpAsync, startLnsAndLac } from "./l2tp-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "l2tp-stately-"));
afterEach(killStartedNodes);
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

test("l2tp run follows a tunnel to a Stately inspector on command, and outlives it", async () => {
  const { lns, lac, udp, lacUrl: admin } = await startLnsAndLac(dir);
  const dial = async () => {
    const r = await l2tpAsync(["dial", `127.0.0.1:${udp}`, "--admin", admin]);
    expect(r.err).toBe("");
    return Number(/^established: tunnel (\d+) session \d+$/m.exec(r.out)?.[1]);
  };
  const tunnel = await dial();
  expect(tunnel).toBeGreaterThan(0);

  const inspector = statelyInspector();
  const { url, received } = inspector;
  const actor = `lac1/127.0.0.1:${udp}/${tunnel}`;
  try {
    const follow = await l2tpAsync(["stately", "--url", url, "--actor", actor, "--admin", admin]);
    expect(follow.err).toBe("");
    expect(follow.out).toContain(`stately: following ${actor}`);
    await until("the tunnel announced", () => received.length > 0);
    expect(received[0]).toMatchObject({
      type: "@xstate.actor",
      sessionId: actor,
      snapshot: { value: "established" },
    });

    // Another call on the tunnel: its events reach the inspector, and only its.
    expect(await dial()).toBe(tunnel);
    await until("the tunnel's events", () => received.some((m) => m.type === "@xstate.event"));
    expect(received.every((m) => m.sessionId === actor)).toBe(true);
    expect(JSON.stringify(received)).not.toContain("s3cret");
  } finally {
    inspector.stop();
  }
  await until("the node tells the inspector is gone", () =>
    lac.err().includes("l2tp run: stately: the Stately inspector"),
  );
  expect(lac.err()).toContain("closed the connection");
  const status = await l2tpAsync(["stately", "--admin", admin]);
  expect(status.out).toContain("stately: following nothing (the last follow ended: the Stately inspector");
  expect(await dial()).toBe(tunnel);

  for (const { child } of [lac, lns]) {
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  }
}, 60_000);
