/**
 * bench/xl2tpd-ppp: how long a subscriber takes to come up through an independent LAC (issue 8): xl2tpd
 * 1.3.18 as LAC with our PPP client as its pppd (test/integration/xl2tpd/ppp-standin.ts) dials our LNS
 * (real UDP on loopback, PAP, local AAA, a pool), one call after another. Each call is timed from
 * `c peer` on xl2tpd's control FIFO to IPCP up at our LNS, and hung up as pppd does (SIGINT: LCP
 * Terminate-Request, exit, xl2tpd's CDN). The reference, in the same run against the same LNS: our own
 * LAC with a simulated subscriber (PppNodeConfig.subscriber) in this process, timed from `openSession` to
 * IPCP up at the LNS.
 *
 * What bounds the xl2tpd path: xl2tpd forks `sh` + `stty` + Bun for every call (the stand-in's start), and
 * any LNS Configure-Request that reaches the pty before the stand-in has set it raw goes through the
 * canonical line discipline, where a 0x7F (VERASE) erases the octet before it: that frame fails its FCS
 * and LCP waits one restart period (the LNS's restartMs, 3 s by default) for the retransmission.
 * The count of such calls is printed too. Needs root, xl2tpd and util-linux's unshare (scripts/setup.sh).
 *
 *   node_modules/.bin/bun bench/xl2tpd-ppp.ts [--calls N] [--restart-ms MS]
 *
 * Prints a human line per path, then one JSON line with every figure.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeConfig } from "../actors/config.ts";
import { LocalAaa } from "../adapters/aaa/local.ts";
import { EchoDataPlane } from "../adapters/dataplane/index.ts";
import { startXl2tpd, type Xl2tpd } from "../test/integration/xl2tpd/harness.ts";
import { type OurNode, startOurNode } from "../test/integration/xl2tpd/our-node.ts";
import { readStandInReport, type StandInReportLine } from "../test/integration/xl2tpd/ppp-standin.ts";
import { runtimeName } from "./measure.ts";

const PPP_STANDIN = new URL("../test/integration/xl2tpd/ppp-standin.ts", import.meta.url).pathname;
const SECRET = "s3cret";
const XL2TPD_ADDRESS = "127.0.0.61";
const LNS_ADDRESS = "127.0.0.62";
const OUR_LAC_ADDRESS = "127.0.0.63";
const USER = { name: "alice", password: "alice-pw" };

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name}: expected a positive whole number, got ${JSON.stringify(process.argv[at + 1])}`);
  }
  return value;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Resolves once `probe` holds, polled every millisecond; throws after `timeoutMs`. */
async function until(what: string, probe: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await sleep(1);
  }
}

function upCount(lns: OurNode): number {
  return lns.node.snapshot({ sessions: false }).ppp?.up ?? 0;
}

function sessionCount(node: OurNode): number {
  return node.node.snapshot({ sessions: false }).registries.sessions;
}

type Line = StandInReportLine;

/** `c peer`, again while xl2tpd still holds the previous call ("already active"). */
async function dial(lac: Xl2tpd): Promise<void> {
  for (;;) {
    const answer = await lac.command("c peer");
    if (answer.startsWith("00")) return;
    if (!answer.includes("already active")) throw lac.failure(`answered ${JSON.stringify(answer)} to c peer`);
    await sleep(2);
  }
}

interface Summary {
  calls: number;
  medianMs: number;
  p90Ms: number;
  maxMs: number;
}

function summary(times: number[]): Summary {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const round = (n: number) => Math.round(n * 10) / 10;
  return { calls: times.length, medianMs: round(at(0.5)), p90Ms: round(at(0.9)), maxMs: round(at(1)) };
}

async function main(): Promise<void> {
  const calls = argument("--calls", 60);
  const restartMs = argument("--restart-ms", 3000);
  const lnsConfig: NodeConfig = {
    name: "bench-lns",
    hostName: "lns.test",
    stopHoldMs: 500,
    destinations: [
      { address: XL2TPD_ADDRESS, peerHostName: "lac.test", secret: SECRET },
      { address: OUR_LAC_ADDRESS, peerHostName: "lac.test", secret: SECRET },
    ],
    ppp: {
      lns: { authProtocols: ["pap"], localAddress: "10.10.0.1", restartMs },
      pools: [{ name: "subscribers", start: "10.10.1.1", end: "10.10.1.250" }],
    },
  };
  const aaa = new LocalAaa([{ name: USER.name, password: USER.password }]);
  const lns = await startOurNode(lnsConfig, LNS_ADDRESS, { aaa, dataPlane: new EchoDataPlane() });
  const reportDir = mkdtempSync(join(tmpdir(), "bench-xl2tpd-ppp-"));
  const reportFile = join(reportDir, "report.jsonl");
  let lac: Xl2tpd | undefined;
  let ours: OurNode | undefined;
  try {
    lac = await startXl2tpd({
      label: "bench-lac",
      address: XL2TPD_ADDRESS,
      secrets: [{ ours: "lac.test", theirs: "lns.test", secret: SECRET }],
      lacs: [
        {
          name: "peer",
          lns: lns.endpoint,
          hostname: "lac.test",
          challenge: true,
          pppOptions: [`user ${USER.name}`, `password ${USER.password}`],
        },
      ],
      pppd: "stand-in",
      standInMain: PPP_STANDIN,
      env: { PPP_STANDIN_REPORT: reportFile },
    });

    // The xl2tpd path: one call at a time, timed to IPCP up at our LNS, hung up as pppd does.
    const viaXl2tpd: number[] = [];
    /** From the stand-in's start (its code loaded) to IPCP up, as it reports: PPP through xl2tpd alone. */
    const negotiation: number[] = [];
    const seen = new Set<number>();
    let mangled = 0;
    let mangledMs = 0;
    for (let i = 0; i < calls; i++) {
      const before = upCount(lns);
      const t0 = performance.now();
      await dial(lac);
      await until("IPCP up at the LNS", () => upCount(lns) > before);
      const ms = performance.now() - t0;
      viaXl2tpd.push(ms);
      await until("the stand-in's report", () =>
        readStandInReport(reportFile).some((l) => l.event === "ipcp-up" && !seen.has(l.pid)),
      );
      const lines = readStandInReport(reportFile).filter((l) => !seen.has(l.pid));
      const lcp = lines.find((l): l is Line & { event: "lcp-up" } => l.event === "lcp-up");
      const ipcp = lines.find((l) => l.event === "ipcp-up");
      if (ipcp) negotiation.push(ipcp.ms);
      const pid = lcp?.pid ?? -1;
      seen.add(pid);
      if ((lcp?.hdlc.fcsErrors ?? 0) > 0) {
        mangled++;
        mangledMs += ms;
      }
      process.kill(pid, "SIGINT");
      await until("the call's end at the LNS", () => sessionCount(lns) === 0);
    }

    // The reference: our own LAC and subscriber against the same LNS, in this process.
    const lacConfig: NodeConfig = {
      name: "bench-our-lac",
      hostName: "lac.test",
      stopHoldMs: 500,
      destinations: [
        { address: LNS_ADDRESS, port: lns.endpoint.port, peerHostName: "lns.test", secret: SECRET },
      ],
      ppp: { subscriber: { user: USER.name, password: USER.password, authProtocols: ["pap"] } },
    };
    ours = await startOurNode(lacConfig, OUR_LAC_ADDRESS);
    const reference: number[] = [];
    for (let i = 0; i < calls; i++) {
      const before = upCount(lns);
      const t0 = performance.now();
      const outcome = await ours.node.openSession({ destination: lns.endpoint });
      if (!outcome.ok) throw new Error(`our LAC's call failed: ${outcome.cause.message}`);
      await until("IPCP up at the LNS", () => upCount(lns) > before);
      reference.push(performance.now() - t0);
      ours.node.closeSession(outcome.tunnelId, outcome.sessionId);
      await until("the call's end at the LNS", () => sessionCount(lns) === 0);
    }

    const xl2tpd = summary(viaXl2tpd);
    const ppp = summary(negotiation);
    const ref = summary(reference);
    console.log(
      `xl2tpd LAC + our PPP client → our LNS (PAP, local AAA): ${xl2tpd.calls} calls, set-up median ${xl2tpd.medianMs} ms, p90 ${xl2tpd.p90Ms} ms, max ${xl2tpd.maxMs} ms; ` +
        `${mangled} calls had the LNS's first LCP request mangled on the pty (mean ${mangled ? Math.round(mangledMs / mangled) : 0} ms, restartMs ${restartMs})`,
    );
    console.log(
      `  of which PPP (LCP, PAP, IPCP) between our client's start and its IPCP up: median ${ppp.medianMs} ms, p90 ${ppp.p90Ms} ms; the rest is xl2tpd's call set-up and starting sh, stty and Bun per call`,
    );
    console.log(
      `reference, same run: our LAC + simulated subscriber → the same LNS: ${ref.calls} calls, set-up median ${ref.medianMs} ms, p90 ${ref.p90Ms} ms, max ${ref.maxMs} ms`,
    );
    console.log(
      JSON.stringify({
        bench: "xl2tpd-ppp",
        runtime: runtimeName(),
        restartMs,
        xl2tpd: { ...xl2tpd, mangledFirstRequest: mangled, ppp },
        reference: ref,
      }),
    );
  } finally {
    await ours?.close();
    await lns.close();
    await lac?.stop("SIGINT");
    rmSync(reportDir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
