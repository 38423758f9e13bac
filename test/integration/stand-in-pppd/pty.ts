/**
 * Writing PPP to xl2tpd's pty, shared by the stand-in pppds (main.ts, xl2tpd/ppp-standin.ts): a frame
 * goes out as async HDLC (RFC 1662) in one or more writes to stdout, which is the pty.
 */
import { writeSync } from "node:fs";
import { encodeHdlc } from "../../../protocol/ppp/hdlc.ts";

const STDOUT = 1;

/** The `code` of a Node.js system error ("EAGAIN", "EIO"), if it has one. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
}

/** Sleeps without an event loop, for the rare EAGAIN on a descriptor someone left non-blocking. */
export function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Writes one PPP frame to the pty as async HDLC; throws what the write throws (EIO: xl2tpd closed the pty). */
export function writeHdlcFrame(frame: Uint8Array): void {
  const bytes = encodeHdlc(frame);
  let at = 0;
  while (at < bytes.length) {
    try {
      at += writeSync(STDOUT, bytes, at, bytes.length - at);
    } catch (error) {
      if (errorCode(error) !== "EAGAIN") throw error;
      pause(5);
    }
  }
}
