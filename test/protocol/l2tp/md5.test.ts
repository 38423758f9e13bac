import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, createHmac } from "node:crypto";
import fc from "fast-check";
import { hmacMd5, md5, md5Into, useMd5 } from "../../../protocol/l2tp/md5.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const ascii = (s: string) => new TextEncoder().encode(s);

// Both digests: Bun's native one (the default on Bun) and the JavaScript rounds (what Deno runs).
for (const backend of ["native", "javascript"] as const) {
  describe(`md5 (${backend})`, () => {
    beforeAll(() => useMd5(backend));
    afterAll(() => useMd5("native"));

    test.each([
      ["", "d41d8cd98f00b204e9800998ecf8427e"],
      ["a", "0cc175b9c0f1b6a831c399e269772661"],
      ["abc", "900150983cd24fb0d6963f7d28e17f72"],
      ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
      ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
      [
        "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
        "57edf4a22be3c955ac49da2e2107b67a",
      ],
    ])("RFC 1321 §A.5 test vector %p", (input, digest) => {
      expect(hex(md5(ascii(input)))).toBe(digest);
    });

    test("agrees with node:crypto on every length around the block boundaries", () => {
      for (let n = 0; n < 200; n++) {
        const input = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
        expect(hex(md5(input))).toBe(createHash("md5").update(input).digest("hex"));
      }
    });

    test("md5Into hashes the concatenation of its parts", () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 70 }),
          fc.uint8Array({ maxLength: 70 }),
          fc.uint8Array({ maxLength: 300 }),
          fc.nat(),
          (a, b, c, cut) => {
            const start = c.length ? cut % c.length : 0;
            const out = new Uint8Array(20);
            md5Into(out, 2, a, b, c, start, c.length);
            const expected = createHash("md5").update(a).update(b).update(c.subarray(start)).digest("hex");
            expect(hex(out.subarray(2, 18))).toBe(expected);
          },
        ),
      );
    });

    test("hmacMd5 is RFC 2104 HMAC-MD5: RFC 2202 case 1, and node:crypto's for any key and message", () => {
      // RFC 2202 §2 test case 1: key 0x0b × 16, data "Hi There".
      expect(hex(hmacMd5(new Uint8Array(16).fill(0x0b), ascii("Hi There")))).toBe(
        "9294727a3638bb1c13f48ef8158bfc9d",
      );
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 150, size: "max" }),
          fc.uint8Array({ maxLength: 600, size: "max" }),
          (key, message) => {
            expect(hex(hmacMd5(key, message))).toBe(createHmac("md5", key).update(message).digest("hex"));
          },
        ),
      );
    });
  });
}
