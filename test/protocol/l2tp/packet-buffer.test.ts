import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { AVP_CATALOG, type AvpName } from "../../../protocol/l2tp/avps.ts";
import {
  type ControlHeader,
  type DataHeader,
  decodeHeader,
  encodeDataHeader,
  encodeZlb,
} from "../../../protocol/l2tp/header.ts";
import {
  type ControlMessage,
  type ControlPacket,
  decodeControl,
  encodeControl,
} from "../../../protocol/l2tp/messages.ts";
import {
  allocatePacket,
  PACKET_OWN_BUFFER_ABOVE,
  PACKET_SLAB_BYTES,
} from "../../../protocol/l2tp/packet-buffer.ts";
import { anyMessageArbitrary, headerArbitrary, hideableNames } from "./arbitraries.ts";

describe("allocatePacket", () => {
  test("packets from one slab share its buffer, do not overlap, and are zero", () => {
    allocatePacket(PACKET_SLAB_BYTES); // above the own-buffer size: does not touch the slab
    const a = allocatePacket(100);
    const b = allocatePacket(12);
    expect(a.length).toBe(100);
    expect(b.length).toBe(12);
    expect(a.every((x) => x === 0) && b.every((x) => x === 0)).toBe(true);
    if (a.buffer === b.buffer) {
      const [first, second] = a.byteOffset < b.byteOffset ? [a, b] : [b, a];
      expect(first.byteOffset + first.byteLength).toBeLessThanOrEqual(second.byteOffset);
    }
    a.fill(0xff);
    expect(b.every((x) => x === 0)).toBe(true);
  });

  test("a packet above the own-buffer size gets a buffer of exactly its size", () => {
    const big = allocatePacket(PACKET_OWN_BUFFER_ABOVE + 1);
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(PACKET_OWN_BUFFER_ABOVE + 1);
    const small = allocatePacket(PACKET_OWN_BUFFER_ABOVE);
    expect(small.buffer.byteLength).toBe(PACKET_SLAB_BYTES);
  });

  test("when the slab cannot fit a packet, a fresh slab is used, never the old one rewound", () => {
    const seen: Uint8Array[] = [];
    for (let total = 0; total <= 3 * PACKET_SLAB_BYTES; total += 1000) {
      const p = allocatePacket(1000);
      p.fill(seen.length & 0xff || 1);
      seen.push(p);
    }
    expect(new Set(seen.map((p) => p.buffer)).size).toBeGreaterThanOrEqual(3);
    seen.forEach((p, i) => {
      expect(p.every((x) => x === (i & 0xff || 1))).toBe(true);
    });
  });
});

/** One packet to encode, of any kind the engine sends. */
type Job =
  | { kind: "control"; header: ControlHeader; message: ControlMessage }
  | {
      kind: "hidden";
      header: ControlHeader;
      message: ControlMessage;
      hide: AvpName[];
      randomVector: Uint8Array;
    }
  | { kind: "zlb"; header: ControlHeader }
  | { kind: "data"; header: DataHeader; payload: Uint8Array };

const secret = new TextEncoder().encode("s3cret");
const u16 = fc.integer({ min: 0, max: 0xffff });

const jobArbitrary: fc.Arbitrary<Job> = fc.oneof(
  fc.record({ kind: fc.constant("control" as const), header: headerArbitrary, message: anyMessageArbitrary }),
  fc.record({
    kind: fc.constant("hidden" as const),
    header: headerArbitrary,
    message: anyMessageArbitrary,
    hide: fc.subarray(hideableNames),
    randomVector: fc.uint8Array({ minLength: 1, maxLength: 32 }),
  }),
  fc.record({ kind: fc.constant("zlb" as const), header: headerArbitrary }),
  fc.record({
    kind: fc.constant("data" as const),
    header: fc.record({ tunnelId: u16, sessionId: u16, ns: u16, nr: u16, length: fc.boolean() }),
    payload: fc.uint8Array({ maxLength: 1500 }),
  }),
);

function encode(job: Job): Uint8Array {
  switch (job.kind) {
    case "control":
      return encodeControl(job.header, job.message);
    case "hidden":
      return encodeControl(job.header, job.message, {
        secret,
        hide: job.hide,
        randomVector: job.randomVector,
      });
    case "zlb":
      return encodeZlb(job.header);
    case "data":
      return encodeDataHeader(job.header, job.payload);
  }
}

/** What decoding the packet of `job` must give (the round trips of messages.test.ts). */
function expectDecodes(job: Job, packet: Uint8Array): void {
  switch (job.kind) {
    case "control":
      expect(decodeControl(packet)).toEqual({
        ok: true,
        value: { header: job.header, message: job.message },
      });
      return;
    case "hidden": {
      const { message, hide, randomVector } = job;
      const hidden = AVP_CATALOG.map((s) => s.key).filter(
        (k) => hide.includes(k) && message.avps[k] !== undefined && k !== "randomVector",
      );
      const expected: ControlMessage = { type: message.type, avps: { ...message.avps, randomVector } };
      if (hidden.length) expected.hidden = hidden;
      const value: ControlPacket = { header: job.header, message: expected };
      expect(decodeControl(packet, { secret })).toEqual({ ok: true, value });
      return;
    }
    case "zlb":
      expect(decodeControl(packet)).toEqual({ ok: true, value: { header: job.header, message: null } });
      return;
    case "data": {
      const r = decodeHeader(packet);
      if (!r.ok) throw new Error(`data packet does not decode: ${r.error.field}: ${r.error.reason}`);
      expect(r.value.header).toEqual({
        isControl: false,
        ...job.header,
        length: job.header.length || undefined,
      });
      expect(packet.subarray(r.value.payloadOffset, r.value.payloadEnd)).toEqual(job.payload);
      return;
    }
  }
}

describe("encoded packets share slabs safely", () => {
  test("packets encoded one after another, across several slabs, are all intact after the last one", () => {
    fc.assert(
      fc.property(fc.array(jobArbitrary, { minLength: 1, maxLength: 24 }), (jobs) => {
        // Repeat the jobs until the packets fill more than three slabs.
        const packets: Uint8Array[] = [];
        const copies: Uint8Array[] = [];
        let total = 0;
        for (let i = 0; total <= 3 * PACKET_SLAB_BYTES; i++) {
          const packet = encode(jobs[i % jobs.length]);
          packets.push(packet);
          copies.push(packet.slice());
          total += packet.length;
        }
        expect(new Set(packets.map((p) => p.buffer)).size).toBeGreaterThanOrEqual(3);
        packets.forEach((packet, i) => {
          expect(packet).toEqual(copies[i]);
          expectDecodes(jobs[i % jobs.length], packet);
        });
      }),
      { numRuns: 15 },
    );
  });
});
