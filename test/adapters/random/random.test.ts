import { describe, expect, test } from "bun:test";
import { cryptoRandom, SeededRandom } from "../../../adapters/random/index.ts";

describe("SeededRandom", () => {
  test("same seed, same sequence; different seeds differ", () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const xs = Array.from({ length: 8 }, () => a.uint32());
    expect(Array.from({ length: 8 }, () => b.uint32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.uint32())).not.toEqual(xs);
    for (const x of xs) expect(x >>> 0).toBe(x);
  });

  test("bytes are spread over all values and of the asked length", () => {
    const r = new SeededRandom(7);
    expect(r.bytes(0).length).toBe(0);
    expect(r.bytes(5).length).toBe(5);
    const counts = new Array(256).fill(0);
    for (const byte of r.bytes(256 * 400)) counts[byte]++;
    // 400 expected per value: every value appears, none wildly off.
    expect(Math.min(...counts)).toBeGreaterThan(300);
    expect(Math.max(...counts)).toBeLessThan(500);
  });

  test("float in [0,1), int in [0,max)", () => {
    const r = new SeededRandom(1);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) {
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
      sum += f;
      const n = r.int(3);
      expect(n === 0 || n === 1 || n === 2).toBe(true);
    }
    expect(sum / 10_000).toBeCloseTo(0.5, 1);
  });
});

test("cryptoRandom gives the asked length, beyond the 64 KiB getRandomValues limit too", () => {
  expect(cryptoRandom.bytes(16).length).toBe(16);
  const big = cryptoRandom.bytes(70_000);
  expect(big.length).toBe(70_000);
  expect(big.subarray(65_536).some((b) => b !== 0)).toBe(true);
  expect(cryptoRandom.uint32()).toBeGreaterThanOrEqual(0);
});
