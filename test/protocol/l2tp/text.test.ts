import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeUtf8, utf8Length, writeUtf8 } from "../../../protocol/l2tp/text.ts";

describe("AVP text", () => {
  test("utf8Length and writeUtf8 agree with TextEncoder, lone surrogates included", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 30 }),
        fc.string({ unit: "grapheme", maxLength: 10 }),
        (a, b) => {
          const text = a + b + (a.length % 3 === 0 ? "\ud800" : "");
          const expected = new TextEncoder().encode(text);
          expect(utf8Length(text)).toBe(expected.length);
          const out = new Uint8Array(expected.length + 4);
          expect(writeUtf8(text, out, 2)).toBe(2 + expected.length);
          expect(out.subarray(2, 2 + expected.length)).toEqual(expected);
        },
      ),
    );
  });

  test("decodeUtf8 reads ASCII and UTF-8, and never throws on invalid bytes", () => {
    expect(decodeUtf8(new TextEncoder().encode("xx5551234"), 2, 7)).toBe("5551234");
    expect(decodeUtf8(new TextEncoder().encode("grüße"), 0, 7)).toBe("grüße");
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(decodeUtf8(bytes, 0, bytes.length)).toBe(new TextDecoder().decode(bytes));
      }),
    );
  });
});
