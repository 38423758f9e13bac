/** Names of protocol numbers and codes, and one-line descriptions of whole frames (for `l2tp decode`). */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  authProtocolName,
  ControlCode,
  controlCodeName,
  describeFrame,
  describePayload,
  encodeChap,
  encodeFrame,
  encodeIpcp,
  encodeLcp,
  encodePap,
  PppProtocol,
  protocolName,
} from "../../../protocol/ppp/index.ts";
import { bytes, chapPacket, hex, ipcpPacket, lcpPacket, papPacket, pppProtocol } from "./arbitraries.ts";

describe("names", () => {
  test("protocol numbers by name, unknown ones in hex", () => {
    const expected: [number, string][] = [
      [0xc021, "LCP"],
      [0xc023, "PAP"],
      [0xc223, "CHAP"],
      [0x8021, "IPCP"],
      [0x0021, "IPv4"],
      [0x0057, "IPv6"],
      [0x8057, "IPv6CP"],
      [0x80fd, "CCP"],
      [0xc025, "LQR"],
      [0xc227, "EAP"],
      [0x8207, "0x8207"],
      [0x0001, "0x0001"],
    ];
    for (const [number, name] of expected) expect(protocolName(number)).toBe(name);
    expect(PppProtocol.LCP).toBe(0xc021);
  });

  test("authentication protocol names, with the CHAP algorithm", () => {
    expect(authProtocolName(0xc023)).toBe("PAP");
    expect(authProtocolName(0xc223, 5)).toBe("CHAP-MD5");
    expect(authProtocolName(0xc223, 0x80)).toBe("MS-CHAP");
    expect(authProtocolName(0xc223, 0x81)).toBe("MS-CHAPv2");
    expect(authProtocolName(0xc223, 9)).toBe("CHAP-alg9");
    expect(authProtocolName(0xc227)).toBe("EAP");
  });

  test("control code names 1-13 both ways", () => {
    for (const [name, code] of Object.entries(ControlCode))
      expect(controlCodeName(code) as string).toBe(name);
    expect(controlCodeName(1)).toBe("Configure-Request");
    expect(controlCodeName(13)).toBe("Time-Remaining");
    expect(controlCodeName(0)).toBeUndefined();
    expect(controlCodeName(14)).toBeUndefined();
  });
});

describe("describeFrame", () => {
  test("dispatches on the protocol, with or without Address/Control and PFC", () => {
    expect(describeFrame(hex("ff03c0210101000e01040578050611223344"))).toBe(
      "LCP Configure-Request id=1 MRU=1400 Magic=0x11223344",
    );
    expect(describeFrame(hex("8021 0101000a 0306 00000000"))).toBe(
      "IPCP Configure-Request id=1 Addr=0.0.0.0",
    );
    expect(describeFrame(hex("ff03c023 0101000b 03626f62 027077"))).toBe(
      'PAP Authenticate-Request id=1 peer="bob" password=<2 octets>',
    );
    expect(describeFrame(hex("ff03c223 03010004"))).toBe("CHAP Success id=1");
    expect(describeFrame(hex("21 4500001c000100004001f96d7f0000017f0000010800f7ff00000000"))).toBe(
      "IPv4 127.0.0.1 > 127.0.0.1 ICMP 28 octets",
    );
    expect(describeFrame(hex("21 6000"))).toBe("IPv4 2 octets");
    expect(describeFrame(hex("0057 6000000000000000"))).toBe("IPv6 8 octets");
    expect(describeFrame(hex("80fd 0101 0004"))).toBe("CCP 4 octets");
  });

  test("malformed frames and packets are described, not thrown", () => {
    expect(describeFrame(hex("ff13"))).toBe(
      "PPP malformed (frame.control: expected 0x03 after Address 0xFF (RFC 1662 §3.1), got 0x13)",
    );
    expect(describeFrame(hex("c021 010103"))).toBe(
      "LCP malformed (LCP.length: packet of 3 octets is shorter than the 4-octet header)",
    );
    expect(describePayload(PppProtocol.CHAP, hex("09010004"))).toContain("CHAP malformed (CHAP.code");
    expect(describePayload(PppProtocol.PAP, hex("01010004"))).toContain(
      "PAP malformed (PAP Authenticate-Request",
    );
    expect(describePayload(PppProtocol.IPCP, hex("0101000503"))).toContain(
      "IPCP malformed (IPCP Configure-Request",
    );
  });

  test("every encodable packet of every protocol describes as one line starting with its protocol", () => {
    const payloads = fc.oneof(
      lcpPacket.map((p) => ({ protocol: 0xc021, name: "LCP", payload: encodeLcp(p) })),
      ipcpPacket.map((p) => ({ protocol: 0x8021, name: "IPCP", payload: encodeIpcp(p) })),
      papPacket.map((p) => ({ protocol: 0xc023, name: "PAP", payload: encodePap(p) })),
      chapPacket.map((p) => ({ protocol: 0xc223, name: "CHAP", payload: encodeChap(p) })),
      fc.record({ protocol: pppProtocol, name: fc.constant(""), payload: bytes(64) }),
    );
    fc.assert(
      fc.property(payloads, fc.boolean(), fc.boolean(), ({ protocol, name, payload }, acfc, pfc) => {
        const line = describeFrame(encodeFrame({ protocol, payload }, { acfc, pfc }));
        expect(line).not.toContain("\n");
        expect(line.length).toBeLessThan(2000);
        if (name) {
          expect(line.startsWith(`${name} `)).toBe(true);
          expect(line).not.toContain("malformed");
        }
      }),
      { seed: 1570, numRuns: 1000 },
    );
  });
});
