/** IPV6CP (RFC 5072): its two options, codes 1-7, unknowns kept, errors by field, round trips. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  type Decoded,
  decodeIpv6cp,
  decodeOptions,
  describeFrame,
  describeIpv6cp,
  encodeIpv6cp,
  encodeOptions,
  interfaceIdFromString,
  interfaceIdToString,
  ipv6cpOptions,
  linkLocalOf,
} from "../../../protocol/ppp/index.ts";
import { hex, toHex } from "./arbitraries.ts";

function ok<T>(decoded: Decoded<T>): T {
  if (!decoded.ok) throw new Error(`expected ok, got ${decoded.error.field}: ${decoded.error.reason}`);
  return decoded.value;
}

describe("IPV6CP", () => {
  test("a Configure-Request with an Interface-Identifier, as pppd sends it, decodes and encodes back", () => {
    // Code 1, id 1, length 14, option 1 length 10, identifier 0x0211:22ff:fe33:4455.
    const bytes = "0101000e010a021122fffe334455";
    const packet = ok(decodeIpv6cp(hex(bytes)));
    expect(packet).toEqual({
      code: "Configure-Request",
      id: 1,
      options: [{ kind: "interfaceIdentifier", id: "021122fffe334455" }],
    });
    expect(toHex(encodeIpv6cp(packet))).toBe(bytes);
    expect(describeIpv6cp(packet)).toBe("IPv6CP Configure-Request id=1 IfId=021122fffe334455");
    expect(describeFrame(hex(`ff038057${bytes}`))).toBe(
      "IPv6CP Configure-Request id=1 IfId=021122fffe334455",
    );
  });

  test("IPv6-Compression-Protocol and unknown options are kept byte-exact", () => {
    const bytes = "0206004f0001" + "0904aabb" + "010a0000000000000000";
    expect(ok(decodeOptions(hex(bytes), ipv6cpOptions, "IPv6CP Configure-Request"))).toEqual([
      { kind: "ipv6Compression", protocol: 0x004f, data: hex("0001") },
      { kind: "unknown", type: 9, raw: hex("aabb") },
      { kind: "interfaceIdentifier", id: "0000000000000000" },
    ]);
    const options = ok(decodeOptions(hex(bytes), ipv6cpOptions, "IPv6CP"));
    expect(toHex(encodeOptions(options, ipv6cpOptions))).toBe(bytes);
  });

  test("option lengths are checked, with the option named in the field", () => {
    const cases: [string, string, string][] = [
      [
        "01090000000000000000",
        "IPv6CP Configure-Request.option[0] Interface-Identifier (1).length",
        "expected 10, got 9",
      ],
      [
        "0203004f",
        "IPv6CP Configure-Request.option[0] IPv6-Compression-Protocol (2).length",
        "expected at least 4, got 3",
      ],
    ];
    for (const [bytes, field, reason] of cases) {
      const decoded = decodeOptions(hex(bytes), ipv6cpOptions, "IPv6CP Configure-Request");
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) {
        expect(decoded.error.field).toBe(field);
        expect(decoded.error.reason).toContain(reason);
      }
    }
  });

  test("Terminate, Code-Reject and unknown codes go through the shared packet codec", () => {
    for (const bytes of ["05020004", "06030004", "0704000801010004"]) {
      expect(toHex(encodeIpv6cp(ok(decodeIpv6cp(hex(bytes)))))).toBe(bytes);
    }
    expect(ok(decodeIpv6cp(hex("0905000401"))).code).toBe("Unknown");
    expect(decodeIpv6cp(hex("0101")).ok).toBe(false);
  });

  test("an identifier string is 16 hex digits, nothing else; its link-local address drops leading zeros", () => {
    expect(() => interfaceIdFromString("0211")).toThrow(RangeError);
    expect(() => interfaceIdFromString("021122fffe33445g")).toThrow(RangeError);
    expect(() => interfaceIdFromString("021122FFFE334455")).toThrow(RangeError);
    expect(linkLocalOf("021122fffe334455")).toBe("fe80::211:22ff:fe33:4455");
    expect(linkLocalOf("0000000000000001")).toBe("fe80::0:0:0:1");
  });

  test("property: any eight octets round-trip through the string form", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), (bytes) => {
        expect(interfaceIdFromString(interfaceIdToString(bytes))).toEqual(bytes);
      }),
    );
  });
});
