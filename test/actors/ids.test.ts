import { describe, expect, test } from "bun:test";
import { allocateId, MAX_ID } from "../../actors/ids.ts";
import { SeededRandom } from "../../adapters/random/seeded.ts";

describe("allocateId (RFC 2661 §4.4.3, §4.4.4)", () => {
  test("gives random, non-zero, unused 16-bit ids until all 65,535 are taken", () => {
    const random = new SeededRandom(3);
    const used = new Set<number>();
    for (let i = 0; i < MAX_ID; i++) {
      const id = allocateId(random, used);
      expect(id).toBeDefined();
      if (id === undefined) return;
      expect(id).toBeGreaterThan(0);
      expect(id).toBeLessThanOrEqual(MAX_ID);
      expect(used.has(id)).toBe(false);
      used.add(id);
    }
    expect(allocateId(random, used)).toBeUndefined();
  });

  test("a random source that only says 0 still gets an id (the scan)", () => {
    const zero = { uint32: () => 0, bytes: (n: number) => new Uint8Array(n) };
    expect(allocateId(zero, { has: () => false })).toBe(1);
  });
});
