/**
 * Control messages (RFC 2661 §6): encode and decode whole control packets.
 */

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
