/** PAP (RFC 1334 §2): Authenticate-Request, -Ack, -Nak; errors by field; round trips; password never shown. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  type Decoded,
  decodePap,
  describePap,
  encodePap,
  type PapPacket,
} from "../../../protocol/ppp/index.ts";
import { hex, papPacket, toHex } from "./arbitraries.ts";

function ok<T>(decoded: Decoded<T>): T {
  if (!decoded.ok) throw new Error(`expected ok, got ${decoded.error.field}: ${decoded.error.reason}`);
  return decoded.value;
}

const text = (s: string) => new TextEncoder().encode(s);

function roundTrip(bytes: string, expected: PapPacket): void {
  const value = ok(decodePap(hex(bytes)));
  expect(value).toEqual(expected);
  expect(toHex(encodePap(value))).toBe(bytes);
}

describe("PAP", () => {
  test("1 Authenticate-Request: peer-id and password", () => {
    roundTrip("0101001105616c69636506736563726574", {
      code: "Authenticate-Request",
      id: 1,
      peerId: text("alice"),
      password: text("secret"),
    });
    roundTrip("010200060000", { code: "Authenticate-Request", id: 2, peerId: text(""), password: text("") });
  });

  test("2 Authenticate-Ack and 3 Authenticate-Nak with a message", () => {
    roundTrip("02010007024f4b", { code: "Authenticate-Ack", id: 1, message: text("OK") });
    roundTrip("0301000803626164", { code: "Authenticate-Nak", id: 1, message: text("bad") });
    roundTrip("0201000500", { code: "Authenticate-Ack", id: 1, message: text("") });
  });

  test("an Ack without the Msg-Length octet (sent by some peers) reads as an empty message", () => {
    expect(ok(decodePap(hex("02070004")))).toEqual({ code: "Authenticate-Ack", id: 7, message: text("") });
  });

  test("errors name the field", () => {
    const cases: [string, string, string][] = [
      ["0101", "PAP.length", "shorter than the 4-octet header"],
      ["01010004", "PAP Authenticate-Request.peerId.length", "ends before this length octet"],
      ["0101000605616c", "PAP Authenticate-Request.peerId.length", "5 exceeds the 1 octets left"],
      ["010100060161", "PAP Authenticate-Request.password.length", "ends before this length octet"],
      ["010100090161056200", "PAP Authenticate-Request.password.length", "5 exceeds the 2 octets left"],
      ["01010008016100ff", "PAP Authenticate-Request.length", "1 octets follow the Password"],
      ["0201000505", "PAP Authenticate-Ack.message.length", "5 exceeds the 0 octets left"],
      ["030100070161ff", "PAP Authenticate-Nak.length", "1 octets follow the Message"],
      ["04010004", "PAP.code", "got 4"],
      ["00010004", "PAP.code", "got 0"],
    ];
    for (const [bytes, field, reason] of cases) {
      const decoded = decodePap(hex(bytes));
      expect(decoded.ok).toBe(false);
      if (decoded.ok) continue;
      expect(decoded.error.field).toBe(field);
      expect(decoded.error.reason).toContain(reason);
    }
  });

  test("encodePap refuses fields over 255 octets", () => {
    const long = new Uint8Array(256);
    expect(() =>
      encodePap({ code: "Authenticate-Request", id: 1, peerId: long, password: text("") }),
    ).toThrow(RangeError);
    expect(() =>
      encodePap({ code: "Authenticate-Request", id: 1, peerId: text(""), password: long }),
    ).toThrow(RangeError);
    expect(() => encodePap({ code: "Authenticate-Nak", id: 1, message: long })).toThrow(RangeError);
  });

  test("describePap shows the peer but only the password's length", () => {
    const request = ok(decodePap(hex("0101001105616c69636506736563726574")));
    const line = describePap(request);
    expect(line).toBe('PAP Authenticate-Request id=1 peer="alice" password=<6 octets>');
    expect(line).not.toContain("secret");
    expect(describePap({ code: "Authenticate-Ack", id: 1, message: text("Login ok") })).toBe(
      'PAP Authenticate-Ack id=1 message="Login ok"',
    );
    expect(describePap({ code: "Authenticate-Nak", id: 2, message: text("") })).toBe(
      "PAP Authenticate-Nak id=2",
    );
  });

  test("every PAP packet round-trips byte-exact", () => {
    fc.assert(
      fc.property(papPacket, (packet) => {
        const bytes = encodePap(packet);
        const decoded = ok(decodePap(bytes));
        expect(decoded).toEqual(packet);
        expect(toHex(encodePap(decoded))).toBe(toHex(bytes));
      }),
      { seed: 1334, numRuns: 1000 },
    );
  });
});
