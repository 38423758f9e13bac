/**
 * One readable line (and a JSON form) for any L2TP packet: control messages with every AVP named and
 * typed, result codes spelled out, proxy LCP shown as LCP options, and the PPP frame inside data
 * messages. Used by `l2tp decode` and by logs. Pure; never throws on any input.
 */
import { AVP_BY_NAME, type AvpName, type Avps, avpLabel } from "./l2tp/avps.ts";
import {
  type ControlHeader,
  type ControlMessage,
  type DecodeOptions,
  decodeControl,
  decodeHeader,
  type OpaqueAvp,
} from "./l2tp/index.ts";
import { resultCodeText } from "./l2tp/result-codes.ts";
import { decodeOptions, describeFrame, describeOptions, hexBytes, lcpOptions } from "./ppp/index.ts";

/** What `describePacket` found: the kind, a line for people, a JSON-ready object for machines. */
export interface PacketDescription {
  kind: "control" | "zlb" | "data" | "malformed";
  text: string;
  json: Record<string, unknown>;
  /** False when the bytes are not even an L2TPv2 header (other UDP traffic in a capture). */
  looksLikeL2tp: boolean;
}

/** Describes one L2TP packet (a UDP payload); with a secret, hidden AVPs are revealed. */
export function describePacket(packet: Uint8Array, options: { secret?: Uint8Array } = {}): PacketDescription {
  const head = decodeHeader(packet);
  if (!head.ok) {
    const reason = `${head.error.field}: ${head.error.reason}`;
    return {
      kind: "malformed",
      text: `MALFORMED ${reason}`,
      json: { kind: "malformed", error: head.error },
      looksLikeL2tp: false,
    };
  }
  const { header, payloadOffset } = head.value;
  if (!header.isControl) {
    const ids = `tunnel ${header.tunnelId} session ${header.sessionId}`;
    const seq = header.ns === undefined ? "" : ` Ns ${header.ns} Nr ${header.nr}`;
    const ppp = describeFrame(packet.subarray(payloadOffset));
    return {
      kind: "data",
      text: `DATA     ${ids}${seq}  ${ppp}`,
      json: { kind: "data", header, ppp, pppHex: hexBytes(packet.subarray(payloadOffset), 1 << 16) },
      looksLikeL2tp: true,
    };
  }
  const decodeOptionsWithSecret: DecodeOptions = options.secret
    ? { secret: options.secret }
    : { keepHiddenOpaque: true };
  const decoded = decodeControl(packet, decodeOptionsWithSecret);
  if (!decoded.ok) {
    const e = decoded.error;
    const where = e.header ? ` ${headerText(e.header)}` : "";
    const type = e.messageType ? ` ${e.messageType}` : "";
    return {
      kind: "malformed",
      text: `MALFORMED${type}${where}  ${e.field}: ${e.reason}${answerText(e.resultCode, e.errorCode, e.scope)}`,
      json: { kind: "malformed", error: e },
      looksLikeL2tp: true,
    };
  }
  const { header: h, message } = decoded.value;
  if (!message) {
    return {
      kind: "zlb",
      text: `ZLB      ${headerText(h)}`,
      json: { kind: "zlb", header: h },
      looksLikeL2tp: true,
    };
  }
  return {
    kind: "control",
    text: `${message.type.padEnd(8)} ${headerText(h)}  ${avpsText(message)}`,
    json: {
      kind: "control",
      header: h,
      type: message.type,
      avps: avpsJson(message),
      hidden: message.hidden ?? [],
    },
    looksLikeL2tp: true,
  };
}

function headerText(h: ControlHeader): string {
  return `tunnel ${h.tunnelId} session ${h.sessionId} Ns ${h.ns} Nr ${h.nr}`;
}

function answerText(result?: number, error?: number, scope?: string): string {
  if (result === undefined || scope === "ignore") return "";
  const answer = scope === "session" ? "CDN" : "StopCCN";
  return ` (answer: ${answer} result ${result}${error === undefined ? "" : ` error ${error}`})`;
}

function avpsText(message: ControlMessage): string {
  const hidden = new Set(message.hidden ?? []);
  const parts: string[] = [];
  for (const key of Object.keys(message.avps) as AvpName[]) {
    const spec = AVP_BY_NAME[key];
    const value = formatValue(key, message.avps[key], message);
    parts.push(`${spec.name}=${value}${hidden.has(key) ? " (hidden)" : ""}`);
  }
  for (const avp of message.opaque ?? []) parts.push(opaqueText(avp));
  return parts.join(", ");
}

function opaqueText(avp: OpaqueAvp): string {
  const flags = `${avp.mandatory ? "M" : ""}${avp.hidden ? "H" : ""}`;
  const what =
    avp.hidden && avp.vendorId === 0
      ? `${avpLabel(avp.attribute)} hidden, no secret`
      : avpLabel(avp.attribute, avp.vendorId);
  return `[${what}${flags ? ` ${flags}` : ""}]=${hexBytes(avp.value)}`;
}

const PROXY_AUTHEN_TYPES: Record<number, string> = {
  0: "reserved",
  1: "textual username/password",
  2: "PPP CHAP",
  3: "PPP PAP",
  4: "no authentication",
  5: "Microsoft CHAP v1",
};

function formatValue(key: AvpName, value: unknown, message: ControlMessage): string {
  switch (key) {
    case "resultCode":
      return resultCodeText(message.type, value as NonNullable<Avps["resultCode"]>);
    case "protocolVersion": {
      const v = value as NonNullable<Avps["protocolVersion"]>;
      return `${v.version}.${v.revision}`;
    }
    case "framingCapabilities":
    case "framingType":
    case "bearerCapabilities":
    case "bearerType":
      return flagsText(value as Record<string, boolean>);
    case "firmwareRevision":
      return `0x${(value as number).toString(16).padStart(4, "0")}`;
    case "proxyAuthenType":
      return `${value} (${PROXY_AUTHEN_TYPES[value as number] ?? "unknown"})`;
    case "initialReceivedLcpConfReq":
    case "lastSentLcpConfReq":
    case "lastReceivedLcpConfReq": {
      // RFC 2661 §4.4.5: the body of the LCP Configure-Request, from its first option.
      const options = decodeOptions(value as Uint8Array, lcpOptions, key);
      return options.ok ? `[${describeOptions(options.value, lcpOptions)}]` : hexBytes(value as Uint8Array);
    }
    case "sequencingRequired":
      return "yes";
    default:
      return plainText(value);
  }
}

function flagsText(flags: Record<string, boolean>): string {
  const on = Object.keys(flags).filter((k) => flags[k]);
  return on.length ? on.join("+") : "none";
}

function plainText(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") return String(value);
  if (value instanceof Uint8Array) return value.length ? hexBytes(value) : "(empty)";
  if (value && typeof value === "object") {
    return `{${Object.entries(value)
      .map(([k, v]) => `${k} ${plainText(v)}`)
      .join(", ")}}`;
  }
  return String(value);
}

function avpsJson(message: ControlMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message.avps)) out[key] = jsonValue(value);
  if (message.opaque?.length) {
    out.opaque = message.opaque.map((a) => ({ ...a, value: hexBytes(a.value, 1 << 16) }));
  }
  if (message.avps.proxyAuthenType !== undefined) {
    out.proxyAuthenTypeName = PROXY_AUTHEN_TYPES[message.avps.proxyAuthenType] ?? "unknown";
  }
  return out;
}

function jsonValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return hexBytes(value, 1 << 16);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v)]));
  }
  return value;
}
