/**
 * Nodes on real UDP over loopback for tests: each bound at an address (ephemeral port) on the real
 * clock and crypto random; `closeAll` closes every node, then every socket.
 */
import type { NodeConfig } from "../../actors/config.ts";
import { createNode, type L2tpNode, type NodeDeps } from "../../actors/node.ts";
import { realClock } from "../../adapters/clock/index.ts";
import { cryptoRandom } from "../../adapters/random/index.ts";
import { bindUdp, type UdpTransport } from "../../adapters/udp/index.ts";

/** The nodes and sockets of one test. */
export class UdpNodes {
  readonly #nodes: L2tpNode[] = [];
  readonly #sockets: UdpTransport[] = [];

  /** A socket at `address` (ephemeral port), closed by closeAll. */
  async socket(address: string): Promise<UdpTransport> {
    const socket = await bindUdp({ address, port: 0 });
    this.#sockets.push(socket);
    return socket;
  }

  /** A node on a socket of its own at `address`. */
  async node(
    address: string,
    config: NodeConfig,
    deps: Partial<NodeDeps> = {},
  ): Promise<{ node: L2tpNode; socket: UdpTransport }> {
    const socket = await this.socket(address);
    const node = createNode(config, { transport: socket, clock: realClock, random: cryptoRandom, ...deps });
    this.#nodes.push(node);
    return { node, socket };
  }

  /** Closes every node (StopCCNs and all), then every socket. */
  async closeAll(): Promise<void> {
    await Promise.all(this.#nodes.splice(0).map((n) => n.close()));
    await Promise.all(this.#sockets.splice(0).map((s) => s.close()));
  }
}
