/**
 * PPP inside real xl2tpd captures: the frames carried in L2TP data messages, and the proxy LCP AVPs
 * (RFC 2661 §4.4.5, AVPs 26-28: raw LCP Configure-Request options) of an ICCN. The few L2TP header octets
 * needed are read inline so this test does not depend on protocol/l2tp.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { readCapture } from "../../../adapters/capture/pcap.ts";
import {
  decodeFrame,
  decodeLcp,
  decodeOptions,
  describeFrame,
  describeOptions,
  lcpOptions,
  PppProtocol,
} from "../../../protocol/ppp/index.ts";
import { toHex } from "./arbitraries.ts";

const capturesDir = new URL("../../fixtures/captures/", import.meta.url).pathname;

interface L2tpPart {
  frame: number;
  isControl: boolean;
  /** PPP frame (data) or AVPs (control). */
  body: Uint8Array;
}

/** Splits an L2TPv2 packet after its header (RFC 2661 §3.1): T, L, S, O bits decide which fields follow. */
function l2tpBody(packet: Uint8Array): { isControl: boolean; body: Uint8Array } {
  const flags = (packet[0] << 8) | packet[1];
  expect(flags & 0x000f).toBe(2); // version 2
  let at = 2;
  if (flags & 0x4000) at += 2; // Length
  at += 4; // Tunnel ID, Session ID
  if (flags & 0x0800) at += 4; // Ns, Nr
  if (flags & 0x0200) at += 2 + ((packet[at] << 8) | packet[at + 1]); // Offset Size and padding
  return { isControl: (flags & 0x8000) !== 0, body: packet.subarray(at) };
}

function readL2tp(file: string): L2tpPart[] {
  const capture = readCapture(readFileSync(capturesDir + file));
  if (!capture.ok) throw new Error(capture.error);
  return capture.datagrams.map((d) => ({ frame: d.frame, ...l2tpBody(d.payload) }));
}

function dataFrames(file: string): { frame: number; line: string }[] {
  return readL2tp(file)
    .filter((p) => !p.isControl)
    .map((p) => ({ frame: p.frame, line: describeFrame(p.body) }));
}

describe("PPP in xl2tpd captures", () => {
  test("xl2tpd-lns-fakepppd: LCP Configure-Request, echoes, and an IP frame in data messages", () => {
    expect(dataFrames("xl2tpd-lns-fakepppd.pcapng")).toEqual([
      { frame: 10, line: "LCP Configure-Request id=1 MRU=1400 Magic=0x11223344" },
      { frame: 11, line: 'LCP Echo-Request id=100 Magic=0xcafebabe data="ping0"' },
      { frame: 12, line: 'LCP Echo-Reply id=100 Magic=0x00000000 data="ping0"' },
      { frame: 13, line: 'LCP Echo-Request id=101 Magic=0xcafebabe data="ping1"' },
      { frame: 14, line: 'LCP Echo-Reply id=101 Magic=0x00000000 data="ping1"' },
      { frame: 15, line: "IPv4 127.0.0.1 > 127.0.0.1 ICMP 28 octets" },
      { frame: 16, line: "IPv4 127.0.0.1 > 127.0.0.1 ICMP 28 octets" },
    ]);
  });

  test("the decoded values of the LNS's Configure-Request and the scripted LAC's Echo-Request", () => {
    const packets = readL2tp("xl2tpd-lns-fakepppd.pcapng").filter((p) => !p.isControl);
    const confReq = decodeFrame(packets[0].body);
    if (!confReq.ok) throw new Error(confReq.error.reason);
    expect(confReq.value.addressControl).toBe(true);
    expect(confReq.value.protocol).toBe(PppProtocol.LCP);
    expect(decodeLcp(confReq.value.payload)).toEqual({
      ok: true,
      value: {
        code: "Configure-Request",
        id: 1,
        options: [
          { kind: "mru", value: 1400 },
          { kind: "magicNumber", value: 0x11223344 },
        ],
      },
    });
    const echo = decodeFrame(packets[1].body);
    if (!echo.ok) throw new Error(echo.error.reason);
    expect(decodeLcp(echo.value.payload)).toEqual({
      ok: true,
      value: { code: "Echo-Request", id: 100, magic: 0xcafebabe, data: new TextEncoder().encode("ping0") },
    });
    const ip = decodeFrame(packets[5].body);
    if (!ip.ok) throw new Error(ip.error.reason);
    expect(ip.value.protocol).toBe(PppProtocol.IPv4);
    expect(ip.value.payload.length).toBe(28);
  });

  test("xl2tpd-lns-seq-proxy: the same PPP behind data headers with L and S bits", () => {
    const lines = dataFrames("xl2tpd-lns-seq-proxy.pcapng").map((d) => d.line);
    expect(lines).toHaveLength(7);
    expect(lines[0]).toBe("LCP Configure-Request id=1 MRU=1400 Magic=0x11223344");
    expect(lines[1]).toBe('LCP Echo-Request id=100 Magic=0xcafebabe data="ping0"');
    expect(lines[5]).toBe("IPv4 127.0.0.1 > 127.0.0.1 ICMP 28 octets");
  });

  test("xl2tpd-lac-fakepppd: the scripted LNS's Echo-Requests through xl2tpd as LAC", () => {
    expect(dataFrames("xl2tpd-lac-fakepppd.pcapng").map((d) => d.line)).toEqual([
      "LCP Configure-Request id=1 MRU=1400 Magic=0x11223344",
      'LCP Echo-Request id=1 Magic=0x01020304 data="lns-ping"',
      'LCP Echo-Reply id=1 Magic=0x00000000 data="lns-ping"',
      'LCP Echo-Request id=2 Magic=0x01020304 data="lns-ping"',
      'LCP Echo-Reply id=2 Magic=0x00000000 data="lns-ping"',
    ]);
  });

  test("xl2tpd-lns-seq-proxy: proxy LCP AVPs 26, 27, 28 of the ICCN hold raw Configure-Request options", () => {
    const iccn = readL2tp("xl2tpd-lns-seq-proxy.pcapng").find((p) => p.frame === 7);
    if (!iccn?.isControl) throw new Error("frame 7 should be the ICCN");
    // AVPs (RFC 2661 §4.1): flags and 10-bit length, vendor id, attribute type, value.
    const avps = new Map<number, Uint8Array>();
    for (let at = 0; at + 6 <= iccn.body.length; ) {
      const length = ((iccn.body[at] << 8) | iccn.body[at + 1]) & 0x3ff;
      expect(length).toBeGreaterThanOrEqual(6);
      avps.set((iccn.body[at + 4] << 8) | iccn.body[at + 5], iccn.body.subarray(at + 6, at + length));
      at += length;
    }
    const proxy = (attribute: number) => {
      const value = avps.get(attribute);
      if (!value) throw new Error(`AVP ${attribute} missing`);
      const options = decodeOptions(value, lcpOptions, `proxy LCP AVP ${attribute}`);
      if (!options.ok) throw new Error(options.error.reason);
      return options.value;
    };
    const initialReceived = proxy(26);
    expect(initialReceived).toEqual([
      { kind: "mru", value: 1460 },
      { kind: "authProtocol", protocol: PppProtocol.PAP },
      { kind: "magicNumber", value: 0xdeadbeef },
    ]);
    expect(describeOptions(initialReceived, lcpOptions)).toBe("MRU=1460 Auth=PAP Magic=0xdeadbeef");
    expect(proxy(27)).toEqual([
      { kind: "mru", value: 1460 },
      { kind: "magicNumber", value: 0xcafebabe },
    ]);
    expect(proxy(28)).toEqual(initialReceived);
    expect(toHex(avps.get(26) ?? new Uint8Array(0))).toBe("010405b40304c0230506deadbeef");
  });
});
