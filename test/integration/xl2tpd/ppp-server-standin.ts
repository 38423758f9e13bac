/**
 * A PPP server of our own in pppd's place behind xl2tpd as LNS (issue 9): xl2tpd execs it through
 * `stand-in-pppd/pppd.sh` (the pty already raw) when a call from our LAC is up, and it runs OUR PPP
 * endpoint (machines/ppp/endpoint.ts, role "server") over async HDLC (RFC 1662) on the pty with real
 * timers: LCP (xl2tpd passes no proxy LCP to pppd, so LCP is negotiated again through our LAC's relay),
 * CHAP or PAP against one user, one address for the peer, IPCP, and ICMP echo replies from its own
 * address. What happens goes as JSON lines to a report file (the client stand-in's format).
 *
 * Environment (given to xl2tpd, which passes it on):
 * - PPP_SERVER_REPORT: the report file (JSON lines, appended).
 * - PPP_SERVER_USER, PPP_SERVER_PASSWORD: the one subscriber it accepts.
 * - PPP_SERVER_AUTH: "chap" or "pap" (default chap).
 * - PPP_SERVER_LOCAL, PPP_SERVER_PEER: its own address and the one it gives the peer.
 */
import { appendFileSync, read, writeSync } from "node:fs";
import { cryptoRandom } from "../../../adapters/random/index.ts";
import {
  PPP_DEFAULTS,
  type PppContext,
  type PppEffect,
  type PppEvent,
  type PppSettings,
  pppFrame,
  pppStart,
  pppStep,
} from "../../../machines/ppp/endpoint.ts";
import { equalConstantTime } from "../../../protocol/bytes.ts";
import { icmpEchoReply, ipv4ToNumber } from "../../../protocol/ipv4.ts";
import { chapMd5Response } from "../../../protocol/ppp/chap.ts";
import { decodeFrame } from "../../../protocol/ppp/frame.ts";
import { HdlcDecoder } from "../../../protocol/ppp/hdlc.ts";
import { PppProtocol } from "../../../protocol/ppp/numbers.ts";
import { errorCode, writeHdlcFrame } from "../stand-in-pppd/pty.ts";

const env = process.env;
const reportFile = env.PPP_SERVER_REPORT || undefined;
const user = env.PPP_SERVER_USER ?? "";
const password = env.PPP_SERVER_PASSWORD ?? "";
const local = env.PPP_SERVER_LOCAL ?? "10.8.0.1";
const peer = env.PPP_SERVER_PEER ?? "10.8.0.2";
const start = Date.now();

function report(line: Record<string, unknown>): void {
  const text = JSON.stringify({ pid: process.pid, ms: Date.now() - start, ...line });
  try {
    writeSync(2, `ppp-server-standin[${process.pid}]: ${text}\n`);
  } catch {
    // xl2tpd gone.
  }
  if (reportFile) appendFileSync(reportFile, `${text}\n`);
}

const settings: PppSettings = {
  ...PPP_DEFAULTS,
  role: "server",
  hostName: "xl2tpd-lns",
  authProtocols: env.PPP_SERVER_AUTH === "pap" ? ["pap"] : ["chap"],
  localAddress: local,
};
const timers = new Map<string, ReturnType<typeof setTimeout>>();
const out: PppEffect[] = [];
let c: PppContext = pppStart(
  {
    path: { system: "xl2tpd-lns" },
    settings,
    magic: cryptoRandom.uint32() || 1,
    challenge: cryptoRandom.bytes(16),
  },
  out,
);
let lcpRequestsSeen = 0;
effects(out.splice(0));

function step(event: PppEvent): void {
  if (c.ended) return;
  const next: PppEffect[] = [];
  const before = c;
  c = pppStep(c, event, next);
  if (before.lcp !== "opened" && c.lcp === "opened")
    report({ event: "lcp-up", peerRequests: lcpRequestsSeen });
  effects(next);
}

function send(protocol: number, payload: Uint8Array): void {
  try {
    writeHdlcFrame(pppFrame(protocol, payload));
  } catch (error) {
    report({ event: "exit", why: `pty closed while writing (${errorCode(error) ?? String(error)})` });
    process.exit(0);
  }
}

function effects(list: PppEffect[]): void {
  for (const e of list) {
    switch (e.type) {
      case "send":
        send(e.protocol, e.payload);
        break;
      case "schedule": {
        const old = timers.get(e.timer);
        if (old) clearTimeout(old);
        const timer = e.timer;
        timers.set(
          timer,
          setTimeout(() => {
            timers.delete(timer);
            step({ type: timer });
          }, e.ms),
        );
        break;
      }
      case "cancel": {
        const old = timers.get(e.timer);
        if (old) clearTimeout(old);
        timers.delete(e.timer);
        break;
      }
      case "authenticate": {
        const cr = e.credentials;
        const ok =
          cr.user === user &&
          (cr.method === "pap"
            ? new TextDecoder().decode(cr.password) === password
            : cr.method === "chap" &&
              equalConstantTime(cr.response, chapMd5Response(cr.id, password, cr.challenge)));
        report({ event: "auth", ok, user: cr.user, method: cr.method });
        step({ type: "authenticated", ok, message: ok ? "welcome" : "no" });
        break;
      }
      case "needAddress":
        step({ type: "address", address: peer });
        break;
      case "up":
        report({ event: "ipcp-up", address: e.address, user: e.user });
        break;
      case "finished":
        report({ event: "finished", cause: e.cause });
        setTimeout(() => process.exit(0), 20);
        break;
    }
  }
}

const decoder = new HdlcDecoder();
const self = ipv4ToNumber(local) as number;
function receive(chunk: Uint8Array): void {
  for (const result of decoder.push(chunk)) {
    if (!result.ok) continue;
    const frame = decodeFrame(result.value);
    if (!frame.ok) continue;
    const { protocol, payload } = frame.value;
    if (protocol === PppProtocol.IPv4) {
      const reply = c.ipcp === "opened" ? icmpEchoReply(payload, self) : undefined;
      if (reply) {
        report({ event: "echo-reply-sent" });
        send(PppProtocol.IPv4, reply);
      }
      continue;
    }
    if (protocol === PppProtocol.LCP && payload[0] === 1) lcpRequestsSeen++;
    step({ type: "frame", protocol, payload: payload.slice() });
  }
}

report({ event: "started", args: process.argv.slice(2) });
for (const signal of ["SIGINT", "SIGHUP", "SIGTERM"] as const) {
  process.on(signal, () => {
    report({ event: "exit", why: signal });
    process.exit(0);
  });
}
const buffer = new Uint8Array(65536);
const next = (): void => {
  read(0, buffer, 0, buffer.length, null, (error, n) => {
    if (error) {
      if (errorCode(error) === "EAGAIN") {
        setTimeout(next, 5);
        return;
      }
      report({ event: "exit", why: `pty closed (${errorCode(error) ?? error})` });
      process.exit(0);
    }
    if (n === 0) {
      report({ event: "exit", why: "end of file on the pty" });
      process.exit(0);
    }
    receive(buffer.slice(0, n));
    next();
  });
};
next();
