/** ICMPv6 echo between link-local addresses (RFC 4443 §4, RFC 5072 §5): the request, the reply, refusals. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { icmpv6EchoReply, icmpv6EchoRequest, isIcmpv6EchoReply } from "../../protocol/ipv6.ts";

const CLIENT = "0000000000000001";
const SERVER = "0000000000000002";

describe("ICMPv6 echo", () => {
  test("a request carries the checksum over the pseudo-header (worked out apart: 0xabb8)", () => {
    const request = icmpv6EchoRequest(CLIENT, SERVER, 0x1234, 1, new TextEncoder().encode("abcd"));
    expect(request.length).toBe(40 + 12);
    expect([request[0], request[4], request[5], request[6], request[7]]).toEqual([0x60, 0, 12, 58, 64]);
    expect(request.subarray(8, 10)).toEqual(Uint8Array.of(0xfe, 0x80));
    expect((request[42] << 8) | request[43]).toBe(0xabb8);
  });

  test("the reply to our address swaps the addresses, keeps identifier, sequence and data, checksums right", () => {
    const data = Uint8Array.of(1, 2, 3);
    const reply = icmpv6EchoReply(icmpv6EchoRequest(CLIENT, SERVER, 7, 9, data), SERVER);
    expect(reply).toBeDefined();
    const r = reply as Uint8Array;
    expect(isIcmpv6EchoReply(r, 7, 9)).toBe(true);
    expect(isIcmpv6EchoReply(r, 7, 10)).toBe(false);
    const damaged = r.slice();
    damaged[r.length - 1] ^= 0x40;
    expect(isIcmpv6EchoReply(damaged, 7, 9)).toBe(false);
    expect(r.subarray(8, 24)).toEqual(icmpv6EchoRequest(SERVER, CLIENT, 7, 9).subarray(8, 24));
    expect(r.subarray(48)).toEqual(data);
    // A reply is itself a valid message: answering it as a request would need type 128, so it is refused.
    expect(icmpv6EchoReply(r, CLIENT)).toBeUndefined();
  });

  test("not to us, a bad checksum, a truncated or non-IPv6 packet: no reply", () => {
    const request = icmpv6EchoRequest(CLIENT, SERVER, 1, 1);
    expect(icmpv6EchoReply(request, CLIENT)).toBeUndefined();
    const corrupt = request.slice();
    corrupt[47] ^= 1;
    expect(icmpv6EchoReply(corrupt, SERVER)).toBeUndefined();
    expect(icmpv6EchoReply(request.subarray(0, 44), SERVER)).toBeUndefined();
    const v4 = request.slice();
    v4[0] = 0x45;
    expect(icmpv6EchoReply(v4, SERVER)).toBeUndefined();
  });

  test("property: every request to us is answered with a reply that verifies", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.uint8Array({ maxLength: 64 }),
        (id, seq, data) => {
          const reply = icmpv6EchoReply(icmpv6EchoRequest(CLIENT, SERVER, id, seq, data), SERVER);
          expect(reply && isIcmpv6EchoReply(reply, id, seq)).toBe(true);
        },
      ),
    );
  });
});
