/**
 * A scripted RADIUS server on a MemoryNetwork (simulated clock): it records every request it gets and
 * answers through `answer` (or stays silent), an Access-Request with an Access-Accept carrying
 * `acceptAttributes`, an Accounting-Request with an Accounting-Response. It checks no password: the
 * tests that use it are about what the client does with the answers (timers, retransmissions, the
 * attributes of an Accept), not about authentication.
 */
import type { PeerAddress } from "../../actors/ports.ts";
import type { SimulatedClock } from "../../adapters/clock/index.ts";
import type { MemoryNetwork } from "../../adapters/udp/index.ts";
import {
  type AttributeName,
  type AttributeValue,
  decodePacket,
  encodeResponse,
  findValue,
  type RadiusAttribute,
  RadiusCode,
  type RadiusPacket,
} from "../../protocol/radius/index.ts";

export interface ScriptedRadius {
  /** Every request received, with the simulated time it came at. */
  readonly seen: Array<{ at: number; packet: RadiusPacket }>;
  /** Whether to answer: always, never, or per request. */
  answer: boolean | ((packet: RadiusPacket) => boolean);
  /** Attributes of every Access-Accept (e.g. Acct-Interim-Interval). */
  acceptAttributes: RadiusAttribute[];
  readonly transport: ReturnType<MemoryNetwork["bind"]>;
}

/** Binds the server at address:port on `net`; `secret` signs its answers (RFC 2865 §3). */
export function scriptedRadius(
  net: MemoryNetwork,
  address: string,
  port: number,
  clock: SimulatedClock,
  secret: string,
): ScriptedRadius {
  const transport = net.bind(address, port);
  const key = new TextEncoder().encode(secret);
  const server: ScriptedRadius = { seen: [], answer: true, acceptAttributes: [], transport };
  transport.onReceive((bytes, from: PeerAddress) => {
    const decoded = decodePacket(bytes);
    if (!decoded.ok) return;
    const packet = decoded.value;
    server.seen.push({ at: clock.now(), packet });
    const answer = typeof server.answer === "function" ? server.answer(packet) : server.answer;
    if (!answer) return;
    const access = packet.code === RadiusCode.accessRequest;
    transport.send(
      encodeResponse(
        {
          code: access ? RadiusCode.accessAccept : RadiusCode.accountingResponse,
          identifier: packet.identifier,
          attributes: access ? server.acceptAttributes : [],
          messageAuthenticator: false,
        },
        packet.authenticator,
        key,
      ),
      from,
    );
  });
  return server;
}

/** An attribute's value in a packet's attributes, or undefined when absent or malformed. */
export function value<N extends AttributeName>(
  attributes: readonly RadiusAttribute[],
  name: N,
): AttributeValue<N> | undefined {
  const found = findValue(attributes, name);
  return found?.ok ? found.value : undefined;
}
