import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { AVP_BY_NAME, AVP_BY_TYPE, AVP_CATALOG, avpLabel } from "../../../protocol/l2tp/avps.ts";
import { decodeControl, encodeControl } from "../../../protocol/l2tp/messages.ts";
import { allAvpNames, avpArbitraries } from "./arbitraries.ts";

const header = { tunnelId: 1, sessionId: 2, ns: 3, nr: 4 };

/** A HELLO carrying one raw AVP after the Message Type (decoding does not care which type carries it). */
function helloWith(avp: number[]): Uint8Array {
  const out = new Uint8Array(20 + avp.length);
  out.set(encodeControl(header, { type: "HELLO", avps: {} }));
  out.set(avp, 20);
  out[3] = out.length;
  return out;
}

/** The 6-byte AVP header: flags+length, vendor, type. */
function avpHeader(flags: number, length: number, vendor: number, type: number): number[] {
  const f = flags | length;
  return [f >> 8, f & 0xff, vendor >> 8, vendor & 0xff, type >> 8, type & 0xff];
}

describe("AVP catalog", () => {
  test("types and names are unique, and lookups agree", () => {
    const types = AVP_CATALOG.map((s) => s.type);
    expect(new Set(types).size).toBe(types.length);
    expect(new Set(AVP_CATALOG.map((s) => s.key)).size).toBe(AVP_CATALOG.length);
    for (const s of AVP_CATALOG) {
      expect(AVP_BY_TYPE[s.type]).toBe(s);
      expect(AVP_BY_NAME[s.key] as unknown).toBe(s);
    }
  });

  test("covers every RFC 2661 type 1-39 (20 is unassigned), RFC 3145 (46) and RFC 4951 (76-79)", () => {
    const expected = [
      ...Array.from({ length: 39 }, (_, i) => i + 1).filter((t) => t !== 20),
      46,
      76,
      77,
      78,
      79,
    ];
    expect(AVP_CATALOG.map((s) => s.type)).toEqual(expected);
  });

  test("RFC M bits and hiding rules of the AVPs peers care about", () => {
    expect(AVP_BY_NAME.hostName.mandatory).toBe(true);
    expect(AVP_BY_NAME.vendorName.mandatory).toBe(false);
    expect(AVP_BY_NAME.firmwareRevision.mandatory).toBe(false);
    expect(AVP_BY_NAME.tieBreaker.mandatory).toBe(false);
    expect(AVP_BY_NAME.rxConnectSpeed.mandatory).toBe(false);
    expect(AVP_BY_NAME.proxyAuthenName.mandatory).toBe(false);
    expect(AVP_BY_NAME.sequencingRequired.mandatory).toBe(true);
    expect(AVP_BY_NAME.pppDisconnectCause.mandatory).toBe(false);
    expect(AVP_BY_NAME.randomVector.hideable).toBe(false);
    expect(AVP_BY_NAME.protocolVersion.hideable).toBe(false);
    expect(AVP_BY_NAME.assignedSessionId.hideable).toBe(true);
  });

  test("labels name the AVP for errors", () => {
    expect(avpLabel(9)).toBe("Assigned Tunnel ID (9)");
    expect(avpLabel(0)).toBe("Message Type (0)");
    expect(avpLabel(99)).toBe("unknown attribute 99");
    expect(avpLabel(9, 311)).toBe("vendor 311 attribute 9");
  });
});

describe("every AVP round-trips through encodeControl/decodeControl", () => {
  for (const name of allAvpNames) {
    test(name, () => {
      fc.assert(
        fc.property(avpArbitraries[name], (value) => {
          const message = { type: "HELLO" as const, avps: { [name]: value } };
          const r = decodeControl(encodeControl(header, message));
          expect(r.ok).toBe(true);
          if (r.ok) expect(r.value.message).toEqual(message);
        }),
        { numRuns: 60 },
      );
    });
  }
});

describe("value length rules", () => {
  for (const s of AVP_CATALOG) {
    test(`${s.name} (${s.type}): a value of a wrong length with the M bit is an error naming the AVP`, () => {
      // Try every value length up to 30 and check decode agrees with the codec's rule.
      for (let n = 0; n <= 30; n++) {
        const r = decodeControl(
          helloWith([...avpHeader(0x8000, 6 + n, 0, s.type), ...new Array(n).fill(0x41)]),
        );
        const wrong = s.codec.check(n);
        if (wrong === undefined) {
          expect(r.ok).toBe(true);
        } else {
          expect(r.ok).toBe(false);
          if (!r.ok) {
            expect(r.error.field).toBe(`avp[1] ${s.name} (${s.type}).length`);
            expect(r.error.reason).toBe(wrong);
            expect(r.error.errorCode).toBe(2);
          }
        }
      }
    });
  }

  test("the reason gives whole-AVP lengths, as on the wire", () => {
    const r = decodeControl(helloWith([...avpHeader(0x8000, 7, 0, 9), 0]));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.field).toBe("avp[1] Assigned Tunnel ID (9).length");
      expect(r.error.reason).toBe("expected 8 bytes, got 7");
    }
  });

  test("a malformed AVP without the M bit is kept as opaque, not an error (RFC 2661 §4.1)", () => {
    const r = decodeControl(helloWith([...avpHeader(0, 9, 0, 6), 1, 2, 3]));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.message?.avps).toEqual({});
      expect(r.value.message?.opaque).toEqual([
        { vendorId: 0, attribute: 6, mandatory: false, hidden: false, value: new Uint8Array([1, 2, 3]) },
      ]);
    }
  });
});

describe("tolerance for sloppy peers", () => {
  test("a Result Code without an Error Code (8 bytes) decodes", () => {
    const r = decodeControl(helloWith([...avpHeader(0x8000, 8, 0, 1), 0, 1]));
    expect(r.ok && r.value.message?.avps.resultCode).toEqual({ result: 1 });
  });

  test("a vendor AVP numbered like an IETF one is not that AVP", () => {
    const r = decodeControl(helloWith([...avpHeader(0, 8, 9, 9), 0x12, 0x34]));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.message?.avps.assignedTunnelId).toBeUndefined();
      expect(r.value.message?.opaque?.[0]).toEqual({
        vendorId: 9,
        attribute: 9,
        mandatory: false,
        hidden: false,
        value: new Uint8Array([0x12, 0x34]),
      });
    }
  });

  test("invalid UTF-8 in a string AVP decodes leniently", () => {
    const r = decodeControl(helloWith([...avpHeader(0x8000, 10, 0, 7), 0x61, 0xff, 0xc3, 0x62]));
    expect(r.ok && r.value.message?.avps.hostName).toBe("a\ufffd\ufffdb");
  });

  test("a non-ASCII host name decodes as UTF-8", () => {
    const name = "lns-zürich.example";
    const r = decodeControl(encodeControl(header, { type: "HELLO", avps: { hostName: name } }));
    expect(r.ok && r.value.message?.avps.hostName).toBe(name);
  });

  test("an L2TPv3-style 32-bit Tunnel Recovery value is read", () => {
    const r = decodeControl(helloWith([...avpHeader(0x8000, 16, 0, 77), 0, 0, 0, 0, 0, 7, 0, 0, 0, 9]));
    expect(r.ok && r.value.message?.avps.tunnelRecovery).toEqual({
      recoverTunnelId: 7,
      recoverRemoteTunnelId: 9,
    });
  });
});

describe("wire layouts of the structured AVPs", () => {
  const encodeOne = (avps: Parameters<typeof encodeControl>[1]) => [
    ...encodeControl(header, avps).subarray(20),
  ];

  test("Result Code with error and message", () => {
    expect(
      encodeOne({ type: "StopCCN", avps: { resultCode: { result: 2, error: 6, message: "x" } } }),
    ).toEqual([0x80, 11, 0, 0, 0, 1, 0, 2, 0, 6, 0x78]);
  });

  test("Framing and Bearer bits (RFC 2661 §4.4.3: sync/digital 0x1, async/analog 0x2)", () => {
    expect(encodeOne({ type: "HELLO", avps: { framingCapabilities: { async: true, sync: false } } })).toEqual(
      [0x80, 10, 0, 0, 0, 3, 0, 0, 0, 2],
    );
    expect(encodeOne({ type: "HELLO", avps: { bearerType: { analog: false, digital: true } } })).toEqual([
      0x80, 10, 0, 0, 0, 18, 0, 0, 0, 1,
    ]);
  });

  test("Proxy Authen ID has a reserved byte first; Sequencing Required is empty", () => {
    expect(encodeOne({ type: "HELLO", avps: { proxyAuthenId: 7 } })).toEqual([0, 8, 0, 0, 0, 32, 0, 7]);
    expect(encodeOne({ type: "HELLO", avps: { sequencingRequired: true } })).toEqual([0x80, 6, 0, 0, 0, 39]);
  });

  test("ACCM and PPP Disconnect Cause Code", () => {
    expect(encodeOne({ type: "SLI", avps: { accm: { send: 0xffffffff, receive: 0 } } })).toEqual([
      0x80, 16, 0, 0, 0, 35, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
    ]);
    expect(
      encodeOne({
        type: "CDN",
        avps: { pppDisconnectCause: { code: 3, protocol: 0xc021, direction: 1, message: "t" } },
      }),
    ).toEqual([0, 12, 0, 0, 0, 46, 0, 3, 0xc0, 0x21, 1, 0x74]);
  });

  test("RFC 4951 failover AVPs are 12 bytes", () => {
    expect(
      encodeOne({
        type: "SCCRQ",
        avps: { failoverCapability: { controlChannel: true, dataChannel: false, recoveryTime: 5 } },
      }),
    ).toEqual([0, 12, 0, 0, 0, 76, 0, 1, 0, 0, 0, 5]);
    expect(
      encodeOne({
        type: "SCCRQ",
        avps: { tunnelRecovery: { recoverTunnelId: 1, recoverRemoteTunnelId: 2 } },
      }),
    ).toEqual([0x80, 12, 0, 0, 0, 77, 0, 0, 0, 1, 0, 2]);
  });
});
