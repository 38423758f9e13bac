/**
 * MD5 (RFC 1321) for the short inputs of L2TP: hidden-AVP key blocks (2 + secret + 16 bytes, then
 * secret + 16) and tunnel-authentication responses. Not node:crypto's createHash: creating a hash object
 * per 16-byte block costs more than the hashing itself (measured: see the report of issue 2). On Bun the
 * digest is Bun's native one-shot `Bun.MD5.hash` (0.12-0.33 µs against 0.35-0.52 for the JavaScript
 * below, warm), which also spares the JIT compiling the unrolled rounds: with them, JSC's top tier spent
 * ~50 ms of a cold LNS's first 5,000 calls on this file. Elsewhere (Deno) the JavaScript rounds run.
 */

const state = new Int32Array(4);

type NativeMd5 = (input: Uint8Array, into: Uint8Array) => unknown;
/** Bun's native MD5 one-shot (`Bun.MD5.hash(input, into)`), where the runtime has it. */
const bunMd5: NativeMd5 | undefined = (globalThis as { Bun?: { MD5?: { hash: NativeMd5 } } }).Bun?.MD5?.hash;
let nativeMd5 = bunMd5;

/** Which MD5 runs: Bun's native one where there is one (the default), or the JavaScript rounds (tests of both). */
export function useMd5(backend: "native" | "javascript"): void {
  nativeMd5 = backend === "native" ? bunMd5 : undefined;
}
/** The last view of the scratch handed to the native MD5: inputs of one length (a secret's) come again and again. */
let view: Uint8Array | undefined;
let viewLength = -1;
let viewOf: Uint8Array | undefined;
/** Scratch for concatenated inputs; grown when a longer input comes. */
let scratch = new Uint8Array(256);

// The 64 steps of RFC 1321 §3.4, unrolled: JavaScriptCore runs this about twice as fast as a loop.
function block(bytes: Uint8Array, at: number): void {
  const w0 = bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24);
  const w1 = bytes[at + 4] | (bytes[at + 5] << 8) | (bytes[at + 6] << 16) | (bytes[at + 7] << 24);
  const w2 = bytes[at + 8] | (bytes[at + 9] << 8) | (bytes[at + 10] << 16) | (bytes[at + 11] << 24);
  const w3 = bytes[at + 12] | (bytes[at + 13] << 8) | (bytes[at + 14] << 16) | (bytes[at + 15] << 24);
  const w4 = bytes[at + 16] | (bytes[at + 17] << 8) | (bytes[at + 18] << 16) | (bytes[at + 19] << 24);
  const w5 = bytes[at + 20] | (bytes[at + 21] << 8) | (bytes[at + 22] << 16) | (bytes[at + 23] << 24);
  const w6 = bytes[at + 24] | (bytes[at + 25] << 8) | (bytes[at + 26] << 16) | (bytes[at + 27] << 24);
  const w7 = bytes[at + 28] | (bytes[at + 29] << 8) | (bytes[at + 30] << 16) | (bytes[at + 31] << 24);
  const w8 = bytes[at + 32] | (bytes[at + 33] << 8) | (bytes[at + 34] << 16) | (bytes[at + 35] << 24);
  const w9 = bytes[at + 36] | (bytes[at + 37] << 8) | (bytes[at + 38] << 16) | (bytes[at + 39] << 24);
  const w10 = bytes[at + 40] | (bytes[at + 41] << 8) | (bytes[at + 42] << 16) | (bytes[at + 43] << 24);
  const w11 = bytes[at + 44] | (bytes[at + 45] << 8) | (bytes[at + 46] << 16) | (bytes[at + 47] << 24);
  const w12 = bytes[at + 48] | (bytes[at + 49] << 8) | (bytes[at + 50] << 16) | (bytes[at + 51] << 24);
  const w13 = bytes[at + 52] | (bytes[at + 53] << 8) | (bytes[at + 54] << 16) | (bytes[at + 55] << 24);
  const w14 = bytes[at + 56] | (bytes[at + 57] << 8) | (bytes[at + 58] << 16) | (bytes[at + 59] << 24);
  const w15 = bytes[at + 60] | (bytes[at + 61] << 8) | (bytes[at + 62] << 16) | (bytes[at + 63] << 24);
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let t: number;
  t = (((b & c) | (~b & d)) + a - 680876936 + w0) | 0;
  a = (b + ((t << 7) | (t >>> 25))) | 0;
  t = (((a & b) | (~a & c)) + d - 389564586 + w1) | 0;
  d = (a + ((t << 12) | (t >>> 20))) | 0;
  t = (((d & a) | (~d & b)) + c + 606105819 + w2) | 0;
  c = (d + ((t << 17) | (t >>> 15))) | 0;
  t = (((c & d) | (~c & a)) + b - 1044525330 + w3) | 0;
  b = (c + ((t << 22) | (t >>> 10))) | 0;
  t = (((b & c) | (~b & d)) + a - 176418897 + w4) | 0;
  a = (b + ((t << 7) | (t >>> 25))) | 0;
  t = (((a & b) | (~a & c)) + d + 1200080426 + w5) | 0;
  d = (a + ((t << 12) | (t >>> 20))) | 0;
  t = (((d & a) | (~d & b)) + c - 1473231341 + w6) | 0;
  c = (d + ((t << 17) | (t >>> 15))) | 0;
  t = (((c & d) | (~c & a)) + b - 45705983 + w7) | 0;
  b = (c + ((t << 22) | (t >>> 10))) | 0;
  t = (((b & c) | (~b & d)) + a + 1770035416 + w8) | 0;
  a = (b + ((t << 7) | (t >>> 25))) | 0;
  t = (((a & b) | (~a & c)) + d - 1958414417 + w9) | 0;
  d = (a + ((t << 12) | (t >>> 20))) | 0;
  t = (((d & a) | (~d & b)) + c - 42063 + w10) | 0;
  c = (d + ((t << 17) | (t >>> 15))) | 0;
  t = (((c & d) | (~c & a)) + b - 1990404162 + w11) | 0;
  b = (c + ((t << 22) | (t >>> 10))) | 0;
  t = (((b & c) | (~b & d)) + a + 1804603682 + w12) | 0;
  a = (b + ((t << 7) | (t >>> 25))) | 0;
  t = (((a & b) | (~a & c)) + d - 40341101 + w13) | 0;
  d = (a + ((t << 12) | (t >>> 20))) | 0;
  t = (((d & a) | (~d & b)) + c - 1502002290 + w14) | 0;
  c = (d + ((t << 17) | (t >>> 15))) | 0;
  t = (((c & d) | (~c & a)) + b + 1236535329 + w15) | 0;
  b = (c + ((t << 22) | (t >>> 10))) | 0;
  t = (((d & b) | (~d & c)) + a - 165796510 + w1) | 0;
  a = (b + ((t << 5) | (t >>> 27))) | 0;
  t = (((c & a) | (~c & b)) + d - 1069501632 + w6) | 0;
  d = (a + ((t << 9) | (t >>> 23))) | 0;
  t = (((b & d) | (~b & a)) + c + 643717713 + w11) | 0;
  c = (d + ((t << 14) | (t >>> 18))) | 0;
  t = (((a & c) | (~a & d)) + b - 373897302 + w0) | 0;
  b = (c + ((t << 20) | (t >>> 12))) | 0;
  t = (((d & b) | (~d & c)) + a - 701558691 + w5) | 0;
  a = (b + ((t << 5) | (t >>> 27))) | 0;
  t = (((c & a) | (~c & b)) + d + 38016083 + w10) | 0;
  d = (a + ((t << 9) | (t >>> 23))) | 0;
  t = (((b & d) | (~b & a)) + c - 660478335 + w15) | 0;
  c = (d + ((t << 14) | (t >>> 18))) | 0;
  t = (((a & c) | (~a & d)) + b - 405537848 + w4) | 0;
  b = (c + ((t << 20) | (t >>> 12))) | 0;
  t = (((d & b) | (~d & c)) + a + 568446438 + w9) | 0;
  a = (b + ((t << 5) | (t >>> 27))) | 0;
  t = (((c & a) | (~c & b)) + d - 1019803690 + w14) | 0;
  d = (a + ((t << 9) | (t >>> 23))) | 0;
  t = (((b & d) | (~b & a)) + c - 187363961 + w3) | 0;
  c = (d + ((t << 14) | (t >>> 18))) | 0;
  t = (((a & c) | (~a & d)) + b + 1163531501 + w8) | 0;
  b = (c + ((t << 20) | (t >>> 12))) | 0;
  t = (((d & b) | (~d & c)) + a - 1444681467 + w13) | 0;
  a = (b + ((t << 5) | (t >>> 27))) | 0;
  t = (((c & a) | (~c & b)) + d - 51403784 + w2) | 0;
  d = (a + ((t << 9) | (t >>> 23))) | 0;
  t = (((b & d) | (~b & a)) + c + 1735328473 + w7) | 0;
  c = (d + ((t << 14) | (t >>> 18))) | 0;
  t = (((a & c) | (~a & d)) + b - 1926607734 + w12) | 0;
  b = (c + ((t << 20) | (t >>> 12))) | 0;
  t = ((b ^ c ^ d) + a - 378558 + w5) | 0;
  a = (b + ((t << 4) | (t >>> 28))) | 0;
  t = ((a ^ b ^ c) + d - 2022574463 + w8) | 0;
  d = (a + ((t << 11) | (t >>> 21))) | 0;
  t = ((d ^ a ^ b) + c + 1839030562 + w11) | 0;
  c = (d + ((t << 16) | (t >>> 16))) | 0;
  t = ((c ^ d ^ a) + b - 35309556 + w14) | 0;
  b = (c + ((t << 23) | (t >>> 9))) | 0;
  t = ((b ^ c ^ d) + a - 1530992060 + w1) | 0;
  a = (b + ((t << 4) | (t >>> 28))) | 0;
  t = ((a ^ b ^ c) + d + 1272893353 + w4) | 0;
  d = (a + ((t << 11) | (t >>> 21))) | 0;
  t = ((d ^ a ^ b) + c - 155497632 + w7) | 0;
  c = (d + ((t << 16) | (t >>> 16))) | 0;
  t = ((c ^ d ^ a) + b - 1094730640 + w10) | 0;
  b = (c + ((t << 23) | (t >>> 9))) | 0;
  t = ((b ^ c ^ d) + a + 681279174 + w13) | 0;
  a = (b + ((t << 4) | (t >>> 28))) | 0;
  t = ((a ^ b ^ c) + d - 358537222 + w0) | 0;
  d = (a + ((t << 11) | (t >>> 21))) | 0;
  t = ((d ^ a ^ b) + c - 722521979 + w3) | 0;
  c = (d + ((t << 16) | (t >>> 16))) | 0;
  t = ((c ^ d ^ a) + b + 76029189 + w6) | 0;
  b = (c + ((t << 23) | (t >>> 9))) | 0;
  t = ((b ^ c ^ d) + a - 640364487 + w9) | 0;
  a = (b + ((t << 4) | (t >>> 28))) | 0;
  t = ((a ^ b ^ c) + d - 421815835 + w12) | 0;
  d = (a + ((t << 11) | (t >>> 21))) | 0;
  t = ((d ^ a ^ b) + c + 530742520 + w15) | 0;
  c = (d + ((t << 16) | (t >>> 16))) | 0;
  t = ((c ^ d ^ a) + b - 995338651 + w2) | 0;
  b = (c + ((t << 23) | (t >>> 9))) | 0;
  t = ((c ^ (b | ~d)) + a - 198630844 + w0) | 0;
  a = (b + ((t << 6) | (t >>> 26))) | 0;
  t = ((b ^ (a | ~c)) + d + 1126891415 + w7) | 0;
  d = (a + ((t << 10) | (t >>> 22))) | 0;
  t = ((a ^ (d | ~b)) + c - 1416354905 + w14) | 0;
  c = (d + ((t << 15) | (t >>> 17))) | 0;
  t = ((d ^ (c | ~a)) + b - 57434055 + w5) | 0;
  b = (c + ((t << 21) | (t >>> 11))) | 0;
  t = ((c ^ (b | ~d)) + a + 1700485571 + w12) | 0;
  a = (b + ((t << 6) | (t >>> 26))) | 0;
  t = ((b ^ (a | ~c)) + d - 1894986606 + w3) | 0;
  d = (a + ((t << 10) | (t >>> 22))) | 0;
  t = ((a ^ (d | ~b)) + c - 1051523 + w10) | 0;
  c = (d + ((t << 15) | (t >>> 17))) | 0;
  t = ((d ^ (c | ~a)) + b - 2054922799 + w1) | 0;
  b = (c + ((t << 21) | (t >>> 11))) | 0;
  t = ((c ^ (b | ~d)) + a + 1873313359 + w8) | 0;
  a = (b + ((t << 6) | (t >>> 26))) | 0;
  t = ((b ^ (a | ~c)) + d - 30611744 + w15) | 0;
  d = (a + ((t << 10) | (t >>> 22))) | 0;
  t = ((a ^ (d | ~b)) + c - 1560198380 + w6) | 0;
  c = (d + ((t << 15) | (t >>> 17))) | 0;
  t = ((d ^ (c | ~a)) + b + 1309151649 + w13) | 0;
  b = (c + ((t << 21) | (t >>> 11))) | 0;
  t = ((c ^ (b | ~d)) + a - 145523070 + w4) | 0;
  a = (b + ((t << 6) | (t >>> 26))) | 0;
  t = ((b ^ (a | ~c)) + d - 1120210379 + w11) | 0;
  d = (a + ((t << 10) | (t >>> 22))) | 0;
  t = ((a ^ (d | ~b)) + c + 718787259 + w2) | 0;
  c = (d + ((t << 15) | (t >>> 17))) | 0;
  t = ((d ^ (c | ~a)) + b - 343485551 + w9) | 0;
  b = (c + ((t << 21) | (t >>> 11))) | 0;
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
}

/**
 * MD5 of the first `length` bytes of `input`, written into `out` at `outAt` (16 bytes). The input
 * buffer must have room for the padding (64 bytes past `length`); `md5Of` takes care of that.
 */
function digestInPlace(input: Uint8Array, length: number, out: Uint8Array, outAt: number): void {
  if (nativeMd5 !== undefined) {
    if (viewLength !== length || viewOf !== input) {
      view = input.subarray(0, length);
      viewLength = length;
      viewOf = input;
    }
    nativeMd5(view as Uint8Array, outAt === 0 ? out : out.subarray(outAt, outAt + 16));
    return;
  }
  state[0] = 0x67452301;
  state[1] = 0xefcdab89 | 0;
  state[2] = 0x98badcfe | 0;
  state[3] = 0x10325476;
  const padded = (((length + 8) >>> 6) + 1) << 6;
  input[length] = 0x80;
  for (let i = length + 1; i < padded - 8; i++) input[i] = 0;
  const bits = length * 8;
  input[padded - 8] = bits & 0xff;
  input[padded - 7] = (bits >>> 8) & 0xff;
  input[padded - 6] = (bits >>> 16) & 0xff;
  input[padded - 5] = (bits >>> 24) & 0xff;
  const high = Math.floor(length / 0x20000000);
  input[padded - 4] = high & 0xff;
  input[padded - 3] = (high >>> 8) & 0xff;
  input[padded - 2] = (high >>> 16) & 0xff;
  input[padded - 1] = (high >>> 24) & 0xff;
  for (let at = 0; at < padded; at += 64) block(input, at);
  for (let i = 0; i < 4; i++) {
    const w = state[i];
    out[outAt + i * 4] = w & 0xff;
    out[outAt + i * 4 + 1] = (w >>> 8) & 0xff;
    out[outAt + i * 4 + 2] = (w >>> 16) & 0xff;
    out[outAt + i * 4 + 3] = (w >>> 24) & 0xff;
  }
}

function room(length: number): Uint8Array {
  if (scratch.length < length + 72) scratch = new Uint8Array(length + 72 + 256);
  return scratch;
}

/**
 * MD5 of the concatenation of the given byte ranges, written into `out` at `outAt`. Each part is
 * `[bytes, start, end]`; no intermediate buffer is allocated for inputs up to about 180 bytes.
 */
export function md5Into(
  out: Uint8Array,
  outAt: number,
  a: Uint8Array,
  b: Uint8Array,
  c?: Uint8Array,
  cStart = 0,
  cEnd = c ? c.length : 0,
): void {
  const cLength = c ? cEnd - cStart : 0;
  const length = a.length + b.length + cLength;
  const buf = room(length);
  // Byte loops: for inputs this short they beat TypedArray.set and need no subarray.
  let at = 0;
  for (let i = 0; i < a.length; i++) buf[at++] = a[i];
  for (let i = 0; i < b.length; i++) buf[at++] = b[i];
  if (c) for (let i = cStart; i < cEnd; i++) buf[at++] = c[i];
  digestInPlace(buf, length, out, outAt);
}

/** MD5 of `input` (RFC 1321), as a new 16-byte array. */
export function md5(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  const buf = room(input.length);
  buf.set(input, 0);
  digestInPlace(buf, input.length, out, 0);
  return out;
}

/** RFC 2104 §2: the block size B of MD5, in octets. */
const HMAC_BLOCK = 64;

/**
 * HMAC-MD5 (RFC 2104) of `message` keyed by `key`: the RADIUS Message-Authenticator (RFC 3579 §3.2).
 * On this MD5 rather than node:crypto's createHmac, which costs ~60 µs a call on Deno (~1 µs on Bun).
 */
export function hmacMd5(key: Uint8Array, message: Uint8Array): Uint8Array {
  // RFC 2104 §2: a key longer than B is hashed first.
  const k = key.length > HMAC_BLOCK ? md5(key) : key;
  const inner = new Uint8Array(HMAC_BLOCK).fill(0x36);
  const outer = new Uint8Array(HMAC_BLOCK).fill(0x5c);
  for (let i = 0; i < k.length; i++) {
    inner[i] ^= k[i];
    outer[i] ^= k[i];
  }
  const innerDigest = new Uint8Array(16);
  md5Into(innerDigest, 0, inner, message);
  const out = new Uint8Array(16);
  md5Into(out, 0, outer, innerDigest);
  return out;
}

/**
 * The module's own hot code, which adapters/jit keeps out of JSC's top tier with what it exports (it
 * reaches nothing else: these are not exported to be used).
 */
export const hotInternals: readonly unknown[] = [digestInPlace, room];
