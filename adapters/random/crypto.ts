/** The real source of randomness: the Web Crypto API (`crypto.getRandomValues`), on Bun and Deno alike. */
import type { Random } from "../../actors/ports.ts";

/** getRandomValues refuses more than 65,536 bytes per call (Web Crypto), so larger requests are filled in parts. */
const MAX_CHUNK = 65_536;

/** Cryptographically strong randomness for challenges, Random Vectors and tie breakers. */
export const cryptoRandom: Random = {
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += MAX_CHUNK) globalThis.crypto.getRandomValues(out.subarray(i, i + MAX_CHUNK));
    return out;
  },
  uint32(): number {
    return globalThis.crypto.getRandomValues(new Uint32Array(1))[0];
  },
};
