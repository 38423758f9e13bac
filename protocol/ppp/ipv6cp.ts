/**
 * IPV6CP, the IPv6 Control Protocol (RFC 5072): codes 1-7 through the shared packet codec, with its own
 * option catalog. An Interface-Identifier is the 64-bit low half of the link-local address, kept here as
 * 16 lowercase hex digits ("0211223344556677"); all zeros in a Configure-Request asks the peer to
 * suggest one (RFC 5072 §4.1).
 */
import { hexRange } from "../bytes.ts";
import { type NcpPacket, ncpCodec } from "./control-packet.ts";
import {
  compressionOption,
  expectLength,
  type OptionCatalog,
  type OptionSpec,
  optionCatalog,
  type UnknownOption,
} from "./options.ts";
import type { Decoded } from "./result.ts";

/** An IPV6CP Configuration Option this product reads. */
export type Ipv6cpKnownOption =
  /** 1: Interface-Identifier (RFC 5072 §4.1). */
  | { kind: "interfaceIdentifier"; id: string }
  /** 2: IPv6-Compression-Protocol (RFC 5072 §4.2); not run here, so always rejected. */
  | { kind: "ipv6Compression"; protocol: number; data: Uint8Array };

/** An IPV6CP option: a known one, typed, or an unknown one kept byte-exact. */
export type Ipv6cpOption = Ipv6cpKnownOption | UnknownOption;

/** Any IPV6CP packet (RFC 5072 §3: codes 1-7 only; others are Unknown and get a Code-Reject). */
export type Ipv6cpPacket = NcpPacket<Ipv6cpKnownOption>;

type Opt<K extends Ipv6cpKnownOption["kind"]> = Extract<Ipv6cpKnownOption, { kind: K }>;

/** The identifier that asks the peer for a suggestion (RFC 5072 §4.1). */
export const ZERO_INTERFACE_ID = "0000000000000000";

const INTERFACE_ID = /^[0-9a-f]{16}$/;

/** Eight octets as an Interface-Identifier string. */
export function interfaceIdToString(bytes: Uint8Array, at = 0): string {
  // Read where it lies: a view would make JSC give a received packet its ArrayBuffer (frame.ts).
  return hexRange(bytes, at, at + 8);
}

/** An Interface-Identifier string as eight octets; throws RangeError when it is not 16 hex digits. */
export function interfaceIdFromString(id: string): Uint8Array {
  if (!INTERFACE_ID.test(id)) throw new RangeError(`"${id}" is not an Interface-Identifier (16 hex digits)`);
  const bytes = new Uint8Array(8);
  for (let i = 0; i < 8; i++) bytes[i] = Number.parseInt(id.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** The link-local address of an Interface-Identifier (RFC 5072 §5: fe80::/64 plus the identifier). */
export function linkLocalOf(id: string): string {
  const groups = [0, 4, 8, 12].map((i) => Number.parseInt(id.slice(i, i + 4), 16).toString(16));
  return `fe80::${groups.join(":")}`;
}

const interfaceIdentifier: OptionSpec<Opt<"interfaceIdentifier">> = {
  type: 1,
  name: "Interface-Identifier",
  decode: (bytes, at, length) =>
    expectLength(length, 8) ?? { kind: "interfaceIdentifier", id: interfaceIdToString(bytes, at) },
  encode: (o) => interfaceIdFromString(o.id),
  describe: (o) => `IfId=${o.id}`,
};

const ipv6Compression = compressionOption("ipv6Compression", "IPv6-Compression-Protocol");

/** The IPV6CP option catalog (RFC 5072 §4). */
export const ipv6cpOptions: OptionCatalog<Ipv6cpKnownOption> = optionCatalog<Ipv6cpKnownOption>("IPv6CP", {
  interfaceIdentifier,
  ipv6Compression,
});

const codec = ncpCodec(ipv6cpOptions);

/** Decodes an IPV6CP packet (the PPP payload after protocol 0x8057); never throws. */
export const decodeIpv6cp: (bytes: Uint8Array) => Decoded<Ipv6cpPacket> = codec.decode;

/** Encodes an IPV6CP packet; throws RangeError on values that do not fit their fields. */
export const encodeIpv6cp: (packet: Ipv6cpPacket) => Uint8Array = codec.encode;

/** One readable line for an IPV6CP packet. */
export const describeIpv6cp: (packet: Ipv6cpPacket) => string = codec.describe;
