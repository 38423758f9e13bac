import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  FileEventLog,
  MemoryEventLog,
  openEventLog,
  parseEventLogAddress,
} from "../../../adapters/event-log/index.ts";

const root = mkdtempSync(join(tmpdir(), "l2tp-open-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("event-log addresses", () => {
  test("the valid forms", () => {
    expect(parseEventLogAddress("memory:")).toEqual({ kind: "memory" });
    expect(parseEventLogAddress("file:var/events")).toEqual({ kind: "file", dir: "var/events" });
    expect(parseEventLogAddress("file:///var/lib/l2tp")).toEqual({ kind: "file", dir: "/var/lib/l2tp" });
    expect(parseEventLogAddress("nats://127.0.0.1:4333")).toEqual({
      kind: "nats",
      servers: "nats://127.0.0.1:4333",
    });
    expect(parseEventLogAddress("nats://127.0.0.1")).toEqual({
      kind: "nats",
      servers: "nats://127.0.0.1:4222",
    });
    expect(parseEventLogAddress("nats://localhost:4222/EVENTS")).toEqual({
      kind: "nats",
      servers: "nats://localhost:4222",
      stream: "EVENTS",
    });
  });

  test.each([
    ["", "unknown form"],
    ["memory", "unknown form"],
    ["/var/events", "unknown form"],
    ["file:", "no directory"],
    ["file://relative", "absolute path"],
    ["nats://", "no host"],
    ["nats://[", "'[' is not a host:port"],
    ["nats://host:4222/A/B", "one path segment"],
    ["nats://host:4222/bad.name", "stream 'bad.name'"],
    ["nats://host:4222/S?x=1", "unknown parameter 'x' (only replicas)"],
    ["nats://host:4222/S?replicas=9", "replicas must be 1-5, got '9'"],
    ["kafka://host:9092", "unknown form"],
  ])("'%s' is refused: %s", (address, why) => {
    let error: unknown;
    try {
      parseEventLogAddress(address);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "config" });
    expect(String((error as Error).message)).toContain(why);
    expect(String((error as Error).message)).toContain(
      "expected file:DIR, memory: or nats://host:port[,host:port…][/STREAM][?replicas=N]",
    );
  });

  test("several servers of one cluster, and the replicas of the stream created", () => {
    expect(parseEventLogAddress("nats://127.0.0.1:4001,127.0.0.1:4002,127.0.0.1:4003/R3?replicas=3")).toEqual(
      {
        kind: "nats",
        servers: ["nats://127.0.0.1:4001", "nats://127.0.0.1:4002", "nats://127.0.0.1:4003"],
        stream: "R3",
        replicas: 3,
      },
    );
  });

  test("openEventLog opens the adapter the address names", async () => {
    const memory = await openEventLog("memory:");
    expect(memory).toBeInstanceOf(MemoryEventLog);
    const file = await openEventLog(`file:${join(root, "a")}`, { file: { fsync: "never" } });
    expect(file).toBeInstanceOf(FileEventLog);
    expect(file.description).toBe(`file:${join(root, "a")}`);
    await memory.close();
    await file.close();
    await expect(openEventLog("bogus")).rejects.toMatchObject({ code: "config" });
  });

  test("a NATS password is never shown: the error of a log that cannot connect hides it", async () => {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const error = await openEventLog("nats://operator:pw-Hq7x2@127.0.0.1:9/L2TP").catch((e: Error) => e);
    expect(String((error as Error).message)).toContain("event log nats nats://operator:***@127.0.0.1:9/L2TP");
    expect(String((error as Error).message)).not.toContain("pw-Hq7x2");
  }, 20_000);
});
