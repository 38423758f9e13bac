/**
 * UDP transports: `bindUdp` picks the fastest socket API of the running runtime (Bun.udpSocket on Bun,
 * node:dgram elsewhere); `MemoryNetwork` is the lossy simulated network of the protocol tests.
 */
import type { PeerAddress } from "../../actors/ports.ts";
import { bindBunUdp, isBun } from "./bun.ts";
import { bindNodeUdp } from "./node.ts";
import type { UdpTransport } from "./stats.ts";

export { bindBunUdp, isBun } from "./bun.ts";
export { type LinkOptions, MemoryNetwork, type MemoryNetworkStats } from "./memory.ts";
export { bindNodeUdp, DEFAULT_RECEIVE_BUFFER, type NodeUdpOptions } from "./node.ts";
export type { UdpStats, UdpTransport } from "./stats.ts";

/** Options of `bindUdp`. */
export interface BindUdpOptions {
  /** Force one implementation (tests of both on one runtime); default: "bun" on Bun, else "node". */
  implementation?: "bun" | "node";
  /** SO_RCVBUF for node:dgram (Bun.udpSocket offers no way to set it). */
  receiveBufferBytes?: number;
}

/** Binds one UDP socket at `local` (port 0: an ephemeral port, told in the transport's `local`). */
export function bindUdp(local: PeerAddress, options: BindUdpOptions = {}): Promise<UdpTransport> {
  const implementation = options.implementation ?? (isBun() ? "bun" : "node");
  if (implementation === "bun") return bindBunUdp(local);
  return bindNodeUdp(local, { receiveBufferBytes: options.receiveBufferBytes });
}
