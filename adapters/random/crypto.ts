/** The real source of randomness: the Web Crypto API (`crypto.getRandomValues`), on Bun and Deno alike. */
import type { Random } from "../../actors/ports.ts";

/** getRandomValues refuses more than 65,536 bytes per call (Web Crypto), so larger requests are filled in parts. */
const MAX_CHUNK = 65_536;

/**
 * 32-bit words drawn 256 at a time: a call's session id takes one, and a typed array plus a
 * getRandomValues call per word cost ~0.5 µs on Bun and ~1 µs on Deno (where a small typed array is slow to make).
 */
const words = new Uint32Array(256);
let nextWord = words.length;

/** Cryptographically strong randomness for challenges, Random Vectors and tie breakers. */
export const cryptoRandom: Random = {
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += MAX_CHUNK) globalThis.crypto.getRandomValues(out.subarray(i, i + MAX_CHUNK));
    return out;
  },
  uint32(): number {
    if (nextWord === words.length) {
      globalThis.crypto.getRandomValues(words);
      nextWord = 0;
    }
    return words[nextWord++];
  },
};
