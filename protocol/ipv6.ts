/**
 * Just enough IPv6 (RFC 8200) and ICMPv6 (RFC 4443) for a PPP endpoint to answer a ping to its own
 * link-local address (RFC 5072 §5: fe80::/64 and the Interface-Identifier IPV6CP agreed) and for tests to
 * send one. Pure.
 */

import { internetChecksum } from "./ipv4.ts";
import { interfaceIdFromString } from "./ppp/ipv6cp.ts";

/** Next Header value of ICMPv6. */
export const IPPROTO_ICMPV6 = 58;
const HEADER = 40;
const ECHO_REQUEST = 128;
const ECHO_REPLY = 129;

/** The 16 octets of the link-local address of an Interface-Identifier (16 hex digits). */
export function linkLocalBytes(interfaceId: string): Uint8Array {
  const out = new Uint8Array(16);
  out[0] = 0xfe;
  out[1] = 0x80;
  out.set(interfaceIdFromString(interfaceId), 8);
  return out;
}

/** The ICMPv6 checksum (RFC 4443 §2.3) of the message in packet[HEADER, HEADER + length): pseudo-header first. */
function icmpv6Checksum(packet: Uint8Array, length: number): number {
  const pseudo = new Uint8Array(40 + length);
  pseudo.set(packet.subarray(8, 40), 0); // source and destination
  pseudo[32] = length >>> 24;
  pseudo[33] = (length >>> 16) & 255;
  pseudo[34] = (length >>> 8) & 255;
  pseudo[35] = length & 255;
  pseudo[39] = IPPROTO_ICMPV6;
  pseudo.set(packet.subarray(HEADER, HEADER + length), 40);
  return internetChecksum(pseudo);
}

/** An ICMPv6 Echo Request between two link-local addresses (by Interface-Identifier). */
export function icmpv6EchoRequest(
  sourceId: string,
  destinationId: string,
  identifier: number,
  sequence: number,
  data: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const length = 8 + data.length;
  const out = new Uint8Array(HEADER + length);
  out[0] = 0x60;
  out[4] = length >> 8;
  out[5] = length & 255;
  out[6] = IPPROTO_ICMPV6;
  out[7] = 64; // Hop Limit
  out.set(linkLocalBytes(sourceId), 8);
  out.set(linkLocalBytes(destinationId), 24);
  out[HEADER] = ECHO_REQUEST;
  out[HEADER + 4] = identifier >> 8;
  out[HEADER + 5] = identifier & 255;
  out[HEADER + 6] = sequence >> 8;
  out[HEADER + 7] = sequence & 255;
  out.set(data, HEADER + 8);
  const sum = icmpv6Checksum(out, length);
  out[HEADER + 2] = sum >> 8;
  out[HEADER + 3] = sum & 255;
  return out;
}

/** The ICMPv6 message's length when the packet is a well-formed IPv6 packet carrying ICMPv6 directly. */
function icmpv6Length(packet: Uint8Array): number | undefined {
  if (packet.length < HEADER + 8 || packet[0] >> 4 !== 6 || packet[6] !== IPPROTO_ICMPV6) return undefined;
  const length = (packet[4] << 8) | packet[5];
  return length >= 8 && HEADER + length <= packet.length ? length : undefined;
}

/** Whether the packet is an ICMPv6 Echo Reply with this identifier and sequence, its checksum right. */
export function isIcmpv6EchoReply(packet: Uint8Array, identifier: number, sequence: number): boolean {
  const length = icmpv6Length(packet);
  if (length === undefined || icmpv6Checksum(packet, length) !== 0) return false;
  return (
    packet[HEADER] === ECHO_REPLY &&
    ((packet[HEADER + 4] << 8) | packet[HEADER + 5]) === identifier &&
    ((packet[HEADER + 6] << 8) | packet[HEADER + 7]) === sequence
  );
}

/**
 * The Echo Reply (RFC 4443 §4.2: addresses swapped, type 129, the same identifier, sequence and data) to
 * an ICMPv6 Echo Request sent to the link-local address of `selfId`, or undefined for anything else.
 */
export function icmpv6EchoReply(packet: Uint8Array, selfId: string): Uint8Array | undefined {
  const length = icmpv6Length(packet);
  if (length === undefined || packet[HEADER] !== ECHO_REQUEST) return undefined;
  const self = linkLocalBytes(selfId);
  for (let i = 0; i < 16; i++) if (packet[24 + i] !== self[i]) return undefined;
  if (icmpv6Checksum(packet, length) !== 0) return undefined;
  const out = packet.slice(0, HEADER + length);
  out.set(packet.subarray(8, 24), 24);
  out.set(self, 8);
  out[7] = 64;
  out[HEADER] = ECHO_REPLY;
  out[HEADER + 2] = 0;
  out[HEADER + 3] = 0;
  const sum = icmpv6Checksum(out, length);
  out[HEADER + 2] = sum >> 8;
  out[HEADER + 3] = sum & 255;
  return out;
}
