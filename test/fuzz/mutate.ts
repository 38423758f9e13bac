/**
 * Fuzz inputs shared by the decoder fuzz tests (L2TP here, PPP in test/protocol/ppp/fuzz.test.ts): a
 * deterministic stream of random byte strings and of mutations of real packets (bit flips, boundary
 * values, truncation, extension, length-field corruption, splices of two seeds, inserted and deleted
 * octets), with what a format adds (its boundary values, a header that gets random inputs past the
 * first check, mutations of its own).
 */
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import { readCapture } from "../../adapters/capture/pcap.ts";

/** Seed and count of a fuzz run: FUZZ_SEED and FUZZ_RUNS override the CI defaults. */
export function fuzzSettings(defaultRuns: number, defaultSeed = 20261125): { seed: number; runs: number } {
  const seed = Number(process.env.FUZZ_SEED ?? defaultSeed) >>> 0;
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

/** A random whole number below n. */
type Int = (n: number) => number;

/** What a wire format adds to the generic mutations. */
export interface FuzzFormat {
  /** Octet values at the edges of the format's fields. */
  boundary: readonly number[];
  /** Values worth planting in a length field of an input this long. */
  lengths(length: number): readonly number[];
  /** Random inputs are shorter than this. */
  maxRandomLength: number;
  /** An extension appends up to this many random octets. */
  maxExtension: number;
  /** Makes a random input start like the format's header (done to half of them), to get past the first check. */
  shapeRandom(bytes: Uint8Array, int: Int): void;
  /** A mutation of the format's own, if it has one. */
  mutate?(bytes: Uint8Array, int: Int): Uint8Array;
}

/** L2TPv2 control messages (RFC 2661 §3.1, §4.1). */
export const L2TP_FORMAT: FuzzFormat = {
  boundary: [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x02, 0x08, 0x40, 0xc8],
  // The header Length, an AVP's 10-bit length: around the AVP header (6) and Message Type (8).
  lengths: (length) => [0, 1, 5, 6, 7, 8, 0x3ff, 0xffff, length, length + 1],
  maxRandomLength: 96,
  maxExtension: 40,
  shapeRandom: (bytes) => {
    // T, L and S bits and version 2: an L2TPv2 control header.
    bytes[0] = 0xc8;
    bytes[1] = 0x02;
  },
  // Set or clear the M or H bit of a byte that may start an AVP.
  mutate: (bytes, int) => {
    bytes[int(bytes.length)] ^= int(2) ? 0x80 : 0x40;
    return bytes;
  },
};

/** Yields `runs` inputs: one in eight purely random, the rest mutations of the seeds. */
export function* fuzzInputs(
  seeds: readonly Uint8Array[],
  seed: number,
  runs: number,
  format: FuzzFormat = L2TP_FORMAT,
): Generator<Uint8Array> {
  const random = prng(seed);
  const int: Int = (n) => Math.floor(random() * n);
  for (let i = 0; i < runs; i++) {
    if (seeds.length === 0 || int(8) === 0) {
      const bytes = new Uint8Array(int(format.maxRandomLength));
      for (let j = 0; j < bytes.length; j++) bytes[j] = int(256);
      if (bytes.length >= 4 && int(2) === 0) format.shapeRandom(bytes, int);
      yield bytes;
      continue;
    }
    let bytes: Uint8Array = Uint8Array.from(seeds[int(seeds.length)]);
    // Mostly one mutation, so that many inputs still get past the header into the body.
    const mutations = int(3) === 0 ? 2 + int(3) : 1;
    for (let m = 0; m < mutations; m++) bytes = mutate(bytes, seeds, format, int);
    yield bytes;
  }
}

function mutate(bytes: Uint8Array, seeds: readonly Uint8Array[], format: FuzzFormat, int: Int): Uint8Array {
  if (bytes.length === 0) return Uint8Array.of(int(256));
  const at = int(bytes.length);
  switch (int(format.mutate ? 9 : 8)) {
    case 0:
      bytes[at] ^= 1 << int(8);
      return bytes;
    case 1:
      bytes[at] = format.boundary[int(format.boundary.length)];
      return bytes;
    case 2:
      return bytes.subarray(0, at);
    case 3: {
      const longer = new Uint8Array(bytes.length + 1 + int(format.maxExtension));
      longer.set(bytes);
      for (let j = bytes.length; j < longer.length; j++) longer[j] = int(256);
      return longer;
    }
    case 4: {
      // A 16-bit length field (or an 8-bit one: PPP's PAP and CHAP sizes, option lengths) set to a boundary.
      const values = format.lengths(bytes.length);
      const value = values[int(values.length)];
      if (int(2) && at + 1 < bytes.length) {
        bytes[at] = (value >> 8) & 0xff;
        bytes[at + 1] = value & 0xff;
      } else {
        bytes[at] = value & 0xff;
      }
      return bytes;
    }
    case 5: {
      const other = seeds[int(seeds.length)];
      const from = int(other.length + 1);
      const spliced = new Uint8Array(at + other.length - from);
      spliced.set(bytes.subarray(0, at));
      spliced.set(other.subarray(from), at);
      return spliced;
    }
    case 6: {
      const inserted = new Uint8Array(bytes.length + 1);
      inserted.set(bytes.subarray(0, at));
      inserted[at] = int(2) ? format.boundary[int(format.boundary.length)] : int(256);
      inserted.set(bytes.subarray(at), at + 1);
      return inserted;
    }
    case 7: {
      const shorter = new Uint8Array(bytes.length - 1);
      shorter.set(bytes.subarray(0, at));
      shorter.set(bytes.subarray(at + 1), at);
      return shorter;
    }
    default:
      return (format.mutate as NonNullable<FuzzFormat["mutate"]>)(bytes, int);
  }
}

const capturesDir = new URL("../fixtures/captures/", import.meta.url).pathname;

/** Every L2TP datagram of every shipped capture: the seeds that mutations start from. */
export function captureSeeds(): Uint8Array[] {
  const seeds: Uint8Array[] = [];
  for (const file of readdirSync(capturesDir).filter((f) => f.endsWith(".pcapng"))) {
    const capture = readCapture(readFileSync(capturesDir + file));
    if (capture.ok) for (const d of capture.datagrams) seeds.push(d.payload);
  }
  return seeds;
}
