/**
 * `l2tp lab`: the README's main job. An LNS and a LAC on loopback UDP (127.0.0.1 and 127.0.0.2), N
 * sessions opened over T tunnels, held, then all closed by closing the destination on the LAC; prints a
 * readable account (with progress while thousands of sessions open or close) and exits non-zero if
 * anything did not end as it should. `runLab` is also what bench/setup measures.
 */
import { resolve } from "node:path";
import process from "node:process";
import { setImmediate } from "node:timers";
import type { InspectionEvent } from "xstate";
import type { Aaa } from "../../actors/aaa.ts";
import { LacAccess, type LacAccessStats } from "../../actors/lac-access.ts";
import { createNode, type L2tpNode, type NodeDeps, type NodeSnapshot } from "../../actors/node.ts";
import type { PeerAddress, Transport } from "../../actors/ports.ts";
import type { PppNodeConfig } from "../../actors/ppp-link.ts";
import { LocalAaa } from "../../adapters/aaa/local.ts";
import { type SimulatedSubscriber, SubscriberSimulator } from "../../adapters/access/simulator.ts";
import { handleAdminRequest } from "../../adapters/admin/server.ts";
import { describeAllocator } from "../../adapters/allocator/index.ts";
import { realClock } from "../../adapters/clock/index.ts";
import { EchoDataPlane } from "../../adapters/dataplane/index.ts";
import {
  createInspector,
  type Inspector,
  type InspectorServer,
  inspectorUrl,
  parseListen,
  serveInspector,
} from "../../adapters/inspector/index.ts";
import { spareTopTier } from "../../adapters/jit/index.ts";
import { cryptoRandom } from "../../adapters/random/index.ts";
import {
  type BindUdpOptions,
  bindUdp,
  receiveBufferWarning,
  type UdpImplementation,
  type UdpTransport,
} from "../../adapters/udp/index.ts";
import type { LacPolicy } from "../../machines/lac-decision.ts";
import type { TunnelGroup } from "../../machines/tunnel-selection.ts";
import { icmpEchoRequest, isIcmpEchoReply } from "../../protocol/ipv4.ts";
import { controlMessageTypeOf } from "../../protocol/l2tp/message-types.ts";
import { L2TP, parseCommandArgs, UsageError, wholeNumber } from "./cli.ts";
import type { Command } from "./index.ts";
import { openRecording, type Recording, type RecordingSummary, summaryText } from "./recording.ts";

/** Where a lab run records by default: a folder of its own per run, so that a replay shows one run. */
export const LAB_EVENTS_DIR = "./var/lab";

const HELP = `usage: ${L2TP} lab [--sessions N] [--tunnels T] [--hold SECONDS] [--events ADDRESS] [--no-ppp] [--json] [--inspect]

An LNS (127.0.0.1) and a LAC (127.0.0.2) on loopback: N simulated PPP subscribers dial the LAC, which
negotiates LCP and takes CHAP with each, sends it by its domain (lab.example, the lab's domain map) over
one of T tunnels (tunnel authentication, hidden AVPs) with proxy LCP and authentication in the ICCN; the
LNS takes the proxy LCP over, checks CHAP through local AAA and gives an IPCP address from the lab's
pool; each subscriber pings the LNS once; all are held, then closed by closing the destination on the
LAC (each subscriber gets an LCP Terminate-Request). Every state transition of both nodes (named lns and lac), PPP links included,
is recorded in the event log, and the report ends with the command that replays it
('${L2TP} replay ADDRESS').

  --sessions N    sessions to open (default 100)
  --tunnels T     tunnels to spread them over, at most N (default 1; at most ceil(N/T) sessions per tunnel)
  --hold S        seconds to hold the sessions before closing (default 1)
  --window W      session requests in flight at once (default 2000)
  --events A      the event log: file:DIR, memory: or nats://HOST:PORT[/STREAM]; default: a new folder
                  per run, file:${LAB_EVENTS_DIR}/<start time>
  --no-ppp        L2TP calls only, no PPP inside them
  --json          only one JSON line with the figures on stdout (the human report goes to stderr)
  --inspect       serve the inspector page of both nodes (its URL is printed) and hold the sessions until
                  Ctrl-C, or for --hold when given
  --inspect-actions   with --inspect: let the page drain, shut down, enable and close
  --listen A:P    with --inspect: where the page is served (default 127.0.0.1:0, a free port)
`;

/** A new folder under LAB_EVENTS_DIR named by the start time (and the process, should two start at once). */
export function labEventsAddress(now: Date): string {
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  return `file:${LAB_EVENTS_DIR}/${stamp}-${process.pid}`;
}

/** The LNS of a lab run: in this process (the CLI), or in another one (bench/setup, for per-process RSS). */
export interface LabLns {
  peer: PeerAddress;
  /** Its tunnels and sessions now, and (when it runs PPP) the subscribers whose IPCP is up. */
  count(): Promise<{ tunnels: number; sessions: number; pppUp?: number }>;
  /** Its PPP counters, when it runs PPP in this process. */
  ppp?(): NodeSnapshot["ppp"];
  /** Its registries now, when it runs in this process. */
  registries?(): NodeSnapshot["registries"];
  /** Its registries, router counters and destinations now, when it runs in this process. */
  snapshot?(): Pick<NodeSnapshot, "registries" | "stats" | "destinations">;
  /** Closes the LNS; resolves with its registries afterwards. */
  close(): Promise<NodeSnapshot["registries"]>;
  /** Control messages it sent, by type, when it can tell. */
  sent?: Record<string, number>;
  /** The UDP adapter its socket went through, when it runs in this process. */
  udp?: UdpImplementation;
  /** What its own event log recorded (set by close, when it had one of its own). */
  events?: RecordingSummary;
}

/** Which node of the lab. */
export type LabSide = "lac" | "lns";

/** Hooks to watch the lab's nodes (tests: the live states to compare a replay with). */
export interface LabObserver {
  /** The lab's event log was opened (before either node is created). */
  recording?(recording: Recording): void;
  /** A node was created (the LNS only when it runs in this process). */
  created?(side: LabSide, node: L2tpNode): void;
  /** Every inspection event of a node, after its recorder had it. */
  inspect?(side: LabSide, event: InspectionEvent): void;
  /** Both nodes exist; awaited before the first call is placed (bench/inspector: a page opens first). */
  started?(): void | Promise<void>;
  /** Every session is up (or failed) and the hold begins. */
  established?(): void | Promise<void>;
  /** The LAC has closed (after the destination was closed), just before both nodes end. */
  closing?(): void | Promise<void>;
}

/** How the lab's LNS is made. */
export interface LabLnsOptions {
  secret?: string;
  /**
   * Terminate PPP on every call: true, the lab's (CHAP through local AAA, an address from the lab's
   * pool, the echo data plane); or these settings, AAA and data plane (bench/ppp).
   */
  ppp?: boolean | { config: PppNodeConfig; aaa?: Aaa; dataPlane?: NodeDeps["dataPlane"] };
  /** Its event log: an address it opens (and closes with itself), or a recording it shares. */
  events?: string | Recording;
  observe?: LabObserver;
  /** Also accept any other peer that knows the secret (an `address: any` profile, as the example config). */
  openToAny?: boolean;
  /** Its node-wide bound on half-open tunnels (default: the node's, actors/half-open.ts). */
  maxHalfOpenTunnels?: number;
  /** Its UDP adapter (bindUdp's `implementation`; default: the runtime's, adapters/udp/index.ts). */
  udp?: BindUdpOptions["implementation"];
}

/** What a lab run does. */
export interface LabOptions {
  sessions: number;
  tunnels: number;
  holdMs: number;
  window: number;
  /** An LNS run elsewhere; default: one in this process on 127.0.0.1. */
  lns?: LabLns;
  secret?: string;
  /** Called with progress lines; the CLI shows them, the benchmark does not. */
  progress?: (line: string, done: boolean) => void;
  /** The event log address of both nodes (none: nothing is recorded). */
  events?: string;
  observe?: LabObserver;
  /**
   * A simulated PPP subscriber on every call (LCP, CHAP, IPCP), terminated by the LNS: the report says
   * when every subscriber had its address. Default false (the L2TP figures alone).
   */
  ppp?: boolean;
  /**
   * The LAC's subscriber (NodeConfig.ppp.subscriber) instead of the lab's (user@lab.example with CHAP),
   * with `ppp`: its user, password and the protocols it accepts.
   */
  subscriber?: PppNodeConfig;
  /**
   * With `ppp`: a call counts as established once its subscriber's PPP is up (LCP, authentication,
   * IPCP), not when its L2TP session is; the set-up time and the progress marks are the subscribers'.
   */
  establishedWhenPppUp?: boolean;
  /**
   * With `ppp`: the subscribers dial our LAC instead of riding its calls (actors/lac-access.ts): LCP and
   * CHAP with the LAC, the lab's domain map, proxy LCP and authentication to the LNS, one ping each. What
   * `l2tp lab` runs; `subscriber` and `establishedWhenPppUp` are for the stand-in path (bench/ppp).
   */
  throughLac?: boolean;
}

/** What a lab run measured and saw. */
export interface LabReport {
  sessions: number;
  tunnels: number;
  established: number;
  failed: number;
  failures: Record<string, number>;
  setupMs: number;
  setupPerSecond: number;
  closeMs: number;
  /** Control messages each side sent, by type (ZLB included). */
  sentByLac: Record<string, number>;
  sentByLns?: Record<string, number>;
  tunnelsSeenOnLns: number;
  /**
   * With PPP: subscribers whose IPCP came up, how long after the first call it took, pings answered, the
   * LNS's PPP counters and the LAC's subscriber side.
   */
  ppp?: { up: number; upMs: number; echoes: number; lns: NodeSnapshot["ppp"]; lac?: LacAccessStats };
  /** Registries of both nodes after the close: all zero when nothing leaked. */
  leftover: { lac: NodeSnapshot["registries"]; lns: NodeSnapshot["registries"] };
  rssBytes: number;
  /** What the event log recorded (the LNS's part too when it had its own log and said so). */
  events?: RecordingSummary;
  ok: boolean;
  problems: string[];
}

/** The tunnel secret of the lab's two nodes. */
export const LAB_SECRET = "lab-secret";

/** The lab's subscriber (every call authenticates as it, through the LNS's local AAA). */
export const LAB_SUBSCRIBER = { name: "user@lab.example", password: "lab-password" };

/** The lab LNS's address pool: room for the largest lab. */
const LAB_POOL = { name: "lab", start: "10.64.0.1", end: "10.79.255.254" };

/** The lab LNS's own PPP address (subscribers ping it). */
export const LAB_LNS_ADDRESS = "10.0.0.1";

/** The lab LNS's PPP: CHAP, its own address, DNS, the lab pool; proxy LCP from the LAC taken over. */
const LAB_LNS_PPP: PppNodeConfig = {
  lns: { authProtocols: ["chap"], localAddress: LAB_LNS_ADDRESS, dns: ["10.0.0.53"] },
  pools: [LAB_POOL],
};

/** What every subscriber pings with. */
const PING = new Uint8Array(32);

/** The lab LAC's domain map: lab.example → the lab LNS, `perTunnel` sessions per tunnel. */
function labDomainMap(lns: PeerAddress, perTunnel: number): LacPolicy {
  const group: TunnelGroup = {
    name: "lab.example",
    tunnels: [{ peer: lns, preference: 0, maxSessions: perTunnel }],
    weightedLoadBalancing: false,
    failoverWithinPreference: false,
  };
  return {
    domainSeparator: "@",
    stripDomain: false,
    domains: new Map([["lab.example", { kind: "tunnel", group }]]),
    radiusGroup: { weightedLoadBalancing: false, failoverWithinPreference: false, maxSessions: 0 },
  };
}

/** One subscriber dials the LAC: ok once its IPCP is up, else why its link ended. */
async function subscriberUp(
  subscribers: SubscriberSimulator,
  callingNumber: string,
  dialled: SimulatedSubscriber[],
): Promise<{ ok: true } | { ok: false; cause: { reason: string } }> {
  const sub = subscribers.dial({
    user: LAB_SUBSCRIBER.name,
    password: LAB_SUBSCRIBER.password,
    authProtocols: ["chap"],
    callingNumber,
  });
  const outcome = await Promise.race([
    sub.up.then(() => ({ ok: true as const })),
    sub.ended.then((why) => ({
      ok: false as const,
      cause: { reason: `ppp code ${why.code}: ${why.message}` },
    })),
  ]);
  if (outcome.ok) dialled.push(sub);
  return outcome;
}

/** An LNS node on 127.0.0.1 (ephemeral port) in this process, accepting the lab's LAC on 127.0.0.2. */
export async function startLabLns(options: LabLnsOptions | string = {}): Promise<LabLns> {
  const {
    secret = LAB_SECRET,
    events,
    observe,
    ppp = false,
    openToAny,
    maxHalfOpenTunnels,
    udp,
  } = typeof options === "string" ? { secret: options } : options;
  const lnsPpp =
    ppp === true
      ? { config: LAB_LNS_PPP, aaa: new LocalAaa([LAB_SUBSCRIBER]), dataPlane: new EchoDataPlane() }
      : ppp || undefined;
  const own = typeof events === "string" ? await openRecording(events, { clock: realClock }) : undefined;
  const recording = own ?? (events as Recording | undefined);
  const recorded = recording?.forNode("lns");
  const socket = countSent(
    await bindUdp({ address: "127.0.0.1", port: 0 }, udp ? { implementation: udp } : {}),
  );
  void spareTopTier(); // adapters/jit: the engine kept out of JSC's top tier (Bun)
  const lns = createNode(
    {
      name: "lns",
      hostName: "lns.lab",
      maxSessionsPerTunnel: 65535,
      stopHoldMs: 1000,
      destinations: [
        { address: "127.0.0.2", peerHostName: "lac.lab", secret, hide: ["assignedSessionId"] },
        ...(openToAny ? [{ secret }] : []),
      ],
      ...(lnsPpp ? { ppp: lnsPpp.config } : {}),
      ...(maxHalfOpenTunnels !== undefined ? { maxHalfOpenTunnels } : {}),
    },
    {
      transport: socket.transport,
      clock: realClock,
      random: cryptoRandom,
      ...(lnsPpp?.aaa ? { aaa: lnsPpp.aaa } : {}),
      ...(lnsPpp?.dataPlane ? { dataPlane: lnsPpp.dataPlane } : {}),
      ...nodeHooks("lns", recorded, observe),
    },
  );
  recorded?.attach(lns);
  observe?.created?.("lns", lns);
  const registries = () => lns.snapshot({ sessions: false }).registries;
  const handle: LabLns = {
    peer: socket.transport.local,
    sent: socket.sent,
    udp: (socket.transport as UdpTransport).implementation,
    async count() {
      const snapshot = lns.snapshot({ sessions: false });
      const { tunnels, sessions } = snapshot.registries;
      return snapshot.ppp ? { tunnels, sessions, pppUp: snapshot.ppp.linksUp } : { tunnels, sessions };
    },
    ppp: () => lns.snapshot({ sessions: false }).ppp,
    registries,
    snapshot() {
      const { registries, stats, destinations } = lns.snapshot({ sessions: false });
      return { registries, stats, destinations };
    },
    async close() {
      await lns.close({ reason: "admin", message: "lab over" });
      const left = registries();
      await socket.transport.close();
      if (own) handle.events = await own.close();
      return left;
    },
  };
  return handle;
}

/** The inspect and admit hooks of a lab node: its recorder first, then the observer. */
function nodeHooks(
  side: LabSide,
  recorded: ReturnType<Recording["forNode"]> | undefined,
  observe: LabObserver | undefined,
): { inspect?: (event: InspectionEvent) => void; admit?: () => boolean } {
  const watch = observe?.inspect;
  const inspect =
    recorded && watch
      ? (event: InspectionEvent) => {
          recorded.inspect(event);
          watch(side, event);
        }
      : (recorded?.inspect ?? (watch ? (event: InspectionEvent) => watch(side, event) : undefined));
  return {
    ...(inspect ? { inspect } : {}),
    ...(recorded ? { admit: recorded.admit } : {}),
  };
}

/** Runs the lab: two nodes on loopback UDP, N sessions up, held, closed by destination. */
export async function runLab(options: LabOptions): Promise<LabReport> {
  const progress = options.progress ?? (() => {});
  const secret = options.secret ?? LAB_SECRET;
  const recording =
    options.events !== undefined ? await openRecording(options.events, { clock: realClock }) : undefined;
  if (recording) options.observe?.recording?.(recording);
  const lnsNode =
    options.lns ??
    (await startLabLns({
      secret,
      ppp: options.ppp === true,
      ...(recording ? { events: recording } : {}),
      ...(options.observe ? { observe: options.observe } : {}),
    }));
  const recorded = recording?.forNode("lac");
  const lacSocket = countSent(await bindUdp({ address: "127.0.0.2", port: 0 }));
  const perTunnel = Math.ceil(options.sessions / options.tunnels);
  const lnsPeer: PeerAddress = lnsNode.peer;
  void spareTopTier(); // adapters/jit: the engine kept out of JSC's top tier (Bun)
  const lac = createNode(
    {
      maxSessionsPerTunnel: perTunnel,
      stopHoldMs: 1000,
      name: "lac",
      hostName: "lac.lab",
      maxTunnels: options.tunnels,
      destinations: [
        {
          address: lnsPeer.address,
          port: lnsPeer.port,
          peerHostName: "lns.lab",
          secret,
          hide: ["assignedSessionId", "callingNumber"],
          maxSessionsPerTunnel: perTunnel,
          maxTunnels: options.tunnels,
        },
      ],
      ...(options.ppp && !options.throughLac
        ? {
            ppp: options.subscriber ?? {
              subscriber: { user: LAB_SUBSCRIBER.name, password: LAB_SUBSCRIBER.password },
            },
          }
        : {}),
    },
    {
      transport: lacSocket.transport,
      clock: realClock,
      random: cryptoRandom,
      ...nodeHooks("lac", recorded, options.observe),
      // With PPP the LAC relays its subscribers' frames (actors/lac-access.ts).
      ...(options.ppp ? { onData: (s, p) => access?.onData(s, p) } : {}),
    },
  );
  recorded?.attach(lac);
  options.observe?.created?.("lac", lac);
  await options.observe?.started?.();
  // With PPP: simulated subscribers dial the LAC, which sends each by its domain (the lab's domain map)
  // to the LNS, proxy LCP and authentication in the ICCN.
  const subscribers = options.ppp && options.throughLac ? new SubscriberSimulator(realClock) : undefined;
  const access: LacAccess | undefined = subscribers
    ? new LacAccess({
        node: lac,
        access: subscribers,
        policy: labDomainMap(lnsPeer, perTunnel),
        clock: realClock,
        random: cryptoRandom,
        ppp: { authProtocols: ["chap"], hostName: "lac.lab" },
      })
    : undefined;
  const dialled: SimulatedSubscriber[] = [];

  const problems: string[] = [];
  const failures: Record<string, number> = {};
  let established = 0;
  let failed = 0;
  const stride = Math.max(1, Math.floor(options.sessions / 20));
  const opening = (done: number, up = established) =>
    progress(
      `opening: ${done}/${options.sessions} (${up} established, ${failed} failed)`,
      done === options.sessions,
    );
  const setupStart = performance.now();
  // With subscribers a call is up when its PPP is: the LAC's counter of links up is watched instead.
  const pppUp =
    options.ppp && options.establishedWhenPppUp
      ? watchPppUp(lac, options.sessions, stride, opening)
      : undefined;
  let sessionsUp = 0;
  await inWindow(options.sessions, options.window, async (i) => {
    const callingNumber = `555${String(i).padStart(7, "0")}`;
    const outcome = subscribers
      ? await subscriberUp(subscribers, callingNumber, dialled)
      : await lac.openSession({
          destination: lnsPeer,
          requestAvps: { callSerialNumber: i + 1, callingNumber },
        });
    pppUp?.called();
    if (outcome.ok) {
      sessionsUp++;
      if (pppUp) return;
      established++;
    } else {
      failed++;
      pppUp?.lost();
      failures[outcome.cause.reason] = (failures[outcome.cause.reason] ?? 0) + 1;
    }
    const done = established + failed;
    if (done % stride === 0 || done === options.sessions) opening(done);
  });
  let setupMs = performance.now() - setupStart;
  if (pppUp) {
    const up = await pppUp.settled;
    established = up.count;
    setupMs = up.at - setupStart;
    const notUp = sessionsUp - established;
    if (notUp > 0) {
      failures.ppp = notUp;
      failed += notUp;
      problems.push(`${notUp} of ${sessionsUp} L2TP sessions did not bring PPP up`);
      opening(established + failed);
    }
    const lnsUp = (await lnsNode.count()).pppUp;
    if (lnsUp !== undefined && lnsUp < established)
      problems.push(`the LNS counted ${lnsUp} PPP links up, the LAC's subscribers ${established}`);
  }
  let ppp: LabReport["ppp"];
  if (options.ppp && established > 0) {
    // The stand-in subscribers' LCP, CHAP and IPCP run on after the calls are up: wait for every address.
    if (!subscribers) await until(async () => ((await lnsNode.count()).pppUp ?? 0) >= established, 10_000);
    // Every subscriber through our LAC pings the LNS once (its echo data plane answers).
    const upMs = performance.now() - setupStart;
    const up = (await lnsNode.count()).pppUp ?? 0;
    const echoes = await pingAll(dialled, options.window);
    ppp = { up, upMs, echoes, lns: lnsNode.ppp?.() };
    progress(`PPP: ${up} of ${established} subscribers have an address, ${echoes} answered pings`, true);
    if (up < established) problems.push(`${established - up} subscribers did not get through PPP`);
    if (echoes < dialled.length) problems.push(`${dialled.length - echoes} pings were not answered`);
    if (subscribers && (ppp.lns?.lcpRenegotiated ?? 0) > 0)
      problems.push(`the LNS renegotiated LCP ${ppp.lns?.lcpRenegotiated} times (proxy LCP not taken)`);
  }
  const rssBytes = process.memoryUsage().rss;
  const tunnelsSeenOnLns = (await lnsNode.count()).tunnels;
  await options.observe?.established?.();

  if (options.holdMs > 0) {
    progress(`holding ${established} sessions for ${options.holdMs / 1000} s`, true);
    await new Promise((resolve) => setTimeout(resolve, options.holdMs));
  }

  progress(`closing destination ${lnsPeer.address}:${lnsPeer.port} on the LAC`, true);
  const closeStart = performance.now();
  if (!lac.closeDestination(lnsPeer, { reason: "admin", message: "lab: closing the destination" })) {
    problems.push("the LAC had no destination to close");
  }
  // Closed when every session is gone on the LAC and the LNS has seen every StopCCN too. (Counted
  // rather than awaited call by call: a promise kept per call would be counted as the LAC's memory.)
  await until(
    async () =>
      lac.snapshot({ sessions: false }).registries.sessions === 0 && (await lnsNode.count()).sessions === 0,
    10_000,
  );
  const closeMs = performance.now() - closeStart;

  await options.observe?.closing?.();
  await lac.close({ reason: "admin", message: "lab over" });
  const leftover = { lac: lac.snapshot({ sessions: false }).registries, lns: await lnsNode.close() };
  await lacSocket.transport.close();
  const events = recording ? await recording.close() : lnsNode.events;
  if (recording && lnsNode.events) mergeSummary(events as RecordingSummary, lnsNode.events);
  if (events && events.unstored > 0)
    problems.push(`${events.unstored} events were not stored in ${events.where}`);

  for (const [side, r] of Object.entries(leftover)) {
    const left = Object.entries(r).filter(([, n]) => n !== 0);
    if (left.length)
      problems.push(
        `${side} registries not empty after close: ${left.map(([k, n]) => `${k}=${n}`).join(", ")}`,
      );
  }
  const stopCcns = lacSocket.sent.StopCCN ?? 0;
  if (established > 0 && stopCcns !== tunnelsSeenOnLns) {
    problems.push(`closing the destination sent ${stopCcns} StopCCNs for ${tunnelsSeenOnLns} tunnels`);
  }
  if (lacSocket.sent.CDN)
    problems.push(`closing the destination sent ${lacSocket.sent.CDN} CDNs (expected none)`);
  if (access && access.relayed.size > 0)
    problems.push(`${access.relayed.size} subscribers still relayed after the close`);
  if (access && access.stats.lnsDisconnects !== established)
    problems.push(
      `${access.stats.lnsDisconnects} of ${established} subscribers were told of the close (LCP Terminate-Request)`,
    );
  if (failed) problems.push(`${failed} sessions failed to establish`);

  return {
    sessions: options.sessions,
    tunnels: options.tunnels,
    established,
    failed,
    failures,
    setupMs,
    setupPerSecond: established / (setupMs / 1000),
    closeMs,
    sentByLac: lacSocket.sent,
    sentByLns: lnsNode.sent,
    tunnelsSeenOnLns,
    // The LAC's subscriber side as it ended (every subscriber told of the close).
    ...(ppp ? { ppp: { ...ppp, ...(access ? { lac: { ...access.stats } } : {}) } } : {}),
    leftover,
    rssBytes,
    ...(events ? { events } : {}),
    ok: problems.length === 0,
    problems,
  };
}

export const lab: Command = {
  summary: "an LNS and a LAC on loopback: open N sessions, hold, close the destination, report",
  async run(argv) {
    const { values } = parseCommandArgs("lab", {
      args: argv,
      options: {
        sessions: { type: "string", default: "100" },
        tunnels: { type: "string", default: "1" },
        hold: { type: "string", default: "1" },
        window: { type: "string", default: "2000" },
        events: { type: "string" },
        json: { type: "boolean", default: false },
        "no-ppp": { type: "boolean", default: false },
        inspect: { type: "boolean", default: false },
        "inspect-actions": { type: "boolean", default: false },
        listen: { type: "string", default: "127.0.0.1:0" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const holdGiven = argv.some((a) => a === "--hold" || a.startsWith("--hold="));
    const sessions = wholeNumber("--sessions", values.sessions, 1, 65535 * 100);
    const tunnels = wholeNumber("--tunnels", values.tunnels, 1, 65535);
    if (tunnels > sessions) {
      throw new UsageError(
        `--tunnels: ${tunnels} tunnels for ${sessions} sessions; a tunnel is opened for a session, so give --tunnels ${sessions} or fewer (or more --sessions)`,
      );
    }
    if (Math.ceil(sessions / tunnels) > 65535) {
      throw new UsageError(
        `--tunnels: ${sessions} sessions need at least ${Math.ceil(sessions / 65535)} tunnels (65,535 sessions per tunnel)`,
      );
    }
    const holdMs = Number(values.hold) * 1000;
    if (!Number.isFinite(holdMs) || holdMs < 0)
      throw new UsageError(`--hold: expected seconds ≥ 0, got '${values.hold}'`);
    const window = wholeNumber("--window", values.window, 1, 1_000_000);

    const tty = process.stderr.isTTY === true;
    let lastShown = 0;
    // With --json stdout carries the JSON line alone; the human report goes to stderr.
    const human = values.json ? process.stderr : process.stdout;
    const say = (line: string) => human.write(`${line}\n`);
    const events = values.events ?? labEventsAddress(new Date());
    say(
      `lab: LNS on 127.0.0.1, LAC on 127.0.0.2; ${sessions} sessions over ${tunnels} tunnel${tunnels > 1 ? "s" : ""}`,
    );
    const bufferWarning = receiveBufferWarning();
    if (bufferWarning) process.stderr.write(`l2tp lab: warning: ${bufferWarning}\n`);
    const inspecting = values.inspect
      ? labInspector({
          listen: values.listen,
          actions: values["inspect-actions"],
          ...(holdGiven ? { holdMs } : {}),
          say,
        })
      : undefined;
    const report = await runLab({
      sessions,
      tunnels,
      holdMs: inspecting ? 0 : holdMs,
      window,
      events,
      ppp: !values["no-ppp"],
      throughLac: true,
      ...(inspecting ? { observe: inspecting.observe } : {}),
      progress: (line, done) => {
        if (tty) process.stderr.write(`\r\x1b[K${line}${done ? "\n" : ""}`);
        else if (done || performance.now() - lastShown > 1000) {
          lastShown = performance.now();
          say(`  ${line}`);
        }
      },
    });
    await inspecting?.close();
    printReport(report, say);
    if (report.events && events !== "memory:") {
      const where = events.startsWith("file:")
        ? `file:${resolve(events.replace(/^file:(\/\/)?/, ""))}`
        : events;
      say(`replay with  ${L2TP} replay ${where}`);
    }
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    return report.ok ? 0 : 1;
  },
};

function printReport(r: LabReport, say: (line: string) => void): void {
  const n = (x: number) => Math.round(x).toLocaleString("en-US");
  say("");
  say(
    `established  ${n(r.established)} of ${n(r.sessions)} sessions over ${r.tunnelsSeenOnLns} tunnels in ${n(r.setupMs)} ms (${n(r.setupPerSecond)} sessions/s)`,
  );
  if (r.failed)
    say(
      `failed       ${n(r.failed)}: ${Object.entries(r.failures)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    );
  if (r.ppp) {
    const first = LAB_POOL.start;
    say(
      `PPP          ${n(r.ppp.up)} of ${n(r.established)} subscribers up in ${n(r.ppp.upMs)} ms: LCP with each subscriber on the LAC, CHAP proxied (${n(r.ppp.lns?.proxyLcp ?? 0)} proxy LCPs taken by the LNS, ${n(r.ppp.lns?.authAccepted ?? 0)} accepted by AAA), IPCP addresses from ${first} on, ${n(r.ppp.echoes)} pings answered`,
    );
  }
  say(`closed       the destination in ${n(r.closeMs)} ms`);
  say(`LAC sent     ${messagesText(r.sentByLac)}`);
  if (r.sentByLns) say(`LNS sent     ${messagesText(r.sentByLns)}`);
  say(`memory       ${(r.rssBytes / 2 ** 20).toFixed(0)} MiB RSS (both nodes in this process) at peak`);
  say(`allocator    ${describeAllocator()}`);
  if (r.events) say(`events       ${summaryText(r.events)}`);
  say(
    `leftovers    ${r.problems.length ? "see problems" : "none: every actor ended, every registry is empty"}`,
  );
  for (const p of r.problems) say(`problem      ${p}`);
  say(r.ok ? "lab: ok" : "lab: FAILED");
}

/** Adds the LNS's own summary (a log of its own) to the LAC's. */
function mergeSummary(into: RecordingSummary, from: RecordingSummary): void {
  Object.assign(into.recorded, from.recorded);
  into.stored += from.stored;
  into.unstored += from.unstored;
  into.maxQueued = Math.max(into.maxQueued, from.maxQueued);
  into.backpressureSpells += from.backpressureSpells;
  into.appendFailures += from.appendFailures;
}

function messagesText(sent: Record<string, number>): string {
  const order = [
    "SCCRQ",
    "SCCRP",
    "SCCCN",
    "ICRQ",
    "ICRP",
    "ICCN",
    "OCRQ",
    "OCRP",
    "OCCN",
    "HELLO",
    "CDN",
    "StopCCN",
    "ZLB",
  ];
  return (
    order
      .filter((t) => sent[t])
      .map((t) => `${t} ${sent[t].toLocaleString("en-US")}`)
      .join(", ") || "nothing"
  );
}

/** Counts the control messages a transport sends, by type, reading only the Message Type AVP. */
function countSent(transport: Transport): { transport: Transport; sent: Record<string, number> } {
  const sent: Record<string, number> = {};
  const send = transport.send.bind(transport);
  transport.send = (packet, to) => {
    const type = controlMessageTypeOf(packet);
    if (type !== undefined) sent[type] = (sent[type] ?? 0) + 1;
    send(packet, to);
  };
  return { transport, sent };
}

/** How often the LAC's counter of PPP links up is read while calls come up (the set-up time's resolution). */
const PPP_WATCH_MS = 2;
/** No PPP link came up for this long: the links still down are counted as failed. */
const PPP_STALL_MS = 10_000;

/**
 * Watches the LAC's subscribers come up (its PPP links' IPCP Opened, which follows the LNS's: the
 * LNS acks the subscriber's last IPCP Configure-Request first), reporting progress every `stride` links.
 * `lost()`: a call that failed before PPP; `called()`: an L2TP call's outcome came (either way).
 * `settled`: how many came up and when the last did, once every call is accounted for, or once neither
 * a link nor a call has come up for PPP_STALL_MS (a slow start of AAA is not a stall while calls flow).
 */
function watchPppUp(
  lac: L2tpNode,
  sessions: number,
  stride: number,
  opening: (done: number, up: number) => void,
): { lost(): void; called(): void; settled: Promise<{ count: number; at: number }> } {
  let lost = 0;
  let seen = 0;
  let at = performance.now();
  let lastCall = at;
  const settled = new Promise<{ count: number; at: number }>((resolve) => {
    const timer = setInterval(() => {
      const up = lac.pppStats?.up ?? 0;
      const now = performance.now();
      if (up > seen) {
        const crossed = Math.floor(up / stride) > Math.floor(seen / stride);
        seen = up;
        at = now;
        if (crossed || up + lost === sessions) opening(up + lost, up);
      }
      if (up + lost >= sessions || now - Math.max(at, lastCall) > PPP_STALL_MS) {
        clearInterval(timer);
        resolve({ count: up, at });
      }
    }, PPP_WATCH_MS);
  });
  return {
    lost: () => {
      lost++;
    },
    called: () => {
      lastCall = performance.now();
    },
    settled,
  };
}

/** Runs `task(i)` for i in 0..count-1 with at most `window` running at once. */
async function inWindow(count: number, window: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  // Subscribers arrive through the event loop, not all in one turn: the calls of a large window start
  // 100 per turn, so the first tunnels' handshakes and calls go ahead while the rest are being placed
  // (4,000 calls placed in one turn held the first call back 60 ms on a warm node).
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.min(window, count); w++) {
    if (w > 0 && w % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    workers.push(worker());
  }
  await Promise.all(workers);
}

/**
 * Each subscriber pings the LNS's address once; how many were answered. At most `window` pings are out
 * at a time, as calls are: 20,000 sent in one go overflowed the LNS's socket buffer (the kernel counted
 * 9,919 receive-buffer errors) and half went unanswered. A window's unanswered pings are waited for `waitMs` (10 s).
 */
export async function pingAll(
  dialled: readonly SimulatedSubscriber[],
  window: number,
  waitMs = 10_000,
): Promise<number> {
  let answered = 0;
  for (let start = 0; start < dialled.length; start += window) {
    const end = Math.min(start + window, dialled.length);
    const waiting = new Set<number>();
    for (let i = start; i < end; i++) {
      const sub = dialled[i] as SimulatedSubscriber;
      sub.sendIp(icmpEchoRequest(sub.context().address ?? "0.0.0.0", LAB_LNS_ADDRESS, 1, i & 0xffff, PING));
      waiting.add(i);
    }
    await until(async () => {
      for (const i of waiting) {
        const sub = dialled[i] as SimulatedSubscriber;
        if (sub.received.some((p) => isIcmpEchoReply(p, 1, i & 0xffff))) waiting.delete(i);
      }
      return waiting.size === 0;
    }, waitMs);
    answered += end - start - waiting.size;
  }
  return answered;
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await condition()) && performance.now() < end)
    await new Promise((resolve) => setTimeout(resolve, 5));
}

/** The inspector of a lab's two nodes, served with the LAC's admin API from the moment the LAC exists. */
export interface LabInspector {
  /** The hooks that give it the log and the nodes (merge with your own). */
  observe: Pick<LabObserver, "recording" | "created">;
  /** The server's base URL, once the LAC exists. */
  url(): Promise<string>;
  /** The page's URL (with the admin token in its fragment when actions are allowed). */
  pageUrl(): Promise<string>;
  close(): Promise<void>;
}

/** Serves the inspector of the lab's nodes on `listen` (`lab --inspect`, the e2e tests, bench/inspector). */
export function serveLabInspector(listen: PeerAddress, actions: boolean): LabInspector {
  let recording: Recording | undefined;
  const nodes: L2tpNode[] = [];
  let resolveServed: (served: { server: InspectorServer; inspector: Inspector }) => void = () => {};
  let failServed: (err: unknown) => void = () => {};
  const served = new Promise<{ server: InspectorServer; inspector: Inspector }>((resolve, reject) => {
    resolveServed = resolve;
    failServed = reject;
  });
  let started = false;
  return {
    observe: {
      recording: (opened) => {
        recording = opened;
      },
      created: (side, node) => {
        nodes.push(node);
        if (side !== "lac") return;
        if (!recording) throw new Error("lab --inspect needs an event log (--events)");
        const inspector = createInspector({
          mode: "live",
          log: recording.log,
          feed: recording,
          nodes,
          actions,
        });
        started = true;
        serveInspector(inspector, listen, async (req, res) => {
          await handleAdminRequest(node, req, res);
          return true;
        }).then((server) => resolveServed({ server, inspector }), failServed);
      },
    },
    url: async () => (await served).server.url,
    pageUrl: async () => {
      const { server } = await served;
      return inspectorUrl(server.url, actions ? server.token : undefined);
    },
    async close() {
      if (!started) return;
      const s = await served;
      s.inspector.close();
      await s.server.close();
    },
  };
}

/**
 * `lab --inspect`: the inspector of both nodes (its URL printed); the hold lasts until Ctrl-C (or `holdMs`).
 */
function labInspector(options: {
  listen: string;
  actions: boolean;
  holdMs?: number;
  say: (line: string) => void;
}): { observe: LabObserver; close(): Promise<void> } {
  const listen = parseListen(options.listen);
  if (!listen)
    throw new Error(`--listen: expected ADDRESS:PORT, e.g. 127.0.0.1:17011, got '${options.listen}'`);
  const inspector = serveLabInspector(listen, options.actions);
  return {
    observe: {
      ...inspector.observe,
      started: async () => {
        const url = await inspector.url();
        options.say(`lab: inspector ${await inspector.pageUrl()} (the LAC's admin API is at ${url})`);
      },
      established: async () => {
        options.say(
          options.holdMs !== undefined
            ? `lab: holding for ${options.holdMs / 1000} s (--hold)`
            : "lab: holding the sessions until Ctrl-C",
        );
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            process.off("SIGINT", done);
            resolve();
          };
          const timer = options.holdMs !== undefined ? setTimeout(done, options.holdMs) : undefined;
          process.on("SIGINT", done);
        });
      },
    },
    close: () => inspector.close(),
  };
}
