/**
 * UDP transports: `bindUdp` picks the socket API of the running runtime (libc over FFI on Deno for IPv4,
 * node:dgram elsewhere, driving Bun's native socket on Bun); `MemoryNetwork` is the lossy simulated
 * network of the protocol tests.
 */
import { isIPv4 } from "node:net";
import type { PeerAddress } from "../../actors/ports.ts";
import { bindBunUdp } from "./bun.ts";
import { bindDenoUdp, denoUdpUnavailable } from "./deno.ts";
import { bindNodeUdp, DEFAULT_RECEIVE_BUFFER } from "./node.ts";
import type { UdpTransport } from "./stats.ts";

export { bindBunUdp, isBun } from "./bun.ts";
export { bindDenoUdp, denoUdpUnavailable } from "./deno.ts";
export { type LinkOptions, MemoryNetwork, type MemoryNetworkStats } from "./memory.ts";
export {
  bindNodeUdp,
  DEFAULT_RECEIVE_BUFFER,
  type NodeUdpOptions,
  RECOMMENDED_KERNEL_RECEIVE_BUFFER,
  receiveBufferWarning,
} from "./node.ts";
export type { UdpImplementation, UdpStats, UdpTransport } from "./stats.ts";

/** Options of `bindUdp`. */
export interface BindUdpOptions {
  /**
   * Force one implementation (tests of several on one runtime; a comparison): "deno" is libc over FFI
   * (Deno, Linux, IPv4, --allow-ffi: it throws elsewhere), "bun" Bun.udpSocket, "node" node:dgram.
   * Default: "deno" where it can work, else "node" (see bindUdp).
   */
  implementation?: "deno" | "bun" | "node";
  /** SO_RCVBUF for node:dgram and FFI (Bun.udpSocket offers no way to set it; Deno's node:dgram ignores it). */
  receiveBufferBytes?: number;
}

/**
 * Binds one UDP socket at `local` (port 0: an ephemeral port, told in the transport's `local`).
 * On Deno an IPv4 socket goes through libc over FFI (deno.ts) when it can: no permission (--allow-ffi),
 * not Linux or no glibc, and it silently takes node:dgram instead (`denoUdpUnavailable()` says why, the
 * transport's `implementation` which; `receiveBufferWarning` words it at start of run and lab when the
 * small default buffer makes it matter). Otherwise node:dgram is the default: on Bun it is a little slower than Bun.udpSocket (about
 * 6.7 against 4.7 µs of CPU per echo here) but it can raise SO_RCVBUF (8 MiB against the kernel's
 * default 208 KiB), and a datagram dropped by a full receive buffer stalls its tunnel for a whole
 * retransmission timeout (RFC 2661 §5.8: 1 s): 10,000 calls over 100 tunnels in one process went from
 * 2,900/s with 60 such timeouts to 11,500/s with none.
 */
export async function bindUdp(local: PeerAddress, options: BindUdpOptions = {}): Promise<UdpTransport> {
  const implementation =
    options.implementation ?? (isIPv4(local.address) && denoUdpUnavailable() === undefined ? "deno" : "node");
  const receiveBufferBytes = options.receiveBufferBytes ?? DEFAULT_RECEIVE_BUFFER;
  try {
    return implementation === "deno"
      ? await bindDenoUdp(local, { receiveBufferBytes })
      : implementation === "bun"
        ? await bindBunUdp(local)
        : await bindNodeUdp(local, { receiveBufferBytes });
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
