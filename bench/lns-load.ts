/**
 * bench/lns-load (issue 13.2): an LNS measured as an outside peer sees it. A minimal LAC load generator
 * in its own process drives the LNS over real UDP the way an external LAC would, with nothing of the
 * engine's actors: precomputed packets and the codecs of protocol/l2tp only. Per tunnel it keeps the
 * peer's receive window (RFC 2661 §5.8; Ns/Nr, at most the window in flight, go-back-N resend after 1 s
 * without progress), acknowledges with ZLBs, answers the challenge of tunnel authentication (§5.1.1)
 * and checks the LNS's; it opens T tunnels (SCCRQ/SCCRP/SCCCN), N calls over them (ICRQ/ICRP/ICCN, the
 * Assigned Session ID hidden, §4.3), then closes each tunnel with a StopCCN.
 *
 *   node_modules/.bin/bun bench/lns-load.ts                     the cases 5000x10,5000x1,20000x10,60000x100
 *   node_modules/.bin/bun bench/lns-load.ts --sessions 5000 --tunnels 10 [--rounds cold|cold,warm]
 *   node_modules/.bin/bun bench/lns-load.ts --lns deno …       our LNS on Deno (`deno run -A`), the generator on Bun
 *   node_modules/.bin/deno run -A bench/lns-load.ts …          both on Deno
 *   … --target HOST:PORT --secret S [--pid PID] [--host NAME]  any other LNS (PID: its process, for CPU and RSS)
 *   … --socket-per-tunnel                                      each tunnel from a port of its own (l2tpns needs it)
 *   … --profile DIR                                            Bun: a CPU profile of our LNS (Markdown) in DIR
 *   … --warm-up N                                              our LNS runs N lab calls in its own process first
 *   … --heap                                                   our LNS's heap per call by object type while every call is up
 *   … --settle S                                               our LNS's RSS per call again after S s with every call up and idle
 *   … --lns-env NAME=VALUE                                     a variable for our LNS's process only (repeatable)
 *   … --ppp pap|chap [--aaa local|radius] [--users N]          full subscriber set-ups (below)
 *   … --ppp pap|chap --target HOST:PORT --secret S --user U --password P   the same against any LNS
 *
 * Our LNS is the lab's (bench/lns-child.ts), in a process of its own, fresh for each case: the cold
 * round meets it just started (a restart's reconnect storm), the warm round is the same process again
 * once the cold round's tunnels are gone. A call counts as established when its ICCN leaves (the LAC's
 * side of RFC 2661 §7.4.1); the LNS's CPU and RSS are read from /proc/PID when every ICCN has been
 * acknowledged (the LNS has processed them all); a round starts once the LNS's process is quiet (a
 * process just started goes on compiling its start-up for a while: told apart as lnsCpuBeforeMs).
 * Reported per round: calls/s overall and by quarter of
 * the calls; the LNS's CPU per call by thread (its JavaScript thread, the JIT's and the GC's helpers);
 * its RSS per established call; the close time (first StopCCN sent to last acknowledged); and the
 * generator's own CPU per call, the reference measured in the same run (the machine's speed varies).
 * Prints a human line and a JSON line per round.
 *
 * `--ppp pap|chap` (issue 13.6): after each call's ICCN the generator is the subscriber's PPP, with no
 * proxy LCP (bench/lns-load-ppp.ts: LCP, PAP or CHAP-MD5, IPCP taking the address the LNS gives), and a
 * set-up counts when IPCP is Opened both ways. Our LNS then terminates PPP with local AAA (`--users N`
 * in its database, default 10,000; every call presents the first, bench/ppp-settings.ts) or a real
 * FreeRADIUS started here as bench/ppp starts it (`--aaa radius`, `--radius-threads`); `--user` and
 * `--password` override the credentials (a wrong password makes every set-up fail: "auth failed").
 * Reported besides the calls': set-ups/s overall and by quarter of the set-ups, the LNS's CPU per set-up
 * by thread, its RSS per PPP session, FreeRADIUS's CPU per set-up, the Configure-Requests sent again
 * after 3 s unanswered, failures by reason (auth failed, LCP or IPCP Nak loop, timeout in a phase,
 * terminated or cleared by the LNS), the LNS's own count of PPP links up (ours only), and the
 * generator's CPU per set-up, the reference.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import type { PeerAddress } from "../actors/ports.ts";
import { NODE_ALLOCATOR_ENV } from "../adapters/allocator/index.ts";
import { bindUdp, type UdpTransport } from "../adapters/udp/index.ts";
import { LAB_SECRET } from "../bin/commands/lab.ts";
import {
  type ControlMessage,
  challengeResponse,
  dataPayloadOffset,
  decodeControl,
  encodeControl,
  HIDDEN_MINIMUM,
  peekIds,
  responsesEqual,
} from "../protocol/l2tp/index.ts";
import { startFreeRadius } from "../test/integration/radius/freeradius.ts";
import { type PppAuth, type PppClientOptions, type PppLink, PppSubscribers } from "./lns-load-ppp.ts";
import { cpuByThread, cpuByThreadPer, rssOf, runtimeCommand, runtimeName, threadsLine } from "./measure.ts";
import { benchUsers } from "./ppp-settings.ts";

const { values } = parseArgs({
  options: {
    sessions: { type: "string" },
    tunnels: { type: "string" },
    cases: { type: "string", default: "5000x10,5000x1,20000x10,60000x100" },
    rounds: { type: "string", default: "cold,warm" },
    lns: { type: "string" },
    target: { type: "string" },
    secret: { type: "string" },
    pid: { type: "string" },
    host: { type: "string", default: "lac.lab" },
    bind: { type: "string", default: "127.0.0.2" },
    "receive-window": { type: "string", default: "16" },
    profile: { type: "string" },
    "warm-up": { type: "string" },
    "lns-env": { type: "string", multiple: true },
    heap: { type: "boolean" },
    "socket-per-tunnel": { type: "boolean" },
    settle: { type: "string", default: "0" },
    ppp: { type: "string" },
    aaa: { type: "string", default: "local" },
    users: { type: "string", default: "10000" },
    "radius-threads": { type: "string", default: "2" },
    user: { type: "string" },
    password: { type: "string" },
  },
});

/** Stops with a message naming the option and what it takes. */
function usage(message: string): never {
  console.error(`bench/lns-load: ${message}`);
  process.exit(2);
}

const rounds = values.rounds.split(",");
if (values.rounds !== "cold" && values.rounds !== "cold,warm") {
  usage(`--rounds: expected 'cold' or 'cold,warm', got '${values.rounds}'`);
}
/** Seconds to wait, every call up and idle, before reading the LNS's RSS again (0: not read again). */
const settleSeconds = Number(values.settle);
if (!(settleSeconds >= 0 && settleSeconds <= 600)) {
  usage(`--settle: expected seconds from 0 to 600, got '${values.settle}'`);
}
const lnsRuntime: string = values.lns ?? ("Deno" in globalThis ? "deno" : "bun");
if (lnsRuntime !== "bun" && lnsRuntime !== "deno")
  usage(`--lns: expected 'bun' or 'deno', got '${values.lns}'`);
const receiveWindow = Number(values["receive-window"]);
if (!Number.isInteger(receiveWindow) || receiveWindow < 1 || receiveWindow > 65535) {
  usage(`--receive-window: expected an integer 1-65535, got '${values["receive-window"]}'`);
}
if (values.ppp !== undefined && values.ppp !== "pap" && values.ppp !== "chap")
  usage(`--ppp: expected pap or chap, got '${values.ppp}'`);
if (values.aaa !== "local" && values.aaa !== "radius")
  usage(`--aaa: expected local or radius, got '${values.aaa}'`);
/** The subscriber every call presents: the first of the AAA database unless told otherwise. */
const pppClient: PppClientOptions | undefined = values.ppp
  ? {
      auth: values.ppp as PppAuth,
      user: values.user ?? benchUsers(1)[0].name,
      password: values.password ?? benchUsers(1)[0].password,
    }
  : undefined;

async function oneCase(sessions: number, tunnels: number): Promise<void> {
  const secret = new TextEncoder().encode(values.secret ?? LAB_SECRET);
  if (values.target) {
    const [address, port] = values.target.split(/:(?=\d+$)/);
    if (!address || !Number(port)) usage(`--target: expected HOST:PORT, got '${values.target}'`);
    const pid = values.pid ? Number(values.pid) : undefined;
    const result = await runRound({
      lns: { address, port: Number(port) },
      pid,
      sessions,
      tunnels,
      secret,
      round: "as found",
    });
    report(result, "external");
    return;
  }
  // With PPP and `--aaa radius`: a FreeRADIUS of its own on loopback, as bench/ppp starts it.
  const users = pppClient ? benchUsers(Number(values.users)) : [];
  const radius =
    pppClient && values.aaa === "radius"
      ? await startFreeRadius({ users, debug: false, threads: Number(values["radius-threads"]) })
      : undefined;
  const pppArgs = pppClient
    ? [
        "--ppp",
        pppClient.auth,
        ...(radius
          ? ["--radius", `127.0.0.1:${radius.authPort}:${radius.acctPort}:${radius.secret}`]
          : ["--users", String(users.length)]),
      ]
    : [];
  const child = await startLns(lnsRuntime as "bun" | "deno", values.secret, values.profile, pppArgs).catch(
    async (e) => {
      await radius?.dispose();
      throw e;
    },
  );
  try {
    for (const round of rounds) {
      const result = await runRound({
        lns: child.peer,
        pid: child.pid,
        sessions,
        tunnels,
        secret,
        round,
        ...(values.heap ? { heap: () => child.ask("heap") } : {}),
        pppUp: async () => Number((await child.ask("count")).pppUp ?? 0),
        ...(radius?.pid !== undefined ? { radiusPid: radius.pid } : {}),
      });
      // Every tunnel and call of the round gone from the LNS (its StopCCN hold included) before the next.
      const settled = (await child.ask("settle")) as { registries: Record<string, number> };
      const left = Object.entries(settled.registries).filter(
        ([k, v]) => k !== "liveActors" && k !== "destinations" && v > 0,
      );
      if (left.length)
        result.problems.push(`the LNS kept ${left.map(([k, v]) => `${v} ${k}`).join(", ")} after the round`);
      report(result, lnsRuntime);
    }
  } finally {
    // It exits by itself once closed (writing its profile, if asked); killed if it has not within 10 s.
    const exited = new Promise((resolve) => child.process.once("exit", resolve));
    await child.ask("close").catch(() => {});
    const timer = setTimeout(() => child.process.kill(), 10_000);
    await exited;
    clearTimeout(timer);
    await radius?.dispose();
  }
}

/** `--lns-env NAME=VALUE` (repeatable): variables set for our LNS's process only (e.g. a JSC option). */
function lnsEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of values["lns-env"] ?? []) {
    const at = pair.indexOf("=");
    if (at < 1) usage(`--lns-env: expected NAME=VALUE, got '${pair}'`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

/** Our LNS (bench/lns-child.ts) in a process of its own, on `runtime`, and its line protocol. */
async function startLns(
  runtime: "bun" | "deno",
  secret: string | undefined,
  profile: string | undefined,
  extraArgs: string[],
) {
  const path = new URL("./lns-child.ts", import.meta.url).pathname;
  const bin = new URL(`../node_modules/.bin/${runtime}`, import.meta.url).pathname;
  // Bun writes a CPU profile (.cpuprofile and Markdown) of the LNS into `profile` when it exits.
  const flags =
    runtime === "deno"
      ? ["run", "-A", ...(values.heap ? ["--v8-flags=--expose-gc"] : [])]
      : profile
        ? ["--cpu-prof", "--cpu-prof-md", "--cpu-prof-interval=250", `--cpu-prof-dir=${profile}`]
        : [];
  const args = [
    ...flags,
    path,
    ...(secret ? ["--secret", secret] : []),
    ...(values["warm-up"] ? ["--warm-up", values["warm-up"]] : []),
    ...extraArgs,
  ];
  // The node's allocator options, as `l2tp run` sets them (adapters/allocator), given here so that the
  // child need not start again (which a profiled one cannot); the caller's own environment wins.
  const env = { ...NODE_ALLOCATOR_ENV, ...process.env, ...lnsEnv() };
  const child: ChildProcess = spawn(bin, args, { stdio: ["pipe", "pipe", "inherit"], env });
  if (!child.stdout || !child.stdin || child.pid === undefined)
    throw new Error("bench/lns-load: the LNS did not start");
  const stdin = child.stdin;
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next();
    if (line.done) throw new Error("bench/lns-load: the LNS exited");
    return JSON.parse(line.value);
  };
  const { port } = (await next()) as { port: number };
  return {
    process: child,
    pid: child.pid,
    peer: { address: "127.0.0.1", port } as PeerAddress,
    ask(command: "settle" | "close" | "heap" | "count") {
      stdin.write(`${command}\n`);
      return next();
    },
  };
}

// ---- the generator ------------------------------------------------------------------------------

/** RFC 2661 §5.8: sequence numbers compare modulo 2^16. */
const seqLess = (a: number, b: number): boolean => a !== b && ((b - a) & 0xffff) < 0x8000;

/** Offsets in a control header with L and S set (RFC 2661 §3.1): every control message has both. */
const TUNNEL_ID = 4;
const SESSION_ID = 6;
const NS = 8;
const NR = 10;
const write16 = (packet: Uint8Array, at: number, value: number): void => {
  packet[at] = value >> 8;
  packet[at + 1] = value & 0xff;
};
const read16 = (packet: Uint8Array, at: number): number => (packet[at] << 8) | packet[at + 1];

/** A ZLB acknowledgement (RFC 2661 §5.8): a control header alone. */
function zlb(tunnelId: number, sessionId: number, ns: number, nr: number): Uint8Array {
  const packet = new Uint8Array(12);
  packet[0] = 0xc8;
  packet[1] = 0x02;
  packet[3] = 12;
  write16(packet, TUNNEL_ID, tunnelId);
  write16(packet, SESSION_ID, sessionId);
  write16(packet, NS, ns);
  write16(packet, NR, nr);
  return packet;
}

interface Call {
  tunnel: Tunnel;
  /** Our Session ID, and the LNS's (from its ICRP). */
  localId: number;
  peerId: number;
  /** The ICRQ, encoded before the run (the header's ids and sequence numbers are written when it leaves). */
  icrq: Uint8Array;
  /** The subscriber's PPP over the call (`--ppp`), from its ICCN on. */
  ppp?: PppLink;
}

interface Sent {
  ns: number;
  packet: Uint8Array;
  /** The call whose ICCN this is (established once acknowledged), if any. */
  iccnOf?: Call;
  /** A StopCCN: the tunnel is closed once it is acknowledged. */
  stop?: true;
}

interface Tunnel {
  localId: number;
  peerId: number;
  peer: PeerAddress;
  ns: number;
  /** The next Ns expected from the LNS. */
  nr: number;
  peerWindow: number;
  challenge: Uint8Array;
  /** Sent, not yet acknowledged, oldest first. */
  unacked: Sent[];
  /** Waiting for the window: ICCNs (and the SCCCN, StopCCN) before new calls, as a LAC finishes a call before it starts the next. */
  urgent: Sent[];
  fresh: Call[];
  calls: Call[];
  ackOwed: boolean;
  lastProgress: number;
  /** The furthest Ns received ahead of what was expected, and when: a lower one soon after is a reordering. */
  highestSeen: number;
  highestAt: number;
  state: "opening" | "up" | "stopping" | "closed";
}

interface RoundOptions {
  lns: PeerAddress;
  pid: number | undefined;
  sessions: number;
  tunnels: number;
  secret: Uint8Array;
  round: string;
  /** Our LNS's heap by object type while every call is up (`--heap`), asked before the close. */
  heap?: () => Promise<Record<string, unknown>>;
  /** Our LNS's count of PPP links up (`--ppp`). */
  pppUp?: () => Promise<number>;
  /** FreeRADIUS's process (`--aaa radius`), for its CPU per set-up. */
  radiusPid?: number;
}

type RoundResult = Awaited<ReturnType<typeof runRound>>;

async function runRound(o: RoundOptions) {
  const { sessions, tunnels, secret } = o;
  // One socket for every tunnel (tunnels told apart by their ids, RFC 2661 §3.1), or with
  // --socket-per-tunnel one each: l2tpns 2.4.1 takes a second SCCRQ from the same address and port for
  // a copy of the first ("Duplicate SCCRQ?") whatever its Assigned Tunnel ID, so its tunnels must come
  // from ports of their own.
  const sockets: UdpTransport[] = [];
  for (let t = 0; t < (values["socket-per-tunnel"] ? tunnels : 1); t++) {
    sockets.push(await bindUdp({ address: values.bind, port: 0 }));
  }
  const socketOf = (tunnel: Tunnel): UdpTransport => sockets[(tunnel.localId - 1) % sockets.length];
  /** Tunnels by the LNS's id for them, for the PPP frames the subscribers send (which name only that). */
  const byPeerId = new Map<number, Tunnel>();
  const problems: string[] = [];
  const counts = {
    retransmitted: 0,
    outOfOrder: 0,
    ahead: 0,
    duplicates: 0,
    zlbsSent: 0,
    cdnsReceived: 0,
    stopCcnsReceived: 0,
    authFailures: 0,
    undecodable: 0,
  };
  // The hidden value padded as our LAC pads it (a 2-byte session id alone makes a 4-byte subformat,
  // which l2tpns 2.4.1 refuses: protocol/l2tp/hidden.ts).
  const hidden = { secret, hide: ["assignedSessionId" as const], hiddenMinimum: HIDDEN_MINIMUM };

  // Before the clock starts: every tunnel, and every call's ICRQ encoded (hidden AVP and all).
  const all: Tunnel[] = [];
  for (let t = 0; t < tunnels; t++) {
    all.push({
      localId: t + 1,
      peerId: 0,
      peer: o.lns,
      ns: 0,
      nr: 0,
      peerWindow: 4,
      challenge: crypto.getRandomValues(new Uint8Array(16)),
      unacked: [],
      urgent: [],
      fresh: [],
      calls: [],
      ackOwed: false,
      lastProgress: 0,
      highestSeen: -1,
      highestAt: 0,
      state: "opening",
    });
  }
  const header0 = { tunnelId: 0, sessionId: 0, ns: 0, nr: 0 };
  for (let i = 0; i < sessions; i++) {
    const tunnel = all[i % tunnels];
    const localId = tunnel.calls.length + 1;
    const icrq = encodeControl(
      header0,
      { type: "ICRQ", avps: { assignedSessionId: localId, callSerialNumber: i + 1 } },
      { ...hidden, randomVector: crypto.getRandomValues(new Uint8Array(16)) },
    ).slice();
    const call: Call = { tunnel, localId, peerId: 0, icrq };
    tunnel.calls.push(call);
    tunnel.fresh.push(call);
  }
  const iccn = encodeControl(header0, {
    type: "ICCN",
    avps: { txConnectSpeed: 100_000_000, framingType: { sync: true, async: false } },
  }).slice();
  const byLocalId = new Map(all.map((t) => [t.localId, t]));

  // `--ppp`: the subscribers' side; a round's set-up ends when every call's PPP is up or has failed.
  let pppSettled = 0;
  let pppLastAt = 0;
  const pppAt: number[] = [];
  const ppp = pppClient
    ? new PppSubscribers(
        pppClient,
        (packet, to) => {
          const ids = sockets.length > 1 ? peekIds(packet) : undefined;
          const tunnel = ids ? byPeerId.get(ids.tunnelId) : undefined;
          (tunnel ? socketOf(tunnel) : sockets[0]).send(packet, to);
        },
        (link, now) => {
          if (link.phase === "up" && ppp && ppp.counts.up * 4 >= (pppAt.length + 1) * sessions)
            pppAt.push(now);
          pppSettled++;
          pppLastAt = now;
          checkSetupDone();
        },
        (now) => {
          lastGlobalProgress = now;
        },
      )
    : undefined;

  let established = 0;
  /** When a message of any tunnel was last acknowledged: the run gives up after 10 s without. */
  let lastGlobalProgress = performance.now();
  let acknowledged = 0;
  let closed = 0;
  const quarterAt: number[] = [];
  let resolveSetup: () => void = () => {};
  let resolveClose: () => void = () => {};
  const setupDone = new Promise<void>((r) => {
    resolveSetup = r;
  });
  const checkSetupDone = (): void => {
    if (acknowledged === sessions && (!ppp || pppSettled === sessions)) resolveSetup();
  };
  const closeDone = new Promise<void>((r) => {
    resolveClose = r;
  });

  const transmit = (tunnel: Tunnel, sent: Sent): void => {
    write16(sent.packet, TUNNEL_ID, tunnel.peerId);
    write16(sent.packet, NS, sent.ns);
    write16(sent.packet, NR, tunnel.nr);
    socketOf(tunnel).send(sent.packet, tunnel.peer);
  };

  /** Sends what the peer's window lets out: urgent messages first, then new calls' ICRQs. */
  const pump = (tunnel: Tunnel): void => {
    while (tunnel.unacked.length < tunnel.peerWindow) {
      let sent = tunnel.urgent.shift();
      if (!sent) {
        if (tunnel.state !== "up") break;
        const call = tunnel.fresh.shift();
        if (!call) break;
        sent = { ns: 0, packet: call.icrq };
      }
      sent.ns = tunnel.ns;
      tunnel.ns = (tunnel.ns + 1) & 0xffff;
      if (tunnel.unacked.length === 0) tunnel.lastProgress = performance.now();
      tunnel.unacked.push(sent);
      transmit(tunnel, sent);
      tunnel.ackOwed = false;
      if (sent.iccnOf) {
        established++;
        const now = performance.now();
        if (established * 4 >= (quarterAt.length + 1) * sessions) quarterAt.push(now);
        // The subscriber's LCP starts once the LAC has sent the ICCN (RFC 2661 §5.4.2 ends the call's set-up).
        if (ppp) sent.iccnOf.ppp = ppp.start(tunnel.peer, tunnel.peerId, sent.iccnOf.peerId, now);
      }
    }
  };

  const send = (
    tunnel: Tunnel,
    message: ControlMessage,
    sessionId: number,
    extra: Partial<Sent> = {},
  ): void => {
    const packet = encodeControl({ tunnelId: tunnel.peerId, sessionId, ns: 0, nr: 0 }, message, {
      secret,
    }).slice();
    tunnel.urgent.push({ ns: 0, packet, ...extra });
    pump(tunnel);
  };

  // ZLBs for the tunnels owed an ack that no message carried, once per turn of the event loop.
  const owing = new Set<Tunnel>();
  let ackQueued = false;
  const sendAcks = (): void => {
    ackQueued = false;
    for (const tunnel of owing) {
      if (!tunnel.ackOwed) continue;
      tunnel.ackOwed = false;
      counts.zlbsSent++;
      // Session 0 (xl2tpd advances its Nr on a ZLB naming a session it does not know: docs/INTEROP.md).
      socketOf(tunnel).send(zlb(tunnel.peerId, 0, tunnel.ns, tunnel.nr), tunnel.peer);
    }
    owing.clear();
  };
  const oweAck = (tunnel: Tunnel): void => {
    tunnel.ackOwed = true;
    owing.add(tunnel);
    if (!ackQueued) {
      ackQueued = true;
      setImmediate(sendAcks);
    }
  };

  const acknowledge = (tunnel: Tunnel, nr: number): void => {
    let progressed = false;
    while (tunnel.unacked.length > 0 && seqLess(tunnel.unacked[0].ns, nr)) {
      const sent = tunnel.unacked.shift() as Sent;
      progressed = true;
      if (sent.iccnOf) {
        acknowledged++;
        checkSetupDone();
      }
      if (sent.stop) {
        tunnel.state = "closed";
        if (++closed === tunnels) resolveClose();
      }
    }
    if (progressed) {
      tunnel.lastProgress = performance.now();
      lastGlobalProgress = tunnel.lastProgress;
    }
  };

  const onMessage = (tunnel: Tunnel, message: ControlMessage, sessionId: number): void => {
    switch (message.type) {
      case "SCCRP": {
        const expected = challengeResponse(2, secret, tunnel.challenge);
        const response = message.avps.challengeResponse;
        if (!response || !responsesEqual(response, expected)) {
          counts.authFailures++;
          problems.push(
            `tunnel ${tunnel.localId}: the LNS's challenge response is ${response ? "wrong" : "missing"}`,
          );
        }
        tunnel.peerId = message.avps.assignedTunnelId ?? 0;
        byPeerId.set(tunnel.peerId, tunnel);
        tunnel.peerWindow = message.avps.receiveWindowSize ?? 4;
        const theirs = message.avps.challenge;
        tunnel.state = "up";
        send(
          tunnel,
          { type: "SCCCN", avps: theirs ? { challengeResponse: challengeResponse(3, secret, theirs) } : {} },
          0,
        );
        pump(tunnel);
        return;
      }
      case "ICRP": {
        const call = tunnel.calls[sessionId - 1];
        if (!call || message.avps.assignedSessionId === undefined) {
          problems.push(`tunnel ${tunnel.localId}: an ICRP for session ${sessionId} it cannot place`);
          return;
        }
        call.peerId = message.avps.assignedSessionId;
        const packet = iccn.slice();
        write16(packet, SESSION_ID, call.peerId);
        tunnel.urgent.push({ ns: 0, packet, iccnOf: call });
        return;
      }
      case "CDN": {
        // xl2tpd clears each call ~6 ms after ICCN when its pppd cannot run (docs/INTEROP.md): counted, and
        // acknowledged by a ZLB that names the call (xl2tpd frees the call only then).
        counts.cdnsReceived++;
        const link = tunnel.calls[sessionId - 1]?.ppp;
        if (link && ppp) ppp.cleared(link, "call cleared by the LNS (CDN)", performance.now());
        socketOf(tunnel).send(
          zlb(tunnel.peerId, tunnel.calls[sessionId - 1]?.peerId ?? 0, tunnel.ns, tunnel.nr),
          tunnel.peer,
        );
        tunnel.ackOwed = false;
        return;
      }
      case "StopCCN":
        counts.stopCcnsReceived++;
        return;
      default:
        return; // HELLO and the rest: acknowledged, nothing else
    }
  };

  const onPacket = (packet: Uint8Array, from: PeerAddress): void => {
    // A data message (T clear, RFC 2661 §3.1): PPP of a call, for its subscriber (`--ppp`).
    if ((packet[0] & 0x80) === 0) {
      const ids = ppp && peekIds(packet);
      const link = ids && byLocalId.get(ids.tunnelId)?.calls[ids.sessionId - 1]?.ppp;
      const at = link ? dataPayloadOffset(packet) : -1;
      if (link && at >= 0) ppp.receive(link, packet, at, performance.now());
      return;
    }
    // Control messages (T, L, S set).
    if (packet.length < 12 || (packet[0] & 0xc8) !== 0xc8) return;
    const tunnel = byLocalId.get(read16(packet, TUNNEL_ID));
    if (!tunnel) return;
    // RFC 2661 §8.1: the LNS may answer from another port; what follows goes there.
    if (tunnel.state === "opening") tunnel.peer = from;
    acknowledge(tunnel, read16(packet, NR));
    if (packet.length > 12) {
      const ns = read16(packet, NS);
      const now = performance.now();
      // Sent after a message with a higher Ns that came less than 100 ms before: the LNS sent them out
      // of order (a retransmission that fills a gap left by a lost message comes a second later).
      if (
        tunnel.highestSeen >= 0 &&
        !seqLess(ns, tunnel.nr) &&
        seqLess(ns, tunnel.highestSeen) &&
        now - tunnel.highestAt < 100
      ) {
        counts.outOfOrder++;
      }
      if (ns === tunnel.nr) {
        tunnel.nr = (tunnel.nr + 1) & 0xffff;
        oweAck(tunnel);
        const decoded = decodeControl(packet, { secret });
        if (decoded.ok && decoded.value.message) {
          onMessage(tunnel, decoded.value.message, read16(packet, SESSION_ID));
        } else {
          counts.undecodable++;
        }
      } else {
        // A duplicate is acknowledged again; one ahead of what is expected (after a loss or a
        // reordering) is dropped, as the issue's generator did (a real LAC may hold it), and the ack
        // says what is expected.
        if (seqLess(ns, tunnel.nr)) {
          counts.duplicates++;
        } else {
          counts.ahead++;
          if (tunnel.highestSeen < 0 || seqLess(tunnel.highestSeen, ns)) {
            tunnel.highestSeen = ns;
            tunnel.highestAt = now;
          }
        }
        oweAck(tunnel);
      }
    }
    pump(tunnel);
  };
  for (const s of sockets) s.onReceive(onPacket);

  // Go-back-N: what is unacknowledged 1 s after the last progress is sent again (RFC 2661 §5.8).
  const retransmitter = setInterval(() => {
    const now = performance.now();
    ppp?.restart(now);
    for (const tunnel of all) {
      if (tunnel.unacked.length === 0 || now - tunnel.lastProgress < 1000) continue;
      tunnel.lastProgress = now;
      for (const sent of tunnel.unacked) {
        transmit(tunnel, sent);
        counts.retransmitted++;
      }
    }
  }, 250);
  const giveUp = (what: string) =>
    new Promise<void>((_, reject) => {
      const check = setInterval(() => {
        const now = performance.now();
        if (now - lastGlobalProgress > 10_000) {
          clearInterval(check);
          // Every call is up at the L2TP level: the subscribers still negotiating fail with a timeout.
          if (ppp && acknowledged === sessions) {
            ppp.abandon(
              all.flatMap((t) => t.calls.map((c) => c.ppp)),
              now,
            );
            return;
          }
          reject(
            new Error(
              `${what}: no progress for 10 s (${established} established, ${acknowledged} acknowledged)`,
            ),
          );
        }
      }, 500);
      setupDone.then(() => clearInterval(check));
      closeDone.then(() => clearInterval(check));
    });

  // ---- set-up ----
  // A process just started goes on compiling and collecting for a while after it answers (its start-up,
  // not its calls): the round starts once the LNS is quiet, and what it took until then is told apart.
  const startup = o.pid ? await quiet(o.pid) : undefined;
  const lnsThreads0 = o.pid ? cpuByThread(o.pid) : {};
  const lnsRss0 = o.pid ? rssOf(o.pid) : 0;
  const radius0 = o.radiusPid ? cpuByThread(o.radiusPid) : {};
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  lastGlobalProgress = start;
  for (const tunnel of all) {
    send(
      tunnel,
      {
        type: "SCCRQ",
        avps: {
          protocolVersion: { version: 1, revision: 0 },
          hostName: values.host,
          framingCapabilities: { sync: true, async: true },
          assignedTunnelId: tunnel.localId,
          receiveWindowSize: receiveWindow,
          challenge: tunnel.challenge,
        },
      },
      0,
    );
  }
  let failed: string | undefined;
  await Promise.race([setupDone, giveUp("set-up")]).catch((e: Error) => {
    failed = e.message;
  });
  const setupEnd = quarterAt[3] ?? performance.now();
  const cpu1 = process.cpuUsage(cpu0);
  const lnsThreads1 = o.pid ? cpuByThread(o.pid) : {};
  const lnsRss1 = o.pid ? rssOf(o.pid) : 0;
  const radius1 = o.radiusPid ? cpuByThread(o.radiusPid) : {};
  // RSS once the storm is over: the same calls up, idle for --settle seconds (the runtime's own
  // collector has had its chance at the set-up's garbage; nothing forces one).
  let lnsRssSettled: number | undefined;
  if (o.pid && settleSeconds > 0 && !failed) {
    await new Promise((r) => setTimeout(r, settleSeconds * 1000));
    lnsRssSettled = rssOf(o.pid);
  }
  const heap = o.heap && !failed ? await o.heap() : undefined;
  // The LNS's own count of PPP links up: its IPCP may open just after ours (its Ack of our request can
  // leave before our Ack of its own arrives), so it is read until it matches, for at most 5 s.
  let lnsPppUp: number | undefined;
  if (ppp && o.pppUp) {
    const deadline = performance.now() + 5000;
    do {
      lnsPppUp = await o.pppUp();
      if (lnsPppUp === ppp.counts.up) break;
      await new Promise((r) => setTimeout(r, 50));
    } while (performance.now() < deadline);
  }
  ppp?.close();

  // ---- close: a StopCCN per tunnel (RFC 2661 §6.4), each until acknowledged ----
  const closeStart = performance.now();
  lastGlobalProgress = closeStart;
  if (!failed) {
    for (const tunnel of all) {
      tunnel.state = "stopping";
      send(
        tunnel,
        { type: "StopCCN", avps: { assignedTunnelId: tunnel.localId, resultCode: { result: 1 } } },
        0,
        { stop: true },
      );
    }
    await Promise.race([closeDone, giveUp("close")]).catch((e: Error) => {
      failed = e.message;
    });
  }
  const closeMs = performance.now() - closeStart;
  clearInterval(retransmitter);
  // The last acks (of the LNS's ZLB-less replies) leave before the socket closes.
  await new Promise((r) => setTimeout(r, 20));
  await Promise.all(sockets.map((s) => s.close()));
  if (failed) problems.push(failed);
  if (counts.authFailures) problems.push(`${counts.authFailures} tunnels failed the LNS's authentication`);

  const calls = Math.max(1, established);
  const lnsByThread = cpuByThreadPer(lnsThreads0, lnsThreads1, calls);
  const byQuarter = (at: number[]) =>
    at.map((t, q) => Math.round(sessions / 4 / ((t - (q === 0 ? start : at[q - 1]) || 1) / 1000)));
  const quarters = byQuarter(quarterAt);
  // `--ppp`: the same figures per set-up (IPCP Opened both ways), over the time to the last set-up.
  const pppEnd = pppAt[3] ?? (pppLastAt || performance.now());
  const setups = Math.max(1, ppp?.counts.up ?? 0);
  const lnsBySetup = cpuByThreadPer(lnsThreads0, lnsThreads1, setups);
  /** A figure per set-up, when any set-up was made. */
  const perSetup = <T>(figure: T): T | undefined => (ppp?.counts.up ? figure : undefined);
  const pppFigures =
    ppp && pppClient
      ? {
          auth: pppClient.auth,
          aaa: values.target ? "the LNS's" : values.aaa,
          setups: ppp.counts.up,
          setupsPerSecond: Math.round(ppp.counts.up / ((pppEnd - start) / 1000)),
          setupsPerSecondByQuarter: byQuarter(pppAt),
          pppSetupMs: Math.round(pppEnd - start),
          setupFailures: ppp.counts.failed,
          failuresByReason: ppp.failures,
          pppResends: ppp.counts.resends,
          pppDiscarded: ppp.counts.discarded,
          lnsPppUp,
          lnsCpuMicrosPerSetup:
            o.pid &&
            perSetup(
              +Object.values(lnsBySetup)
                .reduce((a, b) => a + b, 0)
                .toFixed(1),
            ),
          lnsCpuByThreadPerSetup: o.pid ? perSetup(lnsBySetup) : undefined,
          lnsRssBytesPerSession: o.pid ? perSetup(Math.round((lnsRss1 - lnsRss0) / setups)) : undefined,
          radiusCpuMicrosPerSetup: o.radiusPid
            ? perSetup(+(lnsCpuTotal(radius0, radius1) / setups).toFixed(1))
            : undefined,
          generatorCpuMicrosPerSetup: perSetup(+((cpu1.user + cpu1.system) / setups).toFixed(1)),
        }
      : undefined;
  if (pppFigures) {
    if (pppFigures.setupFailures)
      problems.push(
        `${pppFigures.setupFailures} set-ups failed (${Object.entries(ppp?.failures ?? {})
          .map(([reason, n]) => `${n} ${reason}`)
          .join(", ")})`,
      );
    if (lnsPppUp !== undefined && lnsPppUp !== pppFigures.setups)
      problems.push(`the LNS counts ${lnsPppUp} PPP links up, the generator ${pppFigures.setups}`);
  }
  return {
    bench: "lns-load",
    generator: runtimeName(),
    lns: values.target ?? `ours on ${lnsRuntime}`,
    round: o.round,
    sessions,
    tunnels,
    established,
    callsPerSecond: Math.round(established / ((setupEnd - start) / 1000)),
    callsPerSecondByQuarter: quarters,
    setupMs: Math.round(setupEnd - start),
    closeMs: Math.round(closeMs),
    // The LNS's CPU (ms, all threads) since it started, and the wait for it to be quiet, before the round.
    lnsCpuBeforeMs: startup ? Math.round(startup.cpuMicros / 1000) : undefined,
    lnsQuietWaitMs: startup?.waitedMs,
    lnsCpuMicrosPerCall: +Object.values(lnsByThread)
      .reduce((a, b) => a + b, 0)
      .toFixed(1),
    lnsCpuByThread: lnsByThread,
    lnsRssBytesPerCall: o.pid ? Math.round((lnsRss1 - lnsRss0) / calls) : undefined,
    lnsRssMiB: o.pid ? +(lnsRss1 / 2 ** 20).toFixed(1) : undefined,
    ...(lnsRssSettled !== undefined
      ? { lnsRssSettledBytesPerCall: Math.round((lnsRssSettled - lnsRss0) / calls), settleSeconds }
      : {}),
    generatorCpuMicrosPerCall: +((cpu1.user + cpu1.system) / calls).toFixed(1),
    generatorSockets: sockets.length,
    // The LNS's CPU over the set-up's wall time (1 = one core busy throughout: CPU-bound), and the
    // machine's load: a rate well below 1e6 / CPU per call with a low share means others had the cores.
    lnsCpuShare: +(
      lnsCpuTotal(lnsThreads0, lnsThreads1) /
      (((pppFigures ? pppEnd : setupEnd) - start) * 1000)
    ).toFixed(2),
    loadAverage: loadAverage(),
    ...counts,
    ...(heap ? { lnsHeap: heapPerCall(heap, calls) } : {}),
    ...pppFigures,
    ok: problems.length === 0 && established === sessions && (!pppFigures || pppFigures.setups === sessions),
    problems,
  };
}

/**
 * The LNS's live heap while every call is up, per call: bytes, objects, and the 12 object types with
 * the most instances per call (what each established call holds, after a full collection).
 */
function heapPerCall(heap: Record<string, unknown>, calls: number) {
  const types = (heap.objectTypeCounts ?? {}) as Record<string, number>;
  const per = (x: number) => +(x / calls).toFixed(2);
  return {
    heapBytesPerCall: Math.round(Number(heap.heapSize) / calls),
    objectsPerCall: per(Number(heap.objectCount)),
    typesPerCall: Object.fromEntries(
      Object.entries(types)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([name, count]) => [name, per(count)]),
    ),
  };
}

/**
 * Waits until process `pid` uses less than 2% of a core over 100 ms (at most 5 s); returns its CPU so
 * far (µs, all threads) and how long it waited.
 */
async function quiet(pid: number): Promise<{ cpuMicros: number; waitedMs: number }> {
  const start = performance.now();
  let before = lnsCpuTotal({}, cpuByThread(pid));
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = lnsCpuTotal({}, cpuByThread(pid));
    const waitedMs = Math.round(performance.now() - start);
    if (now - before < 2_000 || waitedMs > 5_000) return { cpuMicros: now, waitedMs };
    before = now;
  }
}

/** CPU µs of a process between two readings of cpuByThread, all threads. */
function lnsCpuTotal(before: Record<string, number>, after: Record<string, number>): number {
  let sum = 0;
  for (const [name, micros] of Object.entries(after)) sum += micros - (before[name] ?? 0);
  return sum;
}

/** The machine's 1-minute load average (Linux; undefined elsewhere). */
function loadAverage(): number | undefined {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return undefined;
  }
}

/** The human line and the JSON line of a round. */
function report(r: RoundResult, lns: string): void {
  const n = (x: number) => x.toLocaleString("en-US");
  const threads = threadsLine(r.lnsCpuByThread);
  const odd = [
    r.retransmitted && `${n(r.retransmitted)} resent`,
    r.outOfOrder && `${n(r.outOfOrder)} received out of order`,
    r.ahead && `${n(r.ahead)} received past a gap (dropped)`,
    r.duplicates && `${n(r.duplicates)} duplicates`,
    r.cdnsReceived && `${n(r.cdnsReceived)} CDNs from the LNS`,
  ].filter(Boolean);
  console.log(
    `lns-load ${r.generator}→${lns} ${n(r.sessions)}x${r.tunnels} ${r.round}: ${n(r.callsPerSecond)} calls/s ` +
      `(by quarter ${r.callsPerSecondByQuarter.map(n).join(" ")}), LNS CPU/call ${r.lnsCpuMicrosPerCall} µs` +
      (threads ? ` (${threads})` : "") +
      (r.lnsRssBytesPerCall !== undefined
        ? `, LNS RSS/call ${n(r.lnsRssBytesPerCall)} B (${r.lnsRssMiB} MiB)`
        : "") +
      (r.lnsRssSettledBytesPerCall !== undefined
        ? ` (${n(r.lnsRssSettledBytesPerCall)} B after ${r.settleSeconds} s idle)`
        : "") +
      `, close ${n(r.closeMs)} ms, generator CPU/call ${r.generatorCpuMicrosPerCall} µs (reference)` +
      (r.lnsCpuShare ? `, LNS busy ${Math.round(r.lnsCpuShare * 100)}%` : "") +
      (r.loadAverage !== undefined ? `, load ${r.loadAverage}` : "") +
      (odd.length ? `; ${odd.join(", ")}` : "") +
      (r.lnsHeap
        ? `; LNS heap/call ${n(r.lnsHeap.heapBytesPerCall)} B` +
          // Deno's V8 gives the heap's size, not its objects by type.
          (r.lnsHeap.objectsPerCall
            ? `, ${r.lnsHeap.objectsPerCall} objects (${Object.entries(r.lnsHeap.typesPerCall)
                .map(([name, count]) => `${name} ${count}`)
                .join(", ")})`
            : "")
        : "") +
      (r.ok ? "" : `  PROBLEMS: ${r.problems.join("; ")}`),
  );
  if (r.setups !== undefined) {
    const perSetup = Object.entries(r.lnsCpuByThreadPerSetup ?? {})
      .sort((a, b) => b[1] - a[1])
      .map(([name, micros]) => `${name} ${Math.round(micros)}`)
      .join(", ");
    const failures = Object.entries(r.failuresByReason ?? {}).map(([reason, k]) => `${n(k)} ${reason}`);
    console.log(
      `  PPP ${r.auth?.toUpperCase()}/${r.aaa}: ${n(r.setups)} set-ups, ${n(r.setupsPerSecond ?? 0)}/s ` +
        `(by quarter ${(r.setupsPerSecondByQuarter ?? []).map(n).join(" ")})` +
        (r.lnsCpuMicrosPerSetup !== undefined ? `, LNS CPU/set-up ${r.lnsCpuMicrosPerSetup} µs` : "") +
        (perSetup ? ` (${perSetup})` : "") +
        (r.lnsRssBytesPerSession !== undefined ? `, LNS RSS/session ${n(r.lnsRssBytesPerSession)} B` : "") +
        (r.radiusCpuMicrosPerSetup !== undefined
          ? `, FreeRADIUS CPU/set-up ${r.radiusCpuMicrosPerSetup} µs`
          : "") +
        (r.generatorCpuMicrosPerSetup !== undefined
          ? `, generator CPU/set-up ${r.generatorCpuMicrosPerSetup} µs (reference)`
          : "") +
        (r.lnsPppUp !== undefined ? `, LNS counts ${n(r.lnsPppUp)} links up` : "") +
        (r.pppResends ? `, ${n(r.pppResends)} requests resent after 3 s` : "") +
        (failures.length ? `; FAILED: ${failures.join(", ")}` : ""),
    );
  }
  console.log(JSON.stringify(r));
  if (!r.ok) process.exitCode = 1;
}

// The run, once every function and constant above is defined.
if (values.sessions === undefined) {
  // The matrix: each case in fresh processes (generator and LNS), so that no case inherits another's heap.
  for (const c of values.cases.split(",")) {
    const [sessions, tunnels] = c.split("x");
    const passOn = [
      "rounds",
      "ppp",
      "aaa",
      "users",
      "radius-threads",
      "user",
      "password",
      "lns",
      "target",
      "secret",
      "pid",
      "host",
      "bind",
      "receive-window",
      "profile",
      "warm-up",
    ] as const;
    const args = ["--sessions", sessions, "--tunnels", tunnels];
    for (const key of passOn) if (values[key] !== undefined) args.push(`--${key}`, String(values[key]));
    for (const pair of values["lns-env"] ?? []) args.push("--lns-env", pair);
    if (values.heap) args.push("--heap");
    if (values["socket-per-tunnel"]) args.push("--socket-per-tunnel");
    if (values.settle !== "0") args.push("--settle", values.settle);
    const [cmd, argv] = runtimeCommand("./lns-load.ts", import.meta.url, args);
    const child = spawn(cmd, argv, { stdio: ["ignore", "inherit", "inherit"] });
    const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
    if (code !== 0) process.exitCode = code;
  }
} else {
  const sessions = Number(values.sessions);
  const tunnels = Number(values.tunnels ?? 1);
  if (!Number.isInteger(sessions) || sessions < 1)
    usage(`--sessions: expected a positive integer, got '${values.sessions}'`);
  if (!Number.isInteger(tunnels) || tunnels < 1 || tunnels > 65535) {
    usage(`--tunnels: expected an integer 1-65535, got '${values.tunnels}'`);
  }
  if (Math.ceil(sessions / tunnels) > 65535)
    usage("--sessions: at most 65,535 calls per tunnel (Session ID is 16 bits)");
  await oneCase(sessions, tunnels);
}
