/** IPCP (RFC 1332, RFC 1877): every option, codes 1-7, unknowns kept, errors by field, round trips. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  type Decoded,
  decodeIpcp,
  decodeOptions,
  describeIpcp,
  encodeIpcp,
  encodeOptions,
  type IpcpPacket,
  ipcpOptions,
  ipv4FromString,
  ipv4ToString,
} from "../../../protocol/ppp/index.ts";
import { hex, ipcpKnownOption, ipcpOption, ipcpPacket, toHex } from "./arbitraries.ts";

function ok<T>(decoded: Decoded<T>): T {
  if (!decoded.ok) throw new Error(`expected ok, got ${decoded.error.field}: ${decoded.error.reason}`);
  return decoded.value;
}

function roundTrip(bytes: string, expected: IpcpPacket): void {
  const value = ok(decodeIpcp(hex(bytes)));
  expect(value).toEqual(expected);
  expect(toHex(encodeIpcp(value))).toBe(bytes);
}

describe("IPCP options", () => {
  test("every known option decodes to its typed value and encodes back byte-exact", () => {
    const bytes =
      "010a0a0000010a000002" + // IP-Addresses 10.0.0.1, 10.0.0.2
      "0206002d0f01" + // IP-Compression VJ, max slot 15, comp slot 1
      "0306c0a80101" + // IP-Address 192.168.1.1
      "810608080808" + // Primary DNS
      "82060a0a0a0a" + // Primary NBNS
      "830608080404" + // Secondary DNS
      "84060a0a0a0b"; // Secondary NBNS
    const options = ok(decodeOptions(hex(bytes), ipcpOptions, "IPCP Configure-Request"));
    expect(options).toEqual([
      { kind: "ipAddresses", source: "10.0.0.1", destination: "10.0.0.2" },
      { kind: "ipCompression", protocol: 0x002d, data: hex("0f01") },
      { kind: "ipAddress", address: "192.168.1.1" },
      { kind: "primaryDns", address: "8.8.8.8" },
      { kind: "primaryNbns", address: "10.10.10.10" },
      { kind: "secondaryDns", address: "8.8.4.4" },
      { kind: "secondaryNbns", address: "10.10.10.11" },
    ]);
    expect(toHex(encodeOptions(options, ipcpOptions))).toBe(bytes);
  });

  test("unknown options (an LCP type number means nothing here) are kept byte-exact", () => {
    const bytes = "0506112233440306000000000702";
    expect(ok(decodeOptions(hex(bytes), ipcpOptions, "IPCP"))).toEqual([
      { kind: "unknown", type: 5, raw: hex("11223344") },
      { kind: "ipAddress", address: "0.0.0.0" },
      { kind: "unknown", type: 7, raw: hex("") },
    ]);
  });

  test("option lengths are checked, with the option named in the field", () => {
    const cases: [string, string, string][] = [
      ["0305c0a801", "IPCP Configure-Request.option[0] IP-Address (3).length", "expected 6, got 5"],
      [
        "0109" + "00000000000000",
        "IPCP Configure-Request.option[0] IP-Addresses (1).length",
        "expected 10, got 9",
      ],
      [
        "0203002d",
        "IPCP Configure-Request.option[0] IP-Compression-Protocol (2).length",
        "expected at least 4, got 3",
      ],
      ["81070808080808", "IPCP Configure-Request.option[0] Primary-DNS (129).length", "expected 6, got 7"],
      ["82040000", "IPCP Configure-Request.option[0] Primary-NBNS (130).length", "expected 6, got 4"],
      ["8306080804", "IPCP Configure-Request.option[0] Secondary-DNS (131).length", "runs past the end"],
      ["84050a0a0a", "IPCP Configure-Request.option[0] Secondary-NBNS (132).length", "expected 6, got 5"],
    ];
    for (const [bytes, field, reason] of cases) {
      const decoded = decodeOptions(hex(bytes), ipcpOptions, "IPCP Configure-Request");
      expect(decoded.ok).toBe(false);
      if (decoded.ok) continue;
      expect(decoded.error.field).toBe(field);
      expect(decoded.error.reason).toContain(reason);
    }
  });

  test("addresses must be dotted quads to be encoded", () => {
    expect(toHex(ipv4FromString("255.0.10.1"))).toBe("ff000a01");
    const badAddresses = [
      "256.0.0.1",
      "1.2.3",
      "1.2.3.4.5",
      "01.2.3.4",
      "a.b.c.d",
      "",
      "1..2.3",
      "1.2.3.4.",
      ".1.2.3",
    ];
    badAddresses.push(
      "1.2.3.1000",
      "1.2.3.00",
      " 1.2.3.4",
      "1.2.3.-1",
      "1.2.3.4a",
      "1.2.3.+4",
      "999.1.1.1",
      "1.2.3.٣",
    );
    for (const bad of badAddresses) {
      expect(() => ipv4FromString(bad)).toThrow(RangeError);
    }
    expect(() => encodeOptions([{ kind: "ipAddress", address: "10.0.0" }], ipcpOptions)).toThrow(RangeError);
  });

  test("every dotted quad encodes to its four octets and back", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (octets) => {
        const address = ipv4ToString(octets);
        expect(toHex(ipv4FromString(address))).toBe(toHex(octets));
      }),
      { seed: 1332, numRuns: 2000 },
    );
  });
});

describe("IPCP codes", () => {
  test("1-4 Configure-* with addresses and DNS (RFC 1877)", () => {
    roundTrip("01010016" + "030600000000" + "810600000000" + "830600000000", {
      code: "Configure-Request",
      id: 1,
      options: [
        { kind: "ipAddress", address: "0.0.0.0" },
        { kind: "primaryDns", address: "0.0.0.0" },
        { kind: "secondaryDns", address: "0.0.0.0" },
      ],
    });
    roundTrip("0302000a03060a000002", {
      code: "Configure-Nak",
      id: 2,
      options: [{ kind: "ipAddress", address: "10.0.0.2" }],
    });
    roundTrip("0203000a03060a000002", {
      code: "Configure-Ack",
      id: 3,
      options: [{ kind: "ipAddress", address: "10.0.0.2" }],
    });
    roundTrip("04040008" + "0204002d", {
      code: "Configure-Reject",
      id: 4,
      options: [{ kind: "ipCompression", protocol: 0x002d, data: hex("") }],
    });
  });

  test("5 Terminate-Request, 6 Terminate-Ack, 7 Code-Reject", () => {
    roundTrip("05010004", { code: "Terminate-Request", id: 1, data: hex("") });
    roundTrip("06010006abcd", { code: "Terminate-Ack", id: 1, data: hex("abcd") });
    roundTrip("07020008" + "09010004", { code: "Code-Reject", id: 2, rejected: hex("09010004") });
  });

  test("codes 8 and up, and 0, are unknown to IPCP (RFC 1332 §2) and kept for a Code-Reject", () => {
    roundTrip("09010008cafebabe", { code: "Unknown", codeNumber: 9, id: 1, data: hex("cafebabe") });
    roundTrip("00010004", { code: "Unknown", codeNumber: 0, id: 1, data: hex("") });
  });

  test("header errors name IPCP", () => {
    const e = decodeIpcp(hex("010100"));
    expect(e.ok).toBe(false);
    if (!e.ok) expect(e.error.field).toBe("IPCP.length");
    const f = decodeIpcp(hex("0101000a0306c0a801"));
    expect(f.ok).toBe(false);
    if (!f.ok) expect(f.error.reason).toBe("10 exceeds the 9 octets received");
  });

  test("describeIpcp gives one line", () => {
    const line = (bytes: string) => describeIpcp(ok(decodeIpcp(hex(bytes))));
    expect(line("01010010030600000000810600000000")).toBe(
      "IPCP Configure-Request id=1 Addr=0.0.0.0 DNS1=0.0.0.0",
    );
    expect(line("02010016" + "010a0a0000010a000002" + "0206002d0f01" + "0702")).toBe(
      "IPCP Configure-Ack id=1 Addresses=10.0.0.1,10.0.0.2 Compression=VJ(slots=16,comp=1) opt7",
    );
    expect(line("04010008" + "02040061")).toBe("IPCP Configure-Reject id=1 Compression=0x0061");
    expect(line("05070004")).toBe("IPCP Terminate-Request id=7");
    expect(line("09010005ee")).toBe("IPCP code 9 id=1 data=ee");
  });
});

describe("IPCP properties", () => {
  test("every IPCP option round-trips", () => {
    fc.assert(
      fc.property(fc.array(ipcpOption, { maxLength: 16 }), (options) => {
        expect(ok(decodeOptions(encodeOptions(options, ipcpOptions), ipcpOptions, "IPCP"))).toEqual(options);
      }),
      { seed: 1332, numRuns: 1000 },
    );
  });

  test("each known option alone round-trips byte-exact", () => {
    fc.assert(
      fc.property(ipcpKnownOption, (option) => {
        const bytes = encodeOptions([option], ipcpOptions);
        const decoded = ok(decodeOptions(bytes, ipcpOptions, "IPCP"));
        expect(decoded).toEqual([option]);
        expect(toHex(encodeOptions(decoded, ipcpOptions))).toBe(toHex(bytes));
      }),
      { seed: 1333, numRuns: 1000 },
    );
  });

  test("every IPCP packet round-trips byte-exact and describes in one line", () => {
    fc.assert(
      fc.property(ipcpPacket, (packet) => {
        const bytes = encodeIpcp(packet);
        const decoded = ok(decodeIpcp(bytes));
        expect(decoded).toEqual(packet);
        expect(toHex(encodeIpcp(decoded))).toBe(toHex(bytes));
        expect(describeIpcp(decoded).startsWith("IPCP ")).toBe(true);
      }),
      { seed: 1334, numRuns: 2000 },
    );
  });
});
