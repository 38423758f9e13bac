/**
 * Tunnel authentication (RFC 2661 §4.2, §5.1.1): the Challenge Response AVP carries
 * MD5(message type byte + shared secret + challenge), where the message type is that of the
 * message carrying the response: 2 (SCCRP) or 3 (SCCCN).
 */
import { equalConstantTime } from "../bytes.ts";
import { md5Into } from "./md5.ts";

const typeByte = new Uint8Array(1);

/** The 16-byte response to `challenge` sent in a message of type `messageType` (2 SCCRP, 3 SCCCN). */
export function challengeResponse(
  messageType: number,
  secret: Uint8Array,
  challenge: Uint8Array,
): Uint8Array {
  typeByte[0] = messageType & 0xff;
  const out = new Uint8Array(16);
  md5Into(out, 0, typeByte, secret, challenge);
  return out;
}

/** Compares a received response with the expected one in time independent of where they differ. */
export const responsesEqual: (a: Uint8Array, b: Uint8Array) => boolean = equalConstantTime;
