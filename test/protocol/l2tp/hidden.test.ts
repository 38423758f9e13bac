import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { encodeZlb } from "../../../protocol/l2tp/header.ts";
import { hideSubformat, revealSubformat } from "../../../protocol/l2tp/hidden.ts";
import { decodeControl, encodeControl } from "../../../protocol/l2tp/messages.ts";

const header = { tunnelId: 7, sessionId: 0, ns: 0, nr: 0 };
const secret = new TextEncoder().encode("s3cret");
const M = 0x8000;
const H = 0x4000;

/** RFC 2661 §4.3 written out independently with node:crypto, to check hidden.ts against the text. */
function referenceHide(type: number, key: Uint8Array, rv: Uint8Array, subformat: Uint8Array): Uint8Array {
  const out = new Uint8Array(subformat.length);
  let previous: Uint8Array | undefined;
  for (let i = 0; i < subformat.length; i += 16) {
    const hash = createHash("md5");
    if (previous === undefined)
      hash
        .update(new Uint8Array([type >> 8, type & 0xff]))
        .update(key)
        .update(rv);
    else hash.update(key).update(previous);
    const b = hash.digest();
    for (let j = i; j < Math.min(i + 16, subformat.length); j++) out[j] = subformat[j] ^ b[j - i];
    previous = out.subarray(i, i + 16);
  }
  return out;
}

function avp(flags: number, type: number, value: Uint8Array | number[]): number[] {
  const f = flags | (6 + value.length);
  return [f >> 8, f & 0xff, 0, 0, type >> 8, type & 0xff, ...value];
}

function packet(avps: number[]): Uint8Array {
  const out = new Uint8Array(12 + avps.length);
  out.set(encodeZlb(header));
  out.set(avps, 12);
  out[2] = out.length >> 8;
  out[3] = out.length & 0xff;
  return out;
}

/** Subformat of RFC 2661 §4.3: original length, value, padding. */
function subformat(value: number[], padding: number): Uint8Array {
  return new Uint8Array([value.length >> 8, value.length & 0xff, ...value, ...new Array(padding).fill(0xaa)]);
}

function hidden(type: number, value: number[], padding: number, rv: Uint8Array, key = secret): number[] {
  return avp(M | H, type, referenceHide(type, key, rv, subformat(value, padding)));
}

const icrq = avp(M, 0, [0, 10]);

describe("hidden AVP cipher (RFC 2661 §4.3)", () => {
  test("hideSubformat matches the RFC text and revealSubformat inverts it", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.uint8Array({ minLength: 1, maxLength: 24 }),
        fc.uint8Array({ minLength: 0, maxLength: 100 }),
        (type, key, rv, plain) => {
          const out = plain.slice();
          hideSubformat(type, key, rv, out, 0, out.length);
          expect(out as Uint8Array).toEqual(referenceHide(type, key, rv, plain));
          expect(revealSubformat(type, key, rv, out, 0, out.length)).toEqual(plain);
        },
      ),
    );
  });
});

describe("decoding hidden AVPs", () => {
  const rv = new Uint8Array(16).map((_, i) => i * 7);

  test.each([0, 1, 5, 13, 16, 31, 100])(
    "accepts padding of %i bytes (Juniper MX and others pad)",
    (padding) => {
      const p = packet([
        ...icrq,
        ...avp(M, 36, rv),
        ...hidden(14, [0, 77], padding, rv),
        ...avp(M, 15, [0, 0, 0, 1]),
      ]);
      const r = decodeControl(p, { secret });
      expect(r.ok && r.value.message?.avps.assignedSessionId).toBe(77);
      expect(r.ok && r.value.message?.hidden).toEqual(["assignedSessionId"]);
    },
  );

  test("each hidden AVP uses the latest Random Vector before it", () => {
    const rv2 = new Uint8Array([9, 9, 9]);
    const p = packet([
      ...icrq,
      ...avp(M, 36, rv),
      ...hidden(14, [0, 77], 3, rv),
      ...avp(M, 36, rv2),
      ...hidden(22, [0x35, 0x35], 0, rv2),
    ]);
    const r = decodeControl(p, { secret });
    expect(r.ok && r.value.message?.avps).toEqual({
      randomVector: rv2,
      assignedSessionId: 77,
      callingNumber: "55",
    });
  });

  test("an original length longer than what remains is a clear error", () => {
    // Claims 40 bytes of value but carries 2.
    const sub = new Uint8Array([0, 40, 0, 77]);
    const p = packet([...icrq, ...avp(M, 36, rv), ...avp(M | H, 14, referenceHide(14, secret, rv, sub))]);
    const r = decodeControl(p, { secret });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.field).toBe("avp[2] Assigned Session ID (14).hidden");
      expect(r.error.reason).toBe(
        "revealed original length 40 exceeds the 2 bytes that remain (wrong secret or random vector?)",
      );
      expect(r.error).toMatchObject({
        messageType: "ICRQ",
        scope: "session",
        resultCode: 2,
        errorCode: 2,
        header,
      });
    }
  });

  test("a hidden value too short for the original length field is an error", () => {
    const p = packet([...icrq, ...avp(M, 36, rv), ...avp(M | H, 14, [1])]);
    const r = decodeControl(p, { secret });
    expect(!r.ok && r.error.field).toBe("avp[2] Assigned Session ID (14).length");
  });

  test("without a secret a hidden AVP is an error naming the field", () => {
    const p = packet([...icrq, ...avp(M, 36, rv), ...hidden(14, [0, 77], 0, rv)]);
    const r = decodeControl(p);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.field).toBe("avp[2] Assigned Session ID (14)");
      expect(r.error.reason).toBe("hidden AVP and no secret configured");
    }
  });

  test("keepHiddenOpaque shows hidden AVPs undecrypted when there is no secret", () => {
    const cipher = referenceHide(14, secret, rv, subformat([0, 77], 0));
    const p = packet([...icrq, ...avp(M, 36, rv), ...avp(M | H, 14, cipher)]);
    const r = decodeControl(p, { keepHiddenOpaque: true });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.message?.avps).toEqual({ randomVector: rv });
      expect(r.value.message?.opaque).toEqual([
        { vendorId: 0, attribute: 14, mandatory: true, hidden: true, value: cipher },
      ]);
      // Passing it back through the encoder without a secret sends the same bytes.
      if (r.value.message) expect(encodeControl(header, r.value.message)).toEqual(p);
    }
  });

  test("a hidden AVP with no Random Vector before it is an error", () => {
    const p = packet([...icrq, ...hidden(14, [0, 77], 0, rv), ...avp(M, 36, rv)]);
    const r = decodeControl(p, { secret });
    expect(!r.ok && r.error.reason).toBe("hidden AVP with no Random Vector AVP before it (RFC 2661 §4.3)");
  });

  test("a hidden Random Vector is refused", () => {
    const r = decodeControl(packet([...icrq, ...avp(M | H, 36, [1, 2, 3])]), { secret });
    expect(!r.ok && r.error.field).toBe("avp[1] Random Vector (36).hidden");
  });

  test("the wrong secret never yields the right value", () => {
    const p = encodeControl(
      header,
      { type: "ICRP", avps: { assignedSessionId: 77 } },
      {
        secret,
        randomVector: rv,
        hide: ["assignedSessionId"],
      },
    );
    const r = decodeControl(p, { secret: new TextEncoder().encode("wrong") });
    expect(r.ok && r.value.message?.avps.assignedSessionId === 77).toBe(false);
  });

  test("encodeControl's hidden AVPs follow the RFC layout", () => {
    const p = encodeControl(
      header,
      { type: "ICRP", avps: { assignedSessionId: 77 } },
      {
        secret,
        randomVector: rv,
        hide: ["assignedSessionId"],
        hiddenPadding: 4,
      },
    );
    const expected = packet([
      ...avp(M, 0, [0, 11]),
      ...avp(M, 36, rv),
      ...avp(
        M | H,
        14,
        referenceHide(
          14,
          secret,
          rv,
          subformat([0, 77], 4).map((b, i) => (i >= 4 ? 0 : b)),
        ),
      ),
    ]);
    expect(p).toEqual(expected);
  });

  test("hiddenMinimum pads a short hidden value with the given random bytes to that length, and it reads back", () => {
    const padding = new Uint8Array(16).map((_, i) => 0xa0 + i);
    const options = {
      secret,
      randomVector: rv,
      hide: ["proxyAuthenResponse" as const],
      hiddenMinimum: 16,
      hiddenPaddingBytes: padding,
    };
    const password = new TextEncoder().encode("pw");
    const p = encodeControl(header, { type: "ICCN", avps: { proxyAuthenResponse: password } }, options);
    const expected = packet([
      ...avp(M, 0, [0, 12]),
      ...avp(M, 36, rv),
      // 2 (original length) + 2 (value) + 12 padding bytes, the first 12 of `padding`, then hidden.
      ...avp(
        H, // Proxy Authen Response goes without the M bit (RFC 2661 §4.4.5)
        33,
        referenceHide(33, secret, rv, new Uint8Array([0, 2, ...password, ...padding.slice(0, 12)])),
      ),
    ]);
    expect(p).toEqual(expected);
    const r = decodeControl(p, { secret });
    expect(r.ok && Array.from(r.value.message?.avps.proxyAuthenResponse ?? [])).toEqual(Array.from(password));
    // A value already as long as the minimum gets no padding; the fixed padding still adds its zeros.
    const long = new Uint8Array(14).fill(7);
    const q = encodeControl(header, { type: "ICCN", avps: { proxyAuthenResponse: long } }, options);
    expect(q.length).toBe(p.length);
    const withFixed = encodeControl(
      header,
      { type: "ICCN", avps: { proxyAuthenResponse: password } },
      { ...options, hiddenPadding: 20 },
    );
    expect(withFixed.length).toBe(p.length + 20 - 12);
  });
});
