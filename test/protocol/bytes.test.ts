import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { u16, u32, writeU16, writeU32 } from "../../protocol/bytes.ts";

// Any number, including out-of-range, negative and fractional ones, to pin the DataView semantics.
const anyNumber = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.integer({ min: -0x1_0000_0000, max: 0x3_0000_0000 }),
  fc.double({ noNaN: false }),
);

describe("protocol/bytes write helpers", () => {
  test("writeU16 writes what DataView.setUint16 writes, and returns the next position", () => {
    fc.assert(
      fc.property(anyNumber, fc.integer({ min: 0, max: 6 }), (value, at) => {
        const ours = new Uint8Array(8).fill(0xee);
        const theirs = new Uint8Array(8).fill(0xee);
        expect(writeU16(ours, at, value)).toBe(at + 2);
        new DataView(theirs.buffer).setUint16(at, value);
        expect(ours).toEqual(theirs);
      }),
    );
  });

  test("writeU32 writes what DataView.setUint32 writes, and returns the next position", () => {
    fc.assert(
      fc.property(anyNumber, fc.integer({ min: 0, max: 4 }), (value, at) => {
        const ours = new Uint8Array(8).fill(0xee);
        const theirs = new Uint8Array(8).fill(0xee);
        expect(writeU32(ours, at, value)).toBe(at + 4);
        new DataView(theirs.buffer).setUint32(at, value);
        expect(ours).toEqual(theirs);
      }),
    );
  });

  test("u16 and u32 read back what was written, at an offset of a larger buffer", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (short, long) => {
          const bytes = new Uint8Array(new ArrayBuffer(16), 3, 8);
          writeU32(bytes, writeU16(bytes, 1, short), long);
          expect(u16(bytes, 1)).toBe(short);
          expect(u32(bytes, 3)).toBe(long);
        },
      ),
    );
  });

  test("writes are big-endian", () => {
    const out = new Uint8Array(6);
    writeU32(out, writeU16(out, 0, 0x0102), 0x03040506);
    expect([...out]).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
