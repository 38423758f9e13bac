import { describe, expect, test } from "bun:test";
import { cause } from "../../machines/common.ts";
import {
  type DestinationInput,
  destinationMachine,
  LOCKOUT_MS,
  type TunnelLoad,
  tunnelWithRoom,
} from "../../machines/destination.ts";
import { drive } from "./harness.ts";

const input: DestinationInput = {
  path: { system: "n1", destination: "127.0.0.2:1701" },
  peer: { address: "127.0.0.2", port: 1701 },
  maxSessionsPerTunnel: 2,
  maxTunnels: 2,
};

function load(tunnelId: number, sessions: number, extra: Partial<TunnelLoad> = {}): TunnelLoad {
  return { tunnelId, phase: "established", sessions, admin: "enabled", test: false, ...extra };
}

const failed = { cause: cause("retries", "no answer"), wasEstablished: false };

describe("tunnelWithRoom", () => {
  test("prefers established tunnels, then the fullest with room", () => {
    const t = [load(1, 0, { phase: "opening" }), load(2, 1), load(3, 0), load(4, 2)];
    expect(tunnelWithRoom(t, 2)?.tunnelId).toBe(2);
    expect(tunnelWithRoom([load(1, 0, { phase: "opening" })], 2)?.tunnelId).toBe(1);
  });
  test("skips closing, draining, full and untested tunnels", () => {
    const t = [
      load(1, 0, { phase: "closing" }),
      load(2, 0, { admin: "drain" }),
      load(3, 2),
      load(4, 0, { test: true, phase: "opening" }),
    ];
    expect(tunnelWithRoom(t, 2)).toBeUndefined();
  });
});

describe("destination machine: placement", () => {
  test("uses an existing tunnel with room before opening another", () => {
    const d = drive(destinationMachine, input);
    d.actor.send({ type: "place", requestId: 1, tunnels: [] });
    expect(d.emitted.at(-1)).toEqual({ type: "openTunnel", requestId: 1, test: false });
    d.actor.send({ type: "place", requestId: 2, tunnels: [load(7, 1, { phase: "opening" })] });
    expect(d.emitted.at(-1)).toEqual({ type: "placeOn", requestId: 2, tunnelId: 7 });
    d.actor.send({ type: "place", requestId: 3, tunnels: [load(7, 2)] });
    expect(d.emitted.at(-1)).toEqual({ type: "openTunnel", requestId: 3, test: false });
    d.actor.send({ type: "place", requestId: 4, tunnels: [load(7, 2), load(8, 2)] });
    expect(d.emitted.at(-1)).toMatchObject({ type: "refuse", requestId: 4, cause: { reason: "refused" } });
  });

  test("drain and shutdown take nothing new; shutdown closes the tunnels", () => {
    const d = drive(destinationMachine, input);
    d.actor.send({ type: "admin", state: "drain" });
    d.actor.send({ type: "place", requestId: 1, tunnels: [load(7, 0)] });
    expect(d.emitted.at(-1)).toMatchObject({ type: "refuse", requestId: 1 });
    d.actor.send({ type: "admit", requestId: 2 });
    expect(d.emitted.at(-1)).toMatchObject({ type: "refuse", requestId: 2 });
    d.actor.send({ type: "admin", state: "shutdown" });
    expect(d.emitted.at(-1)).toMatchObject({ type: "closeTunnels", cause: { reason: "admin" } });
    d.actor.send({ type: "admin", state: "enabled" });
    d.actor.send({ type: "admit", requestId: 3 });
    expect(d.emitted.at(-1)).toEqual({ type: "admitted", requestId: 3 });
  });
});

describe("destination machine: lockout and test tunnel", () => {
  test("a tunnel that fails to establish locks the destination out for 300 s, then a test tunnel goes first", () => {
    const d = drive(destinationMachine, input);
    d.actor.send({ type: "place", requestId: 1, tunnels: [] });
    d.actor.send({ type: "tunnelOpened", tunnelId: 7, test: false });
    d.actor.send({ type: "tunnelEnded", tunnelId: 7, test: false, output: failed });
    expect(d.state()).toBe("lockedOut");
    expect(d.emitted.at(-1)).toMatchObject({ type: "refuseQueued", cause: { reason: "lockout" } });
    d.actor.send({ type: "place", requestId: 2, tunnels: [] });
    expect(d.emitted.at(-1)).toMatchObject({ type: "refuse", requestId: 2, cause: { reason: "lockout" } });
    d.clock.advance(LOCKOUT_MS - 1);
    expect(d.state()).toBe("lockedOut");
    d.clock.advance(1);
    expect(d.state()).toBe("probing");
    d.actor.send({ type: "place", requestId: 3, tunnels: [] });
    expect(d.emitted.slice(-2)).toEqual([
      { type: "openTunnel", test: true },
      { type: "queue", requestId: 3 },
    ]);
    expect(d.state()).toBe("testing");
    d.actor.send({ type: "place", requestId: 4, tunnels: [] });
    expect(d.emitted.at(-1)).toEqual({ type: "queue", requestId: 4 });
    d.actor.send({ type: "tunnelOpened", tunnelId: 9, test: true });
    d.actor.send({ type: "tunnelEstablished", tunnelId: 9, test: true });
    expect(d.state()).toStartWith("available");
    expect(d.emitted.at(-1)).toEqual({ type: "retryQueued" });
  });

  test("a failed test tunnel locks out again and refuses the queued requests", () => {
    const d = drive(destinationMachine, { ...input, lockoutMs: 1000 });
    d.actor.send({ type: "tunnelOpened", tunnelId: 7, test: false });
    d.actor.send({ type: "tunnelEnded", tunnelId: 7, test: false, output: failed });
    d.clock.advance(1000);
    d.actor.send({ type: "place", requestId: 3, tunnels: [] });
    d.actor.send({ type: "tunnelOpened", tunnelId: 9, test: true });
    d.actor.send({ type: "tunnelEnded", tunnelId: 9, test: true, output: failed });
    expect(d.state()).toBe("lockedOut");
    expect(d.emitted.at(-1)).toMatchObject({ type: "refuseQueued" });
    expect(d.actor.getSnapshot().context.lockouts).toBe(2);
  });

  test("tunnels closed by an admin or a lost tie-breaker do not lock out", () => {
    const d = drive(destinationMachine, input);
    for (const reason of ["admin", "parent", "tie-breaker"] as const) {
      d.actor.send({ type: "tunnelOpened", tunnelId: 7, test: false });
      d.actor.send({
        type: "tunnelEnded",
        tunnelId: 7,
        test: false,
        output: { cause: cause(reason, "x"), wasEstablished: false },
      });
      expect(d.state()).toStartWith("available");
    }
    d.actor.send({ type: "tunnelOpened", tunnelId: 8, test: false });
    d.actor.send({
      type: "tunnelEnded",
      tunnelId: 8,
      test: false,
      output: { ...failed, wasEstablished: true },
    });
    expect(d.state()).toStartWith("available");
  });
});

describe("destination machine: idle", () => {
  test("an unused destination ends after the idle time; one with tunnels does not", () => {
    const d = drive(destinationMachine, { ...input, idleMs: 1000 });
    d.actor.send({ type: "tunnelOpened", tunnelId: 1, test: false });
    d.clock.advance(5000);
    expect(d.state()).toBe("available.used");
    d.actor.send({
      type: "tunnelEnded",
      tunnelId: 1,
      test: false,
      output: { ...failed, wasEstablished: true },
    });
    expect(d.state()).toBe("available.unused");
    d.clock.advance(999);
    expect(d.actor.getSnapshot().status).toBe("active");
    d.clock.advance(1);
    expect(d.actor.getSnapshot().status).toBe("done");
    expect(d.actor.getSnapshot().output?.cause.reason).toBe("timeout");
  });
});

describe("destination machine: closing is a conversation", () => {
  test("asks every tunnel to close and finishes when the last one ended", () => {
    const d = drive(destinationMachine, input);
    d.actor.send({ type: "tunnelOpened", tunnelId: 1, test: false });
    d.actor.send({ type: "tunnelOpened", tunnelId: 2, test: false });
    d.actor.send({ type: "close", cause: cause("admin", "operator") });
    expect(d.of("closeTunnels")).toHaveLength(1);
    expect(d.state()).toBe("closing");
    d.actor.send({ type: "place", requestId: 5, tunnels: [] });
    expect(d.emitted.at(-1)).toMatchObject({ type: "refuse", requestId: 5 });
    d.actor.send({
      type: "tunnelEnded",
      tunnelId: 1,
      test: false,
      output: { ...failed, cause: cause("parent", "x") },
    });
    expect(d.actor.getSnapshot().status).toBe("active");
    d.actor.send({
      type: "tunnelEnded",
      tunnelId: 2,
      test: false,
      output: { ...failed, cause: cause("parent", "x") },
    });
    expect(d.actor.getSnapshot().status).toBe("done");
    expect(d.actor.getSnapshot().output).toMatchObject({ cause: { reason: "admin" }, abandonedTunnels: 0 });
  });

  test("gives up waiting after the close timeout", () => {
    const d = drive(destinationMachine, { ...input, closeTimeoutMs: 500 });
    d.actor.send({ type: "tunnelOpened", tunnelId: 1, test: false });
    d.actor.send({ type: "close", cause: cause("admin", "operator") });
    d.clock.advance(500);
    expect(d.actor.getSnapshot().status).toBe("done");
    expect(d.actor.getSnapshot().output?.abandonedTunnels).toBe(1);
  });

  test("with no tunnels it finishes at once", () => {
    const d = drive(destinationMachine, input);
    d.actor.send({ type: "close", cause: cause("admin", "operator") });
    expect(d.actor.getSnapshot().status).toBe("done");
  });
});
