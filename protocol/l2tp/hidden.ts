/**
 * Hidden AVPs (RFC 2661 §4.3). A hidden value is the "subformat" — the original value length
 * (2 bytes), the value, then optional padding — XORed with an MD5 key stream:
 *   b1 = MD5(attribute type (2 bytes) + secret + random vector),  c1 = p1 xor b1
 *   bi = MD5(secret + c(i-1)),                                    ci = pi xor bi
 * where pi/ci are 16-byte blocks (the last may be shorter) and the random vector is the value of
 * the most recent Random Vector AVP before the hidden one.
 */
import { md5Into } from "./md5.ts";

/**
 * The least length we give a hidden subformat (original length, value, padding): one MD5 block, padded
 * with random octets. RFC 2661 §4.3 makes padding optional; it hides a short value's length (a PAP
 * password's), and l2tpns 2.4.1 refuses a hidden part under 8 octets ("Short hidden AVP": StopCCN).
 */
export const HIDDEN_MINIMUM = 16;

const typeBytes = new Uint8Array(2);
const key = new Uint8Array(16);
const EMPTY = new Uint8Array(0);

function firstKey(type: number, secret: Uint8Array, randomVector: Uint8Array): void {
  typeBytes[0] = type >>> 8;
  typeBytes[1] = type & 0xff;
  md5Into(key, 0, typeBytes, secret, randomVector);
}

/**
 * Reveals the hidden bytes `cipher[start, end)` of an AVP of attribute `type`; returns the whole
 * subformat (original length, value, padding) as a new array.
 */
export function revealSubformat(
  type: number,
  secret: Uint8Array,
  randomVector: Uint8Array,
  cipher: Uint8Array,
  start: number,
  end: number,
): Uint8Array {
  const plain = new Uint8Array(end - start);
  firstKey(type, secret, randomVector);
  for (let block = start; block < end; block += 16) {
    if (block > start) md5Into(key, 0, secret, EMPTY, cipher, block - 16, block);
    const stop = Math.min(block + 16, end);
    for (let i = block; i < stop; i++) plain[i - start] = cipher[i] ^ key[i - block];
  }
  return plain;
}

/**
 * Hides in place the subformat already written at `out[start, end)` (original length, value,
 * padding) for an AVP of attribute `type`.
 */
export function hideSubformat(
  type: number,
  secret: Uint8Array,
  randomVector: Uint8Array,
  out: Uint8Array,
  start: number,
  end: number,
): void {
  firstKey(type, secret, randomVector);
  for (let block = start; block < end; block += 16) {
    // Each later key block is MD5 over the previous *cipher* block, which is already in `out`.
    if (block > start) md5Into(key, 0, secret, EMPTY, out, block - 16, block);
    const stop = Math.min(block + 16, end);
    for (let i = block; i < stop; i++) out[i] ^= key[i - block];
  }
}

/**
 * The module's own hot functions, which adapters/jit keeps out of JSC's top tier with what it exports
 * (it reaches nothing else: they are not exported to be called).
 */
export const hotInternals: readonly unknown[] = [firstKey];
