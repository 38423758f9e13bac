import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { CRC32_CHECK, crc32, crc32Utf8 } from "../../../adapters/event-log/crc32.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** The definition, bit by bit (reflected polynomial 0xEDB88320): slow, and independent of zlib. */
function bitwiseCrc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe("crc32", () => {
  test("known check values (IEEE / zlib)", () => {
    expect(CRC32_CHECK).toBe(0xcbf43926);
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

  test("property: agrees with the bitwise definition, whole arrays and ranges", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        expect(crc32(bytes)).toBe(bitwiseCrc32(bytes));
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
        expect(crc32(bytes, start, end)).toBe(bitwiseCrc32(bytes.subarray(start, end)));
      }),
    );
  });

  test("property: the CRC of a string is the CRC of its UTF-8 bytes, lone surrogates included", () => {
    expect(crc32Utf8("123456789")).toBe(CRC32_CHECK);
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) =>
        expect(crc32Utf8(s)).toBe(crc32(text(s))),
      ),
    );
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
