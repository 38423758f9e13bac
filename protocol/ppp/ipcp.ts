/**
 * IPCP, the IP Control Protocol (RFC 1332; DNS and NBNS options from RFC 1877): codes 1-7 through the
 * shared packet codec, with IPCP's own option catalog. Addresses are dotted-quad strings ("10.0.0.1");
 * "0.0.0.0" in a Configure-Request asks the peer to supply one (RFC 1332 §3.3, RFC 1877 §1).
 */
import { concat, u32 } from "../bytes.ts";
import { ipv4ToNumber, numberToIpv4 } from "../ipv4.ts";
import { type NcpPacket, ncpCodec } from "./control-packet.ts";
import { PppProtocol } from "./numbers.ts";
import {
  compressionOption,
  expectLength,
  type OptionCatalog,
  type OptionSpec,
  optionCatalog,
  type UnknownOption,
} from "./options.ts";
import type { Decoded } from "./result.ts";

/** An IPCP Configuration Option this product reads. */
export type IpcpKnownOption =
  /** 1: IP-Addresses (deprecated, RFC 1172 via RFC 1332 §3.1): source and destination. */
  | { kind: "ipAddresses"; source: string; destination: string }
  /** 2: IP-Compression-Protocol (RFC 1332 §3.2); Van Jacobson 0x002D carries Max-Slot-Id and Comp-Slot-Id in `data`. */
  | { kind: "ipCompression"; protocol: number; data: Uint8Array }
  /** 3: IP-Address (RFC 1332 §3.3). */
  | { kind: "ipAddress"; address: string }
  /** 129: Primary DNS server address (RFC 1877 §1.1). */
  | { kind: "primaryDns"; address: string }
  /** 130: Primary NBNS server address (RFC 1877 §1.2). */
  | { kind: "primaryNbns"; address: string }
  /** 131: Secondary DNS server address (RFC 1877 §1.3). */
  | { kind: "secondaryDns"; address: string }
  /** 132: Secondary NBNS server address (RFC 1877 §1.4). */
  | { kind: "secondaryNbns"; address: string };

/** An IPCP option: a known one, typed, or an unknown one kept byte-exact. */
export type IpcpOption = IpcpKnownOption | UnknownOption;

/** Any IPCP packet (RFC 1332 §2: codes 1-7 only; others are Unknown and get a Code-Reject). */
export type IpcpPacket = NcpPacket<IpcpKnownOption>;

type Opt<K extends IpcpKnownOption["kind"]> = Extract<IpcpKnownOption, { kind: K }>;

/** Four octets as a dotted quad (a flat string: protocol/ipv4.ts numberToIpv4). */
export function ipv4ToString(bytes: Uint8Array, at = 0): string {
  return numberToIpv4(u32(bytes, at));
}

/** A dotted quad as four octets; throws RangeError when it is not one (protocol/ipv4.ts ipv4ToNumber says what is). */
export function ipv4FromString(address: string): Uint8Array {
  const n = ipv4ToNumber(address);
  if (n === undefined) throw new RangeError(`"${address}" is not an IPv4 address`);
  return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

function addressOption<
  K extends "ipAddress" | "primaryDns" | "primaryNbns" | "secondaryDns" | "secondaryNbns",
>(kind: K, type: number, name: string, token: string): OptionSpec<Opt<K>> {
  return {
    type,
    name,
    decode: (bytes, at, length) =>
      expectLength(length, 4) ?? ({ kind, address: ipv4ToString(bytes, at) } as Opt<K>),
    encode: (o) => ipv4FromString((o as { address: string }).address),
    describe: (o) => `${token}=${(o as { address: string }).address}`,
  };
}

const ipAddresses: OptionSpec<Opt<"ipAddresses">> = {
  type: 1,
  name: "IP-Addresses",
  decode: (bytes, at, length) =>
    expectLength(length, 8) ?? {
      kind: "ipAddresses",
      source: ipv4ToString(bytes, at),
      destination: ipv4ToString(bytes, at + 4),
    },
  encode: (o) => concat(ipv4FromString(o.source), ipv4FromString(o.destination)),
  describe: (o) => `Addresses=${o.source},${o.destination}`,
};

// RFC 1332 §3.2: Van Jacobson's option carries Max-Slot-Id and Comp-Slot-Id, one octet each.
const ipCompression = compressionOption("ipCompression", "IP-Compression-Protocol", (o) =>
  o.protocol === PppProtocol.VjCompressed && o.data.length === 2
    ? `Compression=VJ(slots=${o.data[0] + 1},comp=${o.data[1]})`
    : undefined,
);

/** The IPCP option catalog (RFC 1332 §3, RFC 1877). */
export const ipcpOptions: OptionCatalog<IpcpKnownOption> = optionCatalog<IpcpKnownOption>("IPCP", {
  ipAddresses,
  ipCompression,
  ipAddress: addressOption("ipAddress", 3, "IP-Address", "Addr"),
  primaryDns: addressOption("primaryDns", 129, "Primary-DNS", "DNS1"),
  primaryNbns: addressOption("primaryNbns", 130, "Primary-NBNS", "NBNS1"),
  secondaryDns: addressOption("secondaryDns", 131, "Secondary-DNS", "DNS2"),
  secondaryNbns: addressOption("secondaryNbns", 132, "Secondary-NBNS", "NBNS2"),
});

const codec = ncpCodec(ipcpOptions);

/** Decodes an IPCP packet (the PPP payload after protocol 0x8021); never throws. */
export const decodeIpcp: (bytes: Uint8Array) => Decoded<IpcpPacket> = codec.decode;

/** Encodes an IPCP packet; throws RangeError on values that do not fit their fields. */
export const encodeIpcp: (packet: IpcpPacket) => Uint8Array = codec.encode;

/** One readable line for an IPCP packet. */
export const describeIpcp: (packet: IpcpPacket) => string = codec.describe;
