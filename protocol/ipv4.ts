/**
 * Just enough IPv4 (RFC 791) and ICMP (RFC 792) for a PPP endpoint to answer a ping to its own address
 * and for tests to send one: header checksums (RFC 1071), an echo request, and the reply to it. Pure.
 */

/**
 * Dotted quad → 32-bit number; undefined when it is not an IPv4 address (four parts of 1-3 digits, no
 * leading zero, each at most 255). Read character by character: it runs for every address a pool
 * takes back and every IPCP address encoded, where a split with a regular expression per part cost
 * ~1% of an LNS's CPU.
 */
export function ipv4ToNumber(address: string): number | undefined {
  let n = 0;
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= address.length; i++) {
    const code = i < address.length ? address.charCodeAt(i) : 0x2e;
    if (code === 0x2e) {
      // "." (or the end) closes a part.
      if (digits === 0 || value > 255 || parts === 4) return undefined;
      n = n * 256 + value;
      parts++;
      value = 0;
      digits = 0;
    } else if (code >= 0x30 && code <= 0x39 && digits < 3 && !(digits === 1 && value === 0)) {
      value = value * 10 + (code - 0x30);
      digits++;
    } else {
      return undefined;
    }
  }
  return parts === 4 ? n : undefined;
}

/** 32-bit number → dotted quad; joined, not concatenated: a flat string (a template literal leaves JSC ropes, ~106 bytes kept against ~38). */
export function numberToIpv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** IP protocol number of ICMP. */
export const IPPROTO_ICMP = 1;

/** The Internet checksum (RFC 1071) of bytes[start, end). */
export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The fields of an IPv4 header this product reads, or undefined for a packet that is not one. */
export interface Ipv4Header {
  headerLength: number;
  totalLength: number;
  protocol: number;
  source: number;
  destination: number;
}

/** Reads an IPv4 header; undefined when the bytes are not a well-formed IPv4 packet. */
export function readIpv4(packet: Uint8Array): Ipv4Header | undefined {
  if (packet.length < 20 || packet[0] >> 4 !== 4) return undefined;
  const headerLength = (packet[0] & 0x0f) * 4;
  const totalLength = (packet[2] << 8) | packet[3];
  if (headerLength < 20 || totalLength < headerLength || totalLength > packet.length) return undefined;
  return {
    headerLength,
    totalLength,
    protocol: packet[9],
    source: ((packet[12] << 24) | (packet[13] << 16) | (packet[14] << 8) | packet[15]) >>> 0,
    destination: ((packet[16] << 24) | (packet[17] << 16) | (packet[18] << 8) | packet[19]) >>> 0,
  };
}

function writeAddress(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24;
  out[at + 1] = (n >>> 16) & 255;
  out[at + 2] = (n >>> 8) & 255;
  out[at + 3] = n & 255;
}

/** An ICMP Echo Request (RFC 792) from `source` to `destination` with this identifier, sequence and data. */
export function icmpEchoRequest(
  source: string,
  destination: string,
  identifier: number,
  sequence: number,
  data: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(28 + data.length);
  out[0] = 0x45;
  out[2] = out.length >> 8;
  out[3] = out.length & 255;
  out[8] = 64; // TTL
  out[9] = IPPROTO_ICMP;
  writeAddress(out, 12, ipv4ToNumber(source) ?? 0);
  writeAddress(out, 16, ipv4ToNumber(destination) ?? 0);
  const ip = internetChecksum(out, 0, 20);
  out[10] = ip >> 8;
  out[11] = ip & 255;
  out[20] = 8; // Echo Request
  out[24] = identifier >> 8;
  out[25] = identifier & 255;
  out[26] = sequence >> 8;
  out[27] = sequence & 255;
  out.set(data, 28);
  const icmp = internetChecksum(out, 20, out.length);
  out[22] = icmp >> 8;
  out[23] = icmp & 255;
  return out;
}

/** Whether the packet is an ICMP Echo Reply (type 0) with this identifier and sequence. */
export function isIcmpEchoReply(packet: Uint8Array, identifier: number, sequence: number): boolean {
  const h = readIpv4(packet);
  if (!h || h.protocol !== IPPROTO_ICMP || h.totalLength < h.headerLength + 8) return false;
  const at = h.headerLength;
  return (
    packet[at] === 0 &&
    ((packet[at + 4] << 8) | packet[at + 5]) === identifier &&
    ((packet[at + 6] << 8) | packet[at + 7]) === sequence
  );
}

/**
 * The Echo Reply to an ICMP Echo Request sent to `self` (RFC 792: addresses swapped, type 0, the same
 * identifier, sequence and data), or undefined when the packet is anything else.
 */
export function icmpEchoReply(packet: Uint8Array, self: number): Uint8Array | undefined {
  const h = readIpv4(packet);
  if (!h || h.protocol !== IPPROTO_ICMP || h.destination !== self) return undefined;
  const at = h.headerLength;
  if (h.totalLength < at + 8 || packet[at] !== 8) return undefined;
  if (internetChecksum(packet, 0, at) !== 0 || internetChecksum(packet, at, h.totalLength) !== 0)
    return undefined;
  const out = packet.slice(0, h.totalLength);
  writeAddress(out, 12, h.destination);
  writeAddress(out, 16, h.source);
  out[8] = 64;
  out[10] = 0;
  out[11] = 0;
  const ip = internetChecksum(out, 0, at);
  out[10] = ip >> 8;
  out[11] = ip & 255;
  out[at] = 0;
  out[at + 2] = 0;
  out[at + 3] = 0;
  const icmp = internetChecksum(out, at, out.length);
  out[at + 2] = icmp >> 8;
  out[at + 3] = icmp & 255;
  return out;
}
