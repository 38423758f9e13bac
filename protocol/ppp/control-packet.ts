/**
 * The packet format shared by LCP and the NCPs (RFC 1661 §5): Code, Identifier, Length, Data. Codes 1-7
 * (Configure-Request … Code-Reject) mean the same in LCP and IPCP (RFC 1332 §2), so they are read and
 * written here once; `lcp.ts` adds LCP's codes 8-13.
 */
import { hexBytes, printable } from "../bytes.ts";
import {
  decodeOptions,
  describeOptions,
  type OptionCatalog,
  optionData,
  type UnknownOption,
  writeOptions,
} from "./options.ts";
import { type Decoded, fail } from "./result.ts";

/** The four codes whose Data is an option list (RFC 1661 §5.1-5.4). */
export type ConfigureCode = "Configure-Request" | "Configure-Ack" | "Configure-Nak" | "Configure-Reject";

/** Configure-Request, -Ack, -Nak or -Reject with its options, known ones typed, unknown ones raw. */
export interface ConfigurePacket<O extends { kind: string }> {
  code: ConfigureCode;
  id: number;
  options: (O | UnknownOption)[];
}

/** Terminate-Request or Terminate-Ack (RFC 1661 §5.5); `data` is uninterpreted. */
export interface TerminatePacket {
  code: "Terminate-Request" | "Terminate-Ack";
  id: number;
  data: Uint8Array;
}

/** Code-Reject (RFC 1661 §5.6): `rejected` is the start of the packet that had the unknown code. */
export interface CodeRejectPacket {
  code: "Code-Reject";
  id: number;
  rejected: Uint8Array;
}

/** A packet with a code the protocol does not know; the receiver answers it with Code-Reject (RFC 1661 §5.6). */
export interface UnknownCodePacket {
  code: "Unknown";
  /** The Code octet as received. */
  codeNumber: number;
  id: number;
  data: Uint8Array;
}

/** A packet of any NCP that uses only codes 1-7 (IPCP, IPv6CP, CCP …). */
export type NcpPacket<O extends { kind: string }> =
  | ConfigurePacket<O>
  | TerminatePacket
  | CodeRejectPacket
  | UnknownCodePacket;

/** Code numbers of RFC 1661 §5 and RFC 1570 (codes 12, 13), by name. */
export const ControlCode = {
  "Configure-Request": 1,
  "Configure-Ack": 2,
  "Configure-Nak": 3,
  "Configure-Reject": 4,
  "Terminate-Request": 5,
  "Terminate-Ack": 6,
  "Code-Reject": 7,
  "Protocol-Reject": 8,
  "Echo-Request": 9,
  "Echo-Reply": 10,
  "Discard-Request": 11,
  Identification: 12,
  "Time-Remaining": 13,
} as const;

/** A name of a code in `ControlCode`. */
export type ControlCodeName = keyof typeof ControlCode;

const codeNames = new Map<number, ControlCodeName>(
  Object.entries(ControlCode).map(([name, code]) => [code, name as ControlCodeName]),
);

/** The name of a control code, or undefined for a number outside 1-13. */
export function controlCodeName(code: number): ControlCodeName | undefined {
  return codeNames.get(code);
}

/**
 * The packet header, read and checked: Code, Identifier, and where the part Length covers after the 4
 * header octets ends in `bytes` (`packetData` copies that part out; option lists are read in place).
 */
export interface PacketHeader {
  code: number;
  id: number;
  bytes: Uint8Array;
  /** Length: the packet's end in `bytes` (octets past it are padding). */
  end: number;
}

/**
 * Reads Code, Identifier and Length (RFC 1661 §5). Octets past Length are padding and dropped; a Length
 * beyond the bytes received is an error (the RFC says such a packet is silently discarded).
 */
export function readPacketHeader(bytes: Uint8Array, protocol: string): Decoded<PacketHeader> {
  if (bytes.length < 4)
    return fail(`${protocol}.length`, `packet of ${bytes.length} octets is shorter than the 4-octet header`);
  const length = (bytes[2] << 8) | bytes[3];
  if (length < 4) return fail(`${protocol}.length`, `expected at least 4, got ${length}`);
  if (length > bytes.length) {
    return fail(`${protocol}.length`, `${length} exceeds the ${bytes.length} octets received`);
  }
  return { ok: true, value: { code: bytes[0], id: bytes[1], bytes, end: length } };
}

/** What Length covers after the header: a copy, not a view (frame.ts says why). */
export function packetData(header: PacketHeader): Uint8Array {
  return header.bytes.slice(4, header.end);
}

/**
 * Reads codes 1-7 (and any code not in `extraCodes` as Unknown); returns undefined for a code in
 * `extraCodes`, which the caller (LCP) reads itself.
 */
export function decodeCommonPacket<O extends { kind: string }>(
  header: PacketHeader,
  catalog: OptionCatalog<O>,
  extraCodes: ReadonlySet<number>,
): Decoded<NcpPacket<O>> | undefined {
  const { code, id } = header;
  switch (code) {
    case 1:
    case 2:
    case 3:
    case 4: {
      const name = codeNames.get(code) as ConfigureCode;
      const options = decodeOptions(header.bytes, catalog, name, catalog.protocol, 4, header.end);
      if (!options.ok) return options;
      return { ok: true, value: { code: name, id, options: options.value } };
    }
    case 5:
    case 6: {
      const name = code === 5 ? "Terminate-Request" : "Terminate-Ack";
      return { ok: true, value: { code: name, id, data: packetData(header) } };
    }
    case 7:
      return { ok: true, value: { code: "Code-Reject", id, rejected: packetData(header) } };
    default:
      if (extraCodes.has(code)) return undefined;
      return { ok: true, value: { code: "Unknown", codeNumber: code, id, data: packetData(header) } };
  }
}

/**
 * A packet of `bodyLength` octets after its header, the header written (Code, Identifier, Length); throws
 * RangeError when the packet would exceed 65535 octets or a field is not an octet.
 */
function startPacket(code: number, id: number, bodyLength: number): Uint8Array {
  if (!Number.isInteger(id) || id < 0 || id > 255) throw new RangeError(`identifier ${id} is not an octet`);
  if (!Number.isInteger(code) || code < 0 || code > 255) throw new RangeError(`code ${code} is not an octet`);
  const length = 4 + bodyLength;
  if (length > 0xffff) throw new RangeError(`packet of ${length} octets exceeds 65535`);
  const out = new Uint8Array(length);
  out[0] = code;
  out[1] = id;
  out[2] = length >> 8;
  out[3] = length & 0xff;
  return out;
}

/** Writes Code, Identifier, Length and Data; throws RangeError when the packet would exceed 65535 octets. */
export function writePacket(code: number, id: number, ...data: Uint8Array[]): Uint8Array {
  // Written in place: the parts are not joined into a body first.
  let length = 0;
  for (const part of data) length += part.length;
  const out = startPacket(code, id, length);
  let at = 4;
  for (const part of data) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * A packet of Code, Identifier, Length and an option list (RFC 1661 §5.1-5.4), written in one buffer;
 * throws RangeError as encodeOptions does, or when the packet would exceed 65535 octets.
 */
export function writeOptionsPacket<O extends { kind: string }>(
  code: number,
  id: number,
  options: readonly (O | UnknownOption)[],
  catalog: OptionCatalog<O>,
): Uint8Array {
  const { data, length } = optionData(options, catalog);
  const out = startPacket(code, id, length);
  writeOptions(options, catalog, data, out, 4);
  return out;
}

/** Writes a packet with one of codes 1-7 or an Unknown code; returns undefined for a packet this does not cover. */
export function encodeCommonPacket<O extends { kind: string }>(
  packet: { code: string; id: number },
  catalog: OptionCatalog<O>,
): Uint8Array | undefined {
  const p = packet as NcpPacket<O>;
  switch (p.code) {
    case "Configure-Request":
    case "Configure-Ack":
    case "Configure-Nak":
    case "Configure-Reject":
      return writeOptionsPacket(ControlCode[p.code], p.id, p.options, catalog);
    case "Terminate-Request":
    case "Terminate-Ack":
      return writePacket(ControlCode[p.code], p.id, p.data);
    case "Code-Reject":
      return writePacket(7, p.id, p.rejected);
    case "Unknown":
      return writePacket(p.codeNumber, p.id, p.data);
    default:
      return undefined;
  }
}

/** One line for a packet with one of codes 1-7 or an Unknown code; undefined for other packets. */
export function describeCommonPacket<O extends { kind: string }>(
  packet: { code: string; id: number },
  catalog: OptionCatalog<O>,
): string | undefined {
  const p = packet as NcpPacket<O>;
  const head = `${catalog.protocol} ${p.code === "Unknown" ? `code ${p.codeNumber}` : p.code} id=${p.id}`;
  switch (p.code) {
    case "Configure-Request":
    case "Configure-Ack":
    case "Configure-Nak":
    case "Configure-Reject": {
      const options = describeOptions(p.options, catalog);
      return options ? `${head} ${options}` : head;
    }
    case "Terminate-Request":
    case "Terminate-Ack":
      return p.data.length ? `${head} data=${printable(p.data)}` : head;
    case "Code-Reject":
      return `${head} rejected=${hexBytes(p.rejected, 16)}`;
    case "Unknown":
      return p.data.length ? `${head} data=${hexBytes(p.data, 16)}` : head;
    default:
      return undefined;
  }
}

/** The codec of an NCP that uses only codes 1-7 (RFC 1661 §5), given its option catalog. */
export interface NcpCodec<O extends { kind: string }> {
  /** Decodes a packet (the PPP payload after the protocol number); never throws. */
  decode(bytes: Uint8Array): Decoded<NcpPacket<O>>;
  /** Encodes a packet; throws RangeError on values that do not fit their fields. */
  encode(packet: NcpPacket<O>): Uint8Array;
  /** One readable line ("IPCP Configure-Request id=1 Addr=0.0.0.0"). */
  describe(packet: NcpPacket<O>): string;
}

const noExtraCodes: ReadonlySet<number> = new Set();

/** Makes the codec of an NCP from its option catalog (IPCP, IPV6CP …). */
export function ncpCodec<O extends { kind: string }>(catalog: OptionCatalog<O>): NcpCodec<O> {
  const name = catalog.protocol;
  return {
    decode(bytes) {
      const header = readPacketHeader(bytes, name);
      if (!header.ok) return header;
      // With no extra codes, the shared reader answers every code (unknown ones as "Unknown").
      return decodeCommonPacket(header.value, catalog, noExtraCodes) as Decoded<NcpPacket<O>>;
    },
    encode(packet) {
      const bytes = encodeCommonPacket(packet, catalog);
      if (!bytes) throw new RangeError(`unknown ${name} packet code ${(packet as { code: string }).code}`);
      return bytes;
    },
    describe: (packet) => describeCommonPacket(packet, catalog) ?? `${name} ${packet.code} id=${packet.id}`,
  };
}
