/** PPP frame (RFC 1661 §2, RFC 1662 §3): Address/Control present or compressed, Protocol one or two octets. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  decodeFrame,
  encodeFrame,
  frameHeader,
  frameProtocol,
  isValidProtocol,
  PppProtocol,
  payloadAt,
} from "../../../protocol/ppp/index.ts";
import { bytes, hex, pppProtocol, toHex } from "./arbitraries.ts";

describe("decodeFrame", () => {
  test("reads Address/Control and a two-octet protocol (LCP from the xl2tpd capture)", () => {
    const decoded = decodeFrame(hex("ff03c0210101000e01040578050611223344"));
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.value.protocol).toBe(PppProtocol.LCP);
    expect(decoded.value.addressControl).toBe(true);
    expect(toHex(decoded.value.payload)).toBe("0101000e01040578050611223344");
  });

  test("reads a frame without Address/Control (ACFC)", () => {
    const decoded = decodeFrame(hex("002145"));
    expect(decoded).toEqual({
      ok: true,
      value: { protocol: 0x0021, payload: hex("45"), addressControl: false },
    });
  });

  test("reads a one-octet protocol (PFC) with and without Address/Control", () => {
    expect(decodeFrame(hex("21aabb"))).toEqual({
      ok: true,
      value: { protocol: 0x21, payload: hex("aabb"), addressControl: false },
    });
    expect(decodeFrame(hex("ff0357"))).toEqual({
      ok: true,
      value: { protocol: 0x57, payload: new Uint8Array(0), addressControl: true },
    });
  });

  test("rejects a bad Control field, an even low protocol octet, and truncation, naming the field", () => {
    const cases: [string, string, string][] = [
      ["", "frame.protocol", "before the Protocol"],
      ["ff", "frame.control", "ends after the Address"],
      ["ff13c021", "frame.control", "expected 0x03"],
      ["ff03", "frame.protocol", "before the Protocol"],
      ["ff03c0", "frame.protocol", "inside the two-octet"],
      ["c0", "frame.protocol", "inside the two-octet"],
      ["c02001", "frame.protocol", "even low octet"],
      ["ff030020", "frame.protocol", "even low octet"],
    ];
    for (const [input, field, reason] of cases) {
      const decoded = decodeFrame(hex(input));
      expect(decoded.ok).toBe(false);
      if (decoded.ok) continue;
      expect(decoded.error.field).toBe(field);
      expect(decoded.error.reason).toContain(reason);
    }
  });

  test("the payload is a copy, not a view into the input (a view gives a received datagram an ArrayBuffer)", () => {
    const input = Uint8Array.from(hex("ff03002145"));
    const decoded = decodeFrame(input);
    if (!decoded.ok) throw new Error("expected ok");
    expect(decoded.value.payload.buffer).not.toBe(input.buffer);
    expect([...decoded.value.payload]).toEqual([0x45]);
    input[4] = 0;
    expect([...decoded.value.payload]).toEqual([0x45]);
  });
});

describe("encodeFrame", () => {
  test("writes full Address/Control and Protocol by default", () => {
    expect(toHex(encodeFrame({ protocol: 0x0021, payload: hex("45") }))).toBe("ff03002145");
  });

  test("applies ACFC and PFC when asked", () => {
    const frame = { protocol: 0x0021, payload: hex("45") };
    expect(toHex(encodeFrame(frame, { acfc: true }))).toBe("002145");
    expect(toHex(encodeFrame(frame, { pfc: true }))).toBe("ff032145");
    expect(toHex(encodeFrame(frame, { acfc: true, pfc: true }))).toBe("2145");
  });

  test("never compresses LCP (RFC 1661 §6.6), nor a protocol of 0x100 and above with PFC", () => {
    expect(toHex(encodeFrame({ protocol: 0xc021, payload: hex("09") }, { acfc: true, pfc: true }))).toBe(
      "ff03c02109",
    );
    expect(toHex(encodeFrame({ protocol: 0x8021, payload: hex("01") }, { acfc: true, pfc: true }))).toBe(
      "802101",
    );
  });

  test("does not compress 0x00FF to one octet, which would read as an Address field", () => {
    const bytes = encodeFrame({ protocol: 0x00ff, payload: hex("01") }, { acfc: true, pfc: true });
    expect(toHex(bytes)).toBe("00ff01");
    expect(decodeFrame(bytes)).toEqual({
      ok: true,
      value: { protocol: 0xff, payload: hex("01"), addressControl: false },
    });
  });

  test("throws RangeError for a protocol number of the wrong shape", () => {
    expect(() => encodeFrame({ protocol: 0xc020, payload: hex("") })).toThrow(RangeError);
    expect(() => encodeFrame({ protocol: 0x0121, payload: hex("") })).toThrow(RangeError);
    expect(() => encodeFrame({ protocol: 0x10021, payload: hex("") })).toThrow(RangeError);
  });

  test("isValidProtocol follows RFC 1661 §2", () => {
    expect(isValidProtocol(0xc021)).toBe(true);
    expect(isValidProtocol(0x0021)).toBe(true);
    expect(isValidProtocol(0x0020)).toBe(false);
    expect(isValidProtocol(0x0121)).toBe(false);
    expect(isValidProtocol(-1)).toBe(false);
  });
});

describe("frame properties", () => {
  test("decode(encode(frame)) gives back protocol and payload under every compression", () => {
    fc.assert(
      fc.property(pppProtocol, bytes(64), fc.boolean(), fc.boolean(), (protocol, payload, acfc, pfc) => {
        const encoded = encodeFrame({ protocol, payload }, { acfc, pfc });
        const decoded = decodeFrame(encoded);
        expect(decoded.ok).toBe(true);
        if (!decoded.ok) return;
        expect(decoded.value.protocol).toBe(protocol);
        expect(toHex(decoded.value.payload)).toBe(toHex(payload));
        expect(decoded.value.addressControl).toBe(!acfc || protocol === PppProtocol.LCP);
        const protocolOctets = pfc && protocol < 0xff ? 1 : 2;
        expect(encoded.length).toBe((decoded.value.addressControl ? 2 : 0) + protocolOctets + payload.length);
      }),
      { seed: 1661, numRuns: 500 },
    );
  });
});

describe("a frame inside a larger datagram", () => {
  test("decodeFrame from an offset reads the same frame, and its payload is a copy of the datagram's tail", () => {
    fc.assert(
      fc.property(
        pppProtocol,
        bytes(64),
        bytes(16),
        fc.boolean(),
        fc.boolean(),
        (protocol, payload, before, acfc, pfc) => {
          const frame = encodeFrame({ protocol, payload }, { acfc, pfc });
          // A plain Uint8Array, as the UDP adapter hands datagrams over (a Buffer's `slice` is a view).
          const datagram = new Uint8Array(before.length + frame.length);
          datagram.set(before, 0);
          datagram.set(frame, before.length);
          const alone = decodeFrame(frame);
          const inside = decodeFrame(datagram, before.length);
          expect(inside).toEqual(alone);
          if (!inside.ok) return;
          expect(inside.value.payload.buffer).not.toBe(datagram.buffer);
          expect([...inside.value.payload]).toEqual([...payload]);
        },
      ),
      { seed: 2661, numRuns: 300 },
    );
  });

  test("an offset past a short frame fails with the field named", () => {
    const datagram = hex("0000ff");
    const decoded = decodeFrame(datagram, 2);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error.field).toBe("frame.control");
    expect(decodeFrame(datagram, 3).ok).toBe(false);
  });
});

describe("frameHeader (the receive path's header read, nothing made)", () => {
  test("says what decodeFrame says for any bytes from any start: malformed, or the protocol and where the payload begins", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 8 }),
          fc.uint8Array({ maxLength: 8 }).map((b) => Uint8Array.of(0xff, 0x03, ...b)),
        ),
        fc.nat(3),
        (input, shift) => {
          const start = Math.min(shift, input.length);
          const decoded = decodeFrame(input, start);
          const header = frameHeader(input, start);
          if (!decoded.ok) {
            expect(header).toBeLessThan(0);
            return;
          }
          expect(header).toBeGreaterThanOrEqual(0);
          expect(frameProtocol(header)).toBe(decoded.value.protocol);
          expect([...input.slice(payloadAt(start, header))]).toEqual([...decoded.value.payload]);
        },
      ),
      { numRuns: 5000 },
    );
  });
});
