import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { AVP_CATALOG, type AvpName } from "../../../protocol/l2tp/avps.ts";
import { encodeZlb } from "../../../protocol/l2tp/header.ts";
import { MESSAGE_TYPES } from "../../../protocol/l2tp/message-types.ts";
import {
  type ControlMessage,
  decodeControl,
  encodeControl,
  peekSccrqAssignedTunnelId,
  readdressControl,
} from "../../../protocol/l2tp/messages.ts";
import {
  anyMessageArbitrary,
  avpsArbitrary,
  headerArbitrary,
  hideableNames,
  messageArbitrary,
  opaqueArbitrary,
} from "./arbitraries.ts";

const header = { tunnelId: 0x1234, sessionId: 0x5678, ns: 1, nr: 2 };
const secret = new TextEncoder().encode("s3cret");

/** Builds a control packet by hand: header, then raw AVP bytes. */
function rawControl(avpBytes: number[], h = header): Uint8Array {
  const out = new Uint8Array(12 + avpBytes.length);
  out.set(encodeZlb(h));
  out.set(avpBytes, 12);
  out[2] = out.length >> 8;
  out[3] = out.length & 0xff;
  return out;
}

function avp(flags: number, vendor: number, type: number, value: number[]): number[] {
  const f = flags | (6 + value.length);
  return [f >> 8, f & 0xff, vendor >> 8, vendor & 0xff, type >> 8, type & 0xff, ...value];
}

const M = 0x8000;
const messageTypeAvp = (code: number, flags = M) => avp(flags, 0, 0, [code >> 8, code & 0xff]);

describe("ZLB", () => {
  test("a control header alone decodes to message null, and encodes back", () => {
    const zlb = encodeControl(header, null);
    expect(zlb.length).toBe(12);
    expect(decodeControl(zlb)).toEqual({ ok: true, value: { header, message: null } });
  });
});

describe("round trips", () => {
  for (const { name } of MESSAGE_TYPES) {
    test(`${name}: arbitrary valid message → encode → decode → equal`, () => {
      fc.assert(
        fc.property(headerArbitrary, messageArbitrary(name), (h, message) => {
          const r = decodeControl(encodeControl(h, message));
          expect(r).toEqual({ ok: true, value: { header: h, message } });
        }),
        { numRuns: 40 },
      );
    });
  }

  test("with a random subset hidden, secret and random vector: decode reveals the same values", () => {
    fc.assert(
      fc.property(
        anyMessageArbitrary,
        fc.subarray(hideableNames),
        fc.uint8Array({ minLength: 1, maxLength: 32 }),
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 20 }),
        (message, hide, randomVector, key, hiddenPadding) => {
          const packet = encodeControl(header, message, { secret: key, hide, randomVector, hiddenPadding });
          const r = decodeControl(packet, { secret: key });
          const hiddenNames = AVP_CATALOG.map((s) => s.key).filter(
            (k) => hide.includes(k) && message.avps[k] !== undefined && k !== "randomVector",
          );
          // The given random vector is always sent (first), replacing any in the message.
          const expected: ControlMessage = { type: message.type, avps: { ...message.avps, randomVector } };
          if (hiddenNames.length) expected.hidden = hiddenNames;
          expect(r).toEqual({ ok: true, value: { header, message: expected } });
        },
      ),
      { numRuns: 300 },
    );
  });

  test("a packet inside a larger buffer (as a socket may hand it over) decodes as its own copy does", () => {
    fc.assert(
      fc.property(
        anyMessageArbitrary,
        fc.subarray(hideableNames),
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.uint8Array({ minLength: 1, maxLength: 9 }),
        fc.uint8Array({ maxLength: 9 }),
        (message, hide, key, before, after) => {
          const packet = encodeControl(header, message, { secret: key, hide, randomVector: before });
          const framed = new Uint8Array(before.length + packet.length + after.length);
          framed.set(before);
          framed.set(packet, before.length);
          framed.set(after, before.length + packet.length);
          const inside = framed.subarray(before.length, before.length + packet.length);
          expect(decodeControl(inside, { secret: key })).toEqual(decodeControl(packet, { secret: key }));
        },
      ),
      { numRuns: 200 },
    );
  });

  test("opaque (vendor and unknown) AVPs without the M bit round-trip after the typed ones", () => {
    fc.assert(
      fc.property(
        messageArbitrary("ICRQ"),
        fc.array(opaqueArbitrary, { minLength: 1, maxLength: 4 }),
        (message, opaque) => {
          const withOpaque = { ...message, opaque };
          const r = decodeControl(encodeControl(header, withOpaque));
          expect(r).toEqual({ ok: true, value: { header, message: withOpaque } });
        },
      ),
      { numRuns: 100 },
    );
  });

  test("hidden opaque AVPs are revealed with the secret and stay hidden-marked", () => {
    const message: ControlMessage = {
      type: "ICRP",
      avps: { assignedSessionId: 9 },
      opaque: [
        {
          vendorId: 4874,
          attribute: 1,
          mandatory: false,
          hidden: true,
          value: new Uint8Array([1, 2, 3, 4, 5]),
        },
      ],
    };
    const randomVector = new Uint8Array(16).fill(3);
    const r = decodeControl(encodeControl(header, message, { secret, randomVector }), { secret });
    expect(r).toEqual({
      ok: true,
      value: { header, message: { ...message, avps: { ...message.avps, randomVector } } },
    });
  });

  test("keepOrder records the wire order and encodeControl follows it", () => {
    fc.assert(
      fc.property(anyMessageArbitrary, (message) => {
        const first = decodeControl(encodeControl(header, message), { keepOrder: true });
        if (!first.ok || !first.value.message) throw new Error("decode failed");
        const decoded = first.value.message;
        // Reverse the order: the re-encoded packet must list the AVPs reversed, and decode the same.
        const reversed = { ...decoded, order: [...(decoded.order ?? [])].reverse() };
        const again = decodeControl(encodeControl(header, reversed), { keepOrder: true });
        expect(again).toEqual({ ok: true, value: { header, message: reversed } });
      }),
      { numRuns: 100 },
    );
  });

  test("an opaque AVP keeps its place between typed ones", () => {
    const packet = rawControl([
      ...messageTypeAvp(10),
      ...avp(M, 0, 14, [0, 5]),
      ...avp(0, 9, 1, [7]),
      ...avp(M, 0, 15, [0, 0, 0, 1]),
    ]);
    const r = decodeControl(packet, { keepOrder: true });
    expect(r.ok && r.value.message?.order).toEqual(["assignedSessionId", 0, "callSerialNumber"]);
    if (r.ok && r.value.message) expect(encodeControl(r.value.header, r.value.message)).toEqual(packet);
  });
});

describe("encodeControl", () => {
  test("the Message Type AVP is first, with the M bit, and the Length field is the packet length", () => {
    const p = encodeControl(header, { type: "ICRQ", avps: { assignedSessionId: 5, callSerialNumber: 6 } });
    expect([...p.subarray(0, 20)]).toEqual([
      0xc8,
      2,
      0,
      p.length,
      0x12,
      0x34,
      0x56,
      0x78,
      0,
      1,
      0,
      2,
      0x80,
      8,
      0,
      0,
      0,
      0,
      0,
      10,
    ]);
  });

  test("AVPs the RFC does not let be hidden are sent plain even when asked", () => {
    const r = decodeControl(
      encodeControl(
        header,
        { type: "SCCRQ", avps: { hostName: "lac", assignedTunnelId: 4 } },
        {
          secret,
          randomVector: new Uint8Array([1]),
          hide: ["hostName", "assignedTunnelId"],
        },
      ),
      { secret },
    );
    expect(r.ok && r.value.message?.hidden).toEqual(["assignedTunnelId"]);
  });

  test("hiding without a secret or random vector is a programming error", () => {
    const m: ControlMessage = { type: "ICRP", avps: { assignedSessionId: 1 } };
    expect(() =>
      encodeControl(header, m, { hide: ["assignedSessionId"], randomVector: new Uint8Array(4) }),
    ).toThrow(/secret/);
    expect(() => encodeControl(header, m, { hide: ["assignedSessionId"], secret })).toThrow(/random vector/);
  });

  test("a value too long for the 10-bit AVP Length is refused", () => {
    expect(() => encodeControl(header, { type: "HELLO", avps: { hostName: "x".repeat(1018) } })).toThrow(
      RangeError,
    );
    expect(encodeControl(header, { type: "HELLO", avps: { hostName: "x".repeat(1017) } }).length).toBe(
      20 + 1023,
    );
  });
});

describe("decodeControl errors", () => {
  test("a data message is not a control message", () => {
    const r = decodeControl(new Uint8Array([0x00, 0x02, 0, 1, 0, 2, 0xff, 0x03]));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.field).toBe("header.flags.T");
  });

  test("header errors come from decodeHeader", () => {
    const p = encodeZlb(header);
    p[1] = 3;
    const r = decodeControl(p);
    expect(!r.ok && r.error.field).toBe("header.version");
  });

  test("the first AVP must be the Message Type", () => {
    const r = decodeControl(rawControl(avp(M, 0, 9, [0, 1])));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.field).toBe("avp[0]");
      expect(r.error.header).toEqual(header);
      expect(r.error.scope).toBe("tunnel");
    }
  });

  test("unknown message type with the M bit: clear the tunnel, error 8", () => {
    const r = decodeControl(rawControl(messageTypeAvp(42)));
    expect(r).toEqual({
      ok: false,
      error: {
        field: "avp[0] Message Type (0).value",
        reason: "unknown message type 42 with the M bit set (RFC 2661 §4.4.1: the tunnel must be cleared)",
        header,
        scope: "tunnel",
        resultCode: 2,
        errorCode: 8,
        messageTypeCode: 42,
      },
    });
  });

  test("unknown message type without the M bit: ignore (ack only), no result code", () => {
    const r = decodeControl(rawControl(messageTypeAvp(21, 0)));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.scope).toBe("ignore");
      expect(r.error.resultCode).toBeUndefined();
      expect(r.error.header).toEqual(header);
      expect(r.error.messageTypeCode).toBe(21);
    }
  });

  test("an unknown AVP with the M bit in a session message: CDN result 2 error 8, with the header", () => {
    const r = decodeControl(
      rawControl([...messageTypeAvp(10), ...avp(M, 0, 14, [0, 5]), ...avp(M, 0, 99, [1])]),
    );
    expect(r).toEqual({
      ok: false,
      error: {
        field: "avp[2] unknown attribute 99",
        reason: "unknown AVP with the M bit set (RFC 2661 §4.1: the session must be closed)",
        header,
        scope: "session",
        resultCode: 2,
        errorCode: 8,
        messageType: "ICRQ",
        messageTypeCode: 10,
        avps: { assignedSessionId: 5 },
      },
    });
  });

  test("the AVPs after the first invalid one are still read, so the answer can name the call (RFC 2661 §4.1)", () => {
    // The unknown mandatory AVP and a hidden AVP without a Random Vector come before the Assigned Session ID.
    const r = decodeControl(
      rawControl([
        ...messageTypeAvp(10),
        ...avp(M, 9, 1, [1]),
        ...avp(M | 0x4000, 0, 15, [0, 4, 1, 2, 3, 4]),
        ...avp(M, 0, 14, [0, 7]),
      ]),
      { secret: new TextEncoder().encode("s3cret") },
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ field: "avp[1] vendor 9 attribute 1", errorCode: 8, scope: "session" });
    expect(r.error.avps).toEqual({ assignedSessionId: 7 });
    // A length that breaks the framing ends the read: what came before it is kept.
    const broken = decodeControl(
      rawControl([...messageTypeAvp(10), ...avp(M, 0, 14, [0, 7]), 0x80, 40, 0, 0]),
    );
    expect(!broken.ok && broken.error.avps).toEqual({ assignedSessionId: 7 });
  });

  test("an unknown vendor AVP with the M bit in a tunnel message: StopCCN result 2 error 8", () => {
    const r = decodeControl(rawControl([...messageTypeAvp(6), ...avp(M, 311, 1, [])]));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toMatchObject({ scope: "tunnel", resultCode: 2, errorCode: 8, messageType: "HELLO" });
      expect(r.error.field).toBe("avp[1] vendor 311 attribute 1");
    }
  });

  test("AVP lengths that are too short or run past the end", () => {
    const short = decodeControl(rawControl([...messageTypeAvp(6), 0x80, 4, 0, 0, 0, 9]));
    expect(!short.ok && short.error.reason).toBe("length 4 is shorter than the AVP header (6)");
    const long = decodeControl(rawControl([...messageTypeAvp(6), 0x80, 40, 0, 0, 0, 9, 0, 1]));
    expect(!long.ok && long.error.reason).toBe("length 40 runs past the end of the message (8 bytes left)");
    const tail = decodeControl(rawControl([...messageTypeAvp(6), 1, 2, 3]));
    expect(!tail.ok && tail.error.reason).toBe("3 bytes at the end are too few for an AVP (6)");
  });

  test("a Message Type AVP of the wrong length", () => {
    const r = decodeControl(rawControl(avp(M, 0, 0, [0, 6, 0])));
    expect(!r.ok && r.error.field).toBe("avp[0] Message Type (0).length");
  });

  test("never throws nor hangs on arbitrary or mutated bytes", () => {
    const valid = fc.tuple(headerArbitrary, anyMessageArbitrary).map(([h, m]) => encodeControl(h, m));
    fc.assert(
      fc.property(
        valid,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        (packet, edits) => {
          const p = packet.slice();
          for (const [at, value] of edits) p[at % p.length] = value;
          decodeControl(p);
          decodeControl(p, { secret });
          decodeControl(p, { keepHiddenOpaque: true, keepOrder: true });
        },
      ),
      { numRuns: 500 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (p) => void decodeControl(p)));
  });
});

describe("AVP names are the contract's", () => {
  test("the brief's examples exist", () => {
    const names: AvpName[] = [
      "resultCode",
      "protocolVersion",
      "hostName",
      "assignedTunnelId",
      "challengeResponse",
      "tieBreaker",
    ];
    for (const n of names) expect(AVP_CATALOG.some((s) => s.key === n)).toBe(true);
  });

  test("avpsArbitrary can exclude keys", () => {
    fc.assert(
      fc.property(avpsArbitrary([], ["hostName"]), (a) => a.hostName === undefined),
      { numRuns: 20 },
    );
  });
});

describe("an SCCRQ's Assigned Tunnel ID read without decoding (the router's refusals under a flood)", () => {
  test("is what decodeControl reads, for any SCCRQ with its AVPs plain, in any order, opaque ones among them", () => {
    fc.assert(
      fc.property(
        headerArbitrary,
        messageArbitrary("SCCRQ"),
        fc.array(opaqueArbitrary, { maxLength: 3 }),
        (h, message, opaque) => {
          const packet = encodeControl(h, { ...message, opaque });
          const decoded = decodeControl(packet);
          if (!decoded.ok || !decoded.value.message) throw new Error("the arbitrary SCCRQ must decode");
          expect(peekSccrqAssignedTunnelId(packet)).toBe(decoded.value.message.avps.assignedTunnelId ?? -1);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("is -1 for any other message, a hidden Assigned Tunnel ID, a truncated SCCRQ, or one whose AVPs overrun it", () => {
    fc.assert(
      fc.property(headerArbitrary, anyMessageArbitrary, (h, message) => {
        if (message.type === "SCCRQ") return;
        expect(peekSccrqAssignedTunnelId(encodeControl(h, message))).toBe(-1);
      }),
      { numRuns: 200 },
    );
    const avps = {
      protocolVersion: { version: 1, revision: 0 },
      hostName: "lac",
      framingCapabilities: { sync: true, async: false },
      assignedTunnelId: 77,
    };
    const plain = encodeControl(header, { type: "SCCRQ", avps });
    expect(peekSccrqAssignedTunnelId(plain)).toBe(77);
    const hidden = encodeControl(
      header,
      { type: "SCCRQ", avps: { ...avps, randomVector: new Uint8Array(16).fill(9) } },
      { secret, hide: ["assignedTunnelId"] },
    );
    expect(peekSccrqAssignedTunnelId(hidden)).toBe(-1);
    expect(peekSccrqAssignedTunnelId(encodeZlb(header))).toBe(-1);
    // Cut short: the Length field says more than the datagram has.
    expect(peekSccrqAssignedTunnelId(plain.subarray(0, plain.length - 1))).toBe(-1);
    // An AVP whose length runs past the message end, before the Assigned Tunnel ID.
    const overrun = rawControl([
      ...avp(0x8000, 0, 0, [0, 1]),
      ...avp(0x8000, 0, 7, [0x6c, 0x61, 0x63]),
      ...avp(0x8000, 0, 9, [0, 5]),
    ]);
    expect(peekSccrqAssignedTunnelId(overrun)).toBe(5);
    overrun[20] |= 0x03; // Host Name's Length field: 0x309 bytes, past the end
    expect(peekSccrqAssignedTunnelId(overrun)).toBe(-1);
  });

  test("readdressControl: the same message under another header", () => {
    fc.assert(
      fc.property(headerArbitrary, headerArbitrary, anyMessageArbitrary, (h1, h2, message) => {
        expect(decodeControl(readdressControl(encodeControl(h1, message), h2))).toEqual({
          ok: true,
          value: { header: h2, message },
        });
      }),
      { numRuns: 100 },
    );
  });
});
