/**
 * Deno's UDP adapter (libc over FFI, adapters/udp/deno.ts), run under Deno by deno-ffi-smoke.ts, its
 * JSON checked here: bursts of 2,000 whole and in order (the raised SO_RCVBUF), lengths on both sides of
 * the send slot, replies held to the end of a received batch, errors counted rather than thrown, bind
 * errors worded as on the other adapters, and a process that exits once its sockets are closed. Without
 * --allow-ffi bindUdp falls back to node:dgram and says why.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";

const SMOKE = "test/adapters/udp/deno-ffi-smoke.ts";
const deno = (flags: string[], args: string[] = []) =>
  spawnSync("node_modules/.bin/deno", ["run", ...flags, SMOKE, ...args], {
    encoding: "utf8",
    timeout: 30_000,
  });
const inOrder = { firstMisplaced: -1 };

describe("Deno, bindUdp over FFI", () => {
  test("bursts whole and in order, errors counted, the process exits after close", () => {
    const run = deno(["-A"]);
    expect(run.stderr).toBe("");
    // The smoke ends without process.exit: a receive loop left waiting would hold it to the timeout.
    expect(run.status).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r.implementation).toEqual(["deno-ffi", "deno-ffi"]);
    expect(r.ports.every((p: number) => p > 0)).toBe(true);
    expect(r.bursts).toEqual(Array(3).fill({ received: 2000, ...inOrder, fromA: true }));
    // 65,507 bytes (the most UDP over IPv4 carries) is cut at the receive slot, as node:dgram on Deno cuts.
    expect(r.mixed).toEqual({
      received: 11,
      ...inOrder,
      lengths: [2, 60, 2048, 2049, 3000, 60, 9000, 1500, 16384, 2, 60],
    });
    expect(r.echo).toEqual({ received: 500, ...inOrder });
    expect(r.threw).toBe(false);
    expect(r.refused).toBe(4);
    expect(r.afterClose).toBe(1);
    expect(r.inUse).toBe(
      `cannot bind UDP 127.0.0.1:${r.ports[0]}: EADDRINUSE: another process holds it (another node, xl2tpd?); stop it or pick another port`,
    );
    expect(r.notHere).toBe(
      "cannot bind UDP 192.0.2.1:0: EADDRNOTAVAIL: no interface of this machine has that address; pick one it has",
    );
    // shutdown(2) wakes the waiting recvmmsg at once (a receive timeout would take its whole period).
    expect(r.closeMs).toBeLessThan(50);
    expect(r.a).toEqual({
      sent: 6500,
      received: 511,
      sendErrors: 5,
      unhandled: 0,
      peerErrors: 0,
      sendWaits: 0,
      receiveErrors: 0,
    });
    expect(r.b).toEqual({
      sent: 511,
      received: 6500,
      sendErrors: 0,
      unhandled: 0,
      peerErrors: 0,
      sendWaits: 0,
      receiveErrors: 0,
    });
  }, 40_000);

  test("without --allow-ffi: node:dgram, and why", () => {
    const run = deno(["--allow-net", "--allow-read", "--allow-env", "--no-prompt"], ["--no-ffi"]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      implementation: "node:dgram",
      why: "no FFI permission (--allow-ffi)",
      burst: { received: 64, ...inOrder },
    });
  }, 40_000);
});
