/** LCP (RFC 1661 §5, §6; RFC 1570): every code, every option, errors by field, and round trips. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  type Decoded,
  decodeLcp,
  decodeOptions,
  describeLcp,
  encodeLcp,
  encodeOptions,
  type LcpPacket,
  lcpOptions,
} from "../../../protocol/ppp/index.ts";
import { hex, lcpKnownOption, lcpOption, lcpPacket, toHex } from "./arbitraries.ts";

function ok<T>(decoded: Decoded<T>): T {
  if (!decoded.ok) throw new Error(`expected ok, got ${decoded.error.field}: ${decoded.error.reason}`);
  return decoded.value;
}

function error<T>(decoded: Decoded<T>): { field: string; reason: string } {
  if (decoded.ok) throw new Error(`expected an error, got ${JSON.stringify(decoded.value)}`);
  return decoded.error;
}

/** Decodes, checks the value, and checks the encoder writes the same bytes back. */
function roundTrip(bytes: string, expected: LcpPacket): void {
  const value = ok(decodeLcp(hex(bytes)));
  expect(value).toEqual(expected);
  expect(toHex(encodeLcp(value))).toBe(bytes);
}

describe("LCP options", () => {
  test("every known option decodes to its typed value and encodes back byte-exact", () => {
    const bytes =
      "01040578" + // MRU 1400
      "020600000000" + // ACCM 0
      "0305c22305" + // Auth CHAP MD5
      "0408c025000003e8" + // Quality LQR, period 1000
      "050611223344" + // Magic
      "0702" + // PFC
      "0802"; // ACFC
    const options = ok(decodeOptions(hex(bytes), lcpOptions, "LCP Configure-Request"));
    expect(options).toEqual([
      { kind: "mru", value: 1400 },
      { kind: "accm", value: 0 },
      { kind: "authProtocol", protocol: 0xc223, algorithm: 5 },
      { kind: "qualityProtocol", protocol: 0xc025, data: hex("000003e8") },
      { kind: "magicNumber", value: 0x11223344 },
      { kind: "pfc" },
      { kind: "acfc" },
    ]);
    expect(toHex(encodeOptions(options, lcpOptions))).toBe(bytes);
  });

  test("Authentication-Protocol: PAP, CHAP-MD5, MS-CHAPv2, MS-CHAP and another protocol with data", () => {
    expect(ok(decodeOptions(hex("0304c023"), lcpOptions, "x"))).toEqual([
      { kind: "authProtocol", protocol: 0xc023 },
    ]);
    expect(ok(decodeOptions(hex("0305c22381"), lcpOptions, "x"))).toEqual([
      { kind: "authProtocol", protocol: 0xc223, algorithm: 0x81 },
    ]);
    expect(ok(decodeOptions(hex("0305c22380"), lcpOptions, "x"))).toEqual([
      { kind: "authProtocol", protocol: 0xc223, algorithm: 0x80 },
    ]);
    expect(ok(decodeOptions(hex("0306c227abcd"), lcpOptions, "x"))).toEqual([
      { kind: "authProtocol", protocol: 0xc227, data: hex("abcd") },
    ]);
  });

  test("unknown options are kept byte-exact and in order, between known ones", () => {
    const bytes = "1104058801040578130301" + "0002" + "ff0a0102030405060708";
    const options = ok(decodeOptions(hex(bytes), lcpOptions, "LCP Configure-Request"));
    expect(options).toEqual([
      { kind: "unknown", type: 0x11, raw: hex("0588") },
      { kind: "mru", value: 1400 },
      { kind: "unknown", type: 0x13, raw: hex("01") },
      { kind: "unknown", type: 0, raw: hex("") },
      { kind: "unknown", type: 0xff, raw: hex("0102030405060708") },
    ]);
    expect(toHex(encodeOptions(options, lcpOptions))).toBe(bytes);
  });

  test("option lengths are checked, with the option named in the field", () => {
    const cases: [string, string, string][] = [
      ["010305", "LCP Configure-Request.option[0] MRU (1).length", "expected 4, got 3"],
      ["0105050500", "LCP Configure-Request.option[0] MRU (1).length", "expected 4, got 5"],
      ["0205000000", "LCP Configure-Request.option[0] ACCM (2).length", "expected 6, got 5"],
      [
        "0303c0",
        "LCP Configure-Request.option[0] Authentication-Protocol (3).length",
        "expected at least 4, got 3",
      ],
      [
        "0304c223",
        "LCP Configure-Request.option[0] Authentication-Protocol (3).length",
        "expected 5 for CHAP, got 4",
      ],
      [
        "0305c02300",
        "LCP Configure-Request.option[0] Authentication-Protocol (3).length",
        "expected 4 for PAP, got 5",
      ],
      ["0403c0", "LCP Configure-Request.option[0] Quality-Protocol (4).length", "expected at least 4, got 3"],
      ["0505112233", "LCP Configure-Request.option[0] Magic-Number (5).length", "expected 6, got 5"],
      ["070300", "LCP Configure-Request.option[0] PFC (7).length", "expected 2, got 3"],
      ["080300", "LCP Configure-Request.option[0] ACFC (8).length", "expected 2, got 3"],
      [
        "01040578" + "0500",
        "LCP Configure-Request.option[1] Magic-Number (5).length",
        "expected at least 2, got 0",
      ],
      ["1101", "LCP Configure-Request.option[0] MRRU (17).length", "expected at least 2, got 1"],
      ["01040578" + "05", "LCP Configure-Request.option[1]", "1 octet left"],
      ["0106057805", "LCP Configure-Request.option[0] MRU (1).length", "runs past the end"],
      ["2a09", "LCP Configure-Request.option[0] option 42.length", "runs past the end"],
    ];
    for (const [bytes, field, reason] of cases) {
      const e = error(decodeOptions(hex(bytes), lcpOptions, "LCP Configure-Request"));
      expect(e.field).toBe(field);
      expect(e.reason).toContain(reason);
    }
  });

  test("an option error inside a packet names the packet's code", () => {
    const e = error(decodeLcp(hex("0307000a" + "010305" + "050611")));
    expect(e.field).toBe("LCP Configure-Nak.option[0] MRU (1).length");
    expect(e.reason).toBe("expected 4, got 3");
  });

  test("encoders refuse values that do not fit", () => {
    expect(() => encodeOptions([{ kind: "mru", value: 0x10000 }], lcpOptions)).toThrow(RangeError);
    expect(() => encodeOptions([{ kind: "magicNumber", value: -1 }], lcpOptions)).toThrow(RangeError);
    expect(() => encodeOptions([{ kind: "unknown", type: 9, raw: new Uint8Array(254) }], lcpOptions)).toThrow(
      RangeError,
    );
    expect(() => encodeOptions([{ kind: "unknown", type: 256, raw: new Uint8Array(0) }], lcpOptions)).toThrow(
      RangeError,
    );
    expect(() =>
      encodeOptions([{ kind: "authProtocol", protocol: 0xc223, algorithm: 256 }], lcpOptions),
    ).toThrow(RangeError);
    // 253 octets of data is the most an option can carry (Length is one octet).
    expect(encodeOptions([{ kind: "unknown", type: 9, raw: new Uint8Array(253) }], lcpOptions).length).toBe(
      255,
    );
  });

  test("a CHAP option without an algorithm is written as MD5", () => {
    expect(toHex(encodeOptions([{ kind: "authProtocol", protocol: 0xc223 }], lcpOptions))).toBe("0305c22305");
  });
});

describe("LCP codes", () => {
  test("1 Configure-Request (xl2tpd capture)", () => {
    roundTrip("0101000e01040578050611223344", {
      code: "Configure-Request",
      id: 1,
      options: [
        { kind: "mru", value: 1400 },
        { kind: "magicNumber", value: 0x11223344 },
      ],
    });
  });

  test("2 Configure-Ack, 3 Configure-Nak, 4 Configure-Reject, and an empty option list", () => {
    roundTrip("0202000801040578", { code: "Configure-Ack", id: 2, options: [{ kind: "mru", value: 1400 }] });
    roundTrip("0303000801040578", { code: "Configure-Nak", id: 3, options: [{ kind: "mru", value: 1400 }] });
    roundTrip("04040007" + "1103ab", {
      code: "Configure-Reject",
      id: 4,
      options: [{ kind: "unknown", type: 0x11, raw: hex("ab") }],
    });
    roundTrip("01050004", { code: "Configure-Request", id: 5, options: [] });
  });

  test("5 Terminate-Request with data, 6 Terminate-Ack without", () => {
    roundTrip("05070007627965", { code: "Terminate-Request", id: 7, data: hex("627965") });
    roundTrip("06070004", { code: "Terminate-Ack", id: 7, data: hex("") });
  });

  test("7 Code-Reject carries the rejected packet", () => {
    roundTrip("07080008" + "0e010004", { code: "Code-Reject", id: 8, rejected: hex("0e010004") });
  });

  test("8 Protocol-Reject names the protocol and carries the rejected information", () => {
    roundTrip("08090008" + "8057" + "0101", {
      code: "Protocol-Reject",
      id: 9,
      protocol: 0x8057,
      rejected: hex("0101"),
    });
  });

  test("9 Echo-Request, 10 Echo-Reply (xl2tpd capture), 11 Discard-Request", () => {
    roundTrip("0964000dcafebabe70696e6730", {
      code: "Echo-Request",
      id: 100,
      magic: 0xcafebabe,
      data: hex("70696e6730"),
    });
    roundTrip("0a64000d0000000070696e6730", {
      code: "Echo-Reply",
      id: 100,
      magic: 0,
      data: hex("70696e6730"),
    });
    roundTrip("0b01000811223344", { code: "Discard-Request", id: 1, magic: 0x11223344, data: hex("") });
  });

  test("12 Identification and 13 Time-Remaining (RFC 1570)", () => {
    roundTrip("0c02000b11223344" + "6c6e73", {
      code: "Identification",
      id: 2,
      magic: 0x11223344,
      message: hex("6c6e73"),
    });
    roundTrip("0d030010" + "11223344" + "00000e10" + "6f6b6179", {
      code: "Time-Remaining",
      id: 3,
      magic: 0x11223344,
      seconds: 3600,
      message: hex("6f6b6179"),
    });
  });

  test("unknown codes (0, 14, 255) are kept for a Code-Reject", () => {
    roundTrip("00010006abcd", { code: "Unknown", codeNumber: 0, id: 1, data: hex("abcd") });
    roundTrip("0e020004", { code: "Unknown", codeNumber: 14, id: 2, data: hex("") });
    roundTrip("ff030005ee", { code: "Unknown", codeNumber: 255, id: 3, data: hex("ee") });
  });

  test("octets past Length are padding and ignored (RFC 1661 §5)", () => {
    expect(ok(decodeLcp(hex("06070004" + "000000")))).toEqual({
      code: "Terminate-Ack",
      id: 7,
      data: hex(""),
    });
  });

  test("header and short-body errors name the field", () => {
    const cases: [string, string, string][] = [
      ["", "LCP.length", "shorter than the 4-octet header"],
      ["010100", "LCP.length", "shorter than the 4-octet header"],
      ["01010003", "LCP.length", "expected at least 4, got 3"],
      ["01010000", "LCP.length", "expected at least 4, got 0"],
      ["0101000901040578", "LCP.length", "9 exceeds the 8 octets received"],
      ["08010005c0", "LCP Protocol-Reject.protocol", "expected 2 octets, got 1"],
      ["09010007aabbcc", "LCP Echo-Request.magic", "expected 4 octets, got 3"],
      ["0a010004", "LCP Echo-Reply.magic", "expected 4 octets, got 0"],
      ["0b010006aabb", "LCP Discard-Request.magic", "expected 4 octets, got 2"],
      ["0c010006aabb", "LCP Identification.magic", "expected 4 octets, got 2"],
      ["0d010006aabb", "LCP Time-Remaining.magic", "expected 4 octets, got 2"],
      ["0d01000a11223344aabb", "LCP Time-Remaining.seconds", "expected 4 octets, got 2"],
    ];
    for (const [bytes, field, reason] of cases) {
      const e = error(decodeLcp(hex(bytes)));
      expect(e.field).toBe(field);
      expect(e.reason).toContain(reason);
    }
  });

  test("encodeLcp refuses an identifier or magic that does not fit", () => {
    expect(() => encodeLcp({ code: "Terminate-Ack", id: 256, data: hex("") })).toThrow(RangeError);
    expect(() => encodeLcp({ code: "Echo-Request", id: 1, magic: 2 ** 32, data: hex("") })).toThrow(
      RangeError,
    );
    expect(() => encodeLcp({ code: "Terminate-Ack", id: 1, data: new Uint8Array(65532) })).toThrow(
      RangeError,
    );
    expect(encodeLcp({ code: "Terminate-Ack", id: 1, data: new Uint8Array(65531) }).length).toBe(65535);
  });
});

describe("describeLcp", () => {
  test("one line per packet, options by name", () => {
    const request: LcpPacket = {
      code: "Configure-Request",
      id: 1,
      options: [
        { kind: "mru", value: 1500 },
        { kind: "magicNumber", value: 0x11223344 },
        { kind: "authProtocol", protocol: 0xc223, algorithm: 5 },
      ],
    };
    expect(describeLcp(request)).toBe("LCP Configure-Request id=1 MRU=1500 Magic=0x11223344 Auth=CHAP-MD5");
    const lines: [string, string][] = [
      ["0101000d0304c0230305c22381", "LCP Configure-Request id=1 Auth=PAP Auth=MS-CHAPv2"],
      [
        "01010016020600000000" + "0408c025000003e8" + "07020802",
        "LCP Configure-Request id=1 ACCM=0x00000000 Quality=LQR/1000 PFC ACFC",
      ],
      ["0201000a" + "110405dc" + "2a02", "LCP Configure-Ack id=1 MRRU=05dc opt42"],
      ["05070007627965", 'LCP Terminate-Request id=7 data="bye"'],
      ["06070004", "LCP Terminate-Ack id=7"],
      ["07080008" + "0e010004", "LCP Code-Reject id=8 rejected=0e010004"],
      ["08090008" + "8057" + "0101", "LCP Protocol-Reject id=9 protocol=IPv6CP rejected=0101"],
      ["0964000dcafebabe70696e6730", 'LCP Echo-Request id=100 Magic=0xcafebabe data="ping0"'],
      ["0a010008cafebabe", "LCP Echo-Reply id=1 Magic=0xcafebabe"],
      ["0c02000b11223344" + "6c6e73", 'LCP Identification id=2 Magic=0x11223344 message="lns"'],
      ["0d03000c" + "11223344" + "ffffffff", "LCP Time-Remaining id=3 Magic=0x11223344 remaining=unlimited"],
      ["0e020006abcd", "LCP code 14 id=2 data=abcd"],
    ];
    for (const [bytes, text] of lines) expect(describeLcp(ok(decodeLcp(hex(bytes))))).toBe(text);
  });
});

describe("LCP properties", () => {
  test("every LCP option round-trips: decode(encode(options)) equals options", () => {
    fc.assert(
      fc.property(fc.array(lcpOption, { maxLength: 16 }), (options) => {
        const bytes = encodeOptions(options, lcpOptions);
        expect(ok(decodeOptions(bytes, lcpOptions, "LCP"))).toEqual(options);
      }),
      { seed: 1661, numRuns: 1000 },
    );
  });

  test("each known option alone round-trips byte-exact", () => {
    fc.assert(
      fc.property(lcpKnownOption, (option) => {
        const bytes = encodeOptions([option], lcpOptions);
        const decoded = ok(decodeOptions(bytes, lcpOptions, "LCP"));
        expect(decoded).toEqual([option]);
        expect(toHex(encodeOptions(decoded, lcpOptions))).toBe(toHex(bytes));
      }),
      { seed: 1662, numRuns: 1000 },
    );
  });

  test("every LCP code round-trips: decode(encode(packet)) equals packet, and describe gives one line", () => {
    fc.assert(
      fc.property(lcpPacket, (packet) => {
        const bytes = encodeLcp(packet);
        const decoded = ok(decodeLcp(bytes));
        expect(decoded).toEqual(packet);
        expect(toHex(encodeLcp(decoded))).toBe(toHex(bytes));
        const line = describeLcp(decoded);
        expect(line.startsWith("LCP ")).toBe(true);
        expect(line).not.toContain("\n");
      }),
      { seed: 1663, numRuns: 2000 },
    );
  });
});
