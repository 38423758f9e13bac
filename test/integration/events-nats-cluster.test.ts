/**
 * The event log on a real three-server NATS JetStream cluster (issue 12 item 7): an LNS on loopback UDP
 * records every transition into a stream of 3 replicas; calls are placed from a LAC; mid-run the
 * stream's leader is killed with SIGKILL, calls go on being placed, and the server is started again on
 * its store. Every envelope of the LNS is in the stream exactly once and in order, every call that was
 * taken is up on the LNS (none lost), and admission control behaves as for a single server's outage:
 * while the log is behind the LNS refuses new calls with CDN result 4, and it accepts again once the
 * new leader took the waiting envelopes.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { OpenSessionOutcome } from "../../actors/node.ts";
import { realClock } from "../../adapters/clock/index.ts";
import { openEventLog } from "../../adapters/event-log/index.ts";
import { openRecording } from "../../bin/commands/recording.ts";
import { UdpNodes } from "../support/udp-nodes.ts";
import { type NatsCluster, startNatsCluster } from "./nats/server.ts";

let cluster: NatsCluster;
beforeAll(async () => {
  cluster = await startNatsCluster();
});
afterAll(async () => {
  await cluster?.dispose();
});

const STREAM = "L2TPR3";

async function until(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The name of the stream's leader, as JetStream says (undefined while there is none). */
async function streamLeader(): Promise<string | undefined> {
  const nc = await connect({ servers: cluster.hosts.split(",").map((h) => `nats://${h}`), timeout: 2000 });
  try {
    const jsm = await jetstreamManager(nc);
    return (await jsm.streams.info(STREAM)).cluster?.leader;
  } catch {
    return undefined;
  } finally {
    await nc.close();
  }
}

test("stream leader SIGKILLed mid-run: every envelope once and in order, no call lost, admission as for one server's outage", async () => {
  const address = `nats://${cluster.hosts}/${STREAM}?replicas=3`;
  // The cluster elects its JetStream meta leader after the servers meet: the stream is made once it has one.
  let recording: Awaited<ReturnType<typeof openRecording>> | undefined;
  await until(
    async () => {
      recording = await openRecording(address, { clock: realClock, maxLagMs: 300 }).catch(() => undefined);
      return recording !== undefined;
    },
    20_000,
    "the stream of 3 replicas is created",
  );
  if (!recording) throw new Error("unreachable");
  const recorded = recording.forNode("lns");
  const udp = new UdpNodes();
  const { node: lns, socket: lnsSocket } = await udp.node(
    "127.0.0.1",
    { name: "lns", hostName: "lns.test", destinations: [{ secret: "s3cret", peerHostName: "lac.test" }] },
    { inspect: recorded.inspect, admit: recorded.admit },
  );
  recorded.attach(lns);
  const port = lnsSocket.local.port;
  const { node: lac } = await udp.node("127.0.0.2", {
    name: "lac",
    hostName: "lac.test",
    lockoutMs: 200,
    destinations: [{ address: "127.0.0.1", port, secret: "s3cret", peerHostName: "lns.test" }],
  });
  const dial = () => lac.openSession({ destination: { address: "127.0.0.1", port } });
  const established = () =>
    lns
      .snapshot()
      .destinations.flatMap((d) => d.tunnels.flatMap((t) => t.sessions))
      .filter((s) => s.state === "established").length;

  let taken = 0;
  for (let i = 0; i < 10; i++) {
    expect((await dial()).ok).toBe(true);
    taken++;
  }
  await recorded.recorder.flush();

  const leader = (await streamLeader()) ?? "none";
  expect(cluster.names).toContain(leader);
  const killed = cluster.servers[cluster.names.indexOf(leader)];
  await killed.stop("SIGKILL");

  // Calls go on being placed while the cluster elects a new leader: each is taken, or refused with CDN
  // result 4 (the log is behind), as in a single server's outage; none is taken and then lost.
  const refused: OpenSessionOutcome[] = [];
  for (let i = 0; i < 20; i++) {
    const o = await dial();
    if (o.ok) taken++;
    else refused.push(o);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const o of refused) if (!o.ok) expect(o.cause.resultCode).toMatchObject({ result: 4 });
  await until(() => !recorded.recorder.stats.backpressure, 30_000, "the log caught up on the new leader");
  expect((await dial()).ok).toBe(true);
  taken++;
  // The stream's info may be unanswered for a moment while the cluster settles: ask until it names one.
  let newLeader: string | undefined;
  await until(
    async () => {
      newLeader = await streamLeader();
      return newLeader !== undefined;
    },
    10_000,
    "the stream names its new leader",
  );
  expect(newLeader).not.toBe(leader);

  await killed.restart();
  for (let i = 0; i < 5; i++) {
    expect((await dial()).ok).toBe(true);
    taken++;
  }
  // Every call taken is up on the LNS (once the last ICCN arrived): none was lost to the failover.
  await until(() => established() >= taken, 2_000, "the last call's ICCN reached the LNS");
  expect(established()).toBe(taken);

  await lac.close();
  await udp.closeAll();
  const summary = await recording.close();
  expect(summary.unstored).toBe(0);

  const log = await openEventLog(`nats://${cluster.hosts}/${STREAM}`);
  try {
    const seqs: number[] = [];
    for await (const envelope of log.read({ node: "lns" })) seqs.push(envelope.seq);
    expect(seqs.length).toBe(summary.recorded.lns);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  } finally {
    await log.close();
  }
}, 120_000);
