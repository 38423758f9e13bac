/**
 * DataPlane adapters (actors/data-plane.ts): `CountingDataPlane` counts and drops, `EchoDataPlane`
 * also answers ICMP echo sent to the link's own address (and ICMPv6 echo sent to its link-local
 * address), as a router answers a ping to its interface.
 */

import type { DataPlane, DataPlaneStats, PppLinkPort } from "../../actors/data-plane.ts";
import { icmpEchoReply, ipv4ToNumber } from "../../protocol/ipv4.ts";
import { icmpv6EchoReply } from "../../protocol/ipv6.ts";

/** Counts every packet and drops it. */
export class CountingDataPlane implements DataPlane {
  protected readonly counters: DataPlaneStats = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0 };

  receive(_link: PppLinkPort, packet: Uint8Array): void {
    this.counters.packetsIn++;
    this.counters.bytesIn += packet.length;
  }

  receiveIpv6(_link: PppLinkPort, packet: Uint8Array): void {
    this.counters.packetsIn++;
    this.counters.bytesIn += packet.length;
  }

  stats(): DataPlaneStats {
    return { ...this.counters };
  }
}

/** Counts, and answers an ICMP Echo Request addressed to the link's local address. */
export class EchoDataPlane extends CountingDataPlane {
  /** Echo replies sent. */
  echoes = 0;

  override receive(link: PppLinkPort, packet: Uint8Array): void {
    super.receive(link, packet);
    const self = ipv4ToNumber(link.localAddress);
    if (self === undefined) return;
    const reply = icmpEchoReply(packet, self);
    if (reply && link.sendIp(reply)) this.#sent(reply);
  }

  override receiveIpv6(link: PppLinkPort, packet: Uint8Array): void {
    super.receiveIpv6(link, packet);
    if (link.interfaceId === undefined) return;
    const reply = icmpv6EchoReply(packet, link.interfaceId);
    if (reply && link.sendIpv6?.(reply)) this.#sent(reply);
  }

  #sent(reply: Uint8Array): void {
    this.echoes++;
    this.counters.packetsOut++;
    this.counters.bytesOut += reply.length;
  }
}
