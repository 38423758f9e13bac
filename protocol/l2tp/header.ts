/**
 * The L2TPv2 header (RFC 2661 §3.1): decode for both message kinds, a zero-allocation peek for the
 * router's fast path, and the encoders for data and control headers.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |T|L|x|x|S|x|O|P|x|x|x|x|  Ver  |          Length (opt)         |
 * |           Tunnel ID           |           Session ID          |
 * |             Ns (opt)          |             Nr (opt)          |
 * |      Offset Size (opt)        |    Offset pad... (opt)
 */
import { writeU16 } from "../bytes.ts";
import { PPP_HEADER_LENGTH, writePppHeader } from "../ppp/frame.ts";
import { allocatePacket } from "./packet-buffer.ts";
import { type Decoded, fail } from "./result.ts";

/** The header of a control message: RFC 2661 §3.1 requires T, L and S set and O, P clear, so only these vary. */
export interface ControlHeader {
  tunnelId: number;
  sessionId: number;
  ns: number;
  nr: number;
}

/** The header of a data message; the optional fields are present on the wire only when set. */
export interface DataHeader {
  tunnelId: number;
  sessionId: number;
  /** Ns and Nr (S bit): both are sent when either is set. */
  ns?: number;
  nr?: number;
  /** Offset Size (O bit): that many pad bytes precede the PPP frame. */
  offsetSize?: number;
  /** P bit: the peer asks for this message to be queued with priority (RFC 2661 §3.1). */
  priority?: boolean;
  /** L bit: whether the Length field is present. */
  length?: boolean;
}

/** A decoded header of either kind, told apart by `isControl` (the T bit). */
export type L2tpHeader = ({ isControl: true } & ControlHeader) | ({ isControl: false } & DataHeader);

/** A decoded header, where its payload starts, and where it ends (the Length field when present, else the datagram's end). */
export interface DecodedHeader {
  header: L2tpHeader;
  payloadOffset: number;
  payloadEnd: number;
}

/** Header options; the defaults follow RFC 2661. */
export interface HeaderOptions {
  /**
   * Reject a header with a reserved (x) bit set. RFC 2661 §3.1 says they "MUST be ... ignored on
   * incoming messages", so this is off by default; turn it on to diagnose a peer.
   */
  rejectReservedBits?: boolean;
}

/** T bit: control message. */
export const FLAG_T = 0x8000;
/** L bit: Length field present. */
export const FLAG_L = 0x4000;
/** S bit: Ns and Nr present. */
export const FLAG_S = 0x0800;
/** O bit: Offset Size present. */
export const FLAG_O = 0x0200;
/** P bit: priority. */
export const FLAG_P = 0x0100;
/** The x bits of RFC 2661 §3.1 (bits 2, 3, 5, 8-11). */
export const RESERVED_BITS = 0x34f0;
/** The Ver field. */
export const VERSION_MASK = 0x000f;
/** The only version this codec speaks (RFC 2661 §3.1: "Ver MUST be 2"). */
export const L2TP_VERSION = 2;
/** Length of every control header: flags, length, tunnel, session, Ns, Nr. */
export const CONTROL_HEADER_LENGTH = 12;

const CONTROL_FLAGS = FLAG_T | FLAG_L | FLAG_S | L2TP_VERSION;

function versionError(version: number): string {
  if (version === 3) return "version 3 is L2TPv3 (RFC 3931), which this L2TPv2 codec does not speak";
  if (version === 1) return "version 1 is L2F (RFC 2341), not L2TP";
  return `expected version 2, got ${version}`;
}

/** Decodes the header; payloadOffset is where the AVPs (control) or PPP frame (data) start. */
export function decodeHeader(packet: Uint8Array, options?: HeaderOptions): Decoded<DecodedHeader> {
  if (packet.length < 6)
    return fail("header", `datagram of ${packet.length} bytes is shorter than any L2TP header (6)`);
  const flags = (packet[0] << 8) | packet[1];
  const version = flags & VERSION_MASK;
  if (version !== L2TP_VERSION) return fail("header.version", versionError(version));
  if (options?.rejectReservedBits && (flags & RESERVED_BITS) !== 0) {
    return fail(
      "header.flags",
      `reserved bits 0x${(flags & RESERVED_BITS).toString(16).padStart(4, "0")} are set`,
    );
  }
  if (flags & FLAG_T) return decodeControlHeaderFields(packet, flags);
  return decodeDataHeaderFields(packet, flags);
}

function decodeControlHeaderFields(packet: Uint8Array, flags: number): Decoded<DecodedHeader> {
  // RFC 2661 §3.1: L and S MUST be 1 for control messages, O and P MUST be 0.
  if (!(flags & FLAG_L))
    return fail("header.flags.L", "control message without the Length bit (RFC 2661 §3.1: L MUST be 1)");
  if (!(flags & FLAG_S))
    return fail("header.flags.S", "control message without the Sequence bit (RFC 2661 §3.1: S MUST be 1)");
  if (flags & FLAG_O)
    return fail("header.flags.O", "control message with the Offset bit (RFC 2661 §3.1: O MUST be 0)");
  if (flags & FLAG_P)
    return fail("header.flags.P", "control message with the Priority bit (RFC 2661 §3.1: P MUST be 0)");
  if (packet.length < CONTROL_HEADER_LENGTH) {
    return fail(
      "header",
      `control datagram of ${packet.length} bytes is shorter than the control header (12)`,
    );
  }
  const length = (packet[2] << 8) | packet[3];
  if (length < CONTROL_HEADER_LENGTH)
    return fail("header.length", `length ${length} is shorter than the control header (12)`);
  if (length > packet.length) {
    return fail("header.length", `length ${length} is longer than the datagram (${packet.length} bytes)`);
  }
  return {
    ok: true,
    value: {
      header: {
        isControl: true,
        tunnelId: (packet[4] << 8) | packet[5],
        sessionId: (packet[6] << 8) | packet[7],
        ns: (packet[8] << 8) | packet[9],
        nr: (packet[10] << 8) | packet[11],
      },
      payloadOffset: CONTROL_HEADER_LENGTH,
      payloadEnd: length,
    },
  };
}

function decodeDataHeaderFields(packet: Uint8Array, flags: number): Decoded<DecodedHeader> {
  const hasLength = (flags & FLAG_L) !== 0;
  const hasSequence = (flags & FLAG_S) !== 0;
  const hasOffset = (flags & FLAG_O) !== 0;
  const fixed = 6 + (hasLength ? 2 : 0) + (hasSequence ? 4 : 0) + (hasOffset ? 2 : 0);
  if (packet.length < fixed) {
    return fail(
      "header",
      `data datagram of ${packet.length} bytes is shorter than its header (${fixed} bytes by its flags)`,
    );
  }
  let end = packet.length;
  let at = 2;
  if (hasLength) {
    const length = (packet[2] << 8) | packet[3];
    if (length < fixed)
      return fail("header.length", `length ${length} is shorter than the header (${fixed})`);
    if (length > packet.length) {
      return fail("header.length", `length ${length} is longer than the datagram (${packet.length} bytes)`);
    }
    end = length; // RFC 2661 §3.1: bytes after Length are not part of the message
    at = 4;
  }
  const header: { isControl: false } & DataHeader = {
    isControl: false,
    tunnelId: (packet[at] << 8) | packet[at + 1],
    sessionId: (packet[at + 2] << 8) | packet[at + 3],
  };
  at += 4;
  if (hasLength) header.length = true;
  if (hasSequence) {
    header.ns = (packet[at] << 8) | packet[at + 1];
    header.nr = (packet[at + 2] << 8) | packet[at + 3];
    at += 4;
  }
  if (hasOffset) {
    const offsetSize = (packet[at] << 8) | packet[at + 1];
    at += 2;
    if (at + offsetSize > end) {
      return fail(
        "header.offsetSize",
        `offset size ${offsetSize} runs past the message end (${end - at} bytes left)`,
      );
    }
    header.offsetSize = offsetSize;
    at += offsetSize;
  }
  if (flags & FLAG_P) header.priority = true;
  return { ok: true, value: { header, payloadOffset: at, payloadEnd: end } };
}

/** The object peekIds returns; reused on every call, so read it before the next call. */
const peeked = { isControl: false, tunnelId: 0, sessionId: 0 };

/** Router fast path: reads T bit, tunnel id and session id without allocating; undefined if not an L2TPv2 header. */
export function peekIds(
  packet: Uint8Array,
): { isControl: boolean; tunnelId: number; sessionId: number } | undefined {
  if (packet.length < 6) return undefined;
  const flags = (packet[0] << 8) | packet[1];
  if ((flags & VERSION_MASK) !== L2TP_VERSION) return undefined;
  const at = flags & FLAG_L ? 4 : 2;
  if (packet.length < at + 4) return undefined;
  peeked.isControl = (flags & FLAG_T) !== 0;
  peeked.tunnelId = (packet[at] << 8) | packet[at + 1];
  peeked.sessionId = (packet[at + 2] << 8) | packet[at + 3];
  return peeked;
}

/**
 * Where the PPP frame of a data message starts (RFC 2661 §3.1: after the optional Length, Ns/Nr and
 * Offset Size fields and the offset pad), or -1 when the header runs past the datagram. Allocates nothing.
 */
export function dataPayloadOffset(packet: Uint8Array): number {
  if (packet.length < 6) return -1;
  const flags = (packet[0] << 8) | packet[1];
  let at = 6 + (flags & FLAG_L ? 2 : 0) + (flags & FLAG_S ? 4 : 0);
  if (flags & FLAG_O) {
    if (packet.length < at + 2) return -1;
    at += 2 + ((packet[at] << 8) | packet[at + 1]);
  }
  return at <= packet.length ? at : -1;
}

/** The length of the header encodeDataHeader writes for `h` (offset pad included). */
export function dataHeaderLength(h: DataHeader): number {
  const hasSequence = h.ns !== undefined || h.nr !== undefined;
  const hasOffset = h.offsetSize !== undefined;
  return 6 + (h.length ? 2 : 0) + (hasSequence ? 4 : 0) + (hasOffset ? 2 + (h.offsetSize ?? 0) : 0);
}

/**
 * Encodes a data header followed by the payload (the PPP frame), in one packet: a view into a shared
 * slab (packet-buffer.ts), so its `.buffer` is larger than the packet.
 */
export function encodeDataHeader(h: DataHeader, payload: Uint8Array): Uint8Array {
  const hasSequence = h.ns !== undefined || h.nr !== undefined;
  const hasOffset = h.offsetSize !== undefined;
  const headerLength = dataHeaderLength(h);
  const total = headerLength + payload.length;
  const out = allocatePacket(total);
  const flags =
    (h.length ? FLAG_L : 0) |
    (hasSequence ? FLAG_S : 0) |
    (hasOffset ? FLAG_O : 0) |
    (h.priority ? FLAG_P : 0) |
    L2TP_VERSION;
  out[0] = flags >>> 8;
  out[1] = flags & 0xff;
  let at = 2;
  if (h.length) at = writeU16(out, 2, total);
  at = writeU16(out, at, h.tunnelId);
  at = writeU16(out, at, h.sessionId);
  if (hasSequence) {
    at = writeU16(out, at, h.ns ?? 0);
    at = writeU16(out, at, h.nr ?? 0);
  }
  // The pad stays zero: the packet's memory is fresh.
  if (hasOffset) at = writeU16(out, at, h.offsetSize ?? 0) + (h.offsetSize ?? 0);
  out.set(payload, at);
  return out;
}

/**
 * A data message of the plainest form (RFC 2661 §3.1: no Length, no sequence, no offset; what a session
 * sends) carrying a PPP packet of `protocol` as its frame, written once: header, PPP header, packet. The
 * same bytes as encodeDataHeader over the frame, without the frame made first.
 */
export function encodePppData(
  tunnelId: number,
  sessionId: number,
  protocol: number,
  payload: Uint8Array,
): Uint8Array {
  const out = allocatePacket(6 + PPP_HEADER_LENGTH + payload.length);
  out[0] = L2TP_VERSION >>> 8;
  out[1] = L2TP_VERSION & 0xff;
  writeU16(out, 2, tunnelId);
  writeU16(out, 4, sessionId);
  writePppHeader(out, 6, protocol);
  out.set(payload, 6 + PPP_HEADER_LENGTH);
  return out;
}

/**
 * Writes a control header (RFC 2661 §3.1: T, L, S set, version 2) at the start of `out`, whose whole
 * length is the message length; the AVPs (none for a ZLB) follow from byte 12.
 */
export function writeControlHeader(out: Uint8Array, h: ControlHeader): void {
  out[0] = CONTROL_FLAGS >>> 8;
  out[1] = CONTROL_FLAGS & 0xff;
  writeU16(out, 2, out.length);
  writeU16(out, 4, h.tunnelId);
  writeU16(out, 6, h.sessionId);
  writeU16(out, 8, h.ns);
  writeU16(out, 10, h.nr);
}

/**
 * Encodes a control header alone: a ZLB acknowledgement (RFC 2661 §5.8), as a view into a shared
 * slab (packet-buffer.ts), so its `.buffer` is larger than the packet.
 */
export function encodeZlb(h: ControlHeader): Uint8Array {
  const out = allocatePacket(CONTROL_HEADER_LENGTH);
  writeControlHeader(out, h);
  return out;
}
