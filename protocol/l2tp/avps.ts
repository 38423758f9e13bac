/**
 * The AVP catalog (RFC 2661 §4.4, RFC 3145, RFC 4951): for every IETF attribute type the name, the
 * camelCase key it has in `Avps`, its value codec and length rule, the M bit it is sent with, and
 * whether it may be hidden. Message Type (0) is not here: it is the message's `type` (messages.ts).
 */
// Big-endian reads and writes straight on the bytes, no DataView (protocol/bytes.ts says why).
import { u16 as readU16, u32 as readU32, writeU16, writeU32 } from "../bytes.ts";
import { decodeUtf8, utf8Length, writeUtf8 } from "./text.ts";

/** Result Code AVP value (RFC 2661 §4.4.2): the error code and message are optional on the wire. */
export interface ResultCode {
  result: number;
  error?: number;
  message?: string;
}

/** Protocol Version AVP value (RFC 2661 §4.4.3): version 1, revision 0 for RFC 2661. */
export interface ProtocolVersion {
  version: number;
  revision: number;
}

/** Framing Capabilities / Framing Type bits (RFC 2661 §4.4.3, §4.4.5). */
export interface Framing {
  async: boolean;
  sync: boolean;
}

/** Bearer Capabilities / Bearer Type bits (RFC 2661 §4.4.3, §4.4.5). */
export interface Bearer {
  analog: boolean;
  digital: boolean;
}

/** Q.931 Cause Code AVP value (RFC 2661 §4.4.5). */
export interface Q931CauseCode {
  causeCode: number;
  causeMessage: number;
  advisory?: string;
}

/** Call Errors AVP value (RFC 2661 §4.4.6), counters since the call was established. */
export interface CallErrors {
  crcErrors: number;
  framingErrors: number;
  hardwareOverruns: number;
  bufferOverruns: number;
  timeoutErrors: number;
  alignmentErrors: number;
}

/** ACCM AVP value (RFC 2661 §4.4.6): the async control character maps the LAC should use. */
export interface Accm {
  send: number;
  receive: number;
}

/** PPP Disconnect Cause Code AVP value (RFC 3145 §3.1). */
export interface PppDisconnectCause {
  /** RFC 3145 §3.2 disconnect code. */
  code: number;
  /** PPP protocol number of the control protocol that disconnected (0 if none). */
  protocol: number;
  /** 0 global, 1 at peer, 2 at local (RFC 3145 §3.1). */
  direction: number;
  message?: string;
}

/** Failover Capability AVP value (RFC 4951 §5.1). */
export interface FailoverCapability {
  /** C bit: control channel failover supported. */
  controlChannel: boolean;
  /** D bit: data channel failover supported. */
  dataChannel: boolean;
  /** Milliseconds the peer should wait for the recovery tunnel. */
  recoveryTime: number;
}

/** Tunnel Recovery AVP value (RFC 4951 §5.2): the old tunnel being recovered. */
export interface TunnelRecovery {
  recoverTunnelId: number;
  recoverRemoteTunnelId: number;
}

/** Suggested Control Sequence AVP value (RFC 4951 §5.3). */
export interface SuggestedControlSequence {
  ns: number;
  nr: number;
}

/** Failover Session State AVP value (RFC 4951 §5.4). */
export interface FailoverSessionState {
  sessionId: number;
  remoteSessionId: number;
}

/** Every typed AVP of RFC 2661 §4.4 (types 1-39), RFC 3145 (46) and RFC 4951 (76-79), by camelCase name. */
export interface Avps {
  resultCode?: ResultCode;
  protocolVersion?: ProtocolVersion;
  framingCapabilities?: Framing;
  bearerCapabilities?: Bearer;
  tieBreaker?: Uint8Array;
  firmwareRevision?: number;
  hostName?: string;
  vendorName?: string;
  assignedTunnelId?: number;
  receiveWindowSize?: number;
  challenge?: Uint8Array;
  q931CauseCode?: Q931CauseCode;
  challengeResponse?: Uint8Array;
  assignedSessionId?: number;
  callSerialNumber?: number;
  minimumBps?: number;
  maximumBps?: number;
  bearerType?: Bearer;
  framingType?: Framing;
  calledNumber?: string;
  callingNumber?: string;
  subAddress?: string;
  txConnectSpeed?: number;
  physicalChannelId?: number;
  initialReceivedLcpConfReq?: Uint8Array;
  lastSentLcpConfReq?: Uint8Array;
  lastReceivedLcpConfReq?: Uint8Array;
  proxyAuthenType?: number;
  proxyAuthenName?: string;
  proxyAuthenChallenge?: Uint8Array;
  proxyAuthenId?: number;
  proxyAuthenResponse?: Uint8Array;
  callErrors?: CallErrors;
  accm?: Accm;
  /** The last Random Vector of the message (RFC 2661 §4.3); also used to hide when encoding. */
  randomVector?: Uint8Array;
  privateGroupId?: Uint8Array;
  rxConnectSpeed?: number;
  /** Present (true) when the peer requires sequenced data messages (RFC 2661 §4.4.6). */
  sequencingRequired?: true;
  pppDisconnectCause?: PppDisconnectCause;
  failoverCapability?: FailoverCapability;
  tunnelRecovery?: TunnelRecovery;
  suggestedControlSequence?: SuggestedControlSequence;
  failoverSessionState?: FailoverSessionState;
}

/** The camelCase name of a typed AVP. */
export type AvpName = keyof Avps;

/**
 * How one kind of AVP value is read and written. `check` sees the value length (after any
 * unhiding) and says what is wrong with it; `decode` is only called when `check` passed. Both read and
 * write the bytes directly, with no DataView: no `.buffer` of a received datagram is ever made, and
 * encodeControl makes none for the packet it writes into.
 */
export interface ValueCodec<T> {
  check(length: number): string | undefined;
  decode(bytes: Uint8Array, at: number, length: number): T;
  size(value: T): number;
  write(value: T, out: Uint8Array, at: number): void;
}

/** One row of the catalog. */
export interface AvpSpec<K extends AvpName = AvpName> {
  /** IETF attribute type (vendor id 0). */
  type: number;
  key: K;
  /** The RFC's name, used in error fields: "avp[3] Assigned Tunnel ID (9).length". */
  name: string;
  codec: ValueCodec<NonNullable<Avps[K]>>;
  /** The M bit this codec sends (the RFC's value for the AVP). */
  mandatory: boolean;
  /** Whether the RFC lets the AVP be hidden (§4.3); encodeControl will not hide it otherwise. */
  hideable: boolean;
  /** RFC section that defines it, for error messages and docs. */
  rfc: string;
}

// ---- value codecs -------------------------------------------------------------------------------

function exactly(n: number): (length: number) => string | undefined {
  return (length) => (length === n ? undefined : `expected ${n + 6} bytes, got ${length + 6}`);
}

function atLeast(n: number): (length: number) => string | undefined {
  return (length) => (length >= n ? undefined : `expected at least ${n + 6} bytes, got ${length + 6}`);
}

const u16: ValueCodec<number> = {
  check: exactly(2),
  decode: (bytes, at) => readU16(bytes, at),
  size: () => 2,
  write: (value, out, at) => writeU16(out, at, value),
};

const u32: ValueCodec<number> = {
  check: exactly(4),
  decode: (bytes, at) => readU32(bytes, at),
  size: () => 4,
  write: (value, out, at) => writeU32(out, at, value),
};

function octets(check: (length: number) => string | undefined): ValueCodec<Uint8Array> {
  return {
    check,
    decode: (bytes, at, length) => bytes.slice(at, at + length),
    size: (value) => value.length,
    write: (value, out, at) => out.set(value, at),
  };
}

function text(min: number): ValueCodec<string> {
  return {
    check: atLeast(min),
    decode: (bytes, at, length) => decodeUtf8(bytes, at, length),
    size: (value) => utf8Length(value),
    write: (value, out, at) => {
      writeUtf8(value, out, at);
    },
  };
}

/** RFC 2661 §4.4.3: a 32-bit mask where bit 31 (0x1) is sync / digital and bit 30 (0x2) async / analog. */
const framing: ValueCodec<Framing> = {
  check: exactly(4),
  decode: (bytes, at) => {
    const bits = readU32(bytes, at);
    return { async: (bits & 2) !== 0, sync: (bits & 1) !== 0 };
  },
  size: () => 4,
  write: (value, out, at) => writeU32(out, at, (value.async ? 2 : 0) | (value.sync ? 1 : 0)),
};

const bearer: ValueCodec<Bearer> = {
  check: exactly(4),
  decode: (bytes, at) => {
    const bits = readU32(bytes, at);
    return { analog: (bits & 2) !== 0, digital: (bits & 1) !== 0 };
  },
  size: () => 4,
  write: (value, out, at) => writeU32(out, at, (value.analog ? 2 : 0) | (value.digital ? 1 : 0)),
};

/** RFC 2661 §4.4.2: result (2) [error (2) [message]]; a 3-byte value is malformed. */
const resultCode: ValueCodec<ResultCode> = {
  check: (length) =>
    length === 2 || length >= 4 ? undefined : `expected 8 bytes or at least 10, got ${length + 6}`,
  decode: (bytes, at, length) => {
    const value: ResultCode = { result: readU16(bytes, at) };
    if (length >= 4) value.error = readU16(bytes, at + 2);
    if (length > 4) value.message = decodeUtf8(bytes, at + 4, length - 4);
    return value;
  },
  size: (value) =>
    value.error === undefined && value.message === undefined
      ? 2
      : 4 + (value.message ? utf8Length(value.message) : 0),
  write: (value, out, at) => {
    writeU16(out, at, value.result);
    if (value.error === undefined && value.message === undefined) return;
    writeU16(out, at + 2, value.error ?? 0);
    if (value.message) writeUtf8(value.message, out, at + 4);
  },
};

const protocolVersion: ValueCodec<ProtocolVersion> = {
  check: exactly(2),
  decode: (bytes, at) => ({ version: bytes[at], revision: bytes[at + 1] }),
  size: () => 2,
  write: (value, out, at) => {
    out[at] = value.version;
    out[at + 1] = value.revision;
  },
};

/** RFC 2661 §4.4.5: Cause Code (2), Cause Msg (1), Advisory Msg (text). */
const q931: ValueCodec<Q931CauseCode> = {
  check: atLeast(3),
  decode: (bytes, at, length) => {
    const value: Q931CauseCode = { causeCode: readU16(bytes, at), causeMessage: bytes[at + 2] };
    if (length > 3) value.advisory = decodeUtf8(bytes, at + 3, length - 3);
    return value;
  },
  size: (value) => 3 + (value.advisory ? utf8Length(value.advisory) : 0),
  write: (value, out, at) => {
    writeU16(out, at, value.causeCode);
    out[at + 2] = value.causeMessage;
    if (value.advisory) writeUtf8(value.advisory, out, at + 3);
  },
};

/** RFC 2661 §4.4.5: Reserved (1), ID (1). */
const proxyAuthenId: ValueCodec<number> = {
  check: exactly(2),
  decode: (bytes, at) => bytes[at + 1],
  size: () => 2,
  write: (value, out, at) => {
    out[at] = 0;
    out[at + 1] = value;
  },
};

/** RFC 2661 §4.4.6: Reserved (2), then six 32-bit counters. */
const callErrors: ValueCodec<CallErrors> = {
  check: exactly(26),
  decode: (bytes, at) => ({
    crcErrors: readU32(bytes, at + 2),
    framingErrors: readU32(bytes, at + 6),
    hardwareOverruns: readU32(bytes, at + 10),
    bufferOverruns: readU32(bytes, at + 14),
    timeoutErrors: readU32(bytes, at + 18),
    alignmentErrors: readU32(bytes, at + 22),
  }),
  size: () => 26,
  write: (value, out, at) => {
    writeU16(out, at, 0);
    writeU32(out, at + 2, value.crcErrors);
    writeU32(out, at + 6, value.framingErrors);
    writeU32(out, at + 10, value.hardwareOverruns);
    writeU32(out, at + 14, value.bufferOverruns);
    writeU32(out, at + 18, value.timeoutErrors);
    writeU32(out, at + 22, value.alignmentErrors);
  },
};

/** RFC 2661 §4.4.6: Reserved (2), Send ACCM (4), Receive ACCM (4). */
const accm: ValueCodec<Accm> = {
  check: exactly(10),
  decode: (bytes, at) => ({ send: readU32(bytes, at + 2), receive: readU32(bytes, at + 6) }),
  size: () => 10,
  write: (value, out, at) => {
    writeU16(out, at, 0);
    writeU32(out, at + 2, value.send);
    writeU32(out, at + 6, value.receive);
  },
};

/** RFC 2661 §4.4.6: no value; its presence is the information. */
const presence: ValueCodec<true> = {
  check: exactly(0),
  decode: () => true,
  size: () => 0,
  write: () => {},
};

/** RFC 3145 §3.1: Disconnect Code (2), Control Protocol Number (2), Direction (1), Message (text). */
const pppDisconnectCause: ValueCodec<PppDisconnectCause> = {
  check: atLeast(5),
  decode: (bytes, at, length) => {
    const value: PppDisconnectCause = {
      code: readU16(bytes, at),
      protocol: readU16(bytes, at + 2),
      direction: bytes[at + 4],
    };
    if (length > 5) value.message = decodeUtf8(bytes, at + 5, length - 5);
    return value;
  },
  size: (value) => 5 + (value.message ? utf8Length(value.message) : 0),
  write: (value, out, at) => {
    writeU16(out, at, value.code);
    writeU16(out, at + 2, value.protocol);
    out[at + 4] = value.direction;
    if (value.message) writeUtf8(value.message, out, at + 5);
  },
};

/**
 * RFC 4951 §5.1: Reserved (14 bits), C and D bits, Recovery Time (32 bits). C is the low bit (0x1)
 * and D the next (0x2), as a deployed implementation (OpenRPD, against Cisco CMTSes) reads them.
 */
const failoverCapability: ValueCodec<FailoverCapability> = {
  check: exactly(6),
  decode: (bytes, at) => {
    const bits = readU16(bytes, at);
    return {
      controlChannel: (bits & 1) !== 0,
      dataChannel: (bits & 2) !== 0,
      recoveryTime: readU32(bytes, at + 2),
    };
  },
  size: () => 6,
  write: (value, out, at) => {
    writeU16(out, at, (value.controlChannel ? 1 : 0) | (value.dataChannel ? 2 : 0));
    writeU32(out, at + 2, value.recoveryTime);
  },
};

/**
 * RFC 4951 §5.2-5.4: Reserved (16 bits) then two identifiers, 16 bits each in L2TPv2. A 10-byte
 * value (the L2TPv3 form with 32-bit identifiers) is also read, so a v3-minded peer still decodes.
 */
function idPair<K1 extends string, K2 extends string>(
  first: K1,
  second: K2,
): ValueCodec<Record<K1 | K2, number>> {
  return {
    check: (length) => (length === 6 || length === 10 ? undefined : `expected 12 bytes, got ${length + 6}`),
    decode: (bytes, at, length) => {
      const wide = length === 10;
      const value = {} as Record<K1 | K2, number>;
      value[first] = wide ? readU32(bytes, at + 2) : readU16(bytes, at + 2);
      value[second] = wide ? readU32(bytes, at + 6) : readU16(bytes, at + 4);
      return value;
    },
    size: () => 6,
    write: (value, out, at) => {
      writeU16(out, at, 0);
      writeU16(out, at + 2, value[first]);
      writeU16(out, at + 4, value[second]);
    },
  };
}

// ---- the catalog --------------------------------------------------------------------------------

function spec<K extends AvpName>(
  type: number,
  key: K,
  name: string,
  codec: ValueCodec<NonNullable<Avps[K]>>,
  mandatory: boolean,
  hideable: boolean,
  rfc: string,
): AvpSpec<K> {
  return { type, key, name, codec, mandatory, hideable, rfc };
}

/** The IETF attribute type of the Message Type AVP (RFC 2661 §4.4.1); it is the message's `type`. */
export const MESSAGE_TYPE_AVP = 0;
/** The attribute type of the Random Vector AVP (RFC 2661 §4.4.3), which keys the hidden AVPs after it. */
export const RANDOM_VECTOR_AVP = 36;

/** Every typed AVP, in attribute-type order (which is also the order encodeControl writes them in). */
export const AVP_CATALOG: readonly AvpSpec[] = [
  spec(1, "resultCode", "Result Code", resultCode, true, true, "RFC 2661 §4.4.2"),
  spec(2, "protocolVersion", "Protocol Version", protocolVersion, true, false, "RFC 2661 §4.4.3"),
  spec(3, "framingCapabilities", "Framing Capabilities", framing, true, true, "RFC 2661 §4.4.3"),
  spec(4, "bearerCapabilities", "Bearer Capabilities", bearer, true, true, "RFC 2661 §4.4.3"),
  spec(5, "tieBreaker", "Tie Breaker", octets(exactly(8)), false, false, "RFC 2661 §4.4.3"),
  spec(6, "firmwareRevision", "Firmware Revision", u16, false, true, "RFC 2661 §4.4.3"),
  spec(7, "hostName", "Host Name", text(1), true, false, "RFC 2661 §4.4.3"),
  spec(8, "vendorName", "Vendor Name", text(0), false, true, "RFC 2661 §4.4.3"),
  spec(9, "assignedTunnelId", "Assigned Tunnel ID", u16, true, true, "RFC 2661 §4.4.3"),
  spec(10, "receiveWindowSize", "Receive Window Size", u16, true, false, "RFC 2661 §4.4.3"),
  spec(11, "challenge", "Challenge", octets(atLeast(1)), true, true, "RFC 2661 §4.4.3"),
  spec(12, "q931CauseCode", "Q.931 Cause Code", q931, true, true, "RFC 2661 §4.4.5"),
  spec(13, "challengeResponse", "Challenge Response", octets(exactly(16)), true, true, "RFC 2661 §4.4.3"),
  spec(14, "assignedSessionId", "Assigned Session ID", u16, true, true, "RFC 2661 §4.4.4"),
  spec(15, "callSerialNumber", "Call Serial Number", u32, true, true, "RFC 2661 §4.4.4"),
  spec(16, "minimumBps", "Minimum BPS", u32, true, true, "RFC 2661 §4.4.4"),
  spec(17, "maximumBps", "Maximum BPS", u32, true, true, "RFC 2661 §4.4.4"),
  spec(18, "bearerType", "Bearer Type", bearer, true, true, "RFC 2661 §4.4.4"),
  spec(19, "framingType", "Framing Type", framing, true, true, "RFC 2661 §4.4.4"),
  spec(21, "calledNumber", "Called Number", text(0), true, true, "RFC 2661 §4.4.4"),
  spec(22, "callingNumber", "Calling Number", text(0), true, true, "RFC 2661 §4.4.4"),
  spec(23, "subAddress", "Sub-Address", text(0), true, true, "RFC 2661 §4.4.4"),
  spec(24, "txConnectSpeed", "(Tx) Connect Speed", u32, true, true, "RFC 2661 §4.4.4"),
  spec(25, "physicalChannelId", "Physical Channel ID", u32, false, true, "RFC 2661 §4.4.4"),
  spec(
    26,
    "initialReceivedLcpConfReq",
    "Initial Received LCP CONFREQ",
    octets(atLeast(0)),
    false,
    true,
    "RFC 2661 §4.4.5",
  ),
  spec(27, "lastSentLcpConfReq", "Last Sent LCP CONFREQ", octets(atLeast(0)), false, true, "RFC 2661 §4.4.5"),
  spec(
    28,
    "lastReceivedLcpConfReq",
    "Last Received LCP CONFREQ",
    octets(atLeast(0)),
    false,
    true,
    "RFC 2661 §4.4.5",
  ),
  spec(29, "proxyAuthenType", "Proxy Authen Type", u16, false, true, "RFC 2661 §4.4.5"),
  spec(30, "proxyAuthenName", "Proxy Authen Name", text(0), false, true, "RFC 2661 §4.4.5"),
  spec(
    31,
    "proxyAuthenChallenge",
    "Proxy Authen Challenge",
    octets(atLeast(1)),
    false,
    true,
    "RFC 2661 §4.4.5",
  ),
  spec(32, "proxyAuthenId", "Proxy Authen ID", proxyAuthenId, false, true, "RFC 2661 §4.4.5"),
  spec(
    33,
    "proxyAuthenResponse",
    "Proxy Authen Response",
    octets(atLeast(0)),
    false,
    true,
    "RFC 2661 §4.4.5",
  ),
  spec(34, "callErrors", "Call Errors", callErrors, true, true, "RFC 2661 §4.4.6"),
  spec(35, "accm", "ACCM", accm, true, true, "RFC 2661 §4.4.6"),
  spec(36, "randomVector", "Random Vector", octets(atLeast(1)), true, false, "RFC 2661 §4.4.3"),
  spec(37, "privateGroupId", "Private Group ID", octets(atLeast(0)), false, true, "RFC 2661 §4.4.5"),
  spec(38, "rxConnectSpeed", "Rx Connect Speed", u32, false, true, "RFC 2661 §4.4.4"),
  spec(39, "sequencingRequired", "Sequencing Required", presence, true, false, "RFC 2661 §4.4.6"),
  spec(
    46,
    "pppDisconnectCause",
    "PPP Disconnect Cause Code",
    pppDisconnectCause,
    false,
    true,
    "RFC 3145 §3.1",
  ),
  spec(76, "failoverCapability", "Failover Capability", failoverCapability, false, true, "RFC 4951 §5.1"),
  spec(
    77,
    "tunnelRecovery",
    "Tunnel Recovery",
    idPair("recoverTunnelId", "recoverRemoteTunnelId"),
    true,
    false,
    "RFC 4951 §5.2",
  ),
  spec(
    78,
    "suggestedControlSequence",
    "Suggested Control Sequence",
    idPair("ns", "nr"),
    false,
    true,
    "RFC 4951 §5.3",
  ),
  spec(
    79,
    "failoverSessionState",
    "Failover Session State",
    idPair("sessionId", "remoteSessionId"),
    false,
    true,
    "RFC 4951 §5.4",
  ),
];

/** The catalog indexed by attribute type (vendor id 0); undefined for types it does not know. */
export const AVP_BY_TYPE: readonly (AvpSpec | undefined)[] = (() => {
  const table: (AvpSpec | undefined)[] = new Array(128).fill(undefined);
  for (const s of AVP_CATALOG) table[s.type] = s;
  return table;
})();

/** The catalog by camelCase name. */
export const AVP_BY_NAME: { readonly [K in AvpName]: AvpSpec<K> } = Object.fromEntries(
  AVP_CATALOG.map((s) => [s.key, s]),
) as never;

/** "Assigned Tunnel ID (9)": how errors and tools name an AVP. */
export function avpLabel(type: number, vendorId = 0): string {
  if (vendorId !== 0) return `vendor ${vendorId} attribute ${type}`;
  if (type === MESSAGE_TYPE_AVP) return "Message Type (0)";
  const s = type < AVP_BY_TYPE.length ? AVP_BY_TYPE[type] : undefined;
  return s ? `${s.name} (${type})` : `unknown attribute ${type}`;
}
