/**
 * Octet helpers shared by the wire codecs (`protocol/l2tp`, `protocol/ppp`): big-endian reads and
 * writes straight on a Uint8Array, concatenation, and the hex and text renderings used in one-line
 * descriptions.
 *
 * Integers are read and written byte by byte, never through a DataView: a DataView needs the array's
 * `.buffer`, which on Bun is made on first use for a small Uint8Array (~275 ns a received datagram),
 * and making one per packet costs as much as the packet's own allocation on both runtimes.
 */

/** Big-endian 16-bit read. */
export function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

/** Big-endian 32-bit read, unsigned. */
export function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/**
 * Big-endian 16-bit write of `value` modulo 2^16 (as DataView.setUint16 would); returns the position
 * after it.
 */
export function writeU16(out: Uint8Array, at: number, value: number): number {
  out[at] = value >>> 8;
  out[at + 1] = value & 0xff;
  return at + 2;
}

/**
 * Big-endian 32-bit write of `value` modulo 2^32 (as DataView.setUint32 would); returns the position
 * after it.
 */
export function writeU32(out: Uint8Array, at: number, value: number): number {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
  return at + 4;
}

/** Big-endian 16-bit value as two octets; throws RangeError when out of range. */
export function be16(value: number, what: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff)
    throw new RangeError(`${what} ${value} is not 16-bit`);
  return Uint8Array.of(value >> 8, value & 0xff);
}

/** Big-endian 32-bit value as four octets; throws RangeError when out of range. */
export function be32(value: number, what: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new RangeError(`${what} ${value} is not 32-bit`);
  return Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

/**
 * Whether two byte arrays are equal, in time that depends on their length only, not on where they
 * differ: every comparison of an authenticator, a response or a password goes through here.
 */
export function equalConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * A copy of the first `length` octets (default all). Not `.slice()`: on a Node Buffer (what node:dgram
 * delivers) `slice` is a view, and writing into it would change the received datagram.
 */
export function copyBytes(bytes: Uint8Array, length = bytes.length): Uint8Array {
  const out = new Uint8Array(length);
  out.set(bytes.subarray(0, length));
  return out;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Lower-case hex of some bytes, shortened with "…" past 32 octets so output stays one readable line. */
export function hexBytes(bytes: Uint8Array, limit = 32): string {
  const text = hexRange(bytes, 0, Math.min(bytes.length, limit));
  return bytes.length > limit ? `${text}…(${bytes.length})` : text;
}

/** Lower-case hex of the octets from `from` to `to` in `bytes`, read where they lie (no view made). */
export function hexRange(bytes: Uint8Array, from: number, to: number): string {
  let text = "";
  for (let i = from; i < to; i++) text += (bytes[i] ?? 0).toString(16).padStart(2, "0");
  return text;
}

/** Bytes as a quoted string when they are printable ASCII, else as hex: for names and messages in output. */
export function printable(bytes: Uint8Array, limit = 64): string {
  for (const b of bytes) if (b < 0x20 || b > 0x7e) return hexBytes(bytes);
  const shown = bytes.length > limit ? bytes.subarray(0, limit) : bytes;
  return JSON.stringify(String.fromCharCode(...shown)) + (bytes.length > limit ? "…" : "");
}
