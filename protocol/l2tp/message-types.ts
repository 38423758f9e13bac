/**
 * The control message types of RFC 2661 §3.2 and §6: their codes, and whether each belongs to the
 * tunnel (errors close it with StopCCN) or to a session (errors close it with CDN), RFC 2661 §4.1.
 */
import type { AvpName } from "./avps.ts";

/** The control message types of RFC 2661 §3.2, by their RFC abbreviation. */
export type MessageTypeName =
  | "SCCRQ"
  | "SCCRP"
  | "SCCCN"
  | "StopCCN"
  | "HELLO"
  | "OCRQ"
  | "OCRP"
  | "OCCN"
  | "ICRQ"
  | "ICRP"
  | "ICCN"
  | "CDN"
  | "WEN"
  | "SLI";

/** What the catalog knows of one message type. */
export interface MessageTypeInfo {
  name: MessageTypeName;
  /** Value of the Message Type AVP. */
  code: number;
  /** "tunnel" messages are answered on error by StopCCN, "session" ones by CDN (RFC 2661 §4.1). */
  scope: "tunnel" | "session";
  /** AVPs the message MUST carry (RFC 2661 §6), checked by validateMessage. */
  required: readonly AvpName[];
  /** The RFC section defining the message. */
  rfc: string;
}

function info(
  name: MessageTypeName,
  code: number,
  scope: "tunnel" | "session",
  rfc: string,
  required: readonly AvpName[],
): MessageTypeInfo {
  return { name, code, scope, required, rfc };
}

/** Every message type, with its code, scope and required AVPs (RFC 2661 §6.1-§6.15). */
export const MESSAGE_TYPES: readonly MessageTypeInfo[] = [
  info("SCCRQ", 1, "tunnel", "RFC 2661 §6.1", [
    "protocolVersion",
    "hostName",
    "framingCapabilities",
    "assignedTunnelId",
  ]),
  info("SCCRP", 2, "tunnel", "RFC 2661 §6.2", [
    "protocolVersion",
    "framingCapabilities",
    "hostName",
    "assignedTunnelId",
  ]),
  info("SCCCN", 3, "tunnel", "RFC 2661 §6.3", []),
  info("StopCCN", 4, "tunnel", "RFC 2661 §6.4", ["assignedTunnelId", "resultCode"]),
  info("HELLO", 6, "tunnel", "RFC 2661 §6.5", []),
  info("OCRQ", 7, "session", "RFC 2661 §6.10", [
    "assignedSessionId",
    "callSerialNumber",
    "minimumBps",
    "maximumBps",
    "bearerType",
    "framingType",
    "calledNumber",
  ]),
  info("OCRP", 8, "session", "RFC 2661 §6.11", ["assignedSessionId"]),
  info("OCCN", 9, "session", "RFC 2661 §6.12", ["txConnectSpeed", "framingType"]),
  info("ICRQ", 10, "session", "RFC 2661 §6.6", ["assignedSessionId", "callSerialNumber"]),
  info("ICRP", 11, "session", "RFC 2661 §6.7", ["assignedSessionId"]),
  info("ICCN", 12, "session", "RFC 2661 §6.8", ["txConnectSpeed", "framingType"]),
  info("CDN", 14, "session", "RFC 2661 §6.13", ["resultCode", "assignedSessionId"]),
  info("WEN", 15, "session", "RFC 2661 §6.14", ["callErrors"]),
  info("SLI", 16, "session", "RFC 2661 §6.15", ["accm"]),
];

/** Message types by Message Type AVP value; undefined for codes RFC 2661 does not define. */
export const MESSAGE_TYPE_BY_CODE: readonly (MessageTypeInfo | undefined)[] = (() => {
  const table: (MessageTypeInfo | undefined)[] = new Array(32).fill(undefined);
  for (const m of MESSAGE_TYPES) table[m.code] = m;
  return table;
})();

/** Message types by name. */
export const MESSAGE_TYPE_BY_NAME: { readonly [K in MessageTypeName]: MessageTypeInfo } = Object.fromEntries(
  MESSAGE_TYPES.map((m) => [m.name, m]),
) as never;

/**
 * The message type of a control packet read straight from its bytes, for counting without decoding:
 * "ZLB" for a header alone, "other" for an unknown code, undefined for a data message or a runt. The
 * Message Type AVP comes first and is never hidden (RFC 2661 §3.1, §4.4.1), and a control header has
 * L and S set and no offset: 12 bytes, so the AVP's value sits at bytes 18-19.
 */
export function controlMessageTypeOf(packet: Uint8Array): MessageTypeName | "ZLB" | "other" | undefined {
  if (packet.length < 12 || !((packet[0] as number) & 0x80)) return undefined;
  if (packet.length < 20) return "ZLB";
  return MESSAGE_TYPE_BY_CODE[((packet[18] as number) << 8) | (packet[19] as number)]?.name ?? "other";
}
