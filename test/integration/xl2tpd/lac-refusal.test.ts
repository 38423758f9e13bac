/**
 * What xl2tpd 1.3.18 as an LNS sends when it refuses a call of our LAC, and what our LAC does with it
 * (issue 9's failover; docs/INTEROP.md, "xl2tpd refusing a call"). xl2tpd never sends General Error 7
 * "try another" (RFC 2661 §4.4.2): it refuses in two ways, both tried here with the real daemon, our LAC
 * and a tunnel group of xl2tpd (preference 0) then our LNS (preference 1):
 *
 * - Its `ip range` has no address left: the ICRQ is answered with CDN result 2, error 4 "No available IP
 *   address" (control.c, control_finish, case ICRQ). Not "try another", an answer about this call:
 *   the subscriber is refused with that cause (CHAP Failure), no call goes to our LNS, and xl2tpd is
 *   not locked out.
 * - Its pppd cannot start (exits at once): the call was connected (ICCN sent), then a CDN result 1
 *   (xl2tpd.c child_handler, then call_close with no result set). A connected call does not fail over:
 *   the subscriber gets an LCP Terminate-Request and its line goes down.
 *
 * Our LAC's subscriber events say why in both cases (the refusing CDN's Result Code in its cause).
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LacAccess } from "../../../actors/lac-access.ts";
import { createNode, type L2tpNode } from "../../../actors/node.ts";
import type { PeerAddress, Transport } from "../../../actors/ports.ts";
import { LocalAaa } from "../../../adapters/aaa/local.ts";
import { SubscriberSimulator } from "../../../adapters/access/simulator.ts";
import { realClock } from "../../../adapters/clock/index.ts";
import { EchoDataPlane } from "../../../adapters/dataplane/index.ts";
import { MemoryEventLog } from "../../../adapters/event-log/memory.ts";
import { cryptoRandom } from "../../../adapters/random/index.ts";
import { bindUdp } from "../../../adapters/udp/index.ts";
import { createRecorder, pathOfNode, type Recorder } from "../../../events/recorder.ts";
import { evolve, initialTree } from "../../../events/replay.ts";
import { peerKey } from "../../../machines/common.ts";
import { PppDisconnectCode } from "../../../machines/ppp/disconnect.ts";
import { ispPolicy } from "../../machines/tunnel-groups.ts";
import { settled } from "../../support/until.ts";
import { startXl2tpd, XL2TPD_LOG, type Xl2tpd } from "./harness.ts";

const SERVER_STANDIN = new URL("./ppp-server-standin.ts", import.meta.url).pathname;
const SECRET = "s3cret";
const dir = mkdtempSync(join(tmpdir(), "lac-refusal-"));
const open: { xl2tpds: Xl2tpd[]; nodes: L2tpNode[]; sockets: Transport[] } = {
  xl2tpds: [],
  nodes: [],
  sockets: [],
};

afterAll(async () => {
  for (const node of open.nodes) await node.close().catch(() => {});
  for (const socket of open.sockets) await socket.close();
  for (const xl2tpd of open.xl2tpds) await xl2tpd.stop("SIGINT");
  rmSync(dir, { recursive: true, force: true });
});

const users = [
  { name: "alice@isp.example", password: "alice-pw" },
  { name: "bob@isp.example", password: "bob-pw" },
];

/**
 * Our LNS (at `lnsAt`) and our LAC (at `lacAt`, recording its events) with the tunnel group xl2tpd
 * first, our LNS second, for the domain isp.example.
 */
async function rig(xl2tpd: Xl2tpd, lacAt: string, lnsAt: string) {
  const lnsSocket = await bindUdp({ address: lnsAt, port: 0 });
  open.sockets.push(lnsSocket);
  const lns = createNode(
    {
      name: "lns",
      hostName: "lns.test",
      destinations: [{ address: lacAt, secret: SECRET }],
      ppp: {
        lns: { authProtocols: ["chap"], localAddress: "10.0.0.1" },
        pools: [{ name: "main", start: "10.7.0.1", end: "10.7.0.50" }],
      },
    },
    {
      transport: lnsSocket,
      clock: realClock,
      random: cryptoRandom,
      aaa: new LocalAaa(users),
      dataPlane: new EchoDataPlane(),
    },
  );
  open.nodes.push(lns);
  const ours: PeerAddress = lnsSocket.local;
  const lacSocket = await bindUdp({ address: lacAt, port: 0 });
  open.sockets.push(lacSocket);
  const log = new MemoryEventLog();
  let lac: L2tpNode | undefined;
  const recorder: Recorder = createRecorder({
    node: "lac",
    clock: realClock,
    log,
    pathOf: pathOfNode(() => lac),
  });
  let access: LacAccess | undefined;
  lac = createNode(
    {
      name: "lac",
      hostName: "lac.test",
      destinations: [
        { address: xl2tpd.endpoint.address, port: xl2tpd.endpoint.port, secret: SECRET, accept: false },
        { address: ours.address, port: ours.port, secret: SECRET, accept: false },
      ],
    },
    {
      transport: lacSocket,
      clock: realClock,
      random: cryptoRandom,
      inspect: recorder.inspect,
      onData: (s, p) => access?.onData(s, p),
    },
  );
  open.nodes.push(lac);
  const subscribers = new SubscriberSimulator(realClock);
  access = new LacAccess({
    node: lac,
    access: subscribers,
    clock: realClock,
    random: cryptoRandom,
    ppp: { authProtocols: ["chap"] },
    policy: ispPolicy([
      { peer: xl2tpd.endpoint, preference: 0, maxSessions: 0 },
      { peer: ours, preference: 1, maxSessions: 0 },
    ]),
  });
  /** A subscriber's actor as the LAC's event log tells it (replayed). */
  const story = async (line: string) => {
    await recorder.flush();
    const tree = log.envelopes.reduce(evolve, initialTree());
    return tree.nodes.lac?.subscribers?.[line]?.actor;
  };
  return { lac, lns, access, subscribers, story };
}

test("xl2tpd's ip range exhausted: CDN 2/4 to the ICRQ; the subscriber is refused with that cause, nothing goes to our LNS", async () => {
  const xl2tpd = await startXl2tpd({
    label: "xl2tpd-lns-full",
    address: "127.0.0.181",
    secrets: [{ ours: "lns.test", theirs: "lac.test", secret: SECRET }],
    // One address for peers: alice's call takes it, bob's finds none (aaa.c get_addr gives 0).
    lns: { hostname: "lns.test", challenge: true, ipRange: "192.0.2.2-192.0.2.2" },
    pppd: "stand-in",
    standInMain: SERVER_STANDIN,
    env: {
      PPP_SERVER_REPORT: join(dir, "server.jsonl"),
      PPP_SERVER_USER: "alice@isp.example",
      PPP_SERVER_PASSWORD: "alice-pw",
      PPP_SERVER_LOCAL: "10.8.0.1",
      PPP_SERVER_PEER: "10.8.0.2",
    },
  });
  open.xl2tpds.push(xl2tpd);
  const { lac, lns, access, subscribers, story } = await rig(xl2tpd, "127.0.0.182", "127.0.0.183");
  const xl2tpdKey = peerKey(xl2tpd.endpoint);

  const alice = subscribers.dial({ user: "alice@isp.example", password: "alice-pw" });
  expect(await settled("alice's address from xl2tpd's PPP", alice.up, 20_000)).toBe("10.8.0.2");

  const bob = subscribers.dial({ user: "bob@isp.example", password: "bob-pw" });
  const why = await settled("bob's end", bob.ended, 20_000);
  // RFC 1994 §4.2: refused after authentication, the CHAP Failure's message says why.
  expect(why.code).toBe(PppDisconnectCode.authFailed);
  expect(why.message).toContain("No available IP address");
  expect(access.stats.refused).toBe(1);
  expect(access.stats.tunnelled).toBe(1);
  // Not "try another": no call (nor tunnel) went to our LNS, and xl2tpd is not locked out for it.
  expect(lns.snapshot().destinations).toEqual([]);
  expect(lac.snapshot().destinations.find((d) => d.key === xl2tpdKey)?.state).toStartWith("available");
  const bobs = await story(bob.id);
  expect(bobs?.state).toBe("ended");
  expect(bobs?.data.selection).toMatchObject({ choice: "reuse", destination: xl2tpdKey });
  expect(bobs?.data.cause).toMatchObject({
    reason: "peer",
    resultCode: { result: 2, error: 4, message: "No available IP address" },
  });
  // alice is still up through xl2tpd.
  expect(alice.context().ipcp).toBe("opened");
}, 60_000);

test("xl2tpd's pppd cannot start: the connected call gets CDN result 1; the subscriber is told (LCP Terminate-Request), no failover", async () => {
  const xl2tpd = await startXl2tpd({
    label: "xl2tpd-lns-nopppd",
    address: "127.0.0.184",
    secrets: [{ ours: "lns.test", theirs: "lac.test", secret: SECRET }],
    lns: { hostname: "lns.test", challenge: true },
    // A pppd that exits at once (status 1): what xl2tpd sees when its pppd cannot run.
    pppd: { path: "/bin/false" },
  });
  open.xl2tpds.push(xl2tpd);
  const { lns, access, subscribers, story } = await rig(xl2tpd, "127.0.0.185", "127.0.0.186");

  const alice = subscribers.dial({ user: "alice@isp.example", password: "alice-pw" });
  const why = await settled("alice's end", alice.ended, 20_000);
  expect(why.message).toContain("Terminate-Request");
  await xl2tpd.waitForLog(XL2TPD_LOG.pppdExited, 5_000);
  expect(access.stats.tunnelled).toBe(1);
  expect(access.stats.lnsDisconnects).toBe(1);
  expect(lns.snapshot().destinations).toEqual([]);
  const alices = await story(alice.id);
  expect(alices?.state).toBe("ended");
  expect(alices?.data.placed).toMatchObject({ destination: peerKey(xl2tpd.endpoint) });
  expect(alices?.data.cause).toMatchObject({ reason: "peer", resultCode: { result: 1 } });
}, 60_000);
