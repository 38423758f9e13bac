/** FCS-16 (RFC 1662 §C.2): known check values and agreement with a bit-at-a-time reference. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { FCS16_GOOD, FCS16_INIT, fcs16, fcs16Trailer } from "../../../protocol/ppp/index.ts";
import { bytes, hex } from "./arbitraries.ts";

/** The same CRC computed one bit at a time, as RFC 1662 §C.2 describes it, to check the table against. */
function bitwiseFcs16(data: Uint8Array): number {
  let f = 0xffff;
  for (const octet of data) {
    f ^= octet;
    for (let bit = 0; bit < 8; bit++) f = f & 1 ? (f >>> 1) ^ 0x8408 : f >>> 1;
  }
  return f;
}

describe("FCS-16", () => {
  test('the CRC-16/X.25 check value: "123456789" gives 0x906E', () => {
    const data = new TextEncoder().encode("123456789");
    expect(fcs16Trailer(data)).toEqual([0x6e, 0x90]);
    expect(FCS16_INIT).toBe(0xffff);
  });

  test("a frame followed by its FCS leaves the good value 0xF0B8 (RFC 1662 §C.2)", () => {
    const frame = hex("ff03c0210101000e01040578050611223344");
    const [low, high] = fcs16Trailer(frame);
    expect([low, high]).toEqual([0x05, 0x52]);
    expect(fcs16(Uint8Array.of(...frame, low, high))).toBe(FCS16_GOOD);
    expect(fcs16(Uint8Array.of(...frame, low, high ^ 1))).not.toBe(FCS16_GOOD);
  });

  test("the table-driven FCS equals the bitwise one, and a range can be continued from a register", () => {
    fc.assert(
      fc.property(bytes(200), fc.nat(200), (data, split) => {
        const at = Math.min(split, data.length);
        expect(fcs16(data)).toBe(bitwiseFcs16(data));
        expect(fcs16(data, fcs16(data, FCS16_INIT, 0, at), at)).toBe(fcs16(data));
        const [low, high] = fcs16Trailer(data);
        expect(fcs16(Uint8Array.of(...data, low, high))).toBe(FCS16_GOOD);
      }),
      { seed: 1662, numRuns: 500 },
    );
  });
});
