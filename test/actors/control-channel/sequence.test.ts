import { expect, test } from "bun:test";
import fc from "fast-check";
import { seqAdd, seqDistance, seqLess } from "../../../actors/control-channel/sequence.ts";

test("seqAdd and seqDistance wrap at 2^16", () => {
  expect(seqAdd(65535, 1)).toBe(0);
  expect(seqAdd(65530, 10)).toBe(4);
  expect(seqDistance(65530, 4)).toBe(10);
  expect(seqDistance(4, 65530)).toBe(65526);
  expect(seqDistance(7, 7)).toBe(0);
});

test("seqLess: within the 32768 values before, across the wrap (RFC 2661 §5.8)", () => {
  expect(seqLess(65535, 0)).toBe(true);
  expect(seqLess(0, 65535)).toBe(false);
  expect(seqLess(65000, 100)).toBe(true);
  expect(seqLess(100, 65000)).toBe(false);
  expect(seqLess(5, 5)).toBe(false);
  expect(seqLess(0, 32768)).toBe(true);
  expect(seqLess(0, 32769)).toBe(false);
  expect(seqLess(32769, 0)).toBe(true);
});

test("seqLess is antisymmetric except at exactly half the space", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), (a, b) => {
      if (a === b) return !seqLess(a, b);
      if (seqDistance(a, b) === 32768) return seqLess(a, b) && seqLess(b, a);
      return seqLess(a, b) !== seqLess(b, a);
    }),
    { seed: 2661 },
  );
});
