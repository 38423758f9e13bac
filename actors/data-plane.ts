/**
 * The DataPlane port: where the IP packets of an LNS's PPP links go (docs/ARCHITECTURE.md: counting and an echo
 * responder here; a TUN device later). IP never goes through an XState queue: the router hands each
 * packet of a link whose IPCP (IPV6CP) is up straight to `receive` (`receiveIpv6`).
 */

/** What a data plane sees of one PPP link. */
export interface PppLinkPort {
  /** The subscriber's address (IPCP), once assigned. */
  readonly address: string | undefined;
  /** Our side's address on the link. */
  readonly localAddress: string;
  /** Sends an IPv4 packet to the subscriber; false when the link cannot carry it now. */
  sendIp(packet: Uint8Array): boolean;
  /** Our IPV6CP Interface-Identifier (our link-local address fe80::ID), once IPV6CP is up. */
  readonly interfaceId?: string;
  /** Sends an IPv6 packet to the subscriber; false when IPV6CP is not up (absent: a link without IPv6). */
  sendIpv6?(packet: Uint8Array): boolean;
}

/** Counters of a data plane. */
export interface DataPlaneStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
}

/** The DataPlane port. */
export interface DataPlane {
  /** An IPv4 packet from the subscriber of `link`. */
  receive(link: PppLinkPort, packet: Uint8Array): void;
  /** An IPv6 packet from the subscriber of `link` (IPV6CP up). */
  receiveIpv6(link: PppLinkPort, packet: Uint8Array): void;
  stats(): DataPlaneStats;
}
