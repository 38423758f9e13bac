import { describe, expect, test } from "bun:test";
import { cause } from "../../machines/common.ts";
import { systemMachine } from "../../machines/system.ts";
import { drive } from "./harness.ts";

const input = { path: { system: "n1" }, hostName: "lac.test", closeTimeoutMs: 1000 };

describe("system machine", () => {
  test("admits while enabled; drain and shutdown refuse new work; shutdown closes the destinations", () => {
    const d = drive(systemMachine, input);
    d.actor.send({ type: "request", requestId: 1, what: "session" });
    expect(d.emitted.at(-1)).toEqual({ type: "admitted", requestId: 1 });
    d.actor.send({ type: "admin", state: "drain" });
    d.actor.send({ type: "request", requestId: 2, what: "tunnel" });
    expect(d.emitted.at(-1)).toMatchObject({ type: "refuse", requestId: 2, cause: { reason: "refused" } });
    expect(d.of("closeDestinations")).toHaveLength(0);
    d.actor.send({ type: "admin", state: "shutdown" });
    expect(d.of("closeDestinations")).toHaveLength(1);
    d.actor.send({ type: "request", requestId: 3, what: "session" });
    expect(d.emitted.at(-1)).toMatchObject({ type: "refuse", requestId: 3 });
    d.actor.send({ type: "admin", state: "enabled" });
    d.actor.send({ type: "request", requestId: 4, what: "session" });
    expect(d.emitted.at(-1)).toEqual({ type: "admitted", requestId: 4 });
    expect(d.actor.getSnapshot().status).toBe("active");
  });

  test("close waits for every destination, then finishes", () => {
    const d = drive(systemMachine, input);
    d.actor.send({ type: "destinationOpened", destination: "a" });
    d.actor.send({ type: "close", cause: cause("admin", "stop") });
    expect(d.of("closeDestinations")).toHaveLength(1);
    d.actor.send({ type: "request", requestId: 1, what: "session" });
    expect(d.emitted.at(-1)).toMatchObject({ type: "refuse" });
    expect(d.actor.getSnapshot().status).toBe("active");
    d.actor.send({ type: "destinationEnded", destination: "a" });
    expect(d.actor.getSnapshot().status).toBe("done");
    expect(d.actor.getSnapshot().output).toMatchObject({
      cause: { reason: "admin" },
      abandonedDestinations: 0,
    });
  });

  test("close gives up on destinations after the timeout", () => {
    const d = drive(systemMachine, input);
    d.actor.send({ type: "destinationOpened", destination: "a" });
    d.actor.send({ type: "close", cause: cause("admin", "stop") });
    d.clock.advance(1000);
    expect(d.actor.getSnapshot().output?.abandonedDestinations).toBe(1);
  });
});
