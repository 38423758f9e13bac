/**
 * THE OUTAGE TEST: a producer appends 20,000 events over about three seconds; nats-server is stopped in
 * the middle and restarted on the same store a second later. Afterwards every event is in the stream
 * exactly once, in seq order.
 */
import { afterEach, expect, test } from "bun:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { openJetStreamEventLog } from "../../../adapters/event-log/jetstream.ts";
import type { Envelope } from "../../../events/envelope.ts";
import { makeEnvelopes } from "../../adapters/event-log/fixtures.ts";
import { type NatsServer, startNatsServer } from "./server.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let server: NatsServer | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});

test.each(["SIGTERM", "SIGKILL"] as const)(
  "nats-server stopped with %s mid-stream and restarted: every event exactly once, in order",
  async (signal) => {
    server = await startNatsServer();
    const log = await openJetStreamEventLog({
      servers: server.url,
      reconnectWaitMs: 100,
      ackTimeoutMs: 1000,
    });
    const total = 20_000;
    const batch = 250;
    const all = makeEnvelopes("lns-1", 1, total);
    const appends: Promise<void>[] = [];
    const producer = (async () => {
      for (let i = 0; i < total; i += batch) {
        appends.push(log.append(all.slice(i, i + batch)));
        await sleep(30);
      }
    })();

    await sleep(900);
    // Stop it while acks are outstanding, so that the re-publish path is what is tested.
    const deadline = Date.now() + 1000;
    while (log.stats.published - log.stats.acked < 50 && Date.now() < deadline) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    const ackedBefore = log.stats.acked;
    await server.stop(signal);
    await sleep(1000);
    await server.restart();
    await producer;
    await Promise.all(appends);
    expect(ackedBefore).toBeGreaterThan(0);
    expect(ackedBefore).toBeLessThan(total);
    expect(log.stats.recoveries).toBeGreaterThan(0);
    expect(log.stats.misordered).toBe(0);
    await log.close();

    // Checked from a separate connection: the stream itself, message by message.
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info("L2TP");
      expect(info.state.messages).toBe(total);
      const reader = await openJetStreamEventLog({ servers: server.url });
      const seqs: number[] = [];
      for await (const envelope of reader.read({ node: "lns-1" })) seqs.push((envelope as Envelope).seq);
      await reader.close();
      expect(seqs.length).toBe(total);
      const firstOutOfPlace = seqs.findIndex((seq, i) => seq !== i + 1);
      expect(firstOutOfPlace).toBe(-1);
    } finally {
      await nc.close();
    }
  },
  15_000,
);
