/**
 * LCP, the Link Control Protocol (RFC 1661 §5, §6; RFC 1570 for codes 12 and 13): every packet code and
 * the options this product negotiates. Unknown options and unknown codes are kept, not rejected here:
 * answering them (Configure-Reject, Code-Reject) is the negotiation automaton's job.
 */
import { be16, be32, concat, hexBytes, printable, u16, u32 } from "../bytes.ts";
import {
  type CodeRejectPacket,
  type ConfigurePacket,
  decodeCommonPacket,
  describeCommonPacket,
  encodeCommonPacket,
  readPacketHeader,
  type TerminatePacket,
  type UnknownCodePacket,
  writePacket,
} from "./control-packet.ts";
import { authProtocolName, hex32, PppProtocol, protocolName } from "./numbers.ts";
import {
  expectLength,
  lengthError,
  type OptionCatalog,
  type OptionSpec,
  optionCatalog,
  type UnknownOption,
} from "./options.ts";
import { type Decoded, fail } from "./result.ts";

/** An LCP Configuration Option this product reads (RFC 1661 §6, RFC 1994 §3). */
export type LcpKnownOption =
  /** 1: Maximum-Receive-Unit. */
  | { kind: "mru"; value: number }
  /** 2: Async-Control-Character-Map (RFC 1662 §7.1), bit n set = escape octet n. */
  | { kind: "accm"; value: number }
  /**
   * 3: Authentication-Protocol. CHAP carries `algorithm` (5 MD5, 0x80 MS-CHAP, 0x81 MS-CHAPv2); PAP carries
   * nothing; any other protocol carries its raw `data`.
   */
  | { kind: "authProtocol"; protocol: number; algorithm?: number; data?: Uint8Array }
  /** 4: Quality-Protocol (LQR 0xC025 and its reporting period in `data`). */
  | { kind: "qualityProtocol"; protocol: number; data: Uint8Array }
  /** 5: Magic-Number. */
  | { kind: "magicNumber"; value: number }
  /** 7: Protocol-Field-Compression. */
  | { kind: "pfc" }
  /** 8: Address-and-Control-Field-Compression. */
  | { kind: "acfc" };

/** An LCP option: a known one, typed, or an unknown one kept byte-exact. */
export type LcpOption = LcpKnownOption | UnknownOption;

type Opt<K extends LcpKnownOption["kind"]> = Extract<LcpKnownOption, { kind: K }>;

/** The codec of each width of a numeric option: how it is read, written and shown. */
const NUMBER_WIDTHS = {
  2: { read: u16, write: be16, show: String },
  4: { read: u32, write: be32, show: hex32 },
} as const;

/** An option that is one unsigned number of `width` octets (RFC 1661 §6.1 MRU; §6.2 ACCM, §6.4 Magic-Number). */
function numberOption<K extends "mru" | "accm" | "magicNumber">(
  kind: K,
  type: number,
  name: string,
  token: string,
  width: 2 | 4,
): OptionSpec<Opt<K>> {
  const { read, write, show } = NUMBER_WIDTHS[width];
  return {
    type,
    name,
    decode: (bytes, at, length) =>
      expectLength(length, width) ?? ({ kind, value: read(bytes, at) } as Opt<K>),
    encode: (o) => write((o as { value: number }).value, name),
    describe: (o) => `${token}=${show((o as { value: number }).value)}`,
  };
}

function flagOption<K extends "pfc" | "acfc">(
  kind: K,
  type: number,
  name: string,
  token: string,
): OptionSpec<Opt<K>> {
  return {
    type,
    name,
    decode: (_bytes, _at, length) => expectLength(length, 0) ?? ({ kind } as Opt<K>),
    encode: () => new Uint8Array(0),
    describe: () => token,
  };
}

const authProtocol: OptionSpec<Opt<"authProtocol">> = {
  type: 3,
  name: "Authentication-Protocol",
  decode: (bytes, at, length) => {
    if (length < 2) return lengthError(`expected at least 4, got ${length + 2}`);
    const protocol = u16(bytes, at);
    // RFC 1994 §3: CHAP's option is exactly 5 octets, its last one the algorithm.
    if (protocol === PppProtocol.CHAP) {
      if (length !== 3) return lengthError(`expected 5 for CHAP, got ${length + 2}`);
      return { kind: "authProtocol", protocol, algorithm: bytes[at + 2] as number };
    }
    // RFC 1334 §2.1 (PAP): exactly 4 octets.
    if (protocol === PppProtocol.PAP) {
      if (length !== 2) return lengthError(`expected 4 for PAP, got ${length + 2}`);
      return { kind: "authProtocol", protocol };
    }
    return { kind: "authProtocol", protocol, data: bytes.slice(at + 2, at + length) };
  },
  encode: (o) => {
    if (o.protocol === PppProtocol.CHAP) {
      const algorithm = o.algorithm ?? 5;
      if (!Number.isInteger(algorithm) || algorithm < 0 || algorithm > 255) {
        throw new RangeError(`CHAP algorithm ${algorithm} is not an octet`);
      }
      return concat(be16(o.protocol, "Authentication-Protocol"), Uint8Array.of(algorithm));
    }
    if (o.protocol === PppProtocol.PAP) return be16(o.protocol, "Authentication-Protocol");
    return concat(be16(o.protocol, "Authentication-Protocol"), o.data ?? new Uint8Array(0));
  },
  describe: (o) => {
    const extra = o.data?.length ? `(${hexBytes(o.data)})` : "";
    return `Auth=${authProtocolName(o.protocol, o.algorithm)}${extra}`;
  },
};

const qualityProtocol: OptionSpec<Opt<"qualityProtocol">> = {
  type: 4,
  name: "Quality-Protocol",
  decode: (bytes, at, length) => {
    if (length < 2) return lengthError(`expected at least 4, got ${length + 2}`);
    return { kind: "qualityProtocol", protocol: u16(bytes, at), data: bytes.slice(at + 2, at + length) };
  },
  encode: (o) => concat(be16(o.protocol, "Quality-Protocol"), o.data),
  describe: (o) => {
    // RFC 1989 §2.5: LQR's data is the 32-bit Reporting-Period in hundredths of a second.
    if (o.protocol === PppProtocol.LQR && o.data.length === 4) return `Quality=LQR/${u32(o.data, 0)}`;
    return `Quality=${protocolName(o.protocol)}${o.data.length ? `(${hexBytes(o.data)})` : ""}`;
  },
};

/** The LCP option catalog (RFC 1661 §6), with names for a few more types seen in the wild. */
export const lcpOptions: OptionCatalog<LcpKnownOption> = optionCatalog<LcpKnownOption>(
  "LCP",
  {
    mru: numberOption("mru", 1, "MRU", "MRU", 2),
    accm: numberOption("accm", 2, "ACCM", "ACCM", 4),
    authProtocol,
    qualityProtocol,
    magicNumber: numberOption("magicNumber", 5, "Magic-Number", "Magic", 4),
    pfc: flagOption("pfc", 7, "PFC", "PFC"),
    acfc: flagOption("acfc", 8, "ACFC", "ACFC"),
  },
  {
    0: "Vendor-Specific",
    9: "FCS-Alternatives",
    10: "Self-Describing-Pad",
    11: "Numbered-Mode",
    13: "Callback",
    17: "MRRU",
    18: "Short-Sequence",
    19: "Endpoint-Discriminator",
    23: "Link-Discriminator",
  },
);

/** Protocol-Reject (RFC 1661 §5.7): the protocol the peer does not run, and the start of the rejected packet. */
export interface ProtocolRejectPacket {
  code: "Protocol-Reject";
  id: number;
  protocol: number;
  rejected: Uint8Array;
}

/** Echo-Request, Echo-Reply or Discard-Request (RFC 1661 §5.8, §5.9). */
export interface EchoPacket {
  code: "Echo-Request" | "Echo-Reply" | "Discard-Request";
  id: number;
  magic: number;
  data: Uint8Array;
}

/** Identification (RFC 1570 §2.1): the sender's magic number and a text message. */
export interface IdentificationPacket {
  code: "Identification";
  id: number;
  magic: number;
  message: Uint8Array;
}

/** Time-Remaining (RFC 1570 §2.2): seconds left in this session (0xFFFFFFFF = no limit) and a message. */
export interface TimeRemainingPacket {
  code: "Time-Remaining";
  id: number;
  magic: number;
  seconds: number;
  message: Uint8Array;
}

/** Any LCP packet. */
export type LcpPacket =
  | ConfigurePacket<LcpKnownOption>
  | TerminatePacket
  | CodeRejectPacket
  | ProtocolRejectPacket
  | EchoPacket
  | IdentificationPacket
  | TimeRemainingPacket
  | UnknownCodePacket;

const lcpOnlyCodes: ReadonlySet<number> = new Set([8, 9, 10, 11, 12, 13]);
const echoCodes = { 9: "Echo-Request", 10: "Echo-Reply", 11: "Discard-Request" } as const;

/** Decodes an LCP packet (the PPP payload after protocol 0xC021); never throws. */
export function decodeLcp(bytes: Uint8Array): Decoded<LcpPacket> {
  const header = readPacketHeader(bytes, "LCP");
  if (!header.ok) return header;
  const common = decodeCommonPacket(header.value, lcpOptions, lcpOnlyCodes);
  if (common) return common;
  // The LCP-only codes read their fields where they lie (from octet 4 to Length), copying what they keep.
  const { code, id, bytes: packet, end } = header.value;
  const size = end - 4;
  switch (code) {
    case 8:
      if (size < 2) return fail("LCP Protocol-Reject.protocol", `expected 2 octets, got ${size}`);
      return {
        ok: true,
        value: { code: "Protocol-Reject", id, protocol: u16(packet, 4), rejected: packet.slice(6, end) },
      };
    case 9:
    case 10:
    case 11: {
      const name = echoCodes[code];
      if (size < 4) return fail(`LCP ${name}.magic`, `expected 4 octets, got ${size}`);
      return { ok: true, value: { code: name, id, magic: u32(packet, 4), data: packet.slice(8, end) } };
    }
    case 12:
      if (size < 4) return fail("LCP Identification.magic", `expected 4 octets, got ${size}`);
      return {
        ok: true,
        value: { code: "Identification", id, magic: u32(packet, 4), message: packet.slice(8, end) },
      };
    default: {
      // Only 13 is left: decodeCommonPacket hands back exactly the codes in lcpOnlyCodes.
      if (size < 4) return fail("LCP Time-Remaining.magic", `expected 4 octets, got ${size}`);
      if (size < 8) return fail("LCP Time-Remaining.seconds", `expected 4 octets, got ${size - 4}`);
      const value: TimeRemainingPacket = {
        code: "Time-Remaining",
        id,
        magic: u32(packet, 4),
        seconds: u32(packet, 8),
        message: packet.slice(12, end),
      };
      return { ok: true, value };
    }
  }
}

/** Encodes an LCP packet; throws RangeError on values that do not fit their fields. */
export function encodeLcp(packet: LcpPacket): Uint8Array {
  const common = encodeCommonPacket(packet, lcpOptions);
  if (common) return common;
  switch (packet.code) {
    case "Protocol-Reject":
      return writePacket(8, packet.id, be16(packet.protocol, "Protocol-Reject protocol"), packet.rejected);
    case "Echo-Request":
    case "Echo-Reply":
    case "Discard-Request": {
      const code = packet.code === "Echo-Request" ? 9 : packet.code === "Echo-Reply" ? 10 : 11;
      return writePacket(code, packet.id, be32(packet.magic, "magic"), packet.data);
    }
    case "Identification":
      return writePacket(12, packet.id, be32(packet.magic, "magic"), packet.message);
    case "Time-Remaining":
      return writePacket(
        13,
        packet.id,
        be32(packet.magic, "magic"),
        be32(packet.seconds, "seconds"),
        packet.message,
      );
    default:
      throw new RangeError(`unknown LCP packet code ${(packet as { code: string }).code}`);
  }
}

/** One readable line for an LCP packet ("LCP Configure-Request id=1 MRU=1500 Magic=0x11223344 Auth=CHAP-MD5"). */
export function describeLcp(packet: LcpPacket): string {
  const common = describeCommonPacket(packet, lcpOptions);
  if (common) return common;
  const head = `LCP ${packet.code} id=${packet.id}`;
  switch (packet.code) {
    case "Protocol-Reject":
      return `${head} protocol=${protocolName(packet.protocol)} rejected=${hexBytes(packet.rejected, 16)}`;
    case "Echo-Request":
    case "Echo-Reply":
    case "Discard-Request":
      return `${head} Magic=${hex32(packet.magic)}${packet.data.length ? ` data=${printable(packet.data)}` : ""}`;
    case "Identification":
      return `${head} Magic=${hex32(packet.magic)} message=${printable(packet.message)}`;
    case "Time-Remaining": {
      const seconds = packet.seconds === 0xffffffff ? "unlimited" : `${packet.seconds}s`;
      return `${head} Magic=${hex32(packet.magic)} remaining=${seconds}${packet.message.length ? ` message=${printable(packet.message)}` : ""}`;
    }
    default:
      return head;
  }
}
