/**
 * Asynchronous HDLC-like framing (RFC 1662 §4), as PPP runs over a pty or serial line (pppd, xl2tpd's
 * pty): each frame between 0x7E flags, 0x7D escapes (next octet XOR 0x20) for the flag, the escape and the
 * control characters in the ACCM, and an FCS-16 after the frame, low octet first. Only FCS-16 is
 * implemented; FCS-32 (RFC 1662 §C.3) is negotiated by nobody this product talks to.
 */
import { FCS16_GOOD, fcs16, fcs16Trailer } from "./fcs.ts";
import type { Decoded, ProtocolError } from "./result.ts";

const FLAG = 0x7e;
const ESCAPE = 0x7d;
const FLIP = 0x20;

/** RFC 1662 §7.1: until the peer agrees otherwise, every control character 0x00-0x1F is escaped. */
export const DEFAULT_ACCM = 0xffffffff;

/** Whether the octet must be escaped: flag, escape, or a control character flagged in the ACCM. */
function mustEscape(octet: number, accm: number): boolean {
  return octet === FLAG || octet === ESCAPE || (octet < 0x20 && ((accm >>> octet) & 1) === 1);
}

/**
 * Frames one PPP frame (Address, Control, Protocol, payload: the output of `encodeFrame`) for an async
 * line: opening flag, escaped frame and FCS-16, closing flag. `accm` is the peer's receive map (default all).
 */
export function encodeHdlc(frame: Uint8Array, options: { accm?: number } = {}): Uint8Array {
  const accm = (options.accm ?? DEFAULT_ACCM) >>> 0;
  const [fcsLow, fcsHigh] = fcs16Trailer(frame);
  const body = new Uint8Array(frame.length + 2);
  body.set(frame);
  body[frame.length] = fcsLow;
  body[frame.length + 1] = fcsHigh;
  let size = 2 + body.length;
  for (let i = 0; i < body.length; i++) if (mustEscape(body[i], accm)) size++;
  const out = new Uint8Array(size);
  let at = 0;
  out[at++] = FLAG;
  for (let i = 0; i < body.length; i++) {
    const octet = body[i];
    if (mustEscape(octet, accm)) {
      out[at++] = ESCAPE;
      out[at++] = octet ^ FLIP;
    } else {
      out[at++] = octet;
    }
  }
  out[at] = FLAG;
  return out;
}

/** What the streaming decoder has seen so far. */
export interface HdlcCounters {
  /** Frames delivered with a good FCS. */
  frames: number;
  /** Frames dropped for a bad FCS. */
  fcsErrors: number;
  /** Frames dropped for exceeding `maxFrameSize`. */
  tooLong: number;
  /** Frames dropped for being shorter than 4 octets with FCS (RFC 1662 §4.3). */
  tooShort: number;
  /** Frames ended by the abort sequence 0x7D 0x7E (RFC 1662 §4.4.1). */
  aborted: number;
  /** Octets thrown away before the first flag or after an over-long frame. */
  discardedOctets: number;
}

/** Settings of a streaming decoder. */
export interface HdlcDecoderOptions {
  /** Largest frame accepted, without FCS (default 65535, the most PPP over L2TP can carry). */
  maxFrameSize?: number;
  /** Our receive ACCM: unescaped control characters it flags are removed as line noise (RFC 1662 §4.2). */
  accm?: number;
}

const INITIAL_BUFFER = 2048;

/**
 * Streaming async-HDLC decoder: push octets as they arrive, in chunks of any size; each push returns the
 * frames it completed (without FCS) and the frames it dropped, each drop with its reason, in stream order.
 * Memory is bounded by `maxFrameSize`.
 */
export class HdlcDecoder {
  /** Our receive ACCM; change it when LCP negotiates a new one. */
  accm: number;
  /** Running totals, for counters and logs. */
  readonly counters: HdlcCounters = {
    frames: 0,
    fcsErrors: 0,
    tooLong: 0,
    tooShort: 0,
    aborted: 0,
    discardedOctets: 0,
  };
  private readonly limit: number;
  private readonly maxFrameSize: number;
  private buffer: Uint8Array;
  private length = 0;
  /** Before the first flag, and after an over-long frame until the next flag. */
  private hunting = true;
  private escaped = false;

  /** Creates a decoder that waits for a first flag. */
  constructor(options: HdlcDecoderOptions = {}) {
    this.maxFrameSize = Math.max(1, Math.floor(options.maxFrameSize ?? 65535));
    this.limit = this.maxFrameSize + 2;
    this.buffer = new Uint8Array(Math.min(INITIAL_BUFFER, this.limit));
    this.accm = (options.accm ?? DEFAULT_ACCM) >>> 0;
  }

  /** Octets allocated for the frame being assembled: grows on demand, never past `maxFrameSize` + 2. */
  get bufferCapacity(): number {
    return this.buffer.length;
  }

  /** Feeds octets; returns, in order, each frame completed (ok) and each frame dropped (error with reason). */
  push(chunk: Uint8Array): Decoded<Uint8Array>[] {
    const results: Decoded<Uint8Array>[] = [];
    const accm = this.accm >>> 0;
    for (let i = 0; i < chunk.length; i++) {
      let octet = chunk[i];
      if (octet === FLAG) {
        this.endOfFrame(results);
        continue;
      }
      if (this.hunting) {
        this.counters.discardedOctets++;
        continue;
      }
      // RFC 1662 §4.2: a control character flagged in our ACCM that arrives unescaped was added in transit.
      if (octet < 0x20 && ((accm >>> octet) & 1) === 1) continue;
      if (octet === ESCAPE) {
        this.escaped = true;
        continue;
      }
      if (this.escaped) {
        octet ^= FLIP;
        this.escaped = false;
      }
      if (this.length === this.buffer.length && !this.grow()) {
        this.counters.tooLong++;
        this.counters.discardedOctets += this.length + 1;
        this.length = 0;
        this.hunting = true;
        results.push(
          drop("hdlc.length", `frame longer than ${this.maxFrameSize} octets; dropped up to the next flag`),
        );
        continue;
      }
      this.buffer[this.length++] = octet;
    }
    return results;
  }

  /** Forgets a partial frame and waits for the next flag (e.g. after the line was reset). */
  reset(): void {
    this.length = 0;
    this.escaped = false;
    this.hunting = true;
  }

  private grow(): boolean {
    if (this.buffer.length >= this.limit) return false;
    const bigger = new Uint8Array(Math.min(this.limit, this.buffer.length * 2));
    bigger.set(this.buffer.subarray(0, this.length));
    this.buffer = bigger;
    return true;
  }

  private endOfFrame(results: Decoded<Uint8Array>[]): void {
    const length = this.length;
    const escaped = this.escaped;
    this.length = 0;
    this.escaped = false;
    if (this.hunting) {
      this.hunting = false;
      return;
    }
    if (escaped) {
      this.counters.aborted++;
      results.push(drop("hdlc.abort", `frame aborted by 0x7D 0x7E after ${length} octets (RFC 1662 §4.4.1)`));
      return;
    }
    if (length === 0) return; // back-to-back flags: an empty "frame" between them is just inter-frame fill
    if (length < 4) {
      this.counters.tooShort++;
      results.push(
        drop(
          "hdlc.length",
          `${length} octets between flags, fewer than the 4 of the smallest frame with FCS`,
        ),
      );
      return;
    }
    if (fcs16(this.buffer, undefined, 0, length) !== FCS16_GOOD) {
      this.counters.fcsErrors++;
      results.push(drop("hdlc.fcs", `bad FCS-16 on a frame of ${length - 2} octets`));
      return;
    }
    this.counters.frames++;
    results.push({ ok: true, value: this.buffer.slice(0, length - 2) });
  }
}

function drop(field: string, reason: string): Decoded<Uint8Array> {
  const error: ProtocolError = { field, reason };
  return { ok: false, error };
}
