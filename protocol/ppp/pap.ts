/**
 * PAP, the Password Authentication Protocol (RFC 1334 §2). The password travels in clear, so output made
 * by `describePap` shows only its length.
 */
import { printable } from "../bytes.ts";
import { packetData, readPacketHeader, writePacket } from "./control-packet.ts";
import { type Decoded, fail } from "./result.ts";

/** Authenticate-Request (RFC 1334 §2.2.1): the peer's name and password, as octets. */
export interface PapRequest {
  code: "Authenticate-Request";
  id: number;
  peerId: Uint8Array;
  password: Uint8Array;
}

/** Authenticate-Ack or Authenticate-Nak (RFC 1334 §2.2.2) with its message. */
export interface PapReply {
  code: "Authenticate-Ack" | "Authenticate-Nak";
  id: number;
  message: Uint8Array;
}

/** Any PAP packet. */
export type PapPacket = PapRequest | PapReply;

/** Decodes a PAP packet (the PPP payload after protocol 0xC023); never throws. */
export function decodePap(bytes: Uint8Array): Decoded<PapPacket> {
  const header = readPacketHeader(bytes, "PAP");
  if (!header.ok) return header;
  const { code, id } = header.value;
  const data = packetData(header.value);
  if (code === 1) {
    const peerId = counted(data, 0, "PAP Authenticate-Request.peerId");
    if (!peerId.ok) return peerId;
    const password = counted(data, 1 + peerId.value.length, "PAP Authenticate-Request.password");
    if (!password.ok) return password;
    const end = 2 + peerId.value.length + password.value.length;
    if (end !== data.length) {
      return fail("PAP Authenticate-Request.length", `${data.length - end} octets follow the Password`);
    }
    return {
      ok: true,
      value: { code: "Authenticate-Request", id, peerId: peerId.value, password: password.value },
    };
  }
  if (code === 2 || code === 3) {
    const name = code === 2 ? "Authenticate-Ack" : "Authenticate-Nak";
    // Some peers send an Ack with no Msg-Length octet at all: read that as an empty message.
    if (data.length === 0) return { ok: true, value: { code: name, id, message: data } };
    const message = counted(data, 0, `PAP ${name}.message`);
    if (!message.ok) return message;
    if (1 + message.value.length !== data.length) {
      return fail(
        `PAP ${name}.length`,
        `${data.length - 1 - message.value.length} octets follow the Message`,
      );
    }
    return { ok: true, value: { code: name, id, message: message.value } };
  }
  return fail("PAP.code", `expected 1 (Authenticate-Request), 2 (Ack) or 3 (Nak), got ${code}`);
}

/** A one-octet length then that many octets, read from `at`. */
function counted(data: Uint8Array, at: number, field: string): Decoded<Uint8Array> {
  if (at >= data.length) return fail(`${field}.length`, "the packet ends before this length octet");
  const length = data[at];
  if (at + 1 + length > data.length) {
    return fail(`${field}.length`, `${length} exceeds the ${data.length - at - 1} octets left`);
  }
  return { ok: true, value: data.slice(at + 1, at + 1 + length) };
}

function lengthPrefixed(bytes: Uint8Array, what: string): Uint8Array {
  if (bytes.length > 255) throw new RangeError(`PAP ${what} of ${bytes.length} octets exceeds 255`);
  const out = new Uint8Array(1 + bytes.length);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

/** Encodes a PAP packet; throws RangeError when a field exceeds 255 octets. */
export function encodePap(packet: PapPacket): Uint8Array {
  if (packet.code === "Authenticate-Request") {
    return writePacket(
      1,
      packet.id,
      lengthPrefixed(packet.peerId, "Peer-ID"),
      lengthPrefixed(packet.password, "Password"),
    );
  }
  return writePacket(
    packet.code === "Authenticate-Ack" ? 2 : 3,
    packet.id,
    lengthPrefixed(packet.message, "Message"),
  );
}

/** One readable line for a PAP packet; the password is shown as its length only. */
export function describePap(packet: PapPacket): string {
  const head = `PAP ${packet.code} id=${packet.id}`;
  if (packet.code === "Authenticate-Request") {
    return `${head} peer=${printable(packet.peerId)} password=<${packet.password.length} octets>`;
  }
  return packet.message.length ? `${head} message=${printable(packet.message)}` : head;
}

/**
 * The module's own hot code, which adapters/jit keeps out of JSC's top tier with what it exports (it
 * reaches nothing else: these are not exported to be used).
 */
export const hotInternals: readonly unknown[] = [counted, lengthPrefixed];
