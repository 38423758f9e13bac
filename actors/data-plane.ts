/**
 * The DataPlane port: where the IP packets of an LNS's PPP links go (docs/ARCHITECTURE.md: counting and an echo
 * responder here; a TUN device later). IP never goes through an XState queue: the router hands each
 * packet of a link whose IPCP is up straight to `receive`.
 */

/** What a data plane sees of one PPP link. */
export interface PppLinkPort {
  /** The subscriber's address (IPCP), once assigned. */
  readonly address: string | undefined;
  /** Our side's address on the link. */
  readonly localAddress: string;
  /** Sends an IPv4 packet to the subscriber; false when the link cannot carry it now. */
  sendIp(packet: Uint8Array): boolean;
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
  stats(): DataPlaneStats;
}
