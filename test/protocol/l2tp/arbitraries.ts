/**
 * fast-check arbitraries for every typed AVP and every message type, shared by the round-trip
 * property tests. Values are the canonical forms the decoder returns (e.g. a Result Code message
 * only with an error code), so encode → decode must give back exactly the same object.
 */
import fc from "fast-check";
import { AVP_CATALOG, type AvpName, type Avps } from "../../../protocol/l2tp/avps.ts";
import { MESSAGE_TYPES, type MessageTypeName } from "../../../protocol/l2tp/message-types.ts";
import type { ControlMessage, OpaqueAvp } from "../../../protocol/l2tp/messages.ts";

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const text = (minLength: number) => fc.string({ unit: "binary", minLength, maxLength: 40 });
const bytes = (minLength: number, maxLength = 64) => fc.uint8Array({ minLength, maxLength });
const framing = fc.record({ async: fc.boolean(), sync: fc.boolean() });
const bearer = fc.record({ analog: fc.boolean(), digital: fc.boolean() });

/** One arbitrary per typed AVP, keyed by name (the compiler checks that none is missing). */
export const avpArbitraries: { [K in AvpName]-?: fc.Arbitrary<NonNullable<Avps[K]>> } = {
  resultCode: fc.oneof(
    fc.record({ result: u16 }),
    fc.record({ result: u16, error: u16 }),
    fc.record({ result: u16, error: u16, message: text(1) }),
  ),
  protocolVersion: fc.record({ version: u8, revision: u8 }),
  framingCapabilities: framing,
  bearerCapabilities: bearer,
  tieBreaker: bytes(8, 8),
  firmwareRevision: u16,
  hostName: text(1),
  vendorName: text(0),
  assignedTunnelId: u16,
  receiveWindowSize: u16,
  challenge: bytes(1),
  q931CauseCode: fc.oneof(
    fc.record({ causeCode: u16, causeMessage: u8 }),
    fc.record({ causeCode: u16, causeMessage: u8, advisory: text(1) }),
  ),
  challengeResponse: bytes(16, 16),
  assignedSessionId: u16,
  callSerialNumber: u32,
  minimumBps: u32,
  maximumBps: u32,
  bearerType: bearer,
  framingType: framing,
  calledNumber: text(0),
  callingNumber: text(0),
  subAddress: text(0),
  txConnectSpeed: u32,
  physicalChannelId: u32,
  initialReceivedLcpConfReq: bytes(0),
  lastSentLcpConfReq: bytes(0),
  lastReceivedLcpConfReq: bytes(0),
  proxyAuthenType: u16,
  proxyAuthenName: text(0),
  proxyAuthenChallenge: bytes(1),
  proxyAuthenId: u8,
  proxyAuthenResponse: bytes(0),
  callErrors: fc.record({
    crcErrors: u32,
    framingErrors: u32,
    hardwareOverruns: u32,
    bufferOverruns: u32,
    timeoutErrors: u32,
    alignmentErrors: u32,
  }),
  accm: fc.record({ send: u32, receive: u32 }),
  randomVector: bytes(1, 32),
  privateGroupId: bytes(0),
  rxConnectSpeed: u32,
  sequencingRequired: fc.constant(true as const),
  pppDisconnectCause: fc.oneof(
    fc.record({ code: u16, protocol: u16, direction: u8 }),
    fc.record({ code: u16, protocol: u16, direction: u8, message: text(1) }),
  ),
  failoverCapability: fc.record({
    controlChannel: fc.boolean(),
    dataChannel: fc.boolean(),
    recoveryTime: u32,
  }),
  tunnelRecovery: fc.record({ recoverTunnelId: u16, recoverRemoteTunnelId: u16 }),
  suggestedControlSequence: fc.record({ ns: u16, nr: u16 }),
  failoverSessionState: fc.record({ sessionId: u16, remoteSessionId: u16 }),
};

/** Every typed AVP name, in catalog order. */
export const allAvpNames: AvpName[] = AVP_CATALOG.map((s) => s.key);

/** AVP names the encoder may hide. */
export const hideableNames: AvpName[] = AVP_CATALOG.filter((s) => s.hideable).map((s) => s.key);

/** An arbitrary set of typed AVPs that always holds `required`; `exclude` are never present. */
export function avpsArbitrary(
  required: readonly AvpName[] = [],
  exclude: readonly AvpName[] = [],
): fc.Arbitrary<Avps> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const name of allAvpNames) if (!exclude.includes(name)) model[name] = avpArbitraries[name];
  return fc.record(model, {
    requiredKeys: required.filter((k) => !exclude.includes(k)) as string[],
  }) as fc.Arbitrary<Avps>;
}

/** IETF attribute types the catalog does not type (so they decode as opaque), and vendor AVPs. */
export const opaqueArbitrary: fc.Arbitrary<OpaqueAvp> = fc
  .record({
    vendorId: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffff })),
    attribute: u16,
    mandatory: fc.constant(false),
    hidden: fc.constant(false),
    value: bytes(0, 40),
  })
  .filter((a) => a.vendorId !== 0 || (a.attribute !== 0 && !AVP_CATALOG.some((s) => s.type === a.attribute)));

/** A message of the given type with its required AVPs and any others. */
export function messageArbitrary(
  type: MessageTypeName,
  exclude: readonly AvpName[] = [],
): fc.Arbitrary<ControlMessage> {
  const info = MESSAGE_TYPES.find((m) => m.name === type);
  if (!info) throw new Error(`no message type ${type}`);
  return avpsArbitrary(info.required, exclude).map((avps) => ({ type, avps }));
}

/** Any message of any type. */
export const anyMessageArbitrary: fc.Arbitrary<ControlMessage> = fc.oneof(
  ...MESSAGE_TYPES.map((m) => messageArbitrary(m.name)),
);

/** Any control header. */
export const headerArbitrary = fc.record({ tunnelId: u16, sessionId: u16, ns: u16, nr: u16 });
