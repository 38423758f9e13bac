/**
 * Our LAC on real loopback UDP toward one independent LNS (xl2tpd, l2tpns), with the subscriber
 * simulator on its access side and the domain map sending `*@isp.example` to that LNS: what the
 * interop tests of our LAC share.
 */
import { LacAccess } from "../../actors/lac-access.ts";
import { createNode, type L2tpNode } from "../../actors/node.ts";
import type { PeerAddress } from "../../actors/ports.ts";
import { SubscriberSimulator } from "../../adapters/access/simulator.ts";
import { realClock } from "../../adapters/clock/index.ts";
import { cryptoRandom } from "../../adapters/random/index.ts";
import { bindUdp, type UdpTransport } from "../../adapters/udp/index.ts";
import type { AuthMethod } from "../../machines/ppp/proxy-lcp.ts";
import { ispPolicy } from "../machines/tunnel-groups.ts";

/** Our LAC node, its socket, its access side and the simulated subscribers on it. */
export interface OurLac {
  node: L2tpNode;
  socket: UdpTransport;
  access: LacAccess;
  subscribers: SubscriberSimulator;
}

/** Binds UDP on `address` and starts our LAC toward `lns` (tunnel secret `secret`), PPP with `auth`. */
export async function startOurLac(
  address: string,
  lns: PeerAddress,
  secret: string,
  auth: AuthMethod[],
): Promise<OurLac> {
  const socket = await bindUdp({ address, port: 0 });
  let access: LacAccess | undefined;
  const node = createNode(
    { name: "lac", hostName: "lac.test", destinations: [{ ...lns, secret, accept: false }] },
    { transport: socket, clock: realClock, random: cryptoRandom, onData: (s, p) => access?.onData(s, p) },
  );
  const subscribers = new SubscriberSimulator(realClock);
  access = new LacAccess({
    node,
    access: subscribers,
    clock: realClock,
    random: cryptoRandom,
    ppp: { authProtocols: auth },
    policy: ispPolicy([{ peer: lns, preference: 0, maxSessions: 0 }]),
  });
  return { node, socket, access, subscribers };
}
