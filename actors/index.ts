/**
 * The living system: a node (`createNode`) wires the pure machines of `machines/` to the ports
 * (transport, clock, random), the control channel and the registries. `supervisor.ts` keeps the
 * parent → children links outside XState (O(1) per child), `destination-handle.ts` places calls on a
 * destination's tunnels and admits tunnels from it, `placed-call.ts` is a call a caller placed,
 * `tunnel-actor.ts` runs a tunnel with its control channel and sessions, `ids.ts` allocates tunnel and
 * session ids, `config.ts` says what a node is configured with, `ports.ts` defines the ports and
 * `control-channel/` the reliable delivery.
 */
export { type DestinationProfile, destinationKey, type NodeConfig } from "./config.ts";
export { allocateId } from "./ids.ts";
export {
  type AdminTarget,
  createNode,
  type DestinationSnapshot,
  type L2tpNode,
  type NodeDeps,
  type NodeSnapshot,
  type OpenSessionOptions,
  type OpenSessionOutcome,
  type SessionSnapshot,
  type TunnelSnapshot,
} from "./node.ts";
export type { Clock, PeerAddress, Random, Transport } from "./ports.ts";
export type { DataHandler, Machines, RouterStats } from "./runtime.ts";
export { type Ending, type Level, type Supervised, Supervisor } from "./supervisor.ts";
export { SessionHandle, TunnelHandle } from "./tunnel-actor.ts";
