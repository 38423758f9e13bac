/**
 * NATS down (issue 4 item 2, the real thing): an LNS on loopback UDP records into JetStream on a real
 * nats-server; a LAC (recording nothing, so it never refuses on its own) calls it. The server is killed:
 * the LNS's events wait (the JetStream log re-publishes after the outage, it does not fail them), and
 * once the oldest has waited past maxLagMs the LNS refuses new calls with CDN result 4 and new tunnels
 * with StopCCN 2/4, while its calls live on (data still flows). The server comes back on the same store:
 * the waiting events are stored, the LNS accepts again, and the stream holds every event of the LNS in
 * seq order, none twice.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createNode, type L2tpNode, type OpenSessionOutcome } from "../../actors/node.ts";
import type { Transport } from "../../actors/ports.ts";
import { realClock } from "../../adapters/clock/index.ts";
import { openEventLog } from "../../adapters/event-log/index.ts";
import { cryptoRandom } from "../../adapters/random/index.ts";
import { bindUdp } from "../../adapters/udp/index.ts";
import { openRecording } from "../../bin/commands/recording.ts";
import { type NatsServer, startNatsServer } from "./nats/server.ts";

let nats: NatsServer;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.dispose();
});

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function lac(
  address: string,
  lnsPort: number,
  name: string,
): Promise<{ node: L2tpNode; transport: Transport }> {
  const transport = await bindUdp({ address, port: 0 });
  const node = createNode(
    {
      name,
      hostName: "lac.test",
      lockoutMs: 200,
      destinations: [{ address: "127.0.0.1", port: lnsPort, secret: "s3cret", peerHostName: "lns.test" }],
    },
    { transport, clock: realClock, random: cryptoRandom },
  );
  return { node, transport };
}

test("NATS killed: new calls and tunnels refused with the RFC codes, calls live on; back: accepted, nothing lost", async () => {
  const recording = await openRecording(nats.url, { clock: realClock, maxLagMs: 300 });
  const recorded = recording.forNode("lns");
  const lnsTransport = await bindUdp({ address: "127.0.0.1", port: 0 });
  const lns = createNode(
    { name: "lns", hostName: "lns.test", destinations: [{ secret: "s3cret", peerHostName: "lac.test" }] },
    {
      transport: lnsTransport,
      clock: realClock,
      random: cryptoRandom,
      inspect: recorded.inspect,
      admit: recorded.admit,
    },
  );
  recorded.attach(lns);
  const port = lnsTransport.local.port;
  const a = await lac("127.0.0.2", port, "lac");
  const b = await lac("127.0.0.4", port, "lac2");
  const dial = (from: L2tpNode) => from.openSession({ destination: { address: "127.0.0.1", port } });
  const lnsSessions = () => lns.snapshot().destinations.flatMap((d) => d.tunnels.flatMap((t) => t.sessions));

  const up: OpenSessionOutcome[] = [];
  for (let i = 0; i < 3; i++) up.push(await dial(a.node));
  expect(up.every((o) => o.ok)).toBe(true);
  await recorded.recorder.flush();

  await nats.stop("SIGKILL");
  // A call arrives during the outage: nothing said the log was behind yet, so it is taken, and its
  // events wait for the log.
  const during = await dial(a.node);
  expect(during.ok).toBe(true);
  up.push(during);
  await until(() => recorded.recorder.stats.backpressure, 5000, "backpressure on while NATS is down");

  const refused = await dial(a.node);
  expect(refused.ok).toBe(false);
  if (!refused.ok) expect(refused.cause.resultCode).toMatchObject({ result: 4 });
  const noTunnel = await dial(b.node);
  expect(noTunnel.ok).toBe(false);
  if (!noTunnel.ok) expect(noTunnel.cause.resultCode).toMatchObject({ result: 2, error: 4 });
  // The calls the LNS has live on.
  expect(lnsSessions().filter((s) => s.state === "established")).toHaveLength(4);
  const first = up[0] as OpenSessionOutcome & { ok: true };
  expect(a.node.sendData(first.tunnelId, first.sessionId, new Uint8Array([0xff, 0x03, 0xc0, 0x21]))).toBe(
    true,
  );
  await until(
    () => lnsSessions().find((s) => s.id === first.peerSessionId)?.packetsIn === 1,
    2000,
    "data on a live call during the outage",
  );

  await nats.restart();
  await until(() => !recorded.recorder.stats.backpressure, 15_000, "backpressure off once NATS is back");
  expect((await dial(a.node)).ok).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 250)); // lac2's lockout of the LNS ends
  expect((await dial(b.node)).ok).toBe(true);

  for (const n of [a, b]) {
    await n.node.close();
    await n.transport.close();
  }
  await lns.close();
  await lnsTransport.close();
  const summary = await recording.close();
  expect(summary.unstored).toBe(0);
  expect(summary.backpressureSpells).toBe(1);

  const log = await openEventLog(nats.url);
  try {
    const seqs: number[] = [];
    for await (const envelope of log.read({ node: "lns" })) seqs.push(envelope.seq);
    expect(seqs.length).toBe(summary.recorded.lns);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  } finally {
    await log.close();
  }
}, 60_000);
