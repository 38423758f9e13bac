/**
 * UDP transports: `bindUdp` picks the fastest socket API of the running runtime (Bun.udpSocket on Bun,
 * node:dgram elsewhere); `MemoryNetwork` is the lossy simulated network of the protocol tests.
 */
import type { PeerAddress } from "../../actors/ports.ts";
import { bindBunUdp } from "./bun.ts";
import { bindNodeUdp } from "./node.ts";
import type { UdpTransport } from "./stats.ts";

export { bindBunUdp, isBun } from "./bun.ts";
export { type LinkOptions, MemoryNetwork, type MemoryNetworkStats } from "./memory.ts";
export {
  bindNodeUdp,
  DEFAULT_RECEIVE_BUFFER,
  type NodeUdpOptions,
  RECOMMENDED_KERNEL_RECEIVE_BUFFER,
  receiveBufferWarning,
} from "./node.ts";
export type { UdpStats, UdpTransport } from "./stats.ts";

/** Options of `bindUdp`. */
export interface BindUdpOptions {
  /** Force one implementation (tests of both on one runtime); default "node" (see bindUdp). */
  implementation?: "bun" | "node";
  /** SO_RCVBUF for node:dgram (Bun.udpSocket offers no way to set it). */
  receiveBufferBytes?: number;
}

/**
 * Binds one UDP socket at `local` (port 0: an ephemeral port, told in the transport's `local`).
 * node:dgram is the default on every runtime: on Bun it is a little slower than Bun.udpSocket (about
 * 6.7 against 4.7 µs of CPU per echo here) but it can raise SO_RCVBUF (8 MiB against the kernel's
 * default 208 KiB), and a datagram dropped by a full receive buffer stalls its tunnel for a whole
 * retransmission timeout (RFC 2661 §5.8: 1 s): 10,000 calls over 100 tunnels in one process went from
 * 2,900/s with 60 such timeouts to 11,500/s with none.
 */
export function bindUdp(local: PeerAddress, options: BindUdpOptions = {}): Promise<UdpTransport> {
  const implementation = options.implementation ?? "node";
  if (implementation === "bun") return bindBunUdp(local);
  return bindNodeUdp(local, { receiveBufferBytes: options.receiveBufferBytes });
}
