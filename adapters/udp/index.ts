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
export async function bindUdp(local: PeerAddress, options: BindUdpOptions = {}): Promise<UdpTransport> {
  const implementation = options.implementation ?? "node";
  try {
    return implementation === "bun"
      ? await bindBunUdp(local)
      : await bindNodeUdp(local, { receiveBufferBytes: options.receiveBufferBytes });
  } catch (err) {
    throw bindError(local, err);
  }
}

/** The runtimes word a failed bind differently (Bun leaves out the port): say the address, port and fix. */
function bindError(local: PeerAddress, err: unknown): Error {
  const code = (err as { code?: string }).code ?? /E[A-Z]+/.exec(String(err))?.[0];
  const host = local.address.includes(":") ? `[${local.address}]` : local.address;
  const where = `UDP ${host}:${local.port}`;
  const why =
    code === "EADDRINUSE"
      ? "EADDRINUSE: another process holds it (another node, xl2tpd?); stop it or pick another port"
      : code === "EADDRNOTAVAIL"
        ? "EADDRNOTAVAIL: no interface of this machine has that address; pick one it has"
        : code === "EACCES"
          ? "EACCES: ports below 1024 need root or CAP_NET_BIND_SERVICE"
          : err instanceof Error
            ? err.message
            : String(err);
  return Object.assign(new Error(`cannot bind ${where}: ${why}`), code ? { code } : {});
}
