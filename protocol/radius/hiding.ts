/**
 * The two ways RADIUS hides a secret value with the shared secret and MD5:
 * User-Password (RFC 2865 §5.2) and the salted Tunnel-Password (RFC 2868 §3.5). Both chain 16-octet
 * blocks: b(1) = MD5(secret + seed), c(i) = p(i) xor b(i), b(i+1) = MD5(secret + c(i)).
 */
import { md5Into } from "../l2tp/md5.ts";
import { type Decoded, fail } from "../l2tp/result.ts";

/** RFC 2865 §5.2: the password is at most 128 octets. */
export const MAX_USER_PASSWORD = 128;

function xorChain(input: Uint8Array, secret: Uint8Array, seed: Uint8Array, hiding: boolean): Uint8Array {
  const out = new Uint8Array(input.length);
  const b = new Uint8Array(16);
  let previous = seed;
  for (let at = 0; at < input.length; at += 16) {
    md5Into(b, 0, secret, previous);
    for (let i = 0; i < 16; i++) out[at + i] = input[at + i] ^ b[i];
    // The next block's key is the previous cipher block: the output when hiding, the input when revealing.
    previous = hiding ? out.subarray(at, at + 16) : input.subarray(at, at + 16);
  }
  return out;
}

function padTo16(bytes: Uint8Array, minimum: number): Uint8Array {
  const length = Math.max(minimum, Math.ceil(bytes.length / 16) * 16);
  const out = new Uint8Array(length);
  out.set(bytes);
  return out;
}

/**
 * RFC 2865 §5.2: the User-Password value for `password` in a request with `requestAuthenticator`.
 * Throws RangeError past 128 octets.
 */
export function hideUserPassword(
  password: Uint8Array,
  secret: Uint8Array,
  requestAuthenticator: Uint8Array,
): Uint8Array {
  if (password.length > MAX_USER_PASSWORD) {
    throw new RangeError(
      `User-Password: expected at most ${MAX_USER_PASSWORD} octets, got ${password.length}`,
    );
  }
  return xorChain(padTo16(password, 16), secret, requestAuthenticator, true);
}

/** RFC 2865 §5.2 reversed: the password with its trailing NUL padding removed. */
export function revealUserPassword(
  hidden: Uint8Array,
  secret: Uint8Array,
  requestAuthenticator: Uint8Array,
): Decoded<Uint8Array> {
  if (hidden.length < 16 || hidden.length > MAX_USER_PASSWORD || hidden.length % 16 !== 0) {
    return fail("User-Password", `expected 16-128 octets in 16-octet blocks, got ${hidden.length}`);
  }
  const padded = xorChain(hidden, secret, requestAuthenticator, false);
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end--;
  return { ok: true, value: padded.subarray(0, end) };
}

function saltSeed(requestAuthenticator: Uint8Array, salt: number): Uint8Array {
  const seed = new Uint8Array(18);
  seed.set(requestAuthenticator);
  seed[16] = salt >>> 8;
  seed[17] = salt & 0xff;
  return seed;
}

/**
 * RFC 2868 §3.5: the encrypted string of a Tunnel-Password (a length octet, the password, zero padding
 * to 16-octet blocks), keyed by the Request Authenticator of the request the reply answers and a salt
 * whose most significant bit is set. Throws RangeError for a password that cannot fit (over 239 octets)
 * or a salt without that bit.
 */
export function encryptTunnelPassword(
  password: Uint8Array,
  secret: Uint8Array,
  requestAuthenticator: Uint8Array,
  salt: number,
): Uint8Array {
  if (!Number.isInteger(salt) || salt < 0x8000 || salt > 0xffff) {
    throw new RangeError(`Tunnel-Password: expected a salt 0x8000-0xffff, got ${salt}`);
  }
  // 253 octets of value less tag and salt leave 250, so 240 of blocks: a length octet and 239.
  if (password.length > 239)
    throw new RangeError(`Tunnel-Password: expected at most 239 octets, got ${password.length}`);
  const plain = new Uint8Array(1 + password.length);
  plain[0] = password.length;
  plain.set(password, 1);
  return xorChain(padTo16(plain, 16), secret, saltSeed(requestAuthenticator, salt), true);
}

/** RFC 2868 §3.5 reversed: the password, its length from the first decrypted octet. */
export function decryptTunnelPassword(
  encrypted: Uint8Array,
  secret: Uint8Array,
  requestAuthenticator: Uint8Array,
  salt: number,
): Decoded<Uint8Array> {
  if (encrypted.length < 16 || encrypted.length % 16 !== 0) {
    return fail("Tunnel-Password", `expected 16-octet blocks, got ${encrypted.length} octets`);
  }
  const plain = xorChain(encrypted, secret, saltSeed(requestAuthenticator, salt), false);
  if (plain[0] > plain.length - 1) {
    return fail(
      "Tunnel-Password",
      `the decrypted length ${plain[0]} exceeds the ${plain.length - 1} octets present (a wrong secret?)`,
    );
  }
  return { ok: true, value: plain.subarray(1, 1 + plain[0]) };
}
