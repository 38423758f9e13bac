/**
 * The result of decoding untrusted bytes, and the error that says which field was wrong and why.
 * Decoders in `protocol/l2tp` never throw on bad input: they return one of these.
 */
import type { Avps } from "./avps.ts";
import type { ControlHeader } from "./header.ts";
import type { MessageTypeName } from "./messages.ts";

/** A decode outcome: the value, or an error naming the field and the reason. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

/** What the RFC tells the receiver to do about an error it found in a control message. */
export type ErrorScope =
  /** RFC 2661 §4.1: clear the tunnel with StopCCN (a tunnel message, or one that names no session). */
  | "tunnel"
  /** RFC 2661 §4.1: clear the session with CDN (a message of a session). */
  | "session"
  /** RFC 2661 §3.2: acknowledge the message and otherwise ignore it (unknown type without the M bit). */
  | "ignore";

/** Why some bytes are not a valid L2TP packet or message, named by field, with the RFC answer when there is one. */
export interface ProtocolError {
  /** Which field: "header.version", "avp[2] Host Name (7).length", "SCCRQ.assignedTunnelId". */
  field: string;
  /** Why, for a person. */
  reason: string;
  /** RFC 2661 §4.4.2 result code to answer with (in the StopCCN or CDN named by `scope`). */
  resultCode?: number;
  /** RFC 2661 §4.4.2 general error code (e.g. 8 = unknown mandatory AVP). */
  errorCode?: number;
  /** The control header, when it was read before the error, so the message can still be acknowledged (§4.1). */
  header?: ControlHeader;
  /** The message type, when it was read before the error and is one we know. */
  messageType?: MessageTypeName;
  /** The raw Message Type AVP value, when it was read (also set for types we do not know). */
  messageTypeCode?: number;
  /**
   * Whether the answer is a StopCCN ("tunnel"), a CDN ("session"), or nothing but the ack ("ignore");
   * absent when not even the header could be read, and the datagram is simply dropped.
   */
  scope?: ErrorScope;
  /**
   * The AVPs that could be read although the message is invalid (every AVP whose length frames it),
   * so that the answer can reach whom it concerns: an ICRQ's Assigned Session ID, an SCCRQ's
   * Assigned Tunnel ID (RFC 2661 §4.1). Set by decodeControl past the Message Type.
   */
  avps?: Avps;
}

/** RFC 2661 §4.4.2 general error codes, by name. */
export const GeneralError = {
  noError: 0,
  noControlConnection: 1,
  lengthWrong: 2,
  valueOutOfRange: 3,
  insufficientResources: 4,
  invalidSessionId: 5,
  vendorSpecific: 6,
  tryAnother: 7,
  unknownMandatoryAvp: 8,
} as const;

/** Builds a failed result; the one place errors are made, so every one has a field and a reason. */
export function fail<T>(
  field: string,
  reason: string,
  extra?: Omit<ProtocolError, "field" | "reason">,
): Decoded<T> {
  return { ok: false, error: extra ? { field, reason, ...extra } : { field, reason } };
}
