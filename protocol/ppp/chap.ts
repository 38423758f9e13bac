/**
 * CHAP, the Challenge-Handshake Authentication Protocol (RFC 1994 §4), and the MD5 response of
 * RFC 1994 §2 / RFC 1321 (algorithm 5).
 */

import { createHash } from "node:crypto";
import { hexBytes, printable } from "../bytes.ts";
import { packetData, readPacketHeader, writePacket } from "./control-packet.ts";

import { type Decoded, fail } from "./result.ts";

/** Challenge or Response (RFC 1994 §4.1): a value and the sender's name. */
export interface ChapChallengeResponse {
  code: "Challenge" | "Response";
  id: number;
  value: Uint8Array;
  name: Uint8Array;
}

/** Success or Failure (RFC 1994 §4.2) with its message. */
export interface ChapResult {
  code: "Success" | "Failure";
  id: number;
  message: Uint8Array;
}

/** Any CHAP packet. */
export type ChapPacket = ChapChallengeResponse | ChapResult;

const codeNames = ["Challenge", "Response", "Success", "Failure"] as const;

/** Whether the packet is a Challenge or Response (with value and name) rather than Success or Failure. */
export function isChapChallengeOrResponse(packet: ChapPacket): packet is ChapChallengeResponse {
  return packet.code === "Challenge" || packet.code === "Response";
}

/** Decodes a CHAP packet (the PPP payload after protocol 0xC223); never throws. */
export function decodeChap(bytes: Uint8Array): Decoded<ChapPacket> {
  const header = readPacketHeader(bytes, "CHAP");
  if (!header.ok) return header;
  const { code, id } = header.value;
  const data = packetData(header.value);
  if (code < 1 || code > 4) {
    return fail("CHAP.code", `expected 1 (Challenge), 2 (Response), 3 (Success) or 4 (Failure), got ${code}`);
  }
  const name = codeNames[code - 1];
  if (name === "Success" || name === "Failure") return { ok: true, value: { code: name, id, message: data } };
  if (data.length < 1) return fail(`CHAP ${name}.valueSize`, "the packet ends before the Value-Size octet");
  const size = data[0];
  // RFC 1994 §4.1: the Value is one or more octets.
  if (size === 0) return fail(`CHAP ${name}.valueSize`, "expected at least 1, got 0");
  if (1 + size > data.length) {
    return fail(`CHAP ${name}.valueSize`, `${size} exceeds the ${data.length - 1} octets left`);
  }
  return {
    ok: true,
    value: { code: name, id, value: data.slice(1, 1 + size), name: data.slice(1 + size) },
  };
}

/** Encodes a CHAP packet; throws RangeError for an empty or over-long (over 255 octets) value. */
export function encodeChap(packet: ChapPacket): Uint8Array {
  const code = codeNames.indexOf(packet.code) + 1;
  if (isChapChallengeOrResponse(packet)) {
    const { value, name } = packet;
    if (value.length < 1 || value.length > 255)
      throw new RangeError(`CHAP value of ${value.length} octets is not 1-255`);
    return writePacket(code, packet.id, Uint8Array.of(value.length), value, name);
  }
  return writePacket(code, packet.id, packet.message);
}

/** The CHAP-MD5 response (RFC 1994 §2): MD5 over the Identifier octet, the secret and the challenge value. */
export function chapMd5Response(id: number, secret: Uint8Array | string, challenge: Uint8Array): Uint8Array {
  const hash = createHash("md5");
  hash.update(Uint8Array.of(id & 0xff));
  hash.update(typeof secret === "string" ? new TextEncoder().encode(secret) : secret);
  hash.update(challenge);
  return new Uint8Array(hash.digest());
}

/** One readable line for a CHAP packet ("CHAP Response id=1 name=\"alice\" value=<16 octets>"). */
export function describeChap(packet: ChapPacket): string {
  const head = `CHAP ${packet.code} id=${packet.id}`;
  if (isChapChallengeOrResponse(packet)) {
    // A challenge is public; a response is a hash of the secret, so it is shown by size only.
    const value = packet.code === "Challenge" ? hexBytes(packet.value) : `<${packet.value.length} octets>`;
    return `${head} name=${printable(packet.name)} value=${value}`;
  }
  return packet.message.length ? `${head} message=${printable(packet.message)}` : head;
}
