/** CHAP (RFC 1994 §4): Challenge, Response, Success, Failure; the MD5 response; errors; round trips. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  type ChapPacket,
  chapMd5Response,
  type Decoded,
  decodeChap,
  describeChap,
  encodeChap,
} from "../../../protocol/ppp/index.ts";
import { chapPacket, hex, toHex } from "./arbitraries.ts";

function ok<T>(decoded: Decoded<T>): T {
  if (!decoded.ok) throw new Error(`expected ok, got ${decoded.error.field}: ${decoded.error.reason}`);
  return decoded.value;
}

const text = (s: string) => new TextEncoder().encode(s);

function roundTrip(bytes: string, expected: ChapPacket): void {
  const value = ok(decodeChap(hex(bytes)));
  expect(value).toEqual(expected);
  expect(toHex(encodeChap(value))).toBe(bytes);
}

describe("CHAP", () => {
  test("1 Challenge and 2 Response: value and name", () => {
    roundTrip("0101001d10" + "00112233445566778899aabbccddeeff" + "6c6e732e74657374", {
      code: "Challenge",
      id: 1,
      value: hex("00112233445566778899aabbccddeeff"),
      name: text("lns.test"),
    });
    roundTrip("0201001a10" + "44093917b8713e49eb70365b09f9fc3f" + "616c696365", {
      code: "Response",
      id: 1,
      value: hex("44093917b8713e49eb70365b09f9fc3f"),
      name: text("alice"),
    });
    roundTrip("01020006" + "01aa", { code: "Challenge", id: 2, value: hex("aa"), name: text("") });
  });

  test("3 Success and 4 Failure with a message", () => {
    roundTrip("03010006" + "4f4b", { code: "Success", id: 1, message: text("OK") });
    roundTrip("04010004", { code: "Failure", id: 1, message: text("") });
  });

  test("chapMd5Response is MD5(id, secret, challenge) (RFC 1994 §2; vector from Python's hashlib)", () => {
    const challenge = hex("00112233445566778899aabbccddeeff");
    expect(toHex(chapMd5Response(1, "s3cret", challenge))).toBe("44093917b8713e49eb70365b09f9fc3f");
    expect(toHex(chapMd5Response(1, text("s3cret"), challenge))).toBe("44093917b8713e49eb70365b09f9fc3f");
    expect(toHex(chapMd5Response(0x2a, "secret", new Uint8Array(0)))).toBe(
      "0db3aed1cf8b420494e20d258e5029f8",
    );
    // The identifier matters: a different one gives a different response.
    expect(toHex(chapMd5Response(2, "s3cret", challenge))).not.toBe("44093917b8713e49eb70365b09f9fc3f");
  });

  test("errors name the field", () => {
    const cases: [string, string, string][] = [
      ["01", "CHAP.length", "shorter than the 4-octet header"],
      ["0101000601", "CHAP.length", "6 exceeds the 5 octets received"],
      ["01010004", "CHAP Challenge.valueSize", "ends before the Value-Size octet"],
      ["0201000500", "CHAP Response.valueSize", "expected at least 1, got 0"],
      ["010100061001", "CHAP Challenge.valueSize", "16 exceeds the 1 octets left"],
      ["05010004", "CHAP.code", "got 5"],
      ["00010004", "CHAP.code", "got 0"],
    ];
    for (const [bytes, field, reason] of cases) {
      const decoded = decodeChap(hex(bytes));
      expect(decoded.ok).toBe(false);
      if (decoded.ok) continue;
      expect(decoded.error.field).toBe(field);
      expect(decoded.error.reason).toContain(reason);
    }
  });
});

describe("CHAP encoding and output", () => {
  test("encodeChap refuses an empty or over-long value", () => {
    expect(() => encodeChap({ code: "Challenge", id: 1, value: new Uint8Array(0), name: text("") })).toThrow(
      RangeError,
    );
    expect(() => encodeChap({ code: "Response", id: 1, value: new Uint8Array(256), name: text("") })).toThrow(
      RangeError,
    );
  });

  test("describeChap shows a challenge in hex and a response by size only", () => {
    const challenge = ok(
      decodeChap(hex("0101001d10" + "00112233445566778899aabbccddeeff" + "6c6e732e74657374")),
    );
    expect(describeChap(challenge)).toBe(
      'CHAP Challenge id=1 name="lns.test" value=00112233445566778899aabbccddeeff',
    );
    const response = ok(decodeChap(hex("0201001a10" + "44093917b8713e49eb70365b09f9fc3f" + "616c696365")));
    expect(describeChap(response)).toBe('CHAP Response id=1 name="alice" value=<16 octets>');
    expect(describeChap({ code: "Success", id: 1, message: text("Welcome") })).toBe(
      'CHAP Success id=1 message="Welcome"',
    );
    expect(describeChap({ code: "Failure", id: 1, message: hex("00ff") })).toBe(
      "CHAP Failure id=1 message=00ff",
    );
  });

  test("every CHAP packet round-trips byte-exact", () => {
    fc.assert(
      fc.property(chapPacket, (packet) => {
        const bytes = encodeChap(packet);
        const decoded = ok(decodeChap(bytes));
        expect(decoded).toEqual(packet);
        expect(toHex(encodeChap(decoded))).toBe(toHex(bytes));
      }),
      { seed: 1994, numRuns: 1000 },
    );
  });
});
