/**
 * Strings a session keeps for its whole life (a call's Calling Number, a subscriber's address) are
 * made flat: JSC keeps a string grown by concatenation as a chain of ropes, ~330 bytes for a
 * 10-digit number against 36 flat, which at 60,000 sessions was the margin of the 6 KB per PPP
 * session goal (README, bench/lns-load --ppp --settle).
 */

import { isRope } from "bun:jsc";
import { expect, test } from "bun:test";
import { numberToIpv4 } from "../../protocol/ipv4.ts";
import { decodeUtf8 } from "../../protocol/l2tp/text.ts";
import { ipv4ToString } from "../../protocol/ppp/ipcp.ts";

test("a decoded ASCII AVP string is flat, with the right text", () => {
  const bytes = new TextEncoder().encode("##5550000123##");
  const text = decodeUtf8(bytes, 2, 10);
  // Asked first: comparing the text flattens a rope.
  expect(isRope(text)).toBe(false);
  expect(text).toBe("5550000123");
});

test("dotted quads from octets and from a pool's number are flat", () => {
  const fromOctets = ipv4ToString(Uint8Array.of(10, 64, 201, 7));
  const fromNumber = numberToIpv4((10 << 24) | (64 << 16) | (201 << 8) | 7);
  expect(isRope(fromOctets)).toBe(false);
  expect(isRope(fromNumber)).toBe(false);
  expect(fromOctets).toBe("10.64.201.7");
  expect(fromNumber).toBe("10.64.201.7");
});
