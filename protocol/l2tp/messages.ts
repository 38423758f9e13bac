/**
 * Control messages (RFC 2661 §3.2, §4, §6): encode a message into a control packet and decode a
 * received control packet into typed AVPs, revealing hidden ones (§4.3) with the tunnel secret.
 *
 * Decoding never throws: every problem comes back as a ProtocolError naming the field, with the
 * header (so the message can still be acknowledged, §4.1), the message type, the RFC result and
 * error codes to answer with, and whether the answer is a StopCCN, a CDN, or only the ack.
 */
import { u16 as readU16, writeU16 } from "../bytes.ts";
import {
  AVP_BY_TYPE,
  AVP_CATALOG,
  type AvpName,
  type AvpSpec,
  type Avps,
  avpLabel,
  MESSAGE_TYPE_AVP,
  RANDOM_VECTOR_AVP,
} from "./avps.ts";
import {
  CONTROL_HEADER_LENGTH,
  type ControlHeader,
  decodeHeader,
  encodeZlb,
  FLAG_L,
  FLAG_O,
  FLAG_P,
  FLAG_S,
  FLAG_T,
  L2TP_VERSION,
  RESERVED_BITS,
  VERSION_MASK,
  writeControlHeader,
} from "./header.ts";
import { hideSubformat, revealSubformat } from "./hidden.ts";
import { MESSAGE_TYPE_BY_CODE, MESSAGE_TYPE_BY_NAME, type MessageTypeName } from "./message-types.ts";
import { allocatePacket } from "./packet-buffer.ts";
import { type Decoded, type ErrorScope, GeneralError, type ProtocolError } from "./result.ts";

export type { AvpName, Avps } from "./avps.ts";
export type { MessageTypeName } from "./message-types.ts";
export { validateMessage } from "./validate.ts";

/** An AVP the catalog does not type (vendor AVPs, unknown IETF types), kept with its flag bits. */
export interface OpaqueAvp {
  vendorId: number;
  attribute: number;
  mandatory: boolean;
  /** Whether it arrived hidden; its value is revealed when a secret was given, else still hidden. */
  hidden: boolean;
  value: Uint8Array;
}

/** A control message: its type, typed AVPs, the AVPs the catalog does not know, and which arrived hidden. */
export interface ControlMessage {
  type: MessageTypeName;
  avps: Avps;
  /** AVPs outside the catalog (only present when there are some). */
  opaque?: OpaqueAvp[];
  /** Names of the typed AVPs that arrived hidden, in wire order (only present when there are some). */
  hidden?: AvpName[];
  /**
   * Wire order of the AVPs after the Message Type: names of typed AVPs, and indexes into `opaque`
   * for the others. Set by decodeControl with `keepOrder`; encodeControl follows it when present, so
   * a decoded message re-encodes byte for byte (peers do not agree on an order: xl2tpd sends
   * Challenge Response before Challenge, StopCCN Assigned Tunnel ID before Result Code).
   */
  order?: (AvpName | number)[];
}

/** A received control packet: the header, and the message, or null for a ZLB acknowledgement. */
export interface ControlPacket {
  header: ControlHeader;
  message: ControlMessage | null;
}

/** How to encode: the tunnel secret, which AVPs to hide, and the random vector to hide them with. */
export interface EncodeOptions {
  /** The tunnel secret (RFC 2661 §4.3); needed to hide. */
  secret?: Uint8Array;
  /** AVPs to send hidden; AVPs the RFC does not let be hidden (Host Name, Random Vector …) are sent plain. */
  hide?: readonly AvpName[];
  /** Random Vector value (random bytes from the caller, RFC 2661 §4.3); defaults to `avps.randomVector`. */
  randomVector?: Uint8Array;
  /** Zero bytes appended to each hidden value before it is hidden, to conceal its length (RFC 2661 §4.3). */
  hiddenPadding?: number;
  /**
   * Each hidden subformat (original length, value, padding) padded up to at least this many bytes,
   * the padding taken from `hiddenPaddingBytes` (RFC 2661 §4.3 makes padding optional; l2tpns 2.4.1
   * refuses a hidden part under 8 bytes, and a padded value hides a short password's length).
   */
  hiddenMinimum?: number;
  /** Random bytes for the padding `hiddenMinimum` adds (repeated if shorter; zero bytes if absent). */
  hiddenPaddingBytes?: Uint8Array;
}

/** How to decode. */
export interface DecodeOptions {
  /** The tunnel secret, to reveal hidden AVPs. */
  secret?: Uint8Array;
  /**
   * With no secret, keep hidden AVPs as still-hidden OpaqueAvp entries instead of failing (for
   * tools such as `l2tp decode` that show a packet without knowing the secret).
   */
  keepHiddenOpaque?: boolean;
  /** Refuse headers with reserved bits set (RFC 2661 §3.1 says to ignore them; see header.ts). */
  rejectReservedBits?: boolean;
  /** Record the AVPs' wire order in `message.order` (for tools, and to re-encode byte for byte). */
  keepOrder?: boolean;
}

/** The M bit of an AVP header (RFC 2661 §4.1). */
const AVP_M = 0x8000;
/** The H bit of an AVP header (RFC 2661 §4.3). */
const AVP_H = 0x4000;
/** The Length field of an AVP header: 10 bits, so an AVP is at most 1023 bytes. */
const AVP_LENGTH_MASK = 0x03ff;
/** The largest AVP the 10-bit Length field can describe. */
const MAX_AVP_LENGTH = 1023;

const CONTROL_FLAGS_MASK = FLAG_T | FLAG_L | FLAG_S | FLAG_O | FLAG_P | VERSION_MASK;
const CONTROL_FLAGS = FLAG_T | FLAG_L | FLAG_S | L2TP_VERSION;

// ---- decode -------------------------------------------------------------------------------------

/** Mutable state of one decode, so errors can be built with everything known so far. */
interface DecodeContext {
  header: ControlHeader;
  messageType?: MessageTypeName;
  messageTypeCode?: number;
  scope: ErrorScope;
}

function failWith(
  ctx: DecodeContext,
  field: string,
  reason: string,
  errorCode: number | undefined,
): { ok: false; error: ProtocolError } {
  const error: ProtocolError = { field, reason, header: ctx.header, scope: ctx.scope };
  if (ctx.scope !== "ignore") {
    error.resultCode = 2; // RFC 2661 §4.4.2: StopCCN and CDN result 2 = general error, see Error Code
    if (errorCode !== undefined) error.errorCode = errorCode;
  }
  if (ctx.messageType !== undefined) error.messageType = ctx.messageType;
  if (ctx.messageTypeCode !== undefined) error.messageTypeCode = ctx.messageTypeCode;
  return { ok: false, error };
}

/** A failure that carries the AVPs read (RFC 2661 §4.1: answer what can be answered). */
function withAvps(
  failure: { ok: false; error: ProtocolError },
  avps: Avps,
): { ok: false; error: ProtocolError } {
  failure.error.avps = avps;
  return failure;
}

/** Adds to a list created on first use, so messages without opaque or hidden AVPs allocate none. */
function append<T>(list: T[] | undefined, item: T): T[] {
  if (!list) return [item];
  list.push(item);
  return list;
}

function avpField(index: number, type: number, vendorId: number): string {
  return `avp[${index}] ${avpLabel(type, vendorId)}`;
}

/** RFC 2661 §4.4.3: the Assigned Tunnel ID AVP's attribute type. */
const ASSIGNED_TUNNEL_ID_AVP = 9;

/**
 * The Assigned Tunnel ID of an SCCRQ read straight from its bytes, without decoding it: for the
 * router's refusals under a flood, where decoding every SCCRQ only to refuse it cost most of the node's
 * time. -1 when the datagram is not a well-formed control header followed by the Message Type AVP of an
 * SCCRQ (RFC 2661 §4.4.1: first, 8 bytes, never hidden), or its AVPs do not hold a visible 8-byte
 * Assigned Tunnel ID (RFC 2661 §4.4.3) within the message; such a datagram is for decodeControl to explain.
 * Allocates nothing. The Ns to acknowledge is at bytes 8-9.
 */
export function peekSccrqAssignedTunnelId(packet: Uint8Array): number {
  if (packet.length < 20) return -1;
  const flags = (packet[0] << 8) | packet[1];
  const end = (packet[2] << 8) | packet[3];
  if ((flags & CONTROL_FLAGS_MASK) !== CONTROL_FLAGS || end < 20 || end > packet.length) return -1;
  // Message Type AVP: flags and length 8, vendor 0, attribute 0, value 1 (SCCRQ).
  if ((readU16(packet, 12) & (AVP_H | AVP_LENGTH_MASK)) !== 8) return -1;
  if (readU16(packet, 14) !== 0 || readU16(packet, 16) !== MESSAGE_TYPE_AVP) return -1;
  if (readU16(packet, 18) !== MESSAGE_TYPE_BY_NAME.SCCRQ.code) return -1;
  for (let at = 20; at + 6 <= end; ) {
    const avpFlags = readU16(packet, at);
    const length = avpFlags & AVP_LENGTH_MASK;
    if (length < 6 || at + length > end) return -1;
    if (readU16(packet, at + 2) === 0 && readU16(packet, at + 4) === ASSIGNED_TUNNEL_ID_AVP) {
      return length === 8 && !(avpFlags & AVP_H) ? readU16(packet, at + 6) : -1;
    }
    at += length;
  }
  return -1;
}

/** Decodes a control packet; a ZLB (header only) gives `message: null`. */
export function decodeControl(packet: Uint8Array, options?: DecodeOptions): Decoded<ControlPacket> {
  // Fast path for a well-formed control header; anything else is explained by decodeHeader.
  const flags = packet.length >= CONTROL_HEADER_LENGTH ? (packet[0] << 8) | packet[1] : -1;
  const reservedSet = options?.rejectReservedBits && (flags & RESERVED_BITS) !== 0;
  const end = flags >= 0 ? (packet[2] << 8) | packet[3] : 0;
  if ((flags & CONTROL_FLAGS_MASK) !== CONTROL_FLAGS || reservedSet || end < 12 || end > packet.length) {
    const h = decodeHeader(packet, options);
    if (!h.ok) return h;
    return {
      ok: false,
      error: { field: "header.flags.T", reason: "a data message (T bit clear), not a control message" },
    };
  }
  const header: ControlHeader = {
    tunnelId: (packet[4] << 8) | packet[5],
    sessionId: (packet[6] << 8) | packet[7],
    ns: (packet[8] << 8) | packet[9],
    nr: (packet[10] << 8) | packet[11],
  };
  if (end === CONTROL_HEADER_LENGTH) return { ok: true, value: { header, message: null } };

  const ctx: DecodeContext = { header, scope: "tunnel" };
  // Integers are read from `packet` itself, never through a DataView: on Bun a received datagram's
  // Uint8Array has no ArrayBuffer until `.buffer` is read, and making it costs ~275 ns a packet.

  // RFC 2661 §4.4.1: the Message Type AVP comes first, 8 bytes, never hidden.
  if (end - CONTROL_HEADER_LENGTH < 6) {
    return failWith(
      ctx,
      "avp[0]",
      `${end - 12} bytes after the header are too few for an AVP (6)`,
      GeneralError.lengthWrong,
    );
  }
  const firstFlags = readU16(packet, 12);
  const firstVendor = readU16(packet, 14);
  const firstType = readU16(packet, 16);
  if (firstVendor !== 0 || firstType !== MESSAGE_TYPE_AVP) {
    return failWith(
      ctx,
      "avp[0]",
      `the first AVP must be Message Type (RFC 2661 §4.4.1), got ${avpLabel(firstType, firstVendor)}`,
      GeneralError.valueOutOfRange,
    );
  }
  if ((firstFlags & AVP_LENGTH_MASK) !== 8 || end < 20) {
    return failWith(
      ctx,
      "avp[0] Message Type (0).length",
      `expected 8 bytes, got ${firstFlags & AVP_LENGTH_MASK}`,
      GeneralError.lengthWrong,
    );
  }
  if (firstFlags & AVP_H) {
    return failWith(
      ctx,
      "avp[0] Message Type (0).hidden",
      "the Message Type AVP cannot be hidden (RFC 2661 §4.3)",
      GeneralError.valueOutOfRange,
    );
  }
  const code = readU16(packet, 18);
  ctx.messageTypeCode = code;
  const typeInfo = code < MESSAGE_TYPE_BY_CODE.length ? MESSAGE_TYPE_BY_CODE[code] : undefined;
  if (!typeInfo) {
    if (firstFlags & AVP_M) {
      // RFC 2661 §4.4.1: an unknown message type with the M bit set MUST clear the tunnel.
      return failWith(
        ctx,
        "avp[0] Message Type (0).value",
        `unknown message type ${code} with the M bit set (RFC 2661 §4.4.1: the tunnel must be cleared)`,
        GeneralError.unknownMandatoryAvp,
      );
    }
    ctx.scope = "ignore";
    return failWith(
      ctx,
      "avp[0] Message Type (0).value",
      `unknown message type ${code} without the M bit: acknowledge and ignore it (RFC 2661 §4.4.1)`,
      undefined,
    );
  }
  ctx.messageType = typeInfo.name;
  ctx.scope = typeInfo.scope;

  const avps: Avps = {};
  const r: AvpReader = {
    ctx,
    avps,
    secret: options?.secret,
    options,
    opaque: undefined,
    hidden: undefined,
    randomVector: undefined,
    order: options?.keepOrder ? [] : undefined,
    problem: undefined,
    fatal: undefined,
  };
  // The AVPs after the Message Type, each read by readAvp: kept out of this function so that the JIT
  // compiles two functions of moderate size rather than one large one (JSC's top tier took ~130 ms to
  // compile decodeControl with the loop's body inside, a tenth of a cold LNS's first 5,000 calls).
  for (let at = 20, index = 1; at < end; index++) {
    at = readAvp(r, packet, at, end, index);
    if (at < 0) return withAvps(r.fatal as { ok: false; error: ProtocolError }, avps);
  }
  const { problem, opaque, hidden, order } = r;
  if (problem) return withAvps(problem, avps);
  const message: ControlMessage = { type: typeInfo.name, avps };
  if (opaque) message.opaque = opaque;
  if (hidden) message.hidden = hidden;
  if (order) message.order = order;
  return { ok: true, value: { header, message } };
}

/** What decodeControl's AVP loop carries from one AVP to the next (readAvp). */
interface AvpReader {
  ctx: DecodeContext;
  avps: Avps;
  secret: Uint8Array | undefined;
  options: DecodeOptions | undefined;
  opaque: OpaqueAvp[] | undefined;
  hidden: AvpName[] | undefined;
  randomVector: Uint8Array | undefined;
  order: (AvpName | number)[] | undefined;
  /**
   * The first problem found in an AVP whose length still frames the message: the AVPs after it are
   * read too, so that the error carries what can be answered (an ICRQ's Assigned Session ID for its
   * CDN, an SCCRQ's Assigned Tunnel ID for its StopCCN, RFC 2661 §4.1).
   */
  problem: { ok: false; error: ProtocolError } | undefined;
  /** A broken length, which ends the read (readAvp returns -1). */
  fatal: { ok: false; error: ProtocolError } | undefined;
}

/** Reads the AVP at `at` (the `index`th) into `r`; the next AVP's offset, or -1 when `r.fatal` ends the read. */
function readAvp(r: AvpReader, packet: Uint8Array, at: number, end: number, index: number): number {
  const secret = r.secret;
  if (end - at < 6) {
    r.fatal = failWith(
      r.ctx,
      `avp[${index}]`,
      `${end - at} bytes at the end are too few for an AVP (6)`,
      GeneralError.lengthWrong,
    );
    return -1;
  }
  const avpFlags = readU16(packet, at);
  const length = avpFlags & AVP_LENGTH_MASK;
  const vendorId = readU16(packet, at + 2);
  const type = readU16(packet, at + 4);
  if (length < 6) {
    r.fatal = failWith(
      r.ctx,
      `${avpField(index, type, vendorId)}.length`,
      `length ${length} is shorter than the AVP header (6)`,
      GeneralError.lengthWrong,
    );
    return -1;
  }
  if (length > end - at) {
    r.fatal = failWith(
      r.ctx,
      `${avpField(index, type, vendorId)}.length`,
      `length ${length} runs past the end of the message (${end - at} bytes left)`,
      GeneralError.lengthWrong,
    );
    return -1;
  }
  const next = at + length;
  const mandatory = (avpFlags & AVP_M) !== 0;
  const isHidden = (avpFlags & AVP_H) !== 0;
  // RFC 2661 §4.1: a vendor AVP is never the IETF AVP of the same number.
  const spec: AvpSpec | undefined =
    vendorId === 0 && type < AVP_BY_TYPE.length ? AVP_BY_TYPE[type] : undefined;

  if (!spec && mandatory) {
    // RFC 2661 §4.1: an unrecognized AVP with the M bit set ends the session (or tunnel).
    r.problem ??= failWith(
      r.ctx,
      avpField(index, type, vendorId),
      `unknown AVP with the M bit set (RFC 2661 §4.1: the ${r.ctx.scope} must be closed)`,
      GeneralError.unknownMandatoryAvp,
    );
    return next;
  }

  let bytes = packet;
  let valueAt = at + 6;
  let valueLength = length - 6;
  if (isHidden) {
    if (spec?.type === RANDOM_VECTOR_AVP || (vendorId === 0 && type === MESSAGE_TYPE_AVP)) {
      r.problem ??= failWith(
        r.ctx,
        `${avpField(index, type, vendorId)}.hidden`,
        "this AVP cannot be hidden (RFC 2661 §4.3)",
        GeneralError.valueOutOfRange,
      );
      return next;
    }
    if (!secret) {
      // Our configuration, not the peer, is at fault: RFC 2661 §4.4.2 error 6 (vendor-specific).
      if (spec && !r.options?.keepHiddenOpaque) {
        r.problem ??= failWith(
          r.ctx,
          avpField(index, type, vendorId),
          "hidden AVP and no secret configured",
          GeneralError.vendorSpecific,
        );
        return next;
      }
      r.opaque = append(r.opaque, {
        vendorId,
        attribute: type,
        mandatory,
        hidden: true,
        value: packet.slice(valueAt, at + length),
      });
      return next;
    }
    const randomVector = r.randomVector;
    if (!randomVector) {
      r.problem ??= failWith(
        r.ctx,
        `${avpField(index, type, vendorId)}.hidden`,
        "hidden AVP with no Random Vector AVP before it (RFC 2661 §4.3)",
        GeneralError.valueOutOfRange,
      );
      return next;
    }
    const plain = revealSubformat(type, secret, randomVector, packet, valueAt, at + length);
    if (plain.length < 2) {
      r.problem ??= failWith(
        r.ctx,
        `${avpField(index, type, vendorId)}.length`,
        "hidden value is too short for its original length (2 bytes)",
        GeneralError.lengthWrong,
      );
      return next;
    }
    const original = readU16(plain, 0);
    if (original > plain.length - 2) {
      r.problem ??= failWith(
        r.ctx,
        `${avpField(index, type, vendorId)}.hidden`,
        `revealed original length ${original} exceeds the ${plain.length - 2} bytes that remain (wrong secret or random vector?)`,
        GeneralError.lengthWrong,
      );
      return next;
    }
    bytes = plain;
    valueAt = 2;
    valueLength = original; // RFC 2661 §4.3: what follows the original value is padding
  }

  const wrong = spec?.codec.check(valueLength);
  if (spec && wrong !== undefined && mandatory) {
    r.problem ??= failWith(
      r.ctx,
      `${avpField(index, type, vendorId)}.length`,
      wrong,
      GeneralError.lengthWrong,
    );
    return next;
  }
  if (!spec || wrong !== undefined) {
    // Not in the catalog, or (RFC 2661 §4.1: an AVP without the M bit may be ignored) a value of the
    // wrong length: keep its bytes for a person to see.
    r.opaque = append(r.opaque, {
      vendorId,
      attribute: type,
      mandatory,
      hidden: isHidden,
      value: bytes.slice(valueAt, valueAt + valueLength),
    });
    r.order?.push(r.opaque.length - 1);
  } else {
    const value = spec.codec.decode(bytes, valueAt, valueLength);
    (r.avps as Record<string, unknown>)[spec.key] = value;
    r.order?.push(spec.key);
    if (type === RANDOM_VECTOR_AVP) r.randomVector = value as Uint8Array;
    if (isHidden) r.hidden = append(r.hidden, spec.key);
  }
  return next;
}

// ---- encode -------------------------------------------------------------------------------------

function avpLengthOrThrow(spec: { name: string }, length: number): number {
  if (length > MAX_AVP_LENGTH) {
    throw new RangeError(
      `encodeControl: ${spec.name} would be ${length} bytes; an AVP holds at most ${MAX_AVP_LENGTH}`,
    );
  }
  return length;
}

/** Where encodeControl is writing, and what it hides with. */
interface AvpWriter {
  out: Uint8Array;
  at: number;
  secret: Uint8Array | undefined;
  randomVector: Uint8Array | undefined;
  /** Fixed padding of every hidden value (EncodeOptions.hiddenPadding). */
  padding: number;
  /** The least subformat length, and the bytes its extra padding is taken from. */
  minimum: number;
  paddingBytes: Uint8Array | undefined;
}

/** The padding after a hidden value of `size` bytes: the fixed one, then up to the writer's minimum. */
function paddingFor(padding: number, minimum: number, size: number): number {
  return Math.max(padding, minimum - 2 - size);
}

/** Writes `count` padding bytes at `at`: from `bytes`, repeated, or zeros (fresh packet memory) without. */
function writePadding(out: Uint8Array, at: number, count: number, bytes: Uint8Array | undefined): void {
  if (!bytes || bytes.length === 0) return;
  for (let i = 0; i < count; i++) out[at + i] = bytes[i % bytes.length] as number;
}

/** Catalog position by name. */
const CATALOG_INDEX: ReadonlyMap<string, number> = new Map(AVP_CATALOG.map((spec, i) => [spec.key, i]));
/** The Random Vector's catalog position: encodeControl writes it apart, before what it hides. */
const RANDOM_VECTOR_INDEX = AVP_CATALOG.findIndex((spec) => spec.type === RANDOM_VECTOR_AVP);

// Scratch for encodeControl (synchronous and not re-entered): catalog indexes of the AVPs present,
// sorted, and per catalog index the value size, whether hidden, and whether already written.
const present = new Int32Array(AVP_CATALOG.length);
const sizeAt = new Int32Array(AVP_CATALOG.length);
const hiddenAt = new Uint8Array(AVP_CATALOG.length);
const writtenAt = new Uint8Array(AVP_CATALOG.length);

/** Writes an AVP header (RFC 2661 §4.1): M and H bits, length, vendor id, attribute type. */
function writeAvpHeader(
  out: Uint8Array,
  at: number,
  flagsAndLength: number,
  vendorId: number,
  type: number,
): void {
  writeU16(out, at, flagsAndLength);
  writeU16(out, at + 2, vendorId);
  writeU16(out, at + 4, type);
}

function writeRandomVector(w: AvpWriter, randomVector: Uint8Array): void {
  writeAvpHeader(w.out, w.at, AVP_M | (6 + randomVector.length), 0, RANDOM_VECTOR_AVP);
  w.out.set(randomVector, w.at + 6);
  w.at += 6 + randomVector.length;
}

function writeTyped(w: AvpWriter, spec: AvpSpec, value: unknown, size: number, hidden: boolean): void {
  const { out, at } = w;
  const codec = spec.codec as AvpSpec["codec"];
  const pad = hidden ? paddingFor(w.padding, w.minimum, size) : 0;
  const length = hidden ? 6 + 2 + size + pad : 6 + size;
  writeAvpHeader(out, at, (spec.mandatory ? AVP_M : 0) | (hidden ? AVP_H : 0) | length, 0, spec.type);
  if (hidden) {
    writeU16(out, at + 6, size); // RFC 2661 §4.3: the original length leads the hidden subformat
    codec.write(value as never, out, at + 8);
    // The fixed padding stays zero (the packet's memory is fresh); what the minimum adds is random.
    writePadding(out, at + 8 + size + w.padding, pad - w.padding, w.paddingBytes);
    hideSubformat(spec.type, w.secret as Uint8Array, w.randomVector as Uint8Array, out, at + 6, at + length);
  } else {
    codec.write(value as never, out, at + 6);
  }
  w.at += length;
}

function writeOpaque(w: AvpWriter, avp: OpaqueAvp): void {
  const { out, at } = w;
  const hideNow = avp.hidden && w.secret !== undefined;
  const pad = hideNow ? paddingFor(w.padding, w.minimum, avp.value.length) : 0;
  const length = 6 + avp.value.length + (hideNow ? 2 + pad : 0);
  // A hidden opaque AVP with no secret is passed through as it arrived (still hidden).
  const flags = (avp.mandatory ? AVP_M : 0) | (avp.hidden ? AVP_H : 0);
  writeAvpHeader(out, at, flags | length, avp.vendorId, avp.attribute);
  if (hideNow) {
    writeU16(out, at + 6, avp.value.length);
    out.set(avp.value, at + 8);
    writePadding(out, at + 8 + avp.value.length + w.padding, pad - w.padding, w.paddingBytes);
    hideSubformat(
      avp.attribute,
      w.secret as Uint8Array,
      w.randomVector as Uint8Array,
      out,
      at + 6,
      at + length,
    );
  } else {
    out.set(avp.value, at + 6);
  }
  w.at += length;
}

/**
 * A copy of an encoded control message under another header (`encoded`'s header is replaced, its AVPs
 * kept): for an answer that is always the same but for whom it goes to, encoded once (a refusal under a
 * flood). A view into the shared slab, as encodeControl's packets; `encoded` must have no hidden AVP
 * (their encryption does not depend on the header, but a Random Vector should not be reused).
 */
export function readdressControl(encoded: Uint8Array, header: ControlHeader): Uint8Array {
  const out = allocatePacket(encoded.length);
  out.set(encoded);
  writeControlHeader(out, header);
  return out;
}

/**
 * Encodes a control packet: the header, the Message Type AVP, then the AVPs in `message.order` when
 * given, else a Random Vector (when given or needed), the typed AVPs in attribute-type order and the
 * opaque ones. A null message gives a ZLB.
 * The packet is a view into a shared slab (packet-buffer.ts): its `.buffer` is larger than it, and a
 * packet kept for long should be kept as a copy.
 * Throws (a programming error, not bad input) when hiding is asked without a secret and random
 * vector, or a value does not fit its AVP.
 */
export function encodeControl(
  header: ControlHeader,
  message: ControlMessage | null,
  options?: EncodeOptions,
): Uint8Array {
  if (!message) return encodeZlb(header);
  const typeInfo = MESSAGE_TYPE_BY_NAME[message.type];
  if (!typeInfo) throw new RangeError(`encodeControl: unknown message type ${String(message.type)}`);
  const avps = message.avps as Record<string, unknown>;
  const secret = options?.secret;
  const hide = options?.hide;
  const padding = options?.hiddenPadding ?? 0;
  const minimum = options?.hiddenMinimum ?? 0;
  const randomVector = options?.randomVector ?? message.avps.randomVector;

  // Pass 1: which typed AVPs are present (as catalog indexes, sorted), their sizes, which go
  // hidden, and the total length. Module-level scratch arrays keep this allocation-free.
  let count = 0;
  for (const key in avps) {
    const i = CATALOG_INDEX.get(key);
    if (i === undefined || avps[key] === undefined || i === RANDOM_VECTOR_INDEX) continue;
    let j = count++;
    while (j > 0 && present[j - 1] > i) {
      present[j] = present[j - 1];
      j--;
    }
    present[j] = i;
  }
  let hiding = false;
  let total = CONTROL_HEADER_LENGTH + 8;
  for (let n = 0; n < count; n++) {
    const i = present[n];
    const spec = AVP_CATALOG[i];
    const isHidden = hide !== undefined && spec.hideable && hide.includes(spec.key);
    const size = (spec.codec as AvpSpec["codec"]).size(avps[spec.key] as never);
    hiddenAt[i] = isHidden ? 1 : 0;
    sizeAt[i] = size;
    writtenAt[i] = 0;
    if (isHidden) hiding = true;
    total += avpLengthOrThrow(spec, 6 + size + (isHidden ? 2 + paddingFor(padding, minimum, size) : 0));
  }
  if (message.opaque) {
    for (const avp of message.opaque) {
      const hideNow = avp.hidden && secret !== undefined;
      if (hideNow) hiding = true;
      total += avpLengthOrThrow(
        { name: avpLabel(avp.attribute, avp.vendorId) },
        6 + avp.value.length + (hideNow ? 2 + paddingFor(padding, minimum, avp.value.length) : 0),
      );
    }
  }
  if (hiding && (!secret || !randomVector || randomVector.length === 0)) {
    throw new Error(
      "encodeControl: hiding AVPs needs options.secret and a random vector (options.randomVector or avps.randomVector)",
    );
  }
  if (randomVector) total += avpLengthOrThrow({ name: "Random Vector" }, 6 + randomVector.length);
  if (total > 0xffff)
    throw new RangeError(`encodeControl: message would be ${total} bytes; the Length field holds 65535`);

  // Pass 2: write, in `message.order` first when given, then everything not yet written.
  const out = allocatePacket(total);
  writeControlHeader(out, header);
  writeAvpHeader(out, 12, AVP_M | 8, 0, MESSAGE_TYPE_AVP);
  writeU16(out, 18, typeInfo.code);
  const writer: AvpWriter = {
    out,
    at: 20,
    secret,
    randomVector,
    padding,
    minimum,
    paddingBytes: options?.hiddenPaddingBytes,
  };
  let opaqueDone: boolean[] | undefined;
  let randomVectorDone = false;
  if (message.order) {
    opaqueDone = [];
    for (const entry of message.order) {
      if (typeof entry === "number") {
        const avp = message.opaque?.[entry];
        if (avp && !opaqueDone[entry]) {
          writeOpaque(writer, avp);
          opaqueDone[entry] = true;
        }
      } else if (entry === "randomVector") {
        if (randomVector && !randomVectorDone) writeRandomVector(writer, randomVector);
        randomVectorDone = true;
      } else {
        const i = CATALOG_INDEX.get(entry);
        if (i === undefined || i === RANDOM_VECTOR_INDEX || writtenAt[i] || avps[entry] === undefined)
          continue;
        writeTyped(writer, AVP_CATALOG[i], avps[entry], sizeAt[i], hiddenAt[i] === 1);
        writtenAt[i] = 1;
      }
    }
  }
  // RFC 2661 §4.3: the Random Vector precedes the AVPs it hides; first is simplest (xl2tpd does the same).
  if (randomVector && !randomVectorDone) writeRandomVector(writer, randomVector);
  for (let n = 0; n < count; n++) {
    const i = present[n];
    if (writtenAt[i]) continue;
    const spec = AVP_CATALOG[i];
    writeTyped(writer, spec, avps[spec.key], sizeAt[i], hiddenAt[i] === 1);
  }
  if (message.opaque) {
    for (let i = 0; i < message.opaque.length; i++) {
      if (!opaqueDone?.[i]) writeOpaque(writer, message.opaque[i]);
    }
  }
  return out;
}

/**
 * The module's own hot functions, which adapters/jit keeps out of JSC's top tier with what it exports
 * (it reaches nothing else: they are not exported to be called).
 */
export const hotInternals: readonly unknown[] = [
  readAvp,
  writeAvpHeader,
  writeTyped,
  writeOpaque,
  writeRandomVector,
  avpLengthOrThrow,
  paddingFor,
  writePadding,
];
