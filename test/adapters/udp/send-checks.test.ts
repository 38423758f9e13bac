/**
 * Issue 13.1 (datagrams leave a socket in the order they were sent) and issue 12.1 (a send error
 * costs only the peer it belongs to), over real loopback UDP, on Bun (both of its adapters) and on
 * Deno (send-checks.ts run by `deno run -A`, its JSON checked here: Deno's default adapter, libc over FFI, and node:dgram).
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { controlBurstOrder, peerErrorLoss } from "./send-checks.ts";

const inOrder = (n: number) => Array.from({ length: n }, (_, i) => i);

for (const implementation of ["node", "bun"] as const) {
  describe(`Bun, bindUdp (${implementation})`, () => {
    test("a burst of 64 control messages on one tunnel arrives in Ns order", async () => {
      const { received, sender } = await controlBurstOrder(implementation);
      expect(received).toEqual(inOrder(64));
      expect(sender.sendErrors).toBe(0);
    });

    test("an ICMP port unreachable from a gone peer costs a healthy peer nothing", async () => {
      const { received, sentToHealthy, sender } = await peerErrorLoss(implementation);
      expect(received).toEqual(inOrder(sentToHealthy));
      // Bun's sockets get the ICMP errors (IP_RECVERR): they are counted apart from lost sends.
      expect(sender.peerErrors).toBeGreaterThan(0);
      expect(sender.sendErrors).toBe(0);
    });
  });
}

// Deno's default (libc over FFI, adapters/udp/deno.ts) and node:dgram, whose concurrent sends Deno used to
// reorder (adapters/udp/node.ts: one in flight).
for (const [implementation, expected] of [
  [undefined, "deno-ffi"],
  ["node", "node:dgram"],
] as const) {
  describe(`Deno, bindUdp (${expected})`, () => {
    test("the same burst in order, the same healthy peer served whole", () => {
      const run = spawnSync(
        "node_modules/.bin/deno",
        [
          "run",
          "-A",
          "test/adapters/udp/send-checks.ts",
          ...(implementation ? ["--implementation", implementation] : []),
        ],
        { encoding: "utf8", timeout: 30_000 },
      );
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      const { burst, peerError } = JSON.parse(run.stdout);
      expect(burst.implementation).toBe(expected);
      expect(burst.received).toEqual(inOrder(64));
      expect(burst.sender.sendErrors).toBe(0);
      expect(peerError.received).toEqual(inOrder(peerError.sentToHealthy));
      expect(peerError.sender.sendErrors).toBe(0);
    }, 40_000);
  });
}
