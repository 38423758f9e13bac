/** The JetStream event log against a real nats-server 2.9 (started here on a free loopback port). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { openJetStreamEventLog } from "../../../adapters/event-log/jetstream.ts";
import { eventLogContract } from "../../adapters/event-log/contract.ts";
import { collect, makeEnvelopes } from "../../adapters/event-log/fixtures.ts";
import { type NatsServer, startNatsServer } from "./server.ts";

let server: NatsServer;
let nc: NatsConnection;
let streams = 0;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

/** A log on its own stream and subject prefix, so tests do not see each other's events. */
function freshLog(extra: { window?: number } = {}) {
  const n = ++streams;
  return openJetStreamEventLog({ servers: server.url, stream: `T${n}`, subjectPrefix: `t${n}`, ...extra });
}

eventLogContract("jetstream", () => freshLog());

describe("jetstream specifics", () => {
  test("the stream is created with its subjects, retention and duplicate window", async () => {
    const log = await openJetStreamEventLog({
      servers: server.url,
      stream: "RET",
      subjectPrefix: "ret",
      maxAgeMs: 3_600_000,
      maxBytes: 10_000_000,
      duplicateWindowMs: 60_000,
    });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info("RET");
    expect(info.config.subjects).toEqual(["ret.>"]);
    expect(info.config.max_age).toBe(3_600_000 * 1e6);
    expect(info.config.max_bytes).toBe(10_000_000);
    expect(info.config.duplicate_window).toBe(60_000 * 1e6);
    await log.close();
    // Opening again finds the stream and keeps it.
    const again = await openJetStreamEventLog({ servers: server.url, stream: "RET", subjectPrefix: "ret" });
    await again.close();
  });

  test("each envelope has subject <prefix>.<node>.<machine> and Nats-Msg-Id <node>-<seq>; the server drops a re-sent id", async () => {
    const log = await freshLog();
    const envelopes = makeEnvelopes("lns-1", 1, 4);
    await log.append(envelopes);
    const jsm = await jetstreamManager(nc);
    const n = streams;
    const first = await jsm.streams.getMessage(`T${n}`, { seq: 1 });
    expect(first?.subject).toBe(`t${n}.lns-1.destination`);
    expect(first?.header.get("Nats-Msg-Id")).toBe("lns-1-1");
    // A retry from anywhere (here a raw publish with the same id) is a duplicate, not a second copy.
    const ack = await jetstream(nc).publish(`t${n}.lns-1.tunnel`, "again", { msgID: "lns-1-2" });
    expect(ack.duplicate).toBe(true);
    expect((await jsm.streams.info(`T${n}`)).state.messages).toBe(4);
    await log.close();
  });

  test("a second log on the same stream continues the node's sequence and skips what is stored", async () => {
    const a = await freshLog();
    const n = streams;
    await a.append(makeEnvelopes("lns-1", 1, 10));
    await a.close();
    const b = await openJetStreamEventLog({ servers: server.url, stream: `T${n}`, subjectPrefix: `t${n}` });
    expect(await b.lastSeq("lns-1")).toBe(10);
    await b.append(makeEnvelopes("lns-1", 1, 15));
    expect((await collect(b.read({ node: "lns-1" }))).map((e) => e.seq)).toEqual(
      Array.from({ length: 15 }, (_, i) => i + 1),
    );
    // A follow from beyond the end starts at the end.
    const abort = new AbortController();
    const seen: number[] = [];
    const following = (async () => {
      for await (const e of b.follow({ node: "lns-1", fromSeq: 16, signal: abort.signal })) {
        seen.push(e.seq);
        if (e.seq === 17) abort.abort();
      }
    })();
    await b.append(makeEnvelopes("lns-1", 16, 2));
    await following;
    expect(seen).toEqual([16, 17]);
    expect(b.stats.misordered).toBe(0);
    await b.close();
  });

  test("a window of one still works (every publish waits for its ack)", async () => {
    const log = await freshLog({ window: 1 });
    await log.append(makeEnvelopes("lns-1", 1, 50));
    expect((await collect(log.read())).length).toBe(50);
    await log.close();
  });

  test("no server, or a stream with other subjects, fails with a message that says so", async () => {
    await expect(
      openJetStreamEventLog({ servers: "nats://127.0.0.1:1", connectTimeoutMs: 500 }),
    ).rejects.toThrow("cannot connect (is nats-server running?)");
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "OTHER", subjects: ["other.>"] });
    await expect(
      openJetStreamEventLog({ servers: server.url, stream: "OTHER", subjectPrefix: "x" }),
    ).rejects.toThrow('not "x.>"');
  });
});

test("openEventLog('nats://host:port/STREAM') opens the JetStream log on that stream", async () => {
  const { openEventLog } = await import("../../../adapters/event-log/index.ts");
  const log = await openEventLog(`${server.url}/VIAURL`, { nats: { subjectPrefix: "viaurl" } });
  expect(log.description).toBe(`nats ${server.url}/VIAURL`);
  await log.append(makeEnvelopes("lns-1", 1, 3));
  expect((await collect(log.read())).length).toBe(3);
  await log.close();
});

test("a stream deleted under a running log is made again, and appends go on", async () => {
  const log = await freshLog();
  const n = streams;
  await log.append(makeEnvelopes("lns-1", 1, 10));
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(`T${n}`);
  await log.append(makeEnvelopes("lns-1", 11, 10));
  const info = await jsm.streams.info(`T${n}`);
  expect(info.config.subjects).toEqual([`t${n}.>`]);
  expect((await collect(log.read())).map((e) => e.seq)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
  expect(log.stats.recoveries).toBeGreaterThan(0);
  expect(log.stats.lastError).toContain("no JetStream responder");
  await log.close();
});

test("the client still exposes the connected flag the publisher reads (guards against a client upgrade)", () => {
  const protocol = (nc as unknown as { protocol?: { connected?: unknown } }).protocol;
  expect(typeof protocol?.connected).toBe("boolean");
});
