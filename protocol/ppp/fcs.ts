/**
 * The 16-bit Frame Check Sequence of RFC 1662 §C.2 (CRC-CCITT, polynomial x^16 + x^12 + x^5 + 1, taken
 * bit-reversed as 0x8408 because HDLC sends the low bit first). The table is computed here at load.
 */

/** The FCS register's starting value (RFC 1662 §C.2). */
export const FCS16_INIT = 0xffff;
/** What the register holds after running over a frame and its own correct FCS (RFC 1662 §C.2). */
export const FCS16_GOOD = 0xf0b8;

const REVERSED_POLYNOMIAL = 0x8408;

/** FCS-16 lookup table: the register change for each octet value, eight shift-and-xor steps done at once. */
const table = new Uint16Array(256);
for (let octet = 0; octet < 256; octet++) {
  let v = octet;
  for (let bit = 0; bit < 8; bit++) v = v & 1 ? (v >>> 1) ^ REVERSED_POLYNOMIAL : v >>> 1;
  table[octet] = v;
}

/** Runs the FCS-16 register over `bytes[start, end)` from `fcs` (default the initial value); returns the register. */
export function fcs16(bytes: Uint8Array, fcs = FCS16_INIT, start = 0, end = bytes.length): number {
  let f = fcs;
  for (let i = start; i < end; i++) f = (f >>> 8) ^ table[(f ^ bytes[i]) & 0xff];
  return f;
}

/** The two FCS octets to send after `bytes` (the register's ones' complement, low octet first). */
export function fcs16Trailer(bytes: Uint8Array): [number, number] {
  const f = ~fcs16(bytes) & 0xffff;
  return [f & 0xff, f >>> 8];
}
