/**
 * Result Code values (RFC 2661 §4.4.2): their meaning depends on the message that carries them
 * (StopCCN or CDN). The general error codes are in result.ts (`GeneralError`).
 */
import type { ResultCode } from "./avps.ts";
import type { MessageTypeName } from "./message-types.ts";
import { GeneralError } from "./result.ts";

/** Result codes of a StopCCN (RFC 2661 §4.4.2). */
export const StopCcnResult = {
  /** 1: General request to clear control connection. */
  clear: 1,
  /** 2: General error — Error Code indicates the problem. */
  generalError: 2,
  /** 3: Control channel already exists. */
  channelExists: 3,
  /** 4: Requester is not authorized to establish a control channel. */
  notAuthorized: 4,
  /** 5: The protocol version of the requester is not supported (Error Code = highest version supported). */
  unsupportedVersion: 5,
  /** 6: Requester is being shut down. */
  shuttingDown: 6,
  /** 7: Finite State Machine error. */
  fsmError: 7,
} as const;

/** Result codes of a CDN (RFC 2661 §4.4.2). */
export const CdnResult = {
  /** 1: Call disconnected due to loss of carrier. */
  lostCarrier: 1,
  /** 2: Call disconnected for the reason indicated in error code. */
  generalError: 2,
  /** 3: Call disconnected for administrative reasons. */
  administrative: 3,
  /** 4: Call failed due to lack of appropriate facilities being available (temporary condition). */
  noFacilitiesTemporary: 4,
  /** 5: Call failed due to lack of appropriate facilities being available (permanent condition). */
  noFacilitiesPermanent: 5,
  /** 6: Invalid destination. */
  invalidDestination: 6,
  /** 7: Call failed due to no carrier detected. */
  noCarrier: 7,
  /** 8: Call failed due to detection of a busy signal. */
  busy: 8,
  /** 9: Call failed due to lack of a dial tone. */
  noDialTone: 9,
  /** 10: Call was not established within time allotted by LAC. */
  timeout: 10,
  /** 11: Call was connected but no appropriate framing was detected. */
  noFraming: 11,
} as const;

const STOPCCN_TEXT: Record<number, string> = {
  0: "reserved",
  1: "general request to clear control connection",
  2: "general error",
  3: "control channel already exists",
  4: "requester not authorized",
  5: "protocol version not supported",
  6: "requester is being shut down",
  7: "finite state machine error",
};

const CDN_TEXT: Record<number, string> = {
  0: "reserved",
  1: "lost carrier",
  2: "general error",
  3: "administrative",
  4: "no facilities (temporary)",
  5: "no facilities (permanent)",
  6: "invalid destination",
  7: "no carrier",
  8: "busy",
  9: "no dial tone",
  10: "not established in time",
  11: "no framing",
};

const GENERAL_ERROR_TEXT: Record<number, string> = {
  [GeneralError.noError]: "no error",
  [GeneralError.noControlConnection]: "no control connection exists yet",
  [GeneralError.lengthWrong]: "length is wrong",
  [GeneralError.valueOutOfRange]: "a field is out of range or reserved field non-zero",
  [GeneralError.insufficientResources]: "insufficient resources",
  [GeneralError.invalidSessionId]: "invalid session id",
  [GeneralError.vendorSpecific]: "generic vendor-specific error",
  [GeneralError.tryAnother]: "try another",
  [GeneralError.unknownMandatoryAvp]: "unknown mandatory AVP",
};

/** "2 (general error), error 6 (generic vendor-specific error) "bad secret"" for a StopCCN or CDN. */
export function resultCodeText(messageType: MessageTypeName, code: ResultCode): string {
  const table = messageType === "CDN" ? CDN_TEXT : STOPCCN_TEXT;
  let text = `${code.result} (${table[code.result] ?? "unknown"})`;
  if (code.error !== undefined) {
    // RFC 2661 §4.4.2: with result 5 the error code carries the highest version supported.
    const meaning =
      messageType === "StopCCN" && code.result === StopCcnResult.unsupportedVersion
        ? "highest version supported"
        : (GENERAL_ERROR_TEXT[code.error] ?? "unknown");
    text += `, error ${code.error} (${meaning})`;
  }
  if (code.message !== undefined) text += ` ${JSON.stringify(code.message)}`;
  return text;
}
