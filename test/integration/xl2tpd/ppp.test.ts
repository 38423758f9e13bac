/**
 * PPP through an independent LAC (issue 8): xl2tpd 1.3.18 as LAC dials our LNS over loopback UDP (tunnel
 * authentication, `hidden bit = yes`), and in pppd's place runs a PPP client of ours (ppp-standin.ts:
 * our endpoint in the client role over async HDLC on xl2tpd's pty). xl2tpd sends no proxy LCP, so our
 * LNS negotiates LCP with the client itself; PAP and CHAP go to a real FreeRADIUS through our RADIUS
 * client; IPCP gives the pool address or the user's Framed-IP-Address, and DNS; the client's ICMP echo
 * to the LNS's end of the link is answered by the echo data plane; accounting Start and Stop land in
 * FreeRADIUS's detail file. A wrong password ends in CHAP Failure and a CDN carrying the PPP Disconnect
 * Cause (RFC 3145, code 16), seen on the wire by tshark; a subscriber hanging up ends in a CDN with code 3
 * (ours, when the client lingers like a pppd holding the line) or in xl2tpd's CDN with the cause kept in
 * our node (when the client exits as pppd does); a frozen subscriber ends in code 8 (keepalive). Frames
 * that reach the pty before it is raw are read, not flushed (docs/INTEROP.md's TCSANOW).
 * Needs xl2tpd, tshark, freeradius and root (scripts/setup.sh).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DestinationProfile, NodeConfig } from "../../../actors/config.ts";
import type { SessionSnapshot } from "../../../actors/node.ts";
import type { PppNodeConfig } from "../../../actors/ppp-link.ts";
import { RadiusClient } from "../../../adapters/aaa/radius.ts";
import { realClock } from "../../../adapters/clock/index.ts";
import { EchoDataPlane } from "../../../adapters/dataplane/index.ts";
import { cryptoRandom } from "../../../adapters/random/index.ts";
import { bindUdp } from "../../../adapters/udp/index.ts";
import { PppDirection, PppDisconnectCode } from "../../../machines/ppp/disconnect.ts";
import type { AuthMethod } from "../../../machines/ppp/proxy-lcp.ts";
import { type ControlMessage, decodeControl } from "../../../protocol/l2tp/index.ts";
import { PppProtocol } from "../../../protocol/ppp/numbers.ts";
import { expectEmptyRegistries } from "../../support/registries.ts";
import { type FreeRadius, startFreeRadius } from "../radius/freeradius.ts";
import { type LoopbackCapture, startLoopbackCapture } from "./capture.ts";
import { startXl2tpd, XL2TPD_LOG, type Xl2tpd, type Xl2tpdOptions } from "./harness.ts";
import { type OurNode, startOurNode } from "./our-node.ts";
import { readStandInReport, type StandInReport, type StandInReportLine } from "./ppp-standin.ts";

const PPP_STANDIN = new URL("./ppp-standin.ts", import.meta.url).pathname;
const STAND_IN_WRAPPER = new URL("../stand-in-pppd/pppd.sh", import.meta.url).pathname;
const LATE_RAW_PPPD = new URL("./fixtures/late-raw-pppd.sh", import.meta.url).pathname;
const SECRET = "s3cret";
/** xl2tpd and our LNS: two hosts on loopback. */
const XL2TPD_ADDRESS = "127.0.0.51";
const OUR_ADDRESS = "127.0.0.52";
/** The LNS's end of every PPP link, the pool, and bob's Framed-IP-Address (outside the pool). */
const LNS_PPP_ADDRESS = "10.10.0.1";
const POOL = { name: "subscribers", start: "10.10.1.1", end: "10.10.1.50" };
const BOB_FRAMED_IP = "10.77.0.9";
/** Primary and secondary DNS our LNS gives (RFC 1877) to a client that asks (pppd's `usepeerdns`). */
const DNS = ["10.10.0.53", "10.10.0.54"];
/** A short restart timer: the LNS's Stopping after the subscriber's Terminate-Request lasts this long. */
const RESTART_MS = 500;
/**
 * The LNS's Max-Configure (RFC 1661 §4.6): with RESTART_MS it keeps asking the client for 30 s, the budget
 * of the defaults (10 × 3 s). The RFC's 10 with the short timer is 5 s, and the client starts only after
 * xl2tpd has sent its ICCN (a shell, stty, then Bun loading the stand-in): on a loaded machine that can
 * outlast 5 s, the LNS gives up (its CDN says "LCP: the peer did not answer") and no LCP ever comes up.
 */
const LCP_MAX_CONFIGURE = 60;
/** How long a test waits for one step of the client (LCP, authentication, IPCP, …), generous for CI. */
const STEP_TIMEOUT_MS = 20_000;
/** Each test's own limit: several steps, each bounded above. */
const TEST_TIMEOUT_MS = 60_000;

// --- what each test started, stopped even when the test failed half-way ------------------------------

let radius: FreeRadius;
let aaa: RadiusClient;
let xl2tpds: Xl2tpd[] = [];
let nodes: OurNode[] = [];
let capture: LoopbackCapture | undefined;
let reportDir: string;

beforeAll(async () => {
  radius = await startFreeRadius({
    users: [
      { name: "alice", password: "alice-pw" },
      { name: "bob", password: "bob-pw", reply: [["Framed-IP-Address", BOB_FRAMED_IP]] },
    ],
  });
  aaa = new RadiusClient(
    {
      servers: [
        { address: "127.0.0.1", authPort: radius.authPort, acctPort: radius.acctPort, secret: radius.secret },
      ],
      nasIdentifier: "lns.test",
      timeoutMs: 1000,
      retries: 2,
      maxInFlight: 16,
      deadTimeMs: 5000,
      requireMessageAuthenticator: false,
    },
    { clock: realClock, random: cryptoRandom, bind: (local) => bindUdp(local) },
  );
  reportDir = mkdtempSync(join(tmpdir(), "ppp-standin-"));
});

afterAll(async () => {
  await aaa?.close();
  await radius?.dispose();
  rmSync(reportDir, { recursive: true, force: true });
});

afterEach(async () => {
  await capture?.stop().catch(() => []);
  capture = undefined;
  await Promise.all(nodes.map((n) => n.close().catch(() => undefined)));
  nodes = [];
  await Promise.all(xl2tpds.map((x) => x.stop("SIGKILL")));
  xl2tpds = [];
});

/** Our LNS: PPP with `authProtocols`, DNS, the pool, RADIUS with accounting, the echo data plane. */
async function startLns(
  authProtocols: AuthMethod[],
  extra: Partial<PppNodeConfig> = {},
): Promise<{ lns: OurNode; echo: EchoDataPlane }> {
  const profile: DestinationProfile = { address: XL2TPD_ADDRESS, peerHostName: "lac.test", secret: SECRET };
  const ppp: PppNodeConfig = {
    lns: {
      authProtocols,
      localAddress: LNS_PPP_ADDRESS,
      restartMs: RESTART_MS,
      maxConfigure: LCP_MAX_CONFIGURE,
      dns: DNS,
    },
    pools: [POOL],
    accounting: { enabled: true },
    ...extra,
  };
  const config: NodeConfig = {
    name: "our-lns",
    hostName: "lns.test",
    stopHoldMs: 1000,
    destinations: [profile],
    ppp,
  };
  const echo = new EchoDataPlane();
  const lns = await startOurNode(config, OUR_ADDRESS, { aaa, dataPlane: echo });
  nodes.push(lns);
  return { lns, echo };
}

/** The stand-in's report file for one test, and how to read it. */
class Report {
  constructor(
    readonly file: string,
    private readonly lns: OurNode,
  ) {}

  lines(): StandInReportLine[] {
    return readStandInReport(this.file);
  }

  /** The first line of an event; waits up to `timeoutMs` for it. */
  async wait<E extends StandInReport["event"]>(
    event: E,
    xl2tpd: Xl2tpd,
    timeoutMs = STEP_TIMEOUT_MS,
  ): Promise<Extract<StandInReport, { event: E }> & { pid: number; ms: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines().find((l) => l.event === event);
      if (found) return found as Extract<StandInReport, { event: E }> & { pid: number; ms: number };
      if (Date.now() > deadline) throw this.failure(`reported no ${event} within ${timeoutMs} ms`, xl2tpd);
      await new Promise((done) => setTimeout(done, 20));
    }
  }

  /**
   * Everything needed to tell where a call stalled, for a failure message: xl2tpd's log (with the
   * stand-in's own lines), every control and data packet at our LNS's socket, its PPP state, the client's
   * report, and last a short summary, since CI repeats only the last 60 lines of a failure (.ci/run).
   */
  failure(what: string, xl2tpd: Xl2tpd): Error {
    const lns = this.lns;
    const lines = this.lines();
    const started = lines.find((l) => l.event === "started");
    const last = lines.at(-1);
    const trace = lns.trace().split("\n");
    const iccn = trace.find((l) => / ← .* ICCN /.test(l));
    const requestsSent = trace.filter((l) => / → .* LCP Configure-Request /.test(l)).length;
    const framesIn = trace.filter((l) => / ← .* DATA /.test(l)).length;
    const summary = [
      `stand-in: ${
        started?.event === "started"
          ? `started at ${started.startedAt - lns.startedAt} ms on the LNS's clock; last said ${last?.event} at +${last?.ms} ms`
          : "never started"
      }`,
      `xl2tpd: ${xl2tpd.matching(XL2TPD_LOG.callEstablished).length} call(s) established, ${
        xl2tpd.matching(XL2TPD_LOG.pppdExited)[0] ?? "no pppd exit"
      }, ${xl2tpd.matching(XL2TPD_LOG.callClosedByPeer)[0] ?? "no CDN from our LNS"}`,
      `our LNS: ICCN ${iccn ? `at ${iccn.trim().split(" ")[0]} ms` : "never received"}; ${requestsSent} LCP Configure-Requests sent; ${framesIn} data messages received; PPP endings: ${JSON.stringify(
        lns.pppEndings.map((e) => e.cause),
      )}`,
    ];
    const ppp = { sessions: sessionsOf(lns).map((s) => s.ppp), stats: lns.node.snapshot().ppp };
    return new Error(
      [
        `xl2tpd "${xl2tpd.label}" on ${xl2tpd.address}:${xl2tpd.port} ran a stand-in that ${what}`,
        "--- xl2tpd's log ---",
        xl2tpd.logText(),
        `--- our LNS: packets at its socket (ms since ${new Date(lns.startedAt).toISOString()}) ---`,
        ...trace,
        "--- our LNS: PPP ---",
        JSON.stringify(ppp),
        `--- the stand-in's report (${this.file}) ---`,
        this.text().trimEnd(),
        "--- summary ---",
        ...summary,
      ].join("\n"),
    );
  }

  /** `promise`, or its error with everything `failure` gives (for waits on xl2tpd's log or our node). */
  async during<T>(xl2tpd: Xl2tpd, promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      throw this.failure(`was running when a wait failed: ${String(error).split("\n")[0]}`, xl2tpd);
    }
  }

  text(): string {
    return existsSync(this.file)
      ? readFileSync(this.file, "utf8")
      : "(no report: the stand-in never started)";
  }
}

let reports = 0;

/** An xl2tpd LAC dialling our LNS with our PPP client as its pppd, `pppOptions` its options file. */
async function startLac(
  lns: OurNode,
  pppOptions: string[],
  env: Record<string, string> = {},
  overrides: Partial<Xl2tpdOptions> = {},
): Promise<{ lac: Xl2tpd; report: Report }> {
  const report = new Report(join(reportDir, `report-${++reports}.jsonl`), lns);
  const lac = await startXl2tpd({
    label: "xl2tpd-lac",
    address: XL2TPD_ADDRESS,
    secrets: [{ ours: "lac.test", theirs: "lns.test", secret: SECRET }],
    lacs: [
      {
        name: "peer",
        lns: { address: lns.endpoint.address, port: lns.endpoint.port },
        hostname: "lac.test",
        challenge: true,
        hiddenBit: true,
        pppOptions,
      },
    ],
    pppd: "stand-in",
    standInMain: PPP_STANDIN,
    env: { PPP_STANDIN_REPORT: report.file, ...env },
    ...overrides,
  });
  xl2tpds.push(lac);
  return { lac, report };
}

function sessionsOf(node: OurNode): SessionSnapshot[] {
  return node.node.snapshot().destinations.flatMap((d) => d.tunnels.flatMap((t) => t.sessions));
}

/** The control messages of a type that our node sent or received, in order. */
function messages(node: OurNode, direction: "sent" | "received", type: string): ControlMessage[] {
  return node.control
    .filter((c) => c.direction === direction && c.packet.message?.type === type)
    .map((c) => c.packet.message as ControlMessage);
}

/** xl2tpd sent no proxy LCP or proxy authentication (RFC 2661 §4.4.5 AVPs 26-33) in its ICCN. */
function expectNoProxyAvps(lns: OurNode): void {
  const [iccn] = messages(lns, "received", "ICCN");
  expect(iccn).toBeDefined();
  const avps = iccn.avps;
  expect(avps.initialReceivedLcpConfReq).toBeUndefined();
  expect(avps.lastSentLcpConfReq).toBeUndefined();
  expect(avps.lastReceivedLcpConfReq).toBeUndefined();
  expect(avps.proxyAuthenType).toBeUndefined();
  expect(avps.proxyAuthenName).toBeUndefined();
}

type LcpUp = Extract<StandInReport, { event: "lcp-up" }>;

/**
 * Our LNS's LCP Configure-Requests reached the client through the pty, none lost on the way: the first it
 * read is request 1, unless earlier ones were mangled. A frame that reaches the pty while it is still
 * canonical (xl2tpd starts pppd with ICANON on; the stand-in sets it raw a few ms later) loses the octet
 * before any 0x7F in it (VERASE, done as the octet arrives); the FCS catches that and the LNS's
 * retransmission is read instead. A flush (TCSAFLUSH) would drop them all, uncounted.
 */
function expectNoRequestLost(lcp: LcpUp): void {
  expect(lcp.firstPeerRequestId).toBeDefined();
  expect(lcp.firstPeerRequestId as number).toBeLessThanOrEqual(1 + lcp.hdlc.fcsErrors);
}

/** LCP, authentication, IPCP and the echo, as the client saw them; returns its PID. */
async function expectSubscriberUp(
  report: Report,
  lac: Xl2tpd,
  expected: { auth: AuthMethod; address: string },
): Promise<number> {
  const lcp = await report.wait("lcp-up", lac);
  // LCP negotiated with our LNS (no proxy LCP to take over): it sent Configure-Requests of its own.
  expect(lcp).toMatchObject({ authProtocol: expected.auth });
  expect(lcp.peerRequests).toBeGreaterThanOrEqual(1);
  expectNoRequestLost(lcp);
  expect(await report.wait("auth", lac)).toMatchObject({ ok: true, protocol: expected.auth });
  expect(await report.wait("ipcp-up", lac)).toMatchObject({
    address: expected.address,
    peerAddress: LNS_PPP_ADDRESS,
  });
  expect(await report.wait("echo-reply", lac)).toMatchObject({ from: LNS_PPP_ADDRESS, sequence: 1 });
  return lcp.pid;
}

describe("xl2tpd LAC with our PPP client → our LNS with FreeRADIUS", () => {
  test(
    "PAP: LCP negotiated (no proxy LCP), alice accepted by FreeRADIUS, a pool address, the echo answered; she hangs up: our CDN carries code 3 from the peer",
    async () => {
      const { lns, echo } = await startLns(["pap"]);
      const { lac, report } = await startLac(lns, ["user alice", "password alice-pw", "usepeerdns"], {
        PPP_STANDIN_LINGER: "1",
      });
      await lac.dial("peer");
      const pid = await expectSubscriberUp(report, lac, { auth: "pap", address: POOL.start });
      expect((await report.wait("ipcp-up", lac)).dns).toEqual(DNS);

      expectNoProxyAvps(lns);
      expect(sessionsOf(lns)[0].ppp).toMatchObject({
        phase: "opened",
        user: "alice",
        address: POOL.start,
        proxied: false,
      });
      expect(lns.node.snapshot().ppp).toMatchObject({
        links: 1,
        up: 1,
        authAccepted: 1,
        authRejected: 0,
        proxyLcp: 0,
        lcpRenegotiated: 0,
      });
      expect(echo.echoes).toBe(1);
      await radius.waitForOutput(/Sent Access-Accept/, STEP_TIMEOUT_MS);

      // The subscriber hangs up (pppd's SIGINT): LCP Terminate-Request; our LNS acks, waits a restart
      // period (RFC 1661 §4.1, Stopping), then clears the call itself.
      const since = lac.lines.length;
      process.kill(pid, "SIGINT");
      expect(await report.wait("finished", lac)).toMatchObject({
        cause: { code: PppDisconnectCode.normal, direction: PppDirection.local },
      });
      const closed = await report.during(
        lac,
        lac.waitForLog(XL2TPD_LOG.callClosedByPeer, STEP_TIMEOUT_MS, since),
      );
      const [cdn] = messages(lns, "sent", "CDN");
      expect(cdn?.avps.pppDisconnectCause).toMatchObject({
        code: PppDisconnectCode.normal,
        protocol: PppProtocol.LCP,
        direction: PppDirection.peer,
      });
      expect(closed[3]).toContain("Terminate-Request");
      expect(lns.pppEndings.map((e) => e.cause.code)).toEqual([PppDisconnectCode.normal]);
      expect(lns.wiringErrors).toEqual([]);
      // RADIUS accounting of the call (RFC 2866): Start, then Stop with the hang-up as User-Request.
      await radius.waitForOutput(/Acct-Status-Type = Stop/, STEP_TIMEOUT_MS);
      const records = radius.detailRecords().filter((r) => r["User-Name"]?.[0] === "alice");
      expect(records.map((r) => r["Acct-Status-Type"]?.[0])).toEqual(["Start", "Stop"]);
      expect(records[1]).toMatchObject({
        "Framed-IP-Address": [POOL.start],
        "Acct-Terminate-Cause": ["User-Request"],
      });
      expect(Number(records[1]["Acct-Input-Packets"]?.[0])).toBeGreaterThan(0);
      expectEmptyRegistries(await lns.close());
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "CHAP: bob accepted by FreeRADIUS, his Framed-IP-Address assigned, the echo answered; he hangs up after a while and exits as pppd does: xl2tpd's CDN, the cause kept by our LNS",
    async () => {
      const { lns, echo } = await startLns(["chap"]);
      // He hangs up by himself HOLD_MS after IPCP is up (PPP_STANDIN_HOLD_MS), and exits as pppd does.
      const HOLD_MS = 2000;
      const { lac, report } = await startLac(lns, ["user bob", "password bob-pw", "refuse-pap"], {
        PPP_STANDIN_HOLD_MS: String(HOLD_MS),
      });
      await lac.dial("peer");
      await expectSubscriberUp(report, lac, { auth: "chap", address: BOB_FRAMED_IP });

      expectNoProxyAvps(lns);
      expect(sessionsOf(lns)[0].ppp).toMatchObject({ phase: "opened", user: "bob", address: BOB_FRAMED_IP });
      expect(lns.node.snapshot().ppp).toMatchObject({ up: 1, authAccepted: 1, proxyLcp: 0 });
      expect(echo.echoes).toBe(1);
      await radius.waitForOutput(/CHAP-Password/, STEP_TIMEOUT_MS);

      // This xl2tpd carries one call: the first pppd exit and call_close in its log are his, looked for
      // from the start (on a slow machine the hang-up may already be logged by now).
      const exited = await report.during(lac, lac.waitForLog(XL2TPD_LOG.pppdExited, STEP_TIMEOUT_MS));
      expect(exited[3]).toBe("5"); // pppd's EXIT_USER_REQUEST
      expect(await report.wait("hangup", lac)).toMatchObject({ why: `held ${HOLD_MS} ms` });
      await report.during(lac, lac.waitForLog(XL2TPD_LOG.callClosedByUs, STEP_TIMEOUT_MS));
      await report.during(
        lac,
        lns.waitFor("the session's end", () => sessionsOf(lns).length === 0, STEP_TIMEOUT_MS),
      );
      expect(messages(lns, "received", "CDN")).toHaveLength(1);
      expect(messages(lns, "sent", "CDN")).toHaveLength(0);
      expect(lns.pppEndings.map((e) => e.cause)).toMatchObject([
        { code: PppDisconnectCode.normal, protocol: PppProtocol.LCP, direction: PppDirection.peer },
      ]);
      expect(lns.wiringErrors).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "a wrong password: FreeRADIUS rejects, CHAP Failure, LCP Terminate, and our CDN on the wire carries the PPP Disconnect Cause code 16",
    async () => {
      const { lns } = await startLns(["chap", "pap"]);
      const { lac, report } = await startLac(lns, ["user alice", "password not-her-password"], {
        PPP_STANDIN_LINGER: "1",
      });
      capture = await startLoopbackCapture([lac.port], STEP_TIMEOUT_MS);
      await lac.dial("peer");
      const lcp = await report.wait("lcp-up", lac);
      expect(lcp).toMatchObject({ authProtocol: "chap" });
      expectNoRequestLost(lcp);
      const auth = await report.wait("auth", lac);
      expect(auth).toMatchObject({ ok: false, protocol: "chap" });
      expect(report.lines().some((l) => l.event === "ipcp-up")).toBe(false);
      await radius.waitForOutput(/Sent Access-Reject/, STEP_TIMEOUT_MS);
      await report.during(lac, lac.waitForLog(XL2TPD_LOG.callClosedByPeer, STEP_TIMEOUT_MS));

      const datagrams = await capture.stop();
      capture = undefined;
      const cdns = datagrams
        .filter(
          (d) => d.src === OUR_ADDRESS && d.srcPort === lns.endpoint.port && (d.payload[0] & 0x80) !== 0,
        )
        .map((d) => decodeControl(d.payload, { secret: new TextEncoder().encode(SECRET) }))
        .flatMap((r) => (r.ok && r.value.message?.type === "CDN" ? [r.value.message] : []));
      expect(cdns).toHaveLength(1);
      expect(cdns[0].avps.pppDisconnectCause).toMatchObject({
        code: PppDisconnectCode.authFailed,
        protocol: PppProtocol.CHAP,
        direction: PppDirection.local,
      });
      expect(lns.node.snapshot().ppp).toMatchObject({ authAccepted: 0, authRejected: 1, up: 0 });
      expect(lns.pppEndings.map((e) => e.cause.code)).toEqual([PppDisconnectCode.authFailed]);
      expect(lns.wiringErrors).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "a client that starts late (after more restart periods than the RFC's Max-Configure of 10) still gets LCP: the LNS keeps asking, and the frames that reached the pty before it was raw are read, not flushed (TCSANOW, not TCSAFLUSH)",
    async () => {
      const { lns } = await startLns(["pap"]);
      // The LNS sends a Configure-Request every RESTART_MS; the client starts reading the pty after LATE_MS,
      // when 10 requests (RFC 1661 §4.6's default Max-Configure) would have been spent: the budget a loaded
      // CI machine once outlasted, with xl2tpd's CDN "LCP: the peer did not answer" and no LCP.
      const LATE_MS = 12 * RESTART_MS;
      const { lac, report } = await startLac(
        lns,
        ["user alice", "password alice-pw"],
        {
          LATE_RAW_SECONDS: String(LATE_MS / 1000),
          LATE_RAW_WRAPPER: STAND_IN_WRAPPER,
          STAND_IN_PPPD_RUNTIME: process.execPath,
          STAND_IN_PPPD_MAIN: PPP_STANDIN,
        },
        { pppd: { path: LATE_RAW_PPPD } },
      );
      await lac.dial("peer");
      const lcp = await report.wait("lcp-up", lac);
      // Every request written while the pty was canonical (two at least) was read or counted as mangled.
      expect(lcp).toMatchObject({ authProtocol: "pap" });
      expect(lcp.peerRequests + lcp.hdlc.fcsErrors).toBeGreaterThanOrEqual(2);
      expectNoRequestLost(lcp);
      expect(await report.wait("ipcp-up", lac)).toMatchObject({ address: POOL.start });
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "the subscriber freezes (SIGSTOP): our LNS's LCP Echo-Requests, answered until then, go unanswered, and its CDN carries code 8",
    async () => {
      const { lns } = await startLns(["pap"], { keepaliveMs: 400, keepaliveMisses: 2 });
      const { lac, report } = await startLac(lns, ["user alice", "password alice-pw"], {
        PPP_STANDIN_LINGER: "1",
      });
      await lac.dial("peer");
      const pid = await expectSubscriberUp(report, lac, { auth: "pap", address: POOL.start });
      try {
        // Echo-Requests after each quiet period (RFC 1661 §5.8), each answered by our client through xl2tpd.
        await report.during(
          lac,
          lns.waitFor(
            "three Echo-Requests",
            () => (lns.node.snapshot().ppp?.echoRequestsSent ?? 0) >= 3,
            STEP_TIMEOUT_MS,
          ),
        );
        expect(lns.node.snapshot().ppp).toMatchObject({ keepaliveFailures: 0, linksUp: 1 });
        process.kill(pid, "SIGSTOP");
        const cdn = await report.during(
          lac,
          lns.waitFor("our CDN", () => messages(lns, "sent", "CDN")[0], STEP_TIMEOUT_MS),
        );
        expect(cdn.avps.pppDisconnectCause).toMatchObject({
          code: PppDisconnectCode.lcpKeepalive,
          protocol: PppProtocol.LCP,
          direction: PppDirection.local,
        });
        expect(lns.node.snapshot().ppp).toMatchObject({ keepaliveFailures: 1, linksUp: 0 });
        await report.during(lac, lac.waitForLog(XL2TPD_LOG.callClosedByPeer, STEP_TIMEOUT_MS));
      } finally {
        process.kill(pid, "SIGCONT");
      }
    },
    TEST_TIMEOUT_MS,
  );
});
