/**
 * Test harness of the control channel: a channel on a SimulatedClock whose transmissions are decoded
 * with the real codec, and a pair of channels joined over the MemoryNetwork.
 */
import {
  ControlChannel,
  type ControlChannelDeps,
  type ControlChannelOptions,
} from "../../../actors/control-channel/index.ts";
import type { PeerAddress } from "../../../actors/ports.ts";
import { SimulatedClock } from "../../../adapters/clock/index.ts";
import { SeededRandom } from "../../../adapters/random/index.ts";
import { type LinkOptions, MemoryNetwork, type UdpTransport } from "../../../adapters/udp/index.ts";
import {
  type ControlHeader,
  type ControlMessage,
  type ControlPacket,
  decodeControl,
  encodeControl,
  encodeZlb,
} from "../../../protocol/l2tp/index.ts";

/** A message that carries a number, to tell messages apart in tests (Call Serial Number). */
export function numbered(n: number): ControlMessage {
  return { type: "ICRQ", avps: { assignedSessionId: (n % 65535) + 1, callSerialNumber: n } };
}

/** The number `numbered` put in a message. */
export function numberOf(message: ControlMessage | null): number | undefined {
  return message?.avps.callSerialNumber;
}

/** Decodes a packet the channel sent, failing the test loudly if our own encoding does not decode. */
export function decoded(packet: Uint8Array): ControlPacket {
  const result = decodeControl(packet);
  if (!result.ok)
    throw new Error(`channel sent an undecodable packet: ${result.error.field}: ${result.error.reason}`);
  return result.value;
}

/** Encodes a packet as the peer would send it. */
export function fromPeer(header: Partial<ControlHeader>, message: ControlMessage | null): ControlPacket {
  const h: ControlHeader = { tunnelId: 1, sessionId: 0, ns: 0, nr: 0, ...header };
  return decoded(message ? encodeControl(h, message) : encodeZlb(h));
}

/** One channel under test: what it transmitted, delivered and failed with. */
export function single(
  options: Partial<ControlChannelOptions> = {},
  extra: Partial<ControlChannelDeps> = {},
) {
  const clock = new SimulatedClock();
  const sent: ControlPacket[] = [];
  const delivered: { message: ControlMessage; header: ControlHeader }[] = [];
  const failures: string[] = [];
  const channel = new ControlChannel(options, {
    clock,
    transmit: (p) => sent.push(decoded(p)),
    deliver: (message, header) => delivered.push({ message, header }),
    onFailure: (cause) => failures.push(cause),
    ...extra,
  });
  /** Packets sent since the last call. */
  let seen = 0;
  const drainSent = () => {
    const out = sent.slice(seen);
    seen = sent.length;
    return out;
  };
  return { clock, channel, sent, delivered, failures, drainSent };
}

/** One end of a channel pair: its channel, transport and what it got. */
export interface End {
  channel: ControlChannel;
  transport: UdpTransport;
  delivered: number[];
  failures: string[];
  /** Largest number of messages seen in flight right after a transmission. */
  maxInFlight: number;
}

/** Two channels joined over a MemoryNetwork with the given link behaviour (both directions). */
export function pair(
  seed: number,
  link: Partial<LinkOptions>,
  options: { a?: Partial<ControlChannelOptions>; b?: Partial<ControlChannelOptions> } = {},
) {
  const clock = new SimulatedClock();
  const network = new MemoryNetwork({ clock, random: new SeededRandom(seed), defaultLink: link });
  const make = (address: string, opts: Partial<ControlChannelOptions>, peer: () => PeerAddress): End => {
    const transport = network.bind(address, 1701);
    const end: End = { transport, delivered: [], failures: [], maxInFlight: 0, channel: undefined as never };
    end.channel = new ControlChannel(opts, {
      clock,
      transmit: (p) => {
        transport.send(p, peer());
        end.maxInFlight = Math.max(end.maxInFlight, end.channel.inFlight);
      },
      deliver: (message) => {
        const n = numberOf(message);
        if (n !== undefined) end.delivered.push(n);
      },
      onFailure: (cause) => end.failures.push(cause),
    });
    transport.onReceive((packet) => {
      const result = decodeControl(packet);
      if (result.ok) end.channel.receive(result.value);
      else end.channel.receiveInvalid(result.error);
    });
    return end;
  };
  const a: End = make("10.0.0.1", options.a ?? {}, () => b.transport.local);
  const b: End = make("10.0.0.2", options.b ?? {}, () => a.transport.local);
  a.channel.peerTunnelId = 2;
  b.channel.peerTunnelId = 1;
  return { clock, network, a, b };
}
