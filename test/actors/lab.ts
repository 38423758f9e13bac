/**
 * A lab for node tests: nodes on a MemoryNetwork under one SimulatedClock, a tap that decodes every
 * control message put on the wire, and helpers to run simulated time while promises settle.
 */
import type { AnyActorRef, InspectionEvent } from "xstate";
import type { NodeConfig } from "../../actors/config.ts";
import { createNode, type L2tpNode, type NodeDeps } from "../../actors/node.ts";
import type { Random } from "../../actors/ports.ts";
import { SimulatedClock } from "../../adapters/clock/simulated.ts";
import { SeededRandom } from "../../adapters/random/seeded.ts";
import { MemoryNetwork } from "../../adapters/udp/memory.ts";
import { peekIds } from "../../protocol/l2tp/header.ts";
import { type ControlMessage, decodeControl } from "../../protocol/l2tp/messages.ts";

/** One control message seen on the wire (first transmission and retransmissions alike). */
export interface WireMessage {
  from: string;
  to: string;
  tunnelId: number;
  sessionId: number;
  ns: number;
  message: ControlMessage;
  fate: string;
}

/** Nodes on one simulated network and clock. */
export class Lab {
  readonly clock = new SimulatedClock();
  readonly net: MemoryNetwork;
  readonly wire: WireMessage[] = [];
  readonly nodes: L2tpNode[] = [];
  /** Errors the nodes' wiring reported (a test that does not expect any checks it stays empty). */
  readonly wiringErrors: { error: unknown; path: unknown }[] = [];
  /** Inspection events per node name (only when `inspect` was asked). */
  readonly inspected = new Map<string, InspectionEvent[]>();

  /** `record: false` keeps no copy of the wire (for measurements). */
  constructor(seed = 1, options: { record?: boolean } = {}) {
    this.net = new MemoryNetwork({ clock: this.clock, random: new SeededRandom(seed) });
    if (options.record === false) return;
    this.net.tap((packet, from, to, fate) => {
      const ids = peekIds(packet);
      if (!ids?.isControl) return;
      const d = decodeControl(packet, { secret: new TextEncoder().encode("s3cret") });
      if (!d.ok || !d.value.message) return;
      this.wire.push({
        from: `${from.address}:${from.port}`,
        to: `${to.address}:${to.port}`,
        tunnelId: d.value.header.tunnelId,
        sessionId: d.value.header.sessionId,
        ns: d.value.header.ns,
        message: d.value.message,
        fate,
      });
    });
  }

  /** Starts a node bound at address:1701. */
  node(
    address: string,
    config: NodeConfig,
    options: { random?: Random; seed?: number; inspect?: boolean; deps?: Partial<NodeDeps> } = {},
  ): L2tpNode {
    const transport = this.net.bind(address, 1701);
    const events: InspectionEvent[] = [];
    if (options.inspect) this.inspected.set(config.name, events);
    const node = createNode(config, {
      transport,
      clock: this.clock,
      random:
        options.random ??
        new SeededRandom(options.seed ?? address.length * 7919 + address.charCodeAt(address.length - 1)),
      ...(options.inspect ? { inspect: (e: InspectionEvent) => events.push(e) } : {}),
      onWiringError: (error, path) => this.wiringErrors.push({ error, path }),
      ...options.deps,
    });
    this.nodes.push(node);
    return node;
  }

  /** Unique control messages of a type (retransmissions counted once). */
  sent(type: ControlMessage["type"], from?: string): WireMessage[] {
    const seen = new Set<string>();
    return this.wire.filter((w) => {
      if (w.message.type !== type || (from && !w.from.startsWith(from))) return false;
      const key = `${w.from}/${w.tunnelId}/${w.message.avps.assignedTunnelId ?? ""}/${w.ns}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  /** Runs simulated time for `ms` in steps, letting promise callbacks run between steps. */
  async run(ms: number, step = 10): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      this.clock.advance(Math.min(step, end - this.clock.now()));
      await flush();
    }
  }

  /** Runs simulated time until `promise` settles (or `limitMs` passed); returns its value. */
  async until<T>(promise: Promise<T>, limitMs = 600_000, step = 10): Promise<T> {
    let done = false;
    let value: T | undefined;
    promise.then((v) => {
      done = true;
      value = v;
    });
    const end = this.clock.now() + limitMs;
    await flush();
    while (!done && this.clock.now() < end) {
      this.clock.advance(step);
      await flush();
    }
    if (!done) throw new Error(`lab: not settled within ${limitMs} ms of simulated time`);
    return value as T;
  }

  /** Closes every node and runs until they are closed. */
  async closeAll(): Promise<void> {
    await this.until(Promise.all(this.nodes.map((n) => n.close())));
    if (this.wiringErrors.length > 0) {
      throw new Error(`lab: wiring errors: ${this.wiringErrors.map((e) => String(e.error)).join("; ")}`);
    }
  }
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Paths of the actors in inspection events, by actor. */
export function pathsOf(events: InspectionEvent[]): Map<AnyActorRef, unknown> {
  const m = new Map<AnyActorRef, unknown>();
  for (const e of events) {
    if (e.type !== "@xstate.snapshot") continue;
    const ctx = (e.snapshot as { context?: { path?: unknown } }).context;
    if (ctx?.path) m.set(e.actorRef as AnyActorRef, ctx.path);
  }
  return m;
}

/** The standard LAC and LNS configuration (secret s3cret, hosts lac.test / lns.test). */
export function lacConfig(extra: Partial<NodeConfig> = {}, lns = "127.0.0.3"): NodeConfig {
  return {
    name: "lac",
    hostName: "lac.test",
    destinations: [{ address: lns, port: 1701, secret: "s3cret", peerHostName: "lns.test", accept: false }],
    ...extra,
  };
}

/** The standard LNS configuration: any peer with the secret and host name lac.test. */
export function lnsConfig(extra: Partial<NodeConfig> = {}): NodeConfig {
  return {
    name: "lns",
    hostName: "lns.test",
    destinations: [{ secret: "s3cret", peerHostName: "lac.test" }],
    ...extra,
  };
}

export const LNS = { address: "127.0.0.3", port: 1701 };
export const LAC = { address: "127.0.0.2", port: 1701 };
