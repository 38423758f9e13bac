import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { crc32 } from "../../../adapters/event-log/crc32.ts";

const text = (s: string) => new TextEncoder().encode(s);

describe("crc32", () => {
  test("known check values (IEEE / zlib)", () => {
    expect(crc32(text("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(text("The quick brown fox jumps over the lazy dog"))).toBe(0x414fa339);
    expect(crc32(new Uint8Array(32))).toBe(0x190a55ad);
    expect(crc32(new Uint8Array(32).fill(0xff))).toBe(0xff6cab0b);
  });

  test("a range is the CRC of that slice", () => {
    const bytes = text("xx123456789yy");
    expect(crc32(bytes, 2, 11)).toBe(0xcbf43926);
  });

  test("property: every single-bit flip changes the CRC", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (bytes, at, bit) => {
          const i = at % bytes.length;
          const flipped = bytes.slice();
          flipped[i] = (flipped[i] as number) ^ (1 << bit);
          expect(crc32(flipped)).not.toBe(crc32(bytes));
        },
      ),
    );
  });

  test("agrees with the runtime's own CRC-32 where there is one", () => {
    const bunHash = (globalThis as { Bun?: { hash: { crc32(b: Uint8Array): number } } }).Bun?.hash.crc32;
    if (!bunHash) return;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => expect(crc32(bytes)).toBe(bunHash(bytes))),
    );
  });
});
