/**
 * Fuzz inputs shared by the decoder fuzz tests: a deterministic stream of random byte strings and of
 * mutations of real packets (bit flips, byte overwrites with boundary values, truncation, extension,
 * length-field corruption, splices of two seeds).
 */
import process from "node:process";

/** Seed and count of a fuzz run: FUZZ_SEED and FUZZ_RUNS override the CI defaults. */
export function fuzzSettings(defaultRuns: number): { seed: number; runs: number } {
  const seed = Number(process.env.FUZZ_SEED ?? 20261125) >>> 0;
  const runs = Number(process.env.FUZZ_RUNS ?? defaultRuns);
  return { seed, runs: Number.isFinite(runs) && runs > 0 ? Math.floor(runs) : defaultRuns };
}

/** A small deterministic PRNG (mulberry32): the same seed gives the same inputs on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BOUNDARY = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x02, 0x08, 0x40, 0xc8];

/** Yields `runs` inputs: one in eight purely random, the rest mutations of the seeds. */
export function* fuzzInputs(seeds: readonly Uint8Array[], seed: number, runs: number): Generator<Uint8Array> {
  const random = prng(seed);
  const int = (n: number) => Math.floor(random() * n);
  for (let i = 0; i < runs; i++) {
    if (seeds.length === 0 || int(8) === 0) {
      const bytes = new Uint8Array(int(96));
      for (let j = 0; j < bytes.length; j++) bytes[j] = int(256);
      // Half of the random ones look like an L2TPv2 control header, to get past the first check.
      if (bytes.length >= 2 && int(2) === 0) {
        bytes[0] = 0xc8;
        bytes[1] = 0x02;
      }
      yield bytes;
      continue;
    }
    let bytes: Uint8Array = Uint8Array.from(seeds[int(seeds.length)]);
    // Mostly one mutation, so that many inputs still get past the header into the AVPs.
    const mutations = int(3) === 0 ? 2 + int(3) : 1;
    for (let m = 0; m < mutations; m++) bytes = mutate(bytes, seeds, int);
    yield bytes;
  }
}

function mutate(bytes: Uint8Array, seeds: readonly Uint8Array[], int: (n: number) => number): Uint8Array {
  if (bytes.length === 0) return Uint8Array.of(int(256));
  switch (int(7)) {
    case 0: {
      const at = int(bytes.length);
      bytes[at] ^= 1 << int(8);
      return bytes;
    }
    case 1:
      bytes[int(bytes.length)] = BOUNDARY[int(BOUNDARY.length)];
      return bytes;
    case 2:
      return bytes.subarray(0, int(bytes.length));
    case 3: {
      const longer = new Uint8Array(bytes.length + 1 + int(40));
      longer.set(bytes);
      for (let j = bytes.length; j < longer.length; j++) longer[j] = int(256);
      return longer;
    }
    case 4: {
      // A 16-bit field (header length, AVP length, …) set to a boundary value.
      const at = int(Math.max(1, bytes.length - 1));
      const value = [0, 1, 5, 6, 7, 8, 0x3ff, 0xffff, bytes.length, bytes.length + 1][int(10)];
      bytes[at] = (value >> 8) & 0xff;
      if (at + 1 < bytes.length) bytes[at + 1] = value & 0xff;
      return bytes;
    }
    case 5: {
      const other = seeds[int(seeds.length)];
      const cut = int(bytes.length);
      const from = int(other.length);
      const spliced = new Uint8Array(cut + other.length - from);
      spliced.set(bytes.subarray(0, cut));
      spliced.set(other.subarray(from), cut);
      return spliced;
    }
    default: {
      // Set or clear the M or H bit of a byte that may start an AVP.
      const at = int(bytes.length);
      bytes[at] ^= int(2) ? 0x80 : 0x40;
      return bytes;
    }
  }
}
