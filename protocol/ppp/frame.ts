/**
 * The PPP frame (RFC 1661 §2, RFC 1662 §3): optional Address (0xFF) and Control (0x03) fields, a one- or
 * two-octet Protocol field, then the payload. Inside L2TP data messages the frame arrives without flags
 * and FCS (RFC 2661 §3.1); on a serial line `hdlc.ts` adds those.
 */
import { isValidProtocol, PppProtocol } from "./numbers.ts";
import { type Decoded, fail } from "./result.ts";

/** A decoded PPP frame. `payload` is a view into the input bytes, not a copy. */
export interface PppFrame {
  protocol: number;
  payload: Uint8Array;
  /** Whether the Address and Control fields were present (false: compressed away by ACFC). */
  addressControl: boolean;
}

/** What to leave out when encoding, as negotiated with the peer (RFC 1661 §6.5, §6.6). */
export interface FrameCompression {
  /** Address-and-Control-Field-Compression: omit 0xFF 0x03. Never applied to LCP (RFC 1661 §6.6). */
  acfc?: boolean;
  /** Protocol-Field-Compression: one octet for protocols below 0x100, except 0x00FF (RFC 1661 §6.5). */
  pfc?: boolean;
}

const ADDRESS = 0xff;
const CONTROL = 0x03;

// What frameHeader answers for a malformed frame (decodeFrame words each).
const NO_CONTROL = -1;
const BAD_CONTROL = -2;
const NO_PROTOCOL = -3;
const SHORT_PROTOCOL = -4;
const BAD_PROTOCOL = -5;

/**
 * The header of the PPP frame (no flags, no FCS) that starts at `start` in `bytes`, read without making
 * anything: `protocol * 16 + header length` (1 to 4 octets: Address and Control, if present, and a one- or
 * two-octet Protocol), or a negative number when it is malformed (decodeFrame says why). The receive path
 * reads every frame's header with it; `payloadAt` and `frameProtocol` unpack it.
 */
export function frameHeader(bytes: Uint8Array, start = 0): number {
  let at = start;
  // RFC 1661 §2: the Protocol field's first octet is even, so a leading 0xFF can only be the Address.
  if (at < bytes.length && bytes[at] === ADDRESS) {
    if (bytes.length < at + 2) return NO_CONTROL;
    if (bytes[at + 1] !== CONTROL) return BAD_CONTROL;
    at += 2;
  }
  if (at >= bytes.length) return NO_PROTOCOL;
  const first = bytes[at] as number;
  // RFC 1661 §6.5: an odd first octet is a compressed (one-octet) Protocol field.
  if (first & 1) return first * 16 + (at + 1 - start);
  if (at + 2 > bytes.length) return SHORT_PROTOCOL;
  const protocol = (first << 8) | (bytes[at + 1] as number);
  if (!isValidProtocol(protocol)) return BAD_PROTOCOL;
  return protocol * 16 + (at + 2 - start);
}

/** The Protocol of a frameHeader answer (not negative). */
export function frameProtocol(header: number): number {
  return header >>> 4;
}

/** Where the payload of the frame at `start` begins, from its frameHeader answer (not negative). */
export function payloadAt(start: number, header: number): number {
  return start + (header & 15);
}

/**
 * Decodes a PPP frame (no flags, no FCS) that starts at `start` in `bytes` (an L2TP data message's
 * payload offset: no view of the frame is made first); never throws.
 */
export function decodeFrame(bytes: Uint8Array, start = 0): Decoded<PppFrame> {
  const header = frameHeader(bytes, start);
  if (header < 0) return frameError(header, bytes, start);
  // `slice`, a copy of a Uint8Array: a received datagram is one without an ArrayBuffer on Bun (JSC makes
  // one at its first view: ~0.4 µs under load, 4.7% of an LNS's samples in bench/lns-load --ppp), while
  // copying the few dozen octets of a PPP control packet costs a tenth of that. The decoders below slice
  // too (control-packet.ts, options.ts): one view anywhere would bring the ArrayBuffer back. (Where the
  // datagram is a Buffer, node:dgram's on Deno, its `slice` is a view: V8 has the buffer already.)
  return {
    ok: true,
    value: {
      protocol: frameProtocol(header),
      payload: bytes.slice(payloadAt(start, header)),
      addressControl: (header & 15) >= 3,
    },
  };
}

/** Why the frame at `start` is malformed, from frameHeader's negative answer. */
function frameError(code: number, bytes: Uint8Array, start: number): Decoded<PppFrame> {
  const at = bytes[start] === ADDRESS ? start + 2 : start;
  switch (code) {
    case NO_CONTROL:
      return fail("frame.control", "frame ends after the Address field (0xFF)");
    case BAD_CONTROL:
      return fail(
        "frame.control",
        `expected 0x03 after Address 0xFF (RFC 1662 §3.1), got 0x${hex8(bytes[start + 1] as number)}`,
      );
    case NO_PROTOCOL:
      return fail("frame.protocol", "frame ends before the Protocol field");
    case SHORT_PROTOCOL:
      return fail("frame.protocol", "frame ends inside the two-octet Protocol field");
    default:
      return fail(
        "frame.protocol",
        `0x${hex8(bytes[at] as number)}${hex8(bytes[at + 1] as number)} has an even low octet (RFC 1661 §2)`,
      );
  }
}

/** The PPP header of a control or data packet with Address and Control kept (RFC 1662 §3.1, as LCP requires). */
export const PPP_HEADER_LENGTH = 4;

/** Writes that header (0xFF, 0x03, the two-octet Protocol) at `at` in `out`. */
export function writePppHeader(out: Uint8Array, at: number, protocol: number): void {
  out[at] = ADDRESS;
  out[at + 1] = CONTROL;
  out[at + 2] = protocol >> 8;
  out[at + 3] = protocol & 0xff;
}

/** Encodes a PPP frame (no flags, no FCS) with the compressions asked for; throws RangeError on a bad protocol. */
export function encodeFrame(
  frame: { protocol: number; payload: Uint8Array },
  compression: FrameCompression = {},
): Uint8Array {
  const { protocol, payload } = frame;
  if (!isValidProtocol(protocol))
    throw new RangeError(`PPP protocol 0x${protocol.toString(16)} is not valid`);
  // RFC 1661 §6.6: LCP packets always carry Address and Control; §6.5: LCP's number cannot be compressed anyway.
  const withAddressControl = !compression.acfc || protocol === PppProtocol.LCP;
  // 0x00FF is reserved because, compressed to 0xFF, it would read as the Address field (IANA PPP numbers).
  const shortProtocol = compression.pfc === true && protocol < 0xff;
  const headerLength = (withAddressControl ? 2 : 0) + (shortProtocol ? 1 : 2);
  const out = new Uint8Array(headerLength + payload.length);
  let at = 0;
  if (withAddressControl) {
    out[at++] = ADDRESS;
    out[at++] = CONTROL;
  }
  if (!shortProtocol) out[at++] = protocol >> 8;
  out[at++] = protocol & 0xff;
  out.set(payload, at);
  return out;
}

function hex8(n: number): string {
  return n.toString(16).padStart(2, "0");
}
