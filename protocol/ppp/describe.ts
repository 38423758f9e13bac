/**
 * One-line readable text for any PPP frame, for `l2tp decode` and logs: the frame is decoded and handed
 * to the protocol's own describe function. Never throws; malformed input is described as such.
 */
import { decodeChap, describeChap } from "./chap.ts";
import { decodeFrame } from "./frame.ts";
import { decodeIpcp, describeIpcp, ipv4ToString } from "./ipcp.ts";
import { decodeIpv6cp, describeIpv6cp } from "./ipv6cp.ts";
import { decodeLcp, describeLcp } from "./lcp.ts";
import { PppProtocol, protocolName } from "./numbers.ts";
import { decodePap, describePap } from "./pap.ts";
import type { Decoded } from "./result.ts";

const ipProtocols: Record<number, string> = { 1: "ICMP", 6: "TCP", 17: "UDP", 47: "GRE", 58: "ICMPv6" };

/** One line for a PPP payload of a given protocol ("LCP Echo-Request id=100 Magic=0xcafebabe …"). */
export function describePayload(protocol: number, payload: Uint8Array): string {
  switch (protocol) {
    case PppProtocol.LCP:
      return line(decodeLcp(payload), describeLcp, "LCP");
    case PppProtocol.IPCP:
      return line(decodeIpcp(payload), describeIpcp, "IPCP");
    case PppProtocol.IPv6CP:
      return line(decodeIpv6cp(payload), describeIpv6cp, "IPv6CP");
    case PppProtocol.PAP:
      return line(decodePap(payload), describePap, "PAP");
    case PppProtocol.CHAP:
      return line(decodeChap(payload), describeChap, "CHAP");
    case PppProtocol.IPv4:
      return describeIpv4(payload);
    default:
      return `${protocolName(protocol)} ${payload.length} octets`;
  }
}

/** One line for a whole PPP frame (Address/Control optional, Protocol, payload), as carried in L2TP data. */
export function describeFrame(bytes: Uint8Array): string {
  const frame = decodeFrame(bytes);
  if (!frame.ok) return `PPP malformed (${frame.error.field}: ${frame.error.reason})`;
  return describePayload(frame.value.protocol, frame.value.payload);
}

function line<T>(decoded: Decoded<T>, describe: (value: T) => string, protocol: string): string {
  return decoded.ok
    ? describe(decoded.value)
    : `${protocol} malformed (${decoded.error.field}: ${decoded.error.reason})`;
}

function describeIpv4(packet: Uint8Array): string {
  if (packet.length < 20 || packet[0] >> 4 !== 4) return `IPv4 ${packet.length} octets`;
  const transport = ipProtocols[packet[9]] ?? `proto ${packet[9]}`;
  return `IPv4 ${ipv4ToString(packet, 12)} > ${ipv4ToString(packet, 16)} ${transport} ${packet.length} octets`;
}
