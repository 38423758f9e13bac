/**
 * Our node on real loopback UDP for the xl2tpd interop tests (issue 3): `createNode` with the real clock
 * and randomness, every control packet it sends and receives decoded at its socket (so a test can wait
 * for "our HELLO was acknowledged" instead of sleeping), and how each of its actors ended, read from
 * XState inspection (an LNS's sessions have no `openSession` promise to tell it).
 */
import type { InspectionEvent } from "xstate";
import { matchProfile, type NodeConfig, resolveProfiles } from "../../../actors/config.ts";
import { createNode, type L2tpNode, type NodeDeps, type NodeSnapshot } from "../../../actors/node.ts";
import type { PeerAddress, Transport } from "../../../actors/ports.ts";
import { realClock } from "../../../adapters/clock/index.ts";
import { cryptoRandom } from "../../../adapters/random/index.ts";
import { bindUdp } from "../../../adapters/udp/index.ts";
import type { ActorPath, Cause } from "../../../machines/common.ts";
import type { PppCause } from "../../../machines/ppp/disconnect.ts";
import { describePacket } from "../../../protocol/describe.ts";
import { type ControlPacket, decodeControl } from "../../../protocol/l2tp/index.ts";

/** One control packet at our socket: what we sent or received, decoded with the profile's secret. */
export interface SeenControl {
  direction: "sent" | "received";
  peer: PeerAddress;
  packet: ControlPacket;
}

/** How one actor of our node ended (its final output), with where it sat in the tree. */
export interface ActorEnding {
  level: "system" | "destination" | "tunnel" | "session";
  path: ActorPath;
  cause: Cause;
  wasEstablished?: boolean;
}

/** How one session's PPP link ended: its RFC 3145 disconnect cause. */
export interface PppEnding {
  path: ActorPath;
  cause: PppCause;
}

/** Our node, its socket, and what it saw. */
export interface OurNode {
  readonly node: L2tpNode;
  /** Where the node's socket is bound. */
  readonly endpoint: PeerAddress;
  /** Control packets sent and received, in order (data messages are left out). */
  readonly control: SeenControl[];
  /** Every actor that reached its final state, in order. */
  readonly endings: ActorEnding[];
  /** Every PPP link that ended, in order. */
  readonly pppEndings: PppEnding[];
  /** Errors the node's wiring reported: a test expects none. */
  readonly wiringErrors: unknown[];
  /** Resolves with the first truthy value of `probe`, polled every 10 ms; rejects after `timeoutMs`. */
  waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  /** Our packets (control and data), one line each, for failure messages. */
  trace(): string;
  /** When the node started (epoch ms): the trace's times count from here. */
  readonly startedAt: number;
  /** Closes the node, then its socket; resolves with the registries after the node ended. */
  close(): Promise<NodeSnapshot["registries"]>;
}

function levelOf(path: ActorPath): ActorEnding["level"] {
  if (path.session !== undefined) return "session";
  if (path.tunnel !== undefined) return "tunnel";
  if (path.destination !== undefined) return "destination";
  return "system";
}

/**
 * Binds UDP on `address` (a free port) and starts a node there with `config`, the real clock and
 * crypto randomness (and, for PPP, the AAA and data plane in `deps`). The socket is wrapped so that
 * every control packet in and out is recorded.
 */
export async function startOurNode(
  config: NodeConfig,
  address: string,
  deps: Pick<NodeDeps, "aaa" | "dataPlane"> = {},
): Promise<OurNode> {
  if (!address.startsWith("127.")) throw new Error(`our node at ${address}: tests use 127.0.0.0/8 only`);
  const socket = await bindUdp({ address, port: 0 });
  const control: SeenControl[] = [];
  const endings: ActorEnding[] = [];
  const pppEndings: PppEnding[] = [];
  const wiringErrors: unknown[] = [];
  const lines: string[] = [];
  const start = Date.now();
  const profiles = resolveProfiles(config.destinations);
  const record = (direction: SeenControl["direction"], bytes: Uint8Array, peer: PeerAddress) => {
    // Decoded as the node itself decodes: with the secret of the profile that matches the peer.
    const secret = matchProfile(profiles, peer)?.secretBytes;
    const description = describePacket(bytes, secret ? { secret } : {});
    lines.push(
      `${String(Date.now() - start).padStart(6)} ms ${direction === "sent" ? "→" : "←"} ${peer.address}:${peer.port} ${description.text}`,
    );
    if ((bytes[0] & 0x80) === 0) return; // T bit clear: a data message
    const decoded = decodeControl(bytes, secret ? { secret } : undefined);
    if (decoded.ok) control.push({ direction, peer, packet: decoded.value });
  };
  const transport: Transport = {
    local: socket.local,
    send(packet, to) {
      record("sent", packet, to);
      socket.send(packet, to);
    },
    onReceive(handler) {
      socket.onReceive((packet, from) => {
        record("received", packet, from);
        handler(packet, from);
      });
    },
    close: () => socket.close(),
  };
  const inspect = (event: InspectionEvent) => {
    if (event.type !== "@xstate.snapshot") return;
    const snapshot = event.snapshot as {
      status?: string;
      output?: { cause?: Cause; wasEstablished?: boolean };
      context?: { path?: ActorPath };
    };
    if (snapshot.status !== "done" || !snapshot.context?.path || !snapshot.output?.cause) return;
    if (snapshot.context.path.ppp) {
      pppEndings.push({ path: snapshot.context.path, cause: snapshot.output.cause as unknown as PppCause });
      return;
    }
    endings.push({
      level: levelOf(snapshot.context.path),
      path: snapshot.context.path,
      cause: snapshot.output.cause,
      ...(snapshot.output.wasEstablished !== undefined
        ? { wasEstablished: snapshot.output.wasEstablished }
        : {}),
    });
  };
  const node = createNode(config, {
    ...deps,
    transport,
    clock: realClock,
    random: cryptoRandom,
    inspect,
    onWiringError: (error) => wiringErrors.push(error),
  });
  const trace = () => lines.join("\n");
  let closing: Promise<NodeSnapshot["registries"]> | undefined;
  return {
    node,
    endpoint: socket.local,
    control,
    endings,
    pppEndings,
    wiringErrors,
    trace,
    startedAt: start,
    async waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = probe();
        if (value) return value;
        if (Date.now() > deadline) {
          throw new Error(`our node ${config.name}: no ${what} within ${timeoutMs} ms\n${trace()}`);
        }
        await new Promise((done) => setTimeout(done, 10));
      }
    },
    close() {
      closing ??= (async () => {
        await node.close({ reason: "admin", message: "test over" });
        const registries = node.snapshot({ sessions: false }).registries;
        await socket.close();
        return registries;
      })();
      return closing;
    },
  };
}
