/**
 * Async-HDLC framing (RFC 1662 §4): the encoder's escaping and FCS, and the streaming decoder under
 * every chunking, joined frames, garbage, bad FCS, aborts and over-long frames.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type Decoded, encodeHdlc, fcs16Trailer, HdlcDecoder } from "../../../protocol/ppp/index.ts";
import { bytes, hex, toHex, u32 } from "./arbitraries.ts";

const lcpRequest = hex("ff03c0210101000e01040578050611223344");

function frames(results: Decoded<Uint8Array>[]): string[] {
  return results.filter((r) => r.ok).map((r) => toHex((r as { value: Uint8Array }).value));
}

function drops(results: Decoded<Uint8Array>[]): { field: string; reason: string }[] {
  return results.flatMap((r) => (r.ok ? [] : [r.error]));
}

/** Feeds `stream` cut at the given positions and collects every result. */
function feed(decoder: HdlcDecoder, stream: Uint8Array, cuts: number[]): Decoded<Uint8Array>[] {
  const results: Decoded<Uint8Array>[] = [];
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    results.push(...decoder.push(stream.subarray(from, cut)));
    from = cut;
  }
  return results;
}

function join(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

describe("encodeHdlc", () => {
  test("escapes every control character by default, and the flag and escape octets", () => {
    expect(toHex(encodeHdlc(lcpRequest))).toBe(
      "7eff7d23c0217d217d217d207d2e7d217d247d25787d257d267d312233447d25527e",
    );
  });

  test("with ACCM 0 only 0x7D and 0x7E are escaped (RFC 1662 §4.2)", () => {
    const frame = hex("ff0300210011 7d7e 1f20");
    const [low, high] = fcs16Trailer(frame);
    expect(toHex(encodeHdlc(frame, { accm: 0 }))).toBe(
      `7e${"ff0300210011"}7d5d7d5e1f20${toHex(Uint8Array.of(low, high))}7e`,
    );
  });

  test("an ACCM escapes exactly the characters whose bits it sets", () => {
    const frame = hex("00 01 11 13 1f");
    const encoded = encodeHdlc(frame, { accm: (1 << 0x11) | (1 << 0x13) });
    expect(toHex(encoded.subarray(1, 8))).toBe("00017d317d331f");
  });

  test("the FCS octets are escaped too when they need it", () => {
    // Find a frame whose FCS contains 0x7E or 0x7D, then check it survives.
    for (let n = 0; n < 2000; n++) {
      const frame = Uint8Array.of(0xff, 0x03, 0x00, 0x21, n & 0xff, n >> 8);
      const trailer = fcs16Trailer(frame);
      if (!trailer.includes(0x7e) && !trailer.includes(0x7d)) continue;
      const decoder = new HdlcDecoder();
      expect(frames(decoder.push(encodeHdlc(frame)))).toEqual([toHex(frame)]);
      return;
    }
    throw new Error("no frame with a 0x7D/0x7E in its FCS in 2000 tries");
  });
});

describe("HdlcDecoder", () => {
  test("decodes one frame, and counts it", () => {
    const decoder = new HdlcDecoder();
    expect(frames(decoder.push(encodeHdlc(lcpRequest)))).toEqual([toHex(lcpRequest)]);
    expect(decoder.counters.frames).toBe(1);
  });

  const a = hex("ff03c0210101000e01040578050611223344");
  const b = hex("ff0300217d7e7e7d000102037e");
  const c = hex("ff03c021090100080000000a");
  const stream = join(encodeHdlc(a), encodeHdlc(b, { accm: 0 }), encodeHdlc(c));

  test("several frames joined in one chunk", () => {
    const decoder = new HdlcDecoder({ accm: 0 });
    expect(frames(decoder.push(stream))).toEqual([toHex(a), toHex(b), toHex(c)]);
  });

  test("a stream split into two chunks at every byte position", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new HdlcDecoder({ accm: 0 });
      const results = feed(decoder, stream, [cut]);
      expect(drops(results)).toEqual([]);
      expect(frames(results)).toEqual([toHex(a), toHex(b), toHex(c)]);
    }
  });

  test("a stream split into three chunks at every pair of positions, and one octet at a time", () => {
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j += 3) {
        const results = feed(new HdlcDecoder({ accm: 0 }), stream, [i, j]);
        expect(frames(results)).toEqual([toHex(a), toHex(b), toHex(c)]);
      }
    }
    const cuts = Array.from({ length: stream.length }, (_, i) => i);
    expect(frames(feed(new HdlcDecoder({ accm: 0 }), stream, cuts))).toEqual([toHex(a), toHex(b), toHex(c)]);
  });

  test("a 0x7D at the end of a chunk escapes the first octet of the next", () => {
    const encoded = encodeHdlc(hex("ff0300217e"), { accm: 0 });
    const escapeAt = encoded.indexOf(0x7d);
    expect(escapeAt).toBeGreaterThan(0);
    const decoder = new HdlcDecoder({ accm: 0 });
    expect(decoder.push(encoded.subarray(0, escapeAt + 1))).toEqual([]);
    expect(frames(decoder.push(encoded.subarray(escapeAt + 1)))).toEqual(["ff0300217e"]);
  });

  test("back-to-back flags, and one flag shared between two frames", () => {
    const one = encodeHdlc(a);
    const two = encodeHdlc(c);
    const shared = join(one, two.subarray(1)); // RFC 1662 §4.1: a closing flag may open the next frame
    const decoder = new HdlcDecoder();
    const results = decoder.push(join(hex("7e7e7e"), shared, hex("7e7e"), one, hex("7e")));
    expect(drops(results)).toEqual([]);
    expect(frames(results)).toEqual([toHex(a), toHex(c), toHex(a)]);
  });

  test("garbage before the first flag is discarded and counted", () => {
    const decoder = new HdlcDecoder();
    const garbage = hex("00 41 7d 99 ff 03 c0 21");
    expect(frames(decoder.push(join(garbage, encodeHdlc(a))))).toEqual([toHex(a)]);
    expect(decoder.counters.discardedOctets).toBe(garbage.length);
  });

  test("a bad FCS drops that frame with a reason and counts it; the next frame still decodes", () => {
    const bad = encodeHdlc(a);
    bad[bad.length - 2] ^= 0x01; // the FCS's high octet, 0x52, becomes 0x53
    const decoder = new HdlcDecoder();
    const results = decoder.push(join(bad, encodeHdlc(c)));
    expect(drops(results)).toEqual([{ field: "hdlc.fcs", reason: "bad FCS-16 on a frame of 18 octets" }]);
    expect(frames(results)).toEqual([toHex(c)]);
    expect(decoder.counters.fcsErrors).toBe(1);
    expect(decoder.counters.frames).toBe(1);
  });

  test("a frame shorter than 4 octets between flags is dropped with a reason", () => {
    const decoder = new HdlcDecoder();
    const results = decoder.push(hex("7e 41 42 43 7e"));
    expect(drops(results)[0].field).toBe("hdlc.length");
    expect(drops(results)[0].reason).toContain("3 octets between flags");
    expect(decoder.counters.tooShort).toBe(1);
  });

  test("the abort sequence 0x7D 0x7E drops the frame (RFC 1662 §4.4.1)", () => {
    const decoder = new HdlcDecoder();
    const encoded = encodeHdlc(a);
    const results = decoder.push(join(encoded.subarray(0, 10), hex("7d7e"), encodeHdlc(c)));
    expect(drops(results)).toHaveLength(1);
    expect(drops(results)[0].field).toBe("hdlc.abort");
    expect(frames(results)).toEqual([toHex(c)]);
    expect(decoder.counters.aborted).toBe(1);
  });

  test("unescaped control characters in our ACCM are removed as line noise (RFC 1662 §4.2)", () => {
    const encoded = encodeHdlc(a);
    const noisy = join(encoded.subarray(0, 5), hex("11 13"), encoded.subarray(5));
    expect(frames(new HdlcDecoder().push(noisy))).toEqual([toHex(a)]);
    // With ACCM 0 the same octets are data, and the FCS catches them.
    const strict = new HdlcDecoder({ accm: 0 });
    expect(drops(strict.push(noisy))[0].field).toBe("hdlc.fcs");
  });

  test("a frame of exactly maxFrameSize octets passes; one octet more is dropped", () => {
    const decoder = new HdlcDecoder({ maxFrameSize: 10, accm: 0 });
    const ten = hex("ff03002141424344 4546");
    const eleven = hex("ff03002141424344 454647");
    const results = decoder.push(join(encodeHdlc(ten), encodeHdlc(eleven), encodeHdlc(ten)));
    expect(frames(results)).toEqual([toHex(ten), toHex(ten)]);
    expect(drops(results)).toEqual([
      { field: "hdlc.length", reason: "frame longer than 10 octets; dropped up to the next flag" },
    ]);
    expect(decoder.counters.tooLong).toBe(1);
  });

  test("an endless frame is dropped once, memory stays bounded, and decoding resumes at the next flag", () => {
    const decoder = new HdlcDecoder();
    const filler = new Uint8Array(1000).fill(0x41);
    const results: Decoded<Uint8Array>[] = [...decoder.push(hex("7e"))];
    for (let i = 0; i < 200; i++) results.push(...decoder.push(filler)); // 200,000 octets, no flag
    expect(drops(results)).toEqual([
      { field: "hdlc.length", reason: "frame longer than 65535 octets; dropped up to the next flag" },
    ]);
    expect(decoder.bufferCapacity).toBeLessThanOrEqual(65537);
    expect(frames(decoder.push(encodeHdlc(a)))).toEqual([toHex(a)]);
    expect(decoder.counters.tooLong).toBe(1);
  });

  test("a frame of 65535 octets, the default maximum, is accepted", () => {
    const big = new Uint8Array(65535).fill(0x41);
    big.set([0xff, 0x03, 0x00, 0x21]);
    const results = new HdlcDecoder().push(encodeHdlc(big));
    expect(results).toHaveLength(1);
    expect(results[0].ok).toBe(true);
    if (results[0].ok) expect(results[0].value.length).toBe(65535);
  });

  test("reset() forgets a partial frame and waits for a flag", () => {
    const decoder = new HdlcDecoder();
    const encoded = encodeHdlc(a);
    decoder.push(encoded.subarray(0, 8));
    decoder.reset();
    // The rest of the old frame is now garbage before a flag; its closing flag starts the hunt's end.
    const results = decoder.push(join(encoded.subarray(8), encodeHdlc(c)));
    expect(drops(results)).toEqual([]);
    expect(frames(results)).toEqual([toHex(c)]);
  });

  test("returned frames are copies: later pushes do not change them", () => {
    const decoder = new HdlcDecoder();
    const [first] = frames(decoder.push(encodeHdlc(a)));
    const again = decoder.push(encodeHdlc(c));
    expect(first).toBe(toHex(a));
    expect(again[0].ok && toHex(again[0].value)).toBe(toHex(c));
  });
});

describe("HDLC properties", () => {
  test("encode then decode gives back every frame, under any ACCM, garbage prefix and chunking", () => {
    fc.assert(
      fc.property(
        fc.array(bytes(300, 2), { minLength: 1, maxLength: 8 }),
        u32,
        bytes(16).filter((g) => !g.includes(0x7e)),
        fc.array(fc.nat(), { maxLength: 12 }),
        (input, accm, garbage, rawCuts) => {
          const stream = join(garbage, ...input.map((f) => encodeHdlc(f, { accm })));
          const cuts = [...new Set(rawCuts.map((n) => n % (stream.length + 1)))].sort((x, y) => x - y);
          const decoder = new HdlcDecoder({ accm });
          const results = feed(decoder, stream, cuts);
          expect(drops(results)).toEqual([]);
          expect(frames(results)).toEqual(input.map(toHex));
          expect(decoder.counters.frames).toBe(input.length);
        },
      ),
      { seed: 1662, numRuns: 500 },
    );
  });

  test("a flipped bit inside a frame is caught: that frame is dropped, the others still arrive", () => {
    fc.assert(
      fc.property(
        fc.array(bytes(100, 2), { minLength: 2, maxLength: 5 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (input, which, where, bit) => {
          const encoded = input.map((f) => encodeHdlc(f, { accm: 0 }));
          const victim = which % encoded.length;
          const target = encoded[victim];
          // Flip a bit of an octet that is neither a flag nor an escape, and does not become one.
          const positions = [...target.keys()].filter((i) => {
            const flipped = target[i] ^ (1 << bit);
            return (
              i > 0 &&
              i < target.length - 1 &&
              target[i - 1] !== 0x7d &&
              target[i] !== 0x7d &&
              flipped !== 0x7d &&
              flipped !== 0x7e
            );
          });
          if (positions.length === 0) return;
          target[positions[where % positions.length]] ^= 1 << bit;
          const results = new HdlcDecoder({ accm: 0 }).push(join(...encoded));
          expect(drops(results).map((d) => d.field)).toEqual(["hdlc.fcs"]);
          expect(frames(results)).toEqual(input.filter((_, i) => i !== victim).map(toHex));
        },
      ),
      { seed: 1663, numRuns: 300 },
    );
  });
});
