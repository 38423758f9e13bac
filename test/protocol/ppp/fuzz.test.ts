/**
 * Fuzzing every PPP decoder (issue 2): random octet strings and mutations of real and generated PPP
 * packets go through the frame, LCP, IPCP, PAP, CHAP and option decoders, the describer and the streaming
 * HDLC decoder. No exception may escape, every rejection names a field and a reason, and whatever is
 * accepted re-encodes to the same octets. Fixed seed by default; another with
 * FUZZ_SEED=7 FUZZ_RUNS=1000000 bun test ./test/protocol/ppp/fuzz.test.ts
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import fc from "fast-check";
import { readCapture } from "../../../adapters/capture/pcap.ts";
import {
  type Decoded,
  decodeChap,
  decodeFrame,
  decodeIpcp,
  decodeIpv6cp,
  decodeLcp,
  decodeOptions,
  decodePap,
  describeFrame,
  encodeChap,
  encodeFrame,
  encodeHdlc,
  encodeIpcp,
  encodeIpv6cp,
  encodeLcp,
  encodePap,
  HdlcDecoder,
  ipcpOptions,
  lcpOptions,
} from "../../../protocol/ppp/index.ts";
import { type FuzzFormat, fuzzInputs, fuzzSettings } from "../../fuzz/mutate.ts";
import { chapPacket, ipcpPacket, lcpPacket, papPacket, toHex } from "./arbitraries.ts";

const { seed, runs } = fuzzSettings(100_000, 1661);

/** PPP control packets (RFC 1661 §5: Code, Identifier, Length) and their options. */
const PPP_FORMAT: FuzzFormat = {
  boundary: [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x21, 0x7d, 0x7e, 0x7f, 0x80, 0xc0, 0xfe, 0xff],
  // A packet Length, a PAP/CHAP size octet or an option Length near the real one.
  lengths: (length) => [0, 1, 2, 3, 4, 5, 6, length - 1, length, length + 1, 0xff, 0xffff],
  maxRandomLength: 80,
  maxExtension: 24,
  // A known code and a Length that fits.
  shapeRandom: (bytes, int) => {
    bytes[0] = 1 + int(13);
    bytes[2] = 0;
    bytes[3] = Math.min(bytes.length, 4 + int(bytes.length));
  },
};

/** Seeds: PPP frames and payloads from the captures, proxy LCP options, and generated packets of every kind. */
function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const dir = new URL("../../fixtures/captures/", import.meta.url).pathname;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".pcapng"))) {
    const capture = readCapture(readFileSync(dir + file));
    if (!capture.ok) continue;
    for (const { payload } of capture.datagrams) {
      const flags = (payload[0] << 8) | payload[1];
      if (flags & 0x8000) continue; // control messages are the L2TP fuzz test's
      const at = (flags & 0x4000 ? 8 : 6) + (flags & 0x0800 ? 4 : 0);
      const frame = payload.subarray(at);
      out.push(frame);
      const decoded = decodeFrame(frame);
      if (decoded.ok) out.push(decoded.value.payload);
    }
  }
  out.push(Uint8Array.from(Buffer.from("010405b40304c0230506deadbeef", "hex")));
  const sample = <T>(arbitrary: fc.Arbitrary<T>, n: number, s: number) =>
    fc.sample(arbitrary, { seed: s, numRuns: n });
  const generated = [
    ...sample(lcpPacket, 60, seed).map((p) => ({ protocol: 0xc021, payload: encodeLcp(p) })),
    ...sample(ipcpPacket, 30, seed + 1).map((p) => ({ protocol: 0x8021, payload: encodeIpcp(p) })),
    ...sample(papPacket, 15, seed + 2).map((p) => ({ protocol: 0xc023, payload: encodePap(p) })),
    ...sample(chapPacket, 15, seed + 3).map((p) => ({ protocol: 0xc223, payload: encodeChap(p) })),
  ];
  for (const [i, { protocol, payload }] of generated.entries()) {
    out.push(payload);
    const frame = encodeFrame({ protocol, payload });
    out.push(frame);
    if (i % 3 === 0) out.push(encodeHdlc(frame, { accm: i % 2 ? 0 : 0xffffffff }));
  }
  return out;
}

function checkRejection(result: Decoded<unknown>, stage: string, input: Uint8Array): void {
  if (result.ok) return;
  const { field, reason } = result.error;
  if (typeof field !== "string" || !field || typeof reason !== "string" || !reason) {
    throw new Error(
      `${stage}: rejection without field or reason for ${toHex(input)}: ${JSON.stringify(result.error)}`,
    );
  }
}

/** Accepted packets must re-encode to the octets Length covered (the codecs are canonical). */
function checkCanonical(
  result: Decoded<unknown>,
  encode: (value: never) => Uint8Array,
  input: Uint8Array,
  stage: string,
) {
  if (!result.ok) return;
  const length = (input[2] << 8) | input[3];
  const again = toHex(encode(result.value as never));
  if (again !== toHex(input.subarray(0, length))) {
    throw new Error(`${stage}: ${toHex(input)} decoded then re-encoded as ${again}`);
  }
}

describe("PPP decoders under fuzzing", () => {
  test(`${runs} random and mutated inputs (seed ${seed}): no exception, every rejection named, accepted ones canonical`, () => {
    const pool = seeds();
    expect(pool.length).toBeGreaterThan(200);
    const accepted = { frame: 0, lcp: 0, ipcp: 0, ipv6cp: 0, pap: 0, chap: 0, options: 0 };
    const rejected = { frame: 0, lcp: 0, ipcp: 0, ipv6cp: 0, pap: 0, chap: 0, options: 0 };
    const hdlc = new HdlcDecoder({ maxFrameSize: 512 });
    let hdlcResults = 0;
    const count = (name: keyof typeof accepted, result: Decoded<unknown>) => {
      if (result.ok) accepted[name]++;
      else rejected[name]++;
    };
    for (const input of fuzzInputs(pool, seed, runs, PPP_FORMAT)) {
      let stage = "decodeFrame";
      try {
        const frame = decodeFrame(input);
        checkRejection(frame, stage, input);
        count("frame", frame);
        stage = "decodeLcp";
        const lcp = decodeLcp(input);
        checkRejection(lcp, stage, input);
        checkCanonical(lcp, encodeLcp, input, stage);
        count("lcp", lcp);
        stage = "decodeIpcp";
        const ipcp = decodeIpcp(input);
        checkRejection(ipcp, stage, input);
        checkCanonical(ipcp, encodeIpcp, input, stage);
        count("ipcp", ipcp);
        stage = "decodeIpv6cp";
        const ipv6cp = decodeIpv6cp(input);
        checkRejection(ipv6cp, stage, input);
        checkCanonical(ipv6cp, encodeIpv6cp, input, stage);
        count("ipv6cp", ipv6cp);
        stage = "decodePap";
        const pap = decodePap(input);
        checkRejection(pap, stage, input);
        if (pap.ok) expect(decodePap(encodePap(pap.value))).toEqual(pap);
        count("pap", pap);
        stage = "decodeChap";
        const chap = decodeChap(input);
        checkRejection(chap, stage, input);
        checkCanonical(chap, encodeChap, input, stage);
        count("chap", chap);
        stage = "decodeOptions";
        const options = decodeOptions(input, lcpOptions, "LCP");
        checkRejection(options, stage, input);
        checkRejection(decodeOptions(input, ipcpOptions, "IPCP"), stage, input);
        count("options", options);
        stage = "describeFrame";
        if (typeof describeFrame(input) !== "string") throw new Error("describeFrame returned no text");
        stage = "HdlcDecoder.push";
        for (const result of hdlc.push(input)) {
          checkRejection(result, stage, input);
          hdlcResults++;
        }
        if (hdlc.bufferCapacity > 514) throw new Error(`HDLC buffer grew to ${hdlc.bufferCapacity}`);
      } catch (err) {
        throw new Error(
          `${stage} threw on ${toHex(input)}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    if (process.env.FUZZ_VERBOSE) console.log({ accepted, rejected, hdlc: hdlc.counters, hdlcResults });
    // Both outcomes must really happen, or the inputs are not reaching past the first checks.
    for (const name of Object.keys(accepted) as (keyof typeof accepted)[]) {
      expect(accepted[name]).toBeGreaterThan(runs / 200);
      expect(rejected[name]).toBeGreaterThan(runs / 200);
    }
    expect(hdlc.counters.frames).toBeGreaterThan(0);
    expect(hdlcResults).toBeGreaterThan(hdlc.counters.frames);
  });
});
