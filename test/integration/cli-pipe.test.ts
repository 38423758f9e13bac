/**
 * `l2tp show | head -1`: a reader that leaves early is not an error. The command runs as an operator
 * runs it, in a process of its own whose stdout goes to a pipe nobody reads (`| true`), against a real
 * admin API on loopback.
 */
import { afterEach, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import process from "node:process";
import { createNode } from "../../actors/node.ts";
import { type AdminServer, startAdminServer } from "../../adapters/admin/server.ts";
import { SimulatedClock } from "../../adapters/clock/index.ts";
import { SeededRandom } from "../../adapters/random/index.ts";
import { MemoryNetwork } from "../../adapters/udp/index.ts";
import { cli } from "./l2tp-cli.ts";

let admin: AdminServer | undefined;
afterEach(async () => {
  await admin?.close();
});

test("show into a pipe whose reader left: no EPIPE stack trace, exit 0", async () => {
  const clock = new SimulatedClock();
  const random = new SeededRandom(1);
  const node = createNode(
    { name: "lns", hostName: "lns.test" },
    { transport: new MemoryNetwork({ clock, random }).bind("10.0.0.1", 1701), clock, random },
  );
  admin = await startAdminServer(node, { address: "127.0.0.1", port: 0 });
  const child = spawn("sh", ["-c", `'${process.execPath}' '${cli}' show --admin ${admin.url} | true`], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (chunk) => {
    err += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  expect(err).toBe("");
  expect(code).toBe(0);
  void node.close();
}, 20_000);
