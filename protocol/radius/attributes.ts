/**
 * The RADIUS attribute dictionary, in code (RFC 2865 §5, RFC 2866 §5, RFC 2868 §3, RFC 2869 §5,
 * RFC 3579 §3.2): each attribute's number and the format of its value, and the typed reading and writing
 * of a value. An attribute on the wire is kept raw (`RadiusAttribute`: type and value octets, in packet
 * order); a value is given a type only when it is read by name, so that unknown attributes and
 * Vendor-Specific ones pass through untouched.
 */
import { type Decoded, fail } from "../l2tp/result.ts";

/** One attribute as it is on the wire (RFC 2865 §5): its type and its 0-253 value octets. */
export interface RadiusAttribute {
  type: number;
  value: Uint8Array;
}

/**
 * How a value is laid out.
 * - `text`: UTF-8, 1-253 octets (RFC 2865 §5 "text").
 * - `octets`: opaque (RFC 2865 "string").
 * - `address`: an IPv4 address, 4 octets, given as a dotted quad.
 * - `integer`, `time`: 32-bit unsigned, big-endian (time: seconds since 1970, RFC 2869 §5.3).
 * - `tagged-integer`: RFC 2868 §3: a tag octet (0-31), then a 24-bit value.
 * - `tagged-text`: RFC 2868 §3: an optional tag octet (present when the first octet is 0x01-0x1F), then text.
 * - `tunnel-password`: RFC 2868 §3.5: tag, 2-octet salt, encrypted string (see hiding.ts).
 * - `user-password`: RFC 2865 §5.2: hidden in 16-octet blocks (see hiding.ts).
 * - `chap-password`: RFC 2865 §5.3: the CHAP Identifier octet, then the 16-octet response.
 */
export type AttributeFormat =
  | "text"
  | "octets"
  | "address"
  | "integer"
  | "time"
  | "tagged-integer"
  | "tagged-text"
  | "tunnel-password"
  | "user-password"
  | "chap-password";

/** The attributes this product reads or writes, by their RFC names. */
export const RADIUS_ATTRIBUTES = {
  "User-Name": { type: 1, format: "text" },
  "User-Password": { type: 2, format: "user-password" },
  "CHAP-Password": { type: 3, format: "chap-password" },
  "NAS-IP-Address": { type: 4, format: "address" },
  "NAS-Port": { type: 5, format: "integer" },
  "Service-Type": { type: 6, format: "integer" },
  "Framed-Protocol": { type: 7, format: "integer" },
  "Framed-IP-Address": { type: 8, format: "address" },
  "Reply-Message": { type: 18, format: "text" },
  State: { type: 24, format: "octets" },
  Class: { type: 25, format: "octets" },
  "Vendor-Specific": { type: 26, format: "octets" },
  "Session-Timeout": { type: 27, format: "integer" },
  "Idle-Timeout": { type: 28, format: "integer" },
  "Called-Station-Id": { type: 30, format: "text" },
  "Calling-Station-Id": { type: 31, format: "text" },
  "NAS-Identifier": { type: 32, format: "text" },
  "Proxy-State": { type: 33, format: "octets" },
  "Acct-Status-Type": { type: 40, format: "integer" },
  "Acct-Delay-Time": { type: 41, format: "integer" },
  "Acct-Input-Octets": { type: 42, format: "integer" },
  "Acct-Output-Octets": { type: 43, format: "integer" },
  "Acct-Session-Id": { type: 44, format: "text" },
  "Acct-Authentic": { type: 45, format: "integer" },
  "Acct-Session-Time": { type: 46, format: "integer" },
  "Acct-Input-Packets": { type: 47, format: "integer" },
  "Acct-Output-Packets": { type: 48, format: "integer" },
  "Acct-Terminate-Cause": { type: 49, format: "integer" },
  "Acct-Multi-Session-Id": { type: 50, format: "text" },
  "Acct-Link-Count": { type: 51, format: "integer" },
  "Acct-Input-Gigawords": { type: 52, format: "integer" },
  "Acct-Output-Gigawords": { type: 53, format: "integer" },
  "Event-Timestamp": { type: 55, format: "time" },
  "CHAP-Challenge": { type: 60, format: "octets" },
  "NAS-Port-Type": { type: 61, format: "integer" },
  "Tunnel-Type": { type: 64, format: "tagged-integer" },
  "Tunnel-Medium-Type": { type: 65, format: "tagged-integer" },
  "Tunnel-Client-Endpoint": { type: 66, format: "tagged-text" },
  "Tunnel-Server-Endpoint": { type: 67, format: "tagged-text" },
  "Acct-Tunnel-Connection": { type: 68, format: "text" },
  "Tunnel-Password": { type: 69, format: "tunnel-password" },
  "Message-Authenticator": { type: 80, format: "octets" },
  "Tunnel-Private-Group-ID": { type: 81, format: "tagged-text" },
  "Tunnel-Assignment-ID": { type: 82, format: "tagged-text" },
  "Tunnel-Preference": { type: 83, format: "tagged-integer" },
  "Acct-Interim-Interval": { type: 85, format: "integer" },
  "Framed-Pool": { type: 88, format: "text" },
  "Tunnel-Client-Auth-ID": { type: 90, format: "tagged-text" },
  "Tunnel-Server-Auth-ID": { type: 91, format: "tagged-text" },
} as const satisfies Record<string, { type: number; format: AttributeFormat }>;

export type AttributeName = keyof typeof RADIUS_ATTRIBUTES;

/** A tagged value (RFC 2868 §3): tag 0 means untagged. */
export interface Tagged<T> {
  tag: number;
  value: T;
}

/** The value type of each format, as read and written by name. */
export interface FormatValue {
  text: string;
  octets: Uint8Array;
  address: string;
  integer: number;
  time: number;
  "tagged-integer": Tagged<number>;
  "tagged-text": Tagged<string>;
  /** Still encrypted: decryptTunnelPassword (hiding.ts) reads it with the secret. */
  "tunnel-password": { tag: number; salt: number; encrypted: Uint8Array };
  /** Still hidden: revealUserPassword (hiding.ts) reads it with the secret. */
  "user-password": Uint8Array;
  "chap-password": { id: number; response: Uint8Array };
}

/** The value type of the attribute named `N`. */
export type AttributeValue<N extends AttributeName> = FormatValue[(typeof RADIUS_ATTRIBUTES)[N]["format"]];

const NAME_BY_TYPE: ReadonlyMap<number, AttributeName> = new Map(
  (Object.keys(RADIUS_ATTRIBUTES) as AttributeName[]).map((name) => [RADIUS_ATTRIBUTES[name].type, name]),
);

/** The dictionary name of an attribute type, or `Attribute-N` for one it does not know (RFC 2865 §5: kept raw). */
export function attributeName(type: number): string {
  return NAME_BY_TYPE.get(type) ?? `Attribute-${type}`;
}

/** RFC 2865 §5: an attribute's Length octet counts type and length, so a value holds at most 253 octets. */
export const MAX_ATTRIBUTE_VALUE = 253;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

function u32Bytes(value: number, what: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${what}: expected an integer 0-4294967295, got ${value}`);
  }
  return Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

function checkTag(tag: number, what: string, min: number): void {
  // RFC 2868 §3: tags 0x01-0x1F group attributes of one tunnel.
  if (!Number.isInteger(tag) || tag < min || tag > 0x1f) {
    throw new RangeError(`${what}: expected a tag ${min}-31, got ${tag}`);
  }
}

function addressBytes(address: string, what: string): Uint8Array {
  const parts = address.split(".");
  const octets = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : Number.NaN));
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) {
    throw new RangeError(`${what}: expected an IPv4 address, got ${JSON.stringify(address)}`);
  }
  return Uint8Array.from(octets);
}

/**
 * Makes an attribute from a typed value; throws RangeError (naming the attribute) for a value that
 * does not fit. User-Password and Tunnel-Password take their already hidden octets (hiding.ts).
 */
export function attribute<N extends AttributeName>(name: N, value: AttributeValue<N>): RadiusAttribute {
  const { type, format } = RADIUS_ATTRIBUTES[name];
  let bytes: Uint8Array;
  switch (format as AttributeFormat) {
    case "text":
      bytes = utf8.encode(value as string);
      break;
    case "octets":
    case "user-password":
      bytes = value as Uint8Array;
      break;
    case "address":
      bytes = addressBytes(value as string, name);
      break;
    case "integer":
    case "time":
      bytes = u32Bytes(value as number, name);
      break;
    case "tagged-integer": {
      const { tag, value: n } = value as Tagged<number>;
      checkTag(tag, name, 0);
      if (!Number.isInteger(n) || n < 0 || n > 0xffffff) {
        throw new RangeError(`${name}: expected an integer 0-16777215, got ${n}`);
      }
      bytes = Uint8Array.of(tag, n >>> 16, (n >>> 8) & 0xff, n & 0xff);
      break;
    }
    case "tagged-text": {
      const { tag, value: text } = value as Tagged<string>;
      checkTag(tag, name, 0);
      const body = utf8.encode(text);
      // An untagged value whose first octet would read as a tag gets an explicit 0 tag (RFC 2868 §3.3).
      const needsTag = tag !== 0 || (body.length > 0 && body[0] <= 0x1f);
      bytes = needsTag ? Uint8Array.of(tag, ...body) : body;
      break;
    }
    case "tunnel-password": {
      const { tag, salt, encrypted } = value as FormatValue["tunnel-password"];
      checkTag(tag, name, 0);
      bytes = new Uint8Array(3 + encrypted.length);
      bytes[0] = tag;
      bytes[1] = salt >>> 8;
      bytes[2] = salt & 0xff;
      bytes.set(encrypted, 3);
      break;
    }
    case "chap-password": {
      const { id, response } = value as FormatValue["chap-password"];
      if (response.length !== 16)
        throw new RangeError(`${name}: expected a 16-octet response, got ${response.length}`);
      bytes = new Uint8Array(17);
      bytes[0] = id & 0xff;
      bytes.set(response, 1);
      break;
    }
  }
  if (bytes.length > MAX_ATTRIBUTE_VALUE) {
    throw new RangeError(`${name}: expected at most ${MAX_ATTRIBUTE_VALUE} octets, got ${bytes.length}`);
  }
  return { type, value: bytes };
}

/** Reads a raw value as the attribute named `name`; an error names the attribute and what is wrong. */
export function readValue<N extends AttributeName>(name: N, bytes: Uint8Array): Decoded<AttributeValue<N>> {
  const { format } = RADIUS_ATTRIBUTES[name];
  const ok = (value: unknown) => ({ ok: true, value }) as Decoded<AttributeValue<N>>;
  const wrongLength = (expected: string) =>
    fail<AttributeValue<N>>(name, `expected ${expected}, got ${bytes.length} octets`);
  switch (format as AttributeFormat) {
    case "text":
      return bytes.length === 0 ? wrongLength("1-253 octets") : ok(utf8Decoder.decode(bytes));
    case "octets":
    case "user-password":
      return ok(bytes);
    case "address":
      return bytes.length === 4 ? ok(bytes.join(".")) : wrongLength("4 octets");
    case "integer":
    case "time":
      return bytes.length === 4
        ? ok(((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0)
        : wrongLength("4 octets");
    case "tagged-integer": {
      if (bytes.length !== 4) return wrongLength("4 octets (tag and 24-bit value)");
      // RFC 2868 §3.1: a tag above 0x1F is not a tag; the value is the 24 bits after it either way.
      return ok({
        tag: bytes[0] <= 0x1f ? bytes[0] : 0,
        value: (bytes[1] << 16) | (bytes[2] << 8) | bytes[3],
      });
    }
    case "tagged-text": {
      if (bytes.length === 0) return wrongLength("1-253 octets");
      // RFC 2868 §3.3: a first octet above 0x1F is the first octet of the text, not a tag.
      const tagged = bytes[0] <= 0x1f;
      return ok({
        tag: tagged ? bytes[0] : 0,
        value: utf8Decoder.decode(tagged ? bytes.subarray(1) : bytes),
      });
    }
    case "tunnel-password": {
      // RFC 2868 §3.5: tag, 2 salt octets, and at least one 16-octet block.
      if (bytes.length < 19 || (bytes.length - 3) % 16 !== 0)
        return wrongLength("3 + a multiple of 16 (at least 19) octets");
      if ((bytes[1] & 0x80) === 0)
        return fail(name, "expected a salt with its most significant bit set (RFC 2868 §3.5)");
      return ok({
        tag: bytes[0] <= 0x1f ? bytes[0] : 0,
        salt: (bytes[1] << 8) | bytes[2],
        encrypted: bytes.subarray(3),
      });
    }
    case "chap-password":
      return bytes.length === 17
        ? ok({ id: bytes[0], response: bytes.subarray(1) })
        : wrongLength("17 octets");
  }
}

/** The first attribute named `name` in a list, read; undefined when absent. */
export function findValue<N extends AttributeName>(
  attributes: readonly RadiusAttribute[],
  name: N,
): Decoded<AttributeValue<N>> | undefined {
  const type = RADIUS_ATTRIBUTES[name].type;
  for (const a of attributes) if (a.type === type) return readValue(name, a.value);
  return undefined;
}

/** Every attribute named `name` in a list, in order, read. */
export function findValues<N extends AttributeName>(
  attributes: readonly RadiusAttribute[],
  name: N,
): Array<Decoded<AttributeValue<N>>> {
  const type = RADIUS_ATTRIBUTES[name].type;
  const out: Array<Decoded<AttributeValue<N>>> = [];
  for (const a of attributes) if (a.type === type) out.push(readValue(name, a.value));
  return out;
}
