/**
 * A PPP client of our own in pppd's place behind xl2tpd (issue 8): xl2tpd as LAC execs it as
 * `pppd /dev/pts/N passive nodetach … file OPTFILE` through `stand-in-pppd/pppd.sh`, which has already set
 * the pty raw with TCSANOW (`stty -drain`), and it runs OUR PPP endpoint (machines/ppp/endpoint.ts,
 * role "client") over async HDLC (RFC 1662) on the pty with real timers: LCP, PAP or CHAP, IPCP, then an
 * ICMP echo to the address IPCP gave the peer. What happens goes as JSON lines to a report file, so
 * that a test reads facts instead of log text. Used with `startXl2tpd({ standInMain: PPP_STANDIN, … })`.
 *
 * Who it is comes as pppd would take it, from its arguments and the options file (`file OPTFILE`):
 * `user NAME` (or `name NAME`), `password SECRET`, `refuse-pap`, `refuse-chap`, `mru N`, `usepeerdns`; other pppd
 * options are accepted and listed as ignored in the report.
 *
 * Environment (given to xl2tpd, which passes it on):
 * - PPP_STANDIN_REPORT: the report file (JSON lines, appended; every line carries `pid`).
 * - PPP_STANDIN_HOLD_MS: hang up this long after IPCP is up (default: only on a signal).
 * - PPP_STANDIN_LINGER=1: once the link is over, stay until the pty closes or SIGTERM comes, so that the
 *   LNS's CDN ends the call and not xl2tpd's (pppd would exit, and xl2tpd would send its own CDN).
 *
 * Signals, as pppd(8) takes them: SIGINT, SIGTERM and SIGHUP hang up (LCP Terminate-Request, then exit
 * once LCP is closed); once the link is over, SIGTERM ends the process at once.
 */

import { appendFileSync, existsSync, read, readFileSync, readlinkSync, writeSync } from "node:fs";
import { cryptoRandom } from "../../../adapters/random/index.ts";
import type { PppCause } from "../../../machines/ppp/disconnect.ts";
import { PppDirection, PppDisconnectCode, pppCause } from "../../../machines/ppp/disconnect.ts";
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
import type { AuthMethod } from "../../../machines/ppp/proxy-lcp.ts";
import { icmpEchoRequest, isIcmpEchoReply, numberToIpv4, readIpv4 } from "../../../protocol/ipv4.ts";
import { decodeFrame } from "../../../protocol/ppp/frame.ts";
import { HdlcDecoder } from "../../../protocol/ppp/hdlc.ts";
import { decodeLcp } from "../../../protocol/ppp/lcp.ts";
import { PppProtocol } from "../../../protocol/ppp/numbers.ts";
import { errorCode, writeHdlcFrame } from "../stand-in-pppd/pty.ts";

/** Exit codes of pppd(8) ("EXIT STATUS") that this stand-in can end with. */
export const PPPD_EXIT = {
  ok: 0,
  fatalError: 1,
  userRequest: 5,
  negotiationFailed: 10,
  peerDead: 15,
  hangup: 16,
  authToPeerFailed: 19,
} as const;

/** What the stand-in takes from pppd's command line and options file. */
export interface PppdOptions {
  user?: string;
  password?: string;
  /** The protocols we agree to authenticate with (refuse-pap, refuse-chap remove one). */
  authProtocols: AuthMethod[];
  mru?: number;
  /** `usepeerdns`: ask for the peer's DNS servers in IPCP (RFC 1877). */
  usePeerDns: boolean;
  /** Options pppd knows that the stand-in does not act on (for the report). */
  ignored: string[];
}

/** Options of pppd that take one argument (so the argument is not read as an option). */
const WITH_ARGUMENT = new Set([
  "user",
  "name",
  "password",
  "mru",
  "mtu",
  "file",
  "remotename",
  "ipparam",
  "lcp-echo-interval",
  "lcp-echo-failure",
  "connect-delay",
  "idle",
  "holdoff",
  "maxfail",
  "logfd",
  "logfile",
  "asyncmap",
]);

/** Splits an options file as pppd does: whitespace-separated words, `#` to the end of a line, "quotes". */
export function optionWords(text: string): string[] {
  const words: string[] = [];
  const pattern = /#[^\n]*|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const match of text.matchAll(pattern)) {
    if (match[0].startsWith("#")) continue;
    words.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : match[2]);
  }
  return words;
}

/**
 * Reads pppd's arguments (with `file OPTFILE` expanded in place) into our options. Throws an error that
 * names the option when one that needs a value has none, or when `mru` is not a number.
 */
export function parsePppdOptions(args: readonly string[], readFile: (path: string) => string): PppdOptions {
  const options: PppdOptions = { authProtocols: ["chap", "pap"], usePeerDns: false, ignored: [] };
  const words = [...args];
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (WITH_ARGUMENT.has(word) && i + 1 >= words.length) {
      throw new Error(`pppd option ${word}: needs a value (${word} VALUE)`);
    }
    switch (word) {
      case "file":
        words.splice(i + 2, 0, ...optionWords(readFile(words[++i])));
        break;
      case "user":
        options.user = words[++i];
        break;
      case "name":
        options.user ??= words[i + 1];
        i++;
        break;
      case "password":
        options.password = words[++i];
        break;
      case "mru": {
        const mru = Number(words[++i]);
        if (!Number.isInteger(mru) || mru < 128 || mru > 16384) {
          throw new Error(`pppd option mru: ${JSON.stringify(words[i])} is not a size of 128-16384`);
        }
        options.mru = mru;
        break;
      }
      case "refuse-pap":
        options.authProtocols = options.authProtocols.filter((p) => p !== "pap");
        break;
      case "refuse-chap":
        options.authProtocols = options.authProtocols.filter((p) => p !== "chap");
        break;
      case "usepeerdns":
        options.usePeerDns = true;
        break;
      default:
        if (WITH_ARGUMENT.has(word)) {
          options.ignored.push(`${word} ${words[++i]}`);
        } else if (!word.startsWith("/dev/")) {
          options.ignored.push(word);
        }
    }
  }
  return options;
}

/** One line of the report. */
export type StandInReport =
  | {
      event: "started";
      /** When it started (epoch ms): how late after xl2tpd's ICCN, on a loaded machine. */
      startedAt: number;
      tty: string;
      args: string[];
      user?: string;
      authProtocols: AuthMethod[];
      ignored: string[];
    }
  /**
   * LCP Opened. `firstPeerRequestId`: the Identifier of the first peer Configure-Request we decoded (1, unless
   * earlier ones failed their FCS: `hdlc.fcsErrors`); `peerRequests`: how many we decoded.
   */
  | {
      event: "lcp-up";
      authProtocol?: AuthMethod;
      peerMru: number;
      peerRequests: number;
      firstPeerRequestId?: number;
      /** What the HDLC decoder has seen so far (FCS errors: frames mangled on the pty). */
      hdlc: HdlcDecoder["counters"];
    }
  | { event: "auth"; ok: boolean; protocol?: AuthMethod; message?: string }
  | { event: "ipcp-up"; address: string; peerAddress?: string; dns: string[] }
  | { event: "echo-sent"; to: string; identifier: number; sequence: number }
  | { event: "echo-reply"; from: string; identifier: number; sequence: number; rttMs: number }
  | { event: "hangup"; why: string }
  | { event: "finished"; cause: PppCause }
  | { event: "exit"; code: number; why: string; hdlc: HdlcDecoder["counters"] }
  | { event: "error"; message: string };

/** A line of the report as written: the event, with the stand-in's PID and its ms since start. */
export type StandInReportLine = StandInReport & { pid: number; ms: number };

/**
 * The report's complete lines so far. A stand-in may be appending as we read: the last line counts only
 * once its newline is in.
 */
export function readStandInReport(file: string): StandInReportLine[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, "utf8").split("\n");
  lines.pop(); // "" after the last newline, or a line still being written
  return lines.filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as StandInReportLine);
}

const ECHO_IDENTIFIER = 0x5eed;
/** How long to wait for LCP to close after a hang-up before leaving anyway (pppd waits as long). */
const HANGUP_LIMIT_MS = 3 * PPP_DEFAULTS.restartMs;

/** The PPP client on the pty: our endpoint, its timers, HDLC both ways, and the report. */
class StandIn {
  readonly #decoder = new HdlcDecoder();
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #start = Date.now();
  #c!: PppContext;
  #peerRequests = 0;
  #firstPeerRequestId: number | undefined;
  #echoSentAt = 0;
  #exiting = false;

  constructor(
    private readonly settings: PppSettings,
    private readonly reportFile: string | undefined,
    private readonly holdMs: number | undefined,
    private readonly linger: boolean,
  ) {}

  report(line: StandInReport): void {
    const text = JSON.stringify({ pid: process.pid, ms: Date.now() - this.#start, ...line });
    log(text);
    if (this.reportFile) appendFileSync(this.reportFile, `${text}\n`);
  }

  start(): void {
    const out: PppEffect[] = [];
    this.#c = pppStart(
      {
        path: { system: "stand-in" },
        settings: this.settings,
        magic: cryptoRandom.uint32() || 1,
      },
      out,
    );
    this.#effects(out);
  }

  /** Octets from the pty. */
  receive(chunk: Uint8Array): void {
    for (const result of this.#decoder.push(chunk)) {
      if (result.ok) this.#frame(result.value);
      else log(`dropped a frame: ${result.error.field}: ${result.error.reason}`);
    }
  }

  /** A signal or the hold time: LCP Terminate-Request, then exit once LCP is closed (or after a bound). */
  hangup(why: string): void {
    if (this.#c.ended) {
      this.exit(PPPD_EXIT.userRequest, why);
      return;
    }
    this.report({ event: "hangup", why });
    this.#step({
      type: "close",
      cause: pppCause(
        PppDisconnectCode.normal,
        PppProtocol.LCP,
        PppDirection.local,
        `the subscriber hung up (${why})`,
      ),
    });
    setTimeout(() => this.exit(PPPD_EXIT.userRequest, `${why}; LCP did not close in time`), HANGUP_LIMIT_MS);
  }

  exit(code: number, why: string): void {
    if (this.#exiting) return;
    this.#exiting = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.report({ event: "exit", code, why, hdlc: { ...this.#decoder.counters } });
    process.exit(code);
  }

  get ended(): boolean {
    return this.#c.ended;
  }

  #frame(bytes: Uint8Array): void {
    const frame = decodeFrame(bytes);
    if (!frame.ok) return;
    const { protocol, payload } = frame.value;
    if (protocol === PppProtocol.IPv4) {
      this.#ip(payload);
      return;
    }
    if (protocol === PppProtocol.LCP) {
      const lcp = decodeLcp(payload);
      if (lcp.ok && lcp.value.code === "Configure-Request") {
        this.#peerRequests++;
        this.#firstPeerRequestId ??= lcp.value.id;
      }
    }
    this.#step({ type: "frame", protocol, payload });
  }

  #ip(packet: Uint8Array): void {
    const header = readIpv4(packet);
    if (!header || !isIcmpEchoReply(packet, ECHO_IDENTIFIER, 1)) return;
    this.report({
      event: "echo-reply",
      from: numberToIpv4(header.source),
      identifier: ECHO_IDENTIFIER,
      sequence: 1,
      rttMs: Date.now() - this.#echoSentAt,
    });
  }

  #step(event: PppEvent): void {
    if (this.#c.ended) return;
    const before = this.#c;
    const out: PppEffect[] = [];
    this.#c = pppStep(before, event, out);
    this.#observe(before, this.#c);
    this.#effects(out);
  }

  /** What changed in one step that a test wants to know: LCP up, the authentication's outcome. */
  #observe(before: PppContext, after: PppContext): void {
    if (before.lcp !== "opened" && after.lcp === "opened") {
      this.report({
        event: "lcp-up",
        ...(after.authProtocol ? { authProtocol: after.authProtocol } : {}),
        peerMru: after.peerMru,
        peerRequests: this.#peerRequests,
        ...(this.#firstPeerRequestId !== undefined ? { firstPeerRequestId: this.#firstPeerRequestId } : {}),
        hdlc: { ...this.#decoder.counters },
      });
    }
    if (before.auth !== "passed" && after.auth === "passed" && after.authProtocol) {
      this.report({ event: "auth", ok: true, protocol: after.authProtocol });
    }
    if (!before.cause && after.cause?.code === PppDisconnectCode.authFailed) {
      this.report({
        event: "auth",
        ok: false,
        ...(after.authProtocol ? { protocol: after.authProtocol } : {}),
        message: after.cause.message,
      });
    }
  }

  #effects(out: PppEffect[]): void {
    for (const effect of out) {
      switch (effect.type) {
        case "send":
          this.#send(pppFrame(effect.protocol, effect.payload));
          break;
        case "schedule": {
          const old = this.#timers.get(effect.timer);
          if (old) clearTimeout(old);
          const timer = effect.timer;
          this.#timers.set(
            timer,
            setTimeout(() => {
              this.#timers.delete(timer);
              this.#step({ type: timer });
            }, effect.ms),
          );
          break;
        }
        case "cancel": {
          const old = this.#timers.get(effect.timer);
          if (old) clearTimeout(old);
          this.#timers.delete(effect.timer);
          break;
        }
        case "up":
          this.#up(effect.address);
          break;
        case "finished":
          this.#finished(effect.cause);
          break;
        default:
          // authenticate and needAddress are the server's (the LNS's) to handle.
          break;
      }
    }
  }

  #up(address: string): void {
    const c = this.#c;
    this.report({
      event: "ipcp-up",
      address,
      ...(c.peerAddress ? { peerAddress: c.peerAddress } : {}),
      dns: c.dnsLearnt,
    });
    if (c.peerAddress) {
      // RFC 792: an Echo Request to the LNS's end of the link, as `ping` would send it.
      const data = new TextEncoder().encode("l2tp-engine ppp stand-in");
      this.#echoSentAt = Date.now();
      this.#send(
        pppFrame(PppProtocol.IPv4, icmpEchoRequest(address, c.peerAddress, ECHO_IDENTIFIER, 1, data)),
      );
      this.report({ event: "echo-sent", to: c.peerAddress, identifier: ECHO_IDENTIFIER, sequence: 1 });
    }
    if (this.holdMs !== undefined) setTimeout(() => this.hangup(`held ${this.holdMs} ms`), this.holdMs);
  }

  #finished(cause: PppCause): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.report({ event: "finished", cause });
    if (this.linger) return;
    const code =
      cause.code === PppDisconnectCode.authFailed
        ? PPPD_EXIT.authToPeerFailed
        : cause.direction === PppDirection.peer
          ? PPPD_EXIT.hangup
          : cause.code === PppDisconnectCode.normal
            ? PPPD_EXIT.userRequest
            : cause.code === PppDisconnectCode.lcpPeerSilent
              ? PPPD_EXIT.peerDead
              : PPPD_EXIT.negotiationFailed;
    // Give the last frame (a Terminate-Ack) time to leave the pty.
    setTimeout(() => this.exit(code, cause.message), 20);
  }

  #send(frame: Uint8Array): void {
    try {
      writeHdlcFrame(frame);
    } catch (error) {
      // EIO: xl2tpd closed the pty master; the call is gone.
      this.exit(PPPD_EXIT.hangup, `pty closed while writing (${errorCode(error) ?? String(error)})`);
    }
  }
}

const STDIN = 0;

function log(text: string): void {
  try {
    writeSync(2, `ppp-standin[${process.pid}]: ${text}\n`);
  } catch {
    // stderr gone (xl2tpd exited): nothing left to tell.
  }
}

/** Reads the pty until it closes (EIO once xl2tpd closes the master, or end of file). */
function readLoop(standIn: StandIn): void {
  const buffer = new Uint8Array(65536);
  const next = (): void => {
    read(STDIN, buffer, 0, buffer.length, null, (error, n) => {
      if (error) {
        if (errorCode(error) === "EAGAIN") {
          setTimeout(next, 5);
          return;
        }
        standIn.exit(
          standIn.ended ? PPPD_EXIT.ok : PPPD_EXIT.hangup,
          `pty closed (${errorCode(error) ?? error})`,
        );
        return;
      }
      if (n === 0) {
        standIn.exit(standIn.ended ? PPPD_EXIT.ok : PPPD_EXIT.hangup, "end of file on the pty");
        return;
      }
      standIn.receive(buffer.slice(0, n));
      next();
    });
  };
  next();
}

function main(): void {
  const args = process.argv.slice(2);
  const reportFile = process.env.PPP_STANDIN_REPORT || undefined;
  let options: PppdOptions;
  try {
    options = parsePppdOptions(args, (path) => readFileSync(path, "utf8"));
  } catch (error) {
    const message = (error as Error).message;
    log(message);
    if (reportFile)
      appendFileSync(reportFile, `${JSON.stringify({ pid: process.pid, event: "error", message })}\n`);
    process.exit(PPPD_EXIT.fatalError);
  }
  const hold = process.env.PPP_STANDIN_HOLD_MS;
  const holdMs = hold ? Number(hold) : undefined;
  const settings: PppSettings = {
    ...PPP_DEFAULTS,
    role: "client",
    hostName: options.user ?? "stand-in",
    authProtocols: options.authProtocols,
    // The endpoint asks for DNS when its list is not empty (the values are what it learns).
    dns: options.usePeerDns ? ["0.0.0.0"] : [],
    ...(options.mru !== undefined ? { mru: options.mru } : {}),
    ...(options.user !== undefined ? { user: options.user } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
  };
  const standIn = new StandIn(settings, reportFile, holdMs, process.env.PPP_STANDIN_LINGER === "1");
  let tty = "?";
  try {
    tty = readlinkSync("/proc/self/fd/0");
  } catch {
    // Only for the report.
  }
  standIn.report({
    event: "started",
    startedAt: Date.now(),
    tty,
    args,
    ...(options.user !== undefined ? { user: options.user } : {}),
    authProtocols: options.authProtocols,
    ignored: options.ignored,
  });
  for (const signal of ["SIGINT", "SIGHUP", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (standIn.ended) standIn.exit(PPPD_EXIT.userRequest, signal);
      else standIn.hangup(signal);
    });
  }
  standIn.start();
  readLoop(standIn);
}

if (import.meta.main) main();
