/**
 * fast-check arbitraries for PPP values, shared by the PPP tests. Each produces values in the canonical
 * form the decoders return, so `decode(encode(x))` must equal `x`.
 */
import fc from "fast-check";
import type {
  ChapPacket,
  IpcpKnownOption,
  IpcpOption,
  IpcpPacket,
  LcpKnownOption,
  LcpOption,
  LcpPacket,
  PapPacket,
  UnknownOption,
} from "../../../protocol/ppp/index.ts";

export const octet = fc.integer({ min: 0, max: 255 });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const bytes = (maxLength: number, minLength = 0) => fc.uint8Array({ minLength, maxLength });
export const ipv4 = fc.tuple(octet, octet, octet, octet).map((parts) => parts.join("."));

/** A protocol number of the shape RFC 1661 §2 allows: high octet even, low octet odd. */
export const pppProtocol = fc
  .tuple(fc.integer({ min: 0, max: 127 }), fc.integer({ min: 0, max: 127 }))
  .map(([high, low]) => ((high * 2) << 8) | (low * 2 + 1));

function unknownOption(known: readonly number[]): fc.Arbitrary<UnknownOption> {
  return fc.record({
    kind: fc.constant("unknown" as const),
    type: octet.filter((t) => !known.includes(t)),
    raw: bytes(24),
  });
}

const PAP = 0xc023;
const CHAP = 0xc223;

export const lcpKnownOption: fc.Arbitrary<LcpKnownOption> = fc.oneof(
  fc.record({ kind: fc.constant("mru" as const), value: u16 }),
  fc.record({ kind: fc.constant("accm" as const), value: u32 }),
  fc.record({ kind: fc.constant("authProtocol" as const), protocol: fc.constant(PAP) }),
  fc.record({ kind: fc.constant("authProtocol" as const), protocol: fc.constant(CHAP), algorithm: octet }),
  fc.record({
    kind: fc.constant("authProtocol" as const),
    protocol: u16.filter((p) => p !== PAP && p !== CHAP),
    data: bytes(16),
  }),
  fc.record({ kind: fc.constant("qualityProtocol" as const), protocol: u16, data: bytes(16) }),
  fc.record({ kind: fc.constant("magicNumber" as const), value: u32 }),
  fc.constant({ kind: "pfc" as const }),
  fc.constant({ kind: "acfc" as const }),
);

export const lcpOption: fc.Arbitrary<LcpOption> = fc.oneof(
  lcpKnownOption,
  unknownOption([1, 2, 3, 4, 5, 7, 8]),
);

export const ipcpKnownOption: fc.Arbitrary<IpcpKnownOption> = fc.oneof(
  fc.record({ kind: fc.constant("ipAddresses" as const), source: ipv4, destination: ipv4 }),
  fc.record({ kind: fc.constant("ipCompression" as const), protocol: u16, data: bytes(16) }),
  fc.record({ kind: fc.constant("ipAddress" as const), address: ipv4 }),
  fc.record({ kind: fc.constant("primaryDns" as const), address: ipv4 }),
  fc.record({ kind: fc.constant("primaryNbns" as const), address: ipv4 }),
  fc.record({ kind: fc.constant("secondaryDns" as const), address: ipv4 }),
  fc.record({ kind: fc.constant("secondaryNbns" as const), address: ipv4 }),
);

export const ipcpOption: fc.Arbitrary<IpcpOption> = fc.oneof(
  ipcpKnownOption,
  unknownOption([1, 2, 3, 129, 130, 131, 132]),
);

const configureCode = fc.constantFrom(
  "Configure-Request" as const,
  "Configure-Ack" as const,
  "Configure-Nak" as const,
  "Configure-Reject" as const,
);

/** The packets of codes 1-7 and Unknown, for an option arbitrary and the codes outside the protocol's set. */
function commonPacket<O extends { kind: string }>(
  option: fc.Arbitrary<O>,
  unknownCode: fc.Arbitrary<number>,
) {
  return [
    fc.record({ code: configureCode, id: octet, options: fc.array(option, { maxLength: 12 }) }),
    fc.record({
      code: fc.constantFrom("Terminate-Request" as const, "Terminate-Ack" as const),
      id: octet,
      data: bytes(40),
    }),
    fc.record({ code: fc.constant("Code-Reject" as const), id: octet, rejected: bytes(40) }),
    fc.record({ code: fc.constant("Unknown" as const), codeNumber: unknownCode, id: octet, data: bytes(40) }),
  ] as const;
}

export const lcpPacket: fc.Arbitrary<LcpPacket> = fc.oneof(
  ...commonPacket(lcpOption, fc.oneof(fc.constant(0), fc.integer({ min: 14, max: 255 }))),
  fc.record({ code: fc.constant("Protocol-Reject" as const), id: octet, protocol: u16, rejected: bytes(40) }),
  fc.record({
    code: fc.constantFrom("Echo-Request" as const, "Echo-Reply" as const, "Discard-Request" as const),
    id: octet,
    magic: u32,
    data: bytes(40),
  }),
  fc.record({ code: fc.constant("Identification" as const), id: octet, magic: u32, message: bytes(40) }),
  fc.record({
    code: fc.constant("Time-Remaining" as const),
    id: octet,
    magic: u32,
    seconds: u32,
    message: bytes(40),
  }),
) as fc.Arbitrary<LcpPacket>;

export const ipcpPacket: fc.Arbitrary<IpcpPacket> = fc.oneof(
  ...commonPacket(ipcpOption, fc.oneof(fc.constant(0), fc.integer({ min: 8, max: 255 }))),
) as fc.Arbitrary<IpcpPacket>;

export const papPacket: fc.Arbitrary<PapPacket> = fc.oneof(
  fc.record({
    code: fc.constant("Authenticate-Request" as const),
    id: octet,
    peerId: bytes(255),
    password: bytes(255),
  }),
  fc.record({
    code: fc.constantFrom("Authenticate-Ack" as const, "Authenticate-Nak" as const),
    id: octet,
    message: bytes(255),
  }),
);

export const chapPacket: fc.Arbitrary<ChapPacket> = fc.oneof(
  fc.record({
    code: fc.constantFrom("Challenge" as const, "Response" as const),
    id: octet,
    value: bytes(255, 1),
    name: bytes(64),
  }),
  fc.record({ code: fc.constantFrom("Success" as const, "Failure" as const), id: octet, message: bytes(64) }),
);

/** Hex text to bytes, for readable vectors. */
export function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));
}

/** Bytes to hex text, for readable assertions. */
export function toHex(data: Uint8Array): string {
  return Buffer.from(data).toString("hex");
}
