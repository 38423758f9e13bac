/**
 * The stand-in pppd's body, started by `pppd.sh` (which has already set the pty raw). The kernel here has
 * no /dev/ppp, so the real pppd exits at once and xl2tpd then closes the call; this stand-in keeps the
 * call up instead. It reads async-HDLC frames (RFC 1662) from the pty on stdin, logs each one to stderr
 * (which is xl2tpd's log, captured by the harness), answers LCP Echo-Request with Echo-Reply
 * (RFC 1661 §5.8) and discards everything else. It exits on end of file or a pty hangup; SIGTERM (what
 * xl2tpd sends when the call closes) ends it by default.
 *
 * Environment (set by the harness on xl2tpd, which passes it on):
 * - STAND_IN_PPPD_ECHO_REQUEST=1: send one LCP Echo-Request at start, to prove the data path end to end.
 */
import { readlinkSync, readSync, writeSync } from "node:fs";
import { describeFrame } from "../../../protocol/ppp/describe.ts";
import { decodeFrame, encodeFrame } from "../../../protocol/ppp/frame.ts";
import { HdlcDecoder } from "../../../protocol/ppp/hdlc.ts";
import { decodeLcp, encodeLcp } from "../../../protocol/ppp/lcp.ts";
import { PppProtocol } from "../../../protocol/ppp/numbers.ts";
import { errorCode, pause, writeHdlcFrame } from "./pty.ts";

const STDIN = 0;
const tag = `stand-in-pppd[${process.pid}]`;

function log(text: string): void {
  try {
    writeSync(2, `${tag}: ${text}\n`);
  } catch {
    // stderr gone (xl2tpd exited): nothing left to tell.
  }
}

function send(frame: Uint8Array): void {
  writeHdlcFrame(frame);
  log(`tx ${describeFrame(frame)}`);
}

function lcpFrame(packet: Parameters<typeof encodeLcp>[0]): Uint8Array {
  return encodeFrame({ protocol: PppProtocol.LCP, payload: encodeLcp(packet) });
}

function onFrame(frame: Uint8Array): void {
  log(`rx ${describeFrame(frame)}`);
  const ppp = decodeFrame(frame);
  if (!ppp.ok || ppp.value.protocol !== PppProtocol.LCP) return;
  const lcp = decodeLcp(ppp.value.payload);
  // RFC 1661 §5.8: the reply carries the request's Identifier and data; our Magic-Number is 0 (none negotiated).
  if (lcp.ok && lcp.value.code === "Echo-Request") {
    send(lcpFrame({ code: "Echo-Reply", id: lcp.value.id, magic: 0, data: lcp.value.data }));
  }
}

function main(): number {
  let tty = "?";
  try {
    tty = readlinkSync("/proc/self/fd/0");
  } catch {
    // Only for the log line.
  }
  log(`started on ${tty} with ${process.argv.slice(2).join(" ")}`);

  if (process.env.STAND_IN_PPPD_ECHO_REQUEST === "1") {
    send(lcpFrame({ code: "Echo-Request", id: 1, magic: 0, data: new TextEncoder().encode("stand-in") }));
  }

  const decoder = new HdlcDecoder();
  const buffer = new Uint8Array(65536);
  for (;;) {
    let n: number;
    try {
      n = readSync(STDIN, buffer, 0, buffer.length, null);
    } catch (error) {
      const code = errorCode(error);
      if (code === "EAGAIN") {
        pause(5);
        continue;
      }
      // EIO: xl2tpd closed the pty master (the call or xl2tpd went away).
      log(`pty closed (${code ?? String(error)}), exiting`);
      return 0;
    }
    if (n === 0) {
      log("end of file, exiting");
      return 0;
    }
    for (const result of decoder.push(buffer.subarray(0, n))) {
      if (result.ok) onFrame(result.value);
      else log(`dropped a frame: ${result.error.field}: ${result.error.reason}`);
    }
  }
}

process.exit(main());
