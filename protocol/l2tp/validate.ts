/**
 * Per-message validation (RFC 2661 §6): the AVPs each message type must carry and the rules on
 * their values, with the result and error codes to answer with (StopCCN for tunnel messages,
 * CDN for session messages, RFC 2661 §4.1).
 */
import { AVP_BY_NAME } from "./avps.ts";
import { MESSAGE_TYPE_BY_NAME } from "./message-types.ts";
import type { ControlMessage } from "./messages.ts";
import { GeneralError, type ProtocolError } from "./result.ts";
import { StopCcnResult } from "./result-codes.ts";

/** RFC 2661 §4.4.3: the Protocol Version this specification defines (version 1, revision 0). */
const SUPPORTED_VERSION = 1;
const SUPPORTED_REVISION = 0;

/** Required AVPs and value rules per message type; null when valid, else the result/error codes to answer with. */
export function validateMessage(message: ControlMessage): ProtocolError | null {
  const info = MESSAGE_TYPE_BY_NAME[message.type];
  if (!info) {
    return {
      field: "type",
      reason: `unknown message type ${String(message.type)}`,
      resultCode: 2,
      errorCode: 3,
      scope: "tunnel",
    };
  }
  const { avps } = message;
  const problem = (field: string, reason: string, errorCode: number, resultCode = 2): ProtocolError => ({
    field: `${info.name}.${field}`,
    reason,
    resultCode,
    errorCode,
    messageType: info.name,
    scope: info.scope,
  });

  for (const key of info.required) {
    if (avps[key] === undefined) {
      const spec = AVP_BY_NAME[key];
      // RFC 2661 §4.4.2 has no "missing AVP" code; error 2 ("Length is wrong") is the closest: the
      // message is shorter than its type requires.
      return problem(
        key,
        `required AVP ${spec.name} (${spec.type}) is missing (${info.rfc})`,
        GeneralError.lengthWrong,
      );
    }
  }

  if (info.name === "SCCRQ" || info.name === "SCCRP") {
    const v = avps.protocolVersion;
    if (v && (v.version !== SUPPORTED_VERSION || v.revision !== SUPPORTED_REVISION)) {
      // RFC 2661 §4.4.2: result 5, and the Error Code carries the highest version/revision we support.
      return problem(
        "protocolVersion",
        `protocol version ${v.version}.${v.revision} is not supported (RFC 2661 §4.4.3 defines 1.0)`,
        (SUPPORTED_VERSION << 8) | SUPPORTED_REVISION,
        StopCcnResult.unsupportedVersion,
      );
    }
    if (avps.assignedTunnelId === 0) {
      return problem(
        "assignedTunnelId",
        "Assigned Tunnel ID must not be 0 (RFC 2661 §4.4.3)",
        GeneralError.valueOutOfRange,
      );
    }
  }
  if (
    (info.name === "ICRQ" || info.name === "ICRP" || info.name === "OCRQ" || info.name === "OCRP") &&
    avps.assignedSessionId === 0
  ) {
    return problem(
      "assignedSessionId",
      "Assigned Session ID must not be 0 (RFC 2661 §4.4.4)",
      GeneralError.valueOutOfRange,
    );
  }
  return null;
}
