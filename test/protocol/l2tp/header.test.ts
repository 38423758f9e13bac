import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  type DataHeader,
  decodeHeader,
  encodeDataHeader,
  encodePppData,
  encodeZlb,
  peekIds,
  writeControlHeader,
} from "../../../protocol/l2tp/header.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

describe("decodeHeader: control", () => {
  const zlb = encodeZlb({ tunnelId: 0x1234, sessionId: 0x5678, ns: 3, nr: 9 });

  test("a ZLB encodes as T,L,S + version 2 and decodes back", () => {
    expect([...zlb]).toEqual([0xc8, 0x02, 0, 12, 0x12, 0x34, 0x56, 0x78, 0, 3, 0, 9]);
    const r = decodeHeader(zlb);
    expect(r).toEqual({
      ok: true,
      value: {
        header: { isControl: true, tunnelId: 0x1234, sessionId: 0x5678, ns: 3, nr: 9 },
        payloadOffset: 12,
        payloadEnd: 12,
      },
    });
  });

  test("trailing bytes after Length are ignored (RFC 2661 §3.1)", () => {
    const longer = new Uint8Array(20);
    longer.set(zlb);
    const r = decodeHeader(longer);
    expect(r.ok && r.value.payloadEnd).toBe(12);
  });

  test("a datagram shorter than Length is an error on header.length", () => {
    const out = new Uint8Array(16);
    writeControlHeader(out, { tunnelId: 1, sessionId: 0, ns: 0, nr: 0 });
    const r = decodeHeader(out.subarray(0, 14));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.field).toBe("header.length");
  });

  test("Length shorter than the header is an error", () => {
    const p = zlb.slice();
    p[3] = 8;
    const r = decodeHeader(p);
    expect(!r.ok && r.error.field).toBe("header.length");
  });

  test.each([
    ["header.flags.L", 0x88],
    ["header.flags.S", 0xc0],
    ["header.flags.O", 0xca],
    ["header.flags.P", 0xc9],
  ])("control flags rule %s", (field, first) => {
    const p = zlb.slice();
    p[0] = first;
    const r = decodeHeader(p);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.field).toBe(field);
      expect(r.error.reason).toContain("RFC 2661 §3.1");
    }
  });

  test.each([
    [3, "L2TPv3"],
    [1, "L2F"],
    [0, "expected version 2, got 0"],
    [15, "expected version 2, got 15"],
  ])("version %i is refused with a clear reason", (version, reason) => {
    const p = zlb.slice();
    p[1] = version;
    const r = decodeHeader(p);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.field).toBe("header.version");
      expect(r.error.reason).toContain(reason);
    }
  });

  test("reserved bits are ignored by default (RFC 2661 §3.1) and refused on request", () => {
    const p = zlb.slice();
    p[0] |= 0x30;
    p[1] |= 0xf0;
    expect(decodeHeader(p).ok).toBe(true);
    const r = decodeHeader(p, { rejectReservedBits: true });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.field).toBe("header.flags");
      expect(r.error.reason).toBe("reserved bits 0x30f0 are set");
    }
  });

  test("short datagrams are errors, never throws", () => {
    for (let n = 0; n < 12; n++) expect(decodeHeader(zlb.subarray(0, n)).ok).toBe(false);
  });
});

describe("decodeHeader: data", () => {
  test("minimal data header: no L, S, O", () => {
    const p = bytes(0x00, 0x02, 0, 7, 0, 9, 0xff, 0x03);
    expect(decodeHeader(p)).toEqual({
      ok: true,
      value: { header: { isControl: false, tunnelId: 7, sessionId: 9 }, payloadOffset: 6, payloadEnd: 8 },
    });
  });

  test("L, S, O and P with offset pad", () => {
    // flags L|S|O|P, length 20, tunnel 1, session 2, ns 3, nr 4, offset 2 + pad, payload 2 bytes
    const p = bytes(
      0x4b,
      0x02,
      0,
      20,
      0,
      1,
      0,
      2,
      0,
      3,
      0,
      4,
      0,
      2,
      0xaa,
      0xbb,
      0xff,
      0x03,
      0xc0,
      0x21,
      0x99,
    );
    const r = decodeHeader(p);
    expect(r).toEqual({
      ok: true,
      value: {
        header: {
          isControl: false,
          tunnelId: 1,
          sessionId: 2,
          ns: 3,
          nr: 4,
          offsetSize: 2,
          priority: true,
          length: true,
        },
        payloadOffset: 16,
        payloadEnd: 20,
      },
    });
  });

  test("an offset size past the end is an error on header.offsetSize", () => {
    const p = bytes(0x02, 0x02, 0, 1, 0, 2, 0, 9, 1, 2);
    const r = decodeHeader(p);
    expect(!r.ok && r.error.field).toBe("header.offsetSize");
  });

  test("a data Length longer than the datagram is an error", () => {
    const r = decodeHeader(bytes(0x40, 0x02, 0, 50, 0, 1, 0, 2));
    expect(!r.ok && r.error.field).toBe("header.length");
  });
});

describe("encodeDataHeader", () => {
  const header = fc.record(
    {
      tunnelId: fc.integer({ min: 0, max: 0xffff }),
      sessionId: fc.integer({ min: 0, max: 0xffff }),
      ns: fc.integer({ min: 0, max: 0xffff }),
      nr: fc.integer({ min: 0, max: 0xffff }),
      offsetSize: fc.integer({ min: 0, max: 40 }),
      priority: fc.constant(true),
      length: fc.constant(true),
    },
    { requiredKeys: ["tunnelId", "sessionId"] },
  );

  test("round-trips through decodeHeader, with payload at payloadOffset", () => {
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 64 }), (h: DataHeader, payload) => {
        const packet = encodeDataHeader(h, payload);
        const r = decodeHeader(packet);
        if (!r.ok) return false;
        const expected: Record<string, unknown> = { isControl: false, ...h };
        // Ns and Nr travel together (S bit): one alone is sent with the other as 0.
        if (h.ns !== undefined || h.nr !== undefined) {
          expected.ns = h.ns ?? 0;
          expected.nr = h.nr ?? 0;
        }
        expect(r.value.header).toEqual(expected as never);
        expect(packet.subarray(r.value.payloadOffset, r.value.payloadEnd)).toEqual(payload);
        return true;
      }),
    );
  });
});

describe("encodePppData", () => {
  test("the same bytes as a data header over the PPP frame (Address, Control, Protocol, packet)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.uint8Array({ maxLength: 200 }),
        (tunnelId, sessionId, protocol, payload) => {
          const frame = Uint8Array.of(0xff, 0x03, protocol >> 8, protocol & 0xff, ...payload);
          expect([...encodePppData(tunnelId, sessionId, protocol, payload)]).toEqual([
            ...encodeDataHeader({ tunnelId, sessionId }, frame),
          ]);
        },
      ),
    );
  });
});

describe("peekIds", () => {
  test("reads ids with and without the L bit and reuses its object", () => {
    const data = encodeDataHeader({ tunnelId: 5, sessionId: 6 }, bytes(1));
    const a = peekIds(data);
    expect(a).toEqual({ isControl: false, tunnelId: 5, sessionId: 6 });
    const ctl = encodeZlb({ tunnelId: 7, sessionId: 8, ns: 0, nr: 0 });
    const b = peekIds(ctl);
    expect(b).toEqual({ isControl: true, tunnelId: 7, sessionId: 8 });
    expect(a).toBe(b);
  });

  test("undefined for short packets and other versions", () => {
    expect(peekIds(bytes(0xc8, 0x02, 0, 12, 0))).toBeUndefined();
    expect(peekIds(bytes(0x00, 0x03, 0, 1, 0, 2))).toBeUndefined();
    expect(peekIds(bytes())).toBeUndefined();
  });

  test("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), (p) => {
        peekIds(p);
        decodeHeader(p);
      }),
    );
  });
});
