/**
 * RADIUS packets (RFC 2865 §3, RFC 2866 §3): Code, Identifier, Length, Authenticator and attributes,
 * and the authenticators that bind a packet to the shared secret:
 * - Access-Request: a random Request Authenticator (given by the caller: this module has no randomness).
 * - Accounting-Request: MD5(Code+Identifier+Length+16 zero octets+Attributes+Secret) (RFC 2866 §3).
 * - Replies: MD5(Code+Identifier+Length+Request Authenticator+Attributes+Secret) (RFC 2865 §3).
 * - Message-Authenticator (RFC 3579 §3.2): HMAC-MD5 keyed by the secret over the packet with the
 *   attribute's value zeroed and, in a reply, the Request Authenticator in the authenticator field; in an
 *   Accounting-Request the field is zero while it is computed (RFC 5080 §2.2.2), and the Request
 *   Authenticator is computed afterwards over the packet with it. Access-Requests carry it first
 *   (BlastRADIUS, CVE-2024-3596: a prefix the forger controls then cannot precede it).
 */
import { copyBytes, equalConstantTime } from "../bytes.ts";
import { hmacMd5, md5Into } from "../l2tp/md5.ts";
import { type Decoded, fail } from "../l2tp/result.ts";
import { attributeName, MAX_ATTRIBUTE_VALUE, RADIUS_ATTRIBUTES, type RadiusAttribute } from "./attributes.ts";

/** Packet codes (RFC 2865 §3, RFC 2866 §3). */
export const RadiusCode = {
  accessRequest: 1,
  accessAccept: 2,
  accessReject: 3,
  accountingRequest: 4,
  accountingResponse: 5,
  accessChallenge: 11,
} as const;

export type RadiusCodeName = keyof typeof RadiusCode;

const CODE_NAMES: ReadonlyMap<number, string> = new Map([
  [1, "Access-Request"],
  [2, "Access-Accept"],
  [3, "Access-Reject"],
  [4, "Accounting-Request"],
  [5, "Accounting-Response"],
  [11, "Access-Challenge"],
]);

/** The RFC name of a code ("Access-Accept"), or `Code-N`. */
export function codeName(code: number): string {
  return CODE_NAMES.get(code) ?? `Code-${code}`;
}

/** RFC 2865 §3: a packet is 20-4096 octets. */
export const HEADER_LENGTH = 20;
export const MAX_PACKET_LENGTH = 4096;

const MESSAGE_AUTHENTICATOR = RADIUS_ATTRIBUTES["Message-Authenticator"].type;

/** A decoded packet. Attribute values are views into the decoded bytes. */
export interface RadiusPacket {
  code: number;
  identifier: number;
  /** The Request or Response Authenticator, 16 octets. */
  authenticator: Uint8Array;
  attributes: RadiusAttribute[];
}

/**
 * Decodes a packet from untrusted bytes; never throws. Octets past the Length field are padding and
 * ignored (RFC 2865 §3); every attribute must fit inside Length.
 */
export function decodePacket(bytes: Uint8Array): Decoded<RadiusPacket> {
  if (bytes.length < HEADER_LENGTH) {
    return fail("header", `expected at least ${HEADER_LENGTH} octets, got ${bytes.length}`);
  }
  const code = bytes[0];
  if (!CODE_NAMES.has(code)) return fail("code", `expected 1-5 or 11, got ${code}`);
  const length = (bytes[2] << 8) | bytes[3];
  if (length < HEADER_LENGTH || length > MAX_PACKET_LENGTH) {
    return fail("length", `expected ${HEADER_LENGTH}-${MAX_PACKET_LENGTH}, got ${length}`);
  }
  if (length > bytes.length) return fail("length", `${length} exceeds the ${bytes.length} octets received`);
  const attributes: RadiusAttribute[] = [];
  let at = HEADER_LENGTH;
  while (at < length) {
    const index = attributes.length;
    if (at + 2 > length)
      return fail(`attribute[${index}]`, "the packet ends inside the type and length octets");
    const type = bytes[at];
    const attributeLength = bytes[at + 1];
    if (attributeLength < 2) {
      return fail(
        `attribute[${index}] ${attributeName(type)} (${type}).length`,
        `expected at least 2, got ${attributeLength}`,
      );
    }
    if (at + attributeLength > length) {
      return fail(
        `attribute[${index}] ${attributeName(type)} (${type}).length`,
        `${attributeLength} exceeds the ${length - at} octets left in the packet`,
      );
    }
    attributes.push({ type, value: bytes.subarray(at + 2, at + attributeLength) });
    at += attributeLength;
  }
  return {
    ok: true,
    value: { code, identifier: bytes[1], authenticator: bytes.subarray(4, 20), attributes },
  };
}

/** The header and attributes written out, with the authenticator field and MA value (if any) left zero. */
function layout(
  code: number,
  identifier: number,
  attributes: readonly RadiusAttribute[],
  withMessageAuthenticator: boolean,
): { bytes: Uint8Array; messageAuthenticatorAt: number } {
  let length = HEADER_LENGTH + (withMessageAuthenticator ? 18 : 0);
  for (const a of attributes) {
    if (a.value.length > MAX_ATTRIBUTE_VALUE) {
      throw new RangeError(
        `${attributeName(a.type)}: expected at most ${MAX_ATTRIBUTE_VALUE} octets, got ${a.value.length}`,
      );
    }
    if (withMessageAuthenticator && a.type === MESSAGE_AUTHENTICATOR) {
      throw new RangeError("Message-Authenticator: the encoder adds it; do not pass one");
    }
    length += 2 + a.value.length;
  }
  if (length > MAX_PACKET_LENGTH) {
    throw new RangeError(`packet: expected at most ${MAX_PACKET_LENGTH} octets, got ${length}`);
  }
  const bytes = new Uint8Array(length);
  bytes[0] = code;
  bytes[1] = identifier & 0xff;
  bytes[2] = length >>> 8;
  bytes[3] = length & 0xff;
  let at = HEADER_LENGTH;
  let messageAuthenticatorAt = -1;
  if (withMessageAuthenticator) {
    bytes[at] = MESSAGE_AUTHENTICATOR;
    bytes[at + 1] = 18;
    messageAuthenticatorAt = at + 2;
    at += 18;
  }
  for (const a of attributes) {
    bytes[at] = a.type;
    bytes[at + 1] = 2 + a.value.length;
    bytes.set(a.value, at + 2);
    at += 2 + a.value.length;
  }
  return { bytes, messageAuthenticatorAt };
}

/** MD5 over the packet then the secret: the Request (accounting) and Response Authenticators. */
function md5With(bytes: Uint8Array, secret: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  md5Into(out, 0, bytes, secret);
  return out;
}

export interface EncodeRequest {
  code: typeof RadiusCode.accessRequest | typeof RadiusCode.accountingRequest;
  identifier: number;
  attributes: readonly RadiusAttribute[];
  /** Access-Request: its random Request Authenticator (the one User-Password was hidden with). */
  authenticator?: Uint8Array;
  /** Adds a Message-Authenticator as the first attribute (RFC 3579 §3.2). */
  messageAuthenticator: boolean;
}

/** Encodes an Access-Request or Accounting-Request; throws RangeError for what does not fit. */
export function encodeRequest(request: EncodeRequest, secret: Uint8Array): Uint8Array {
  const { bytes, messageAuthenticatorAt } = layout(
    request.code,
    request.identifier,
    request.attributes,
    request.messageAuthenticator,
  );
  if (request.code === RadiusCode.accessRequest) {
    if (request.authenticator?.length !== 16) {
      throw new RangeError("Access-Request: expected a 16-octet random Request Authenticator");
    }
    bytes.set(request.authenticator, 4);
    if (messageAuthenticatorAt >= 0) bytes.set(hmacMd5(secret, bytes), messageAuthenticatorAt);
    return bytes;
  }
  // RFC 2866 §3 with RFC 5080 §2.2.2: MA over the zero authenticator, then the authenticator over the MA.
  if (messageAuthenticatorAt >= 0) bytes.set(hmacMd5(secret, bytes), messageAuthenticatorAt);
  bytes.set(md5With(bytes, secret), 4);
  return bytes;
}

export interface EncodeResponse {
  code: number;
  identifier: number;
  attributes: readonly RadiusAttribute[];
  messageAuthenticator: boolean;
}

/** Encodes a reply to a request with `requestAuthenticator` (RFC 2865 §3): what a server sends; tests use it. */
export function encodeResponse(
  response: EncodeResponse,
  requestAuthenticator: Uint8Array,
  secret: Uint8Array,
): Uint8Array {
  const { bytes, messageAuthenticatorAt } = layout(
    response.code,
    response.identifier,
    response.attributes,
    response.messageAuthenticator,
  );
  bytes.set(requestAuthenticator, 4);
  if (messageAuthenticatorAt >= 0) bytes.set(hmacMd5(secret, bytes), messageAuthenticatorAt);
  bytes.set(md5With(bytes, secret), 4);
  return bytes;
}

/** Where the Message-Authenticator's value is in the packet's octets, or -1; -2 when there are two. */
function findMessageAuthenticator(packet: RadiusPacket): number {
  let found = -1;
  let at = HEADER_LENGTH;
  for (const a of packet.attributes) {
    if (a.type === MESSAGE_AUTHENTICATOR) {
      if (found >= 0) return -2;
      found = at + 2;
    }
    at += 2 + a.value.length;
  }
  return found;
}

/** Checks a Message-Authenticator of `bytes` with the authenticator field set to `field` while computing. */
function checkMessageAuthenticator(
  bytes: Uint8Array,
  packet: RadiusPacket,
  field: Uint8Array,
  secret: Uint8Array,
  required: boolean,
): Decoded<true> {
  const at = findMessageAuthenticator(packet);
  if (at === -2) return fail("Message-Authenticator", "expected at most one, got two or more");
  if (at === -1) {
    return required
      ? fail("Message-Authenticator", "expected one (required by configuration), got none")
      : { ok: true, value: true };
  }
  if (bytes[at - 1] !== 18)
    return fail("Message-Authenticator", `expected 16 octets, got ${bytes[at - 1] - 2}`);
  const length = (bytes[2] << 8) | bytes[3];
  const copy = copyBytes(bytes, length);
  copy.set(field, 4);
  copy.fill(0, at, at + 16);
  return equalConstantTime(hmacMd5(secret, copy), bytes.subarray(at, at + 16))
    ? { ok: true, value: true }
    : fail("Message-Authenticator", "the HMAC-MD5 does not match (a wrong secret, or a forged packet)");
}

/**
 * Verifies a reply: its Response Authenticator against the request's, and its Message-Authenticator
 * when present (or required). `bytes` are the received octets, `packet` their decoding.
 */
export function verifyResponse(
  bytes: Uint8Array,
  packet: RadiusPacket,
  requestAuthenticator: Uint8Array,
  secret: Uint8Array,
  requireMessageAuthenticator: boolean,
): Decoded<true> {
  const length = (bytes[2] << 8) | bytes[3];
  const copy = copyBytes(bytes, length);
  copy.set(requestAuthenticator, 4);
  if (!equalConstantTime(md5With(copy, secret), packet.authenticator)) {
    return fail(
      "Response Authenticator",
      "does not match the request's (a wrong secret, or a forged or stray reply)",
    );
  }
  return checkMessageAuthenticator(bytes, packet, requestAuthenticator, secret, requireMessageAuthenticator);
}

/**
 * Verifies a request as a server would: an Accounting-Request's authenticator (RFC 2866 §3), and the
 * Message-Authenticator of either kind when present. (An Access-Request's authenticator is random.)
 */
export function verifyRequest(bytes: Uint8Array, packet: RadiusPacket, secret: Uint8Array): Decoded<true> {
  if (packet.code === RadiusCode.accountingRequest) {
    const length = (bytes[2] << 8) | bytes[3];
    const copy = copyBytes(bytes, length);
    copy.fill(0, 4, 20);
    if (!equalConstantTime(md5With(copy, secret), packet.authenticator)) {
      return fail("Request Authenticator", "does not match MD5 over the packet and the secret (RFC 2866 §3)");
    }
    return checkMessageAuthenticator(bytes, packet, new Uint8Array(16), secret, false);
  }
  return checkMessageAuthenticator(bytes, packet, packet.authenticator, secret, false);
}
