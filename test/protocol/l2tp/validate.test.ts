import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { AVP_BY_NAME, type Avps } from "../../../protocol/l2tp/avps.ts";
import { MESSAGE_TYPES } from "../../../protocol/l2tp/message-types.ts";
import { validateMessage } from "../../../protocol/l2tp/messages.ts";
import { messageArbitrary } from "./arbitraries.ts";

/** A valid value for every AVP that some message type requires. */
const sample: Avps = {
  protocolVersion: { version: 1, revision: 0 },
  hostName: "lac.test",
  framingCapabilities: { async: true, sync: true },
  assignedTunnelId: 4242,
  resultCode: { result: 1 },
  assignedSessionId: 77,
  callSerialNumber: 1,
  minimumBps: 9600,
  maximumBps: 100000000,
  bearerType: { analog: true, digital: false },
  framingType: { async: false, sync: true },
  calledNumber: "100",
  txConnectSpeed: 100000000,
  callErrors: {
    crcErrors: 0,
    framingErrors: 0,
    hardwareOverruns: 0,
    bufferOverruns: 0,
    timeoutErrors: 0,
    alignmentErrors: 0,
  },
  accm: { send: 0, receive: 0 },
};

function withRequired(required: readonly (keyof Avps)[]): Avps {
  const avps: Record<string, unknown> = {};
  for (const key of required) avps[key] = sample[key];
  return avps as Avps;
}

describe("validateMessage (RFC 2661 §6)", () => {
  const sessionTypes = ["OCRQ", "OCRP", "OCCN", "ICRQ", "ICRP", "ICCN", "CDN", "WEN", "SLI"];

  test("session messages answer with CDN, tunnel messages with StopCCN", () => {
    for (const m of MESSAGE_TYPES) expect(m.scope).toBe(sessionTypes.includes(m.name) ? "session" : "tunnel");
  });

  for (const info of MESSAGE_TYPES) {
    test(`${info.name}: valid with its required AVPs, and each missing one gives result 2 error 2`, () => {
      expect(validateMessage({ type: info.name, avps: withRequired(info.required) })).toBeNull();
      for (const key of info.required) {
        const avps = withRequired(info.required) as Record<string, unknown>;
        delete avps[key];
        const error = validateMessage({ type: info.name, avps: avps as Avps });
        const spec = AVP_BY_NAME[key];
        expect(error).toEqual({
          field: `${info.name}.${key}`,
          reason: `required AVP ${spec.name} (${spec.type}) is missing (${info.rfc})`,
          resultCode: 2,
          errorCode: 2,
          messageType: info.name,
          scope: info.scope,
        });
      }
    });
  }

  test("the required sets are those of RFC 2661 §6", () => {
    const required: Record<string, string[]> = Object.fromEntries(
      MESSAGE_TYPES.map((m) => [m.name, [...m.required].sort()]),
    );
    const expected: Record<string, string[]> = {
      SCCRQ: ["assignedTunnelId", "framingCapabilities", "hostName", "protocolVersion"],
      SCCRP: ["assignedTunnelId", "framingCapabilities", "hostName", "protocolVersion"],
      SCCCN: [],
      StopCCN: ["assignedTunnelId", "resultCode"],
      HELLO: [],
      OCRQ: [
        "assignedSessionId",
        "bearerType",
        "calledNumber",
        "callSerialNumber",
        "framingType",
        "maximumBps",
        "minimumBps",
      ],
      OCRP: ["assignedSessionId"],
      OCCN: ["framingType", "txConnectSpeed"],
      ICRQ: ["assignedSessionId", "callSerialNumber"],
      ICRP: ["assignedSessionId"],
      ICCN: ["framingType", "txConnectSpeed"],
      CDN: ["assignedSessionId", "resultCode"],
      WEN: ["callErrors"],
      SLI: ["accm"],
    };
    for (const list of Object.values(expected)) list.sort();
    expect(required).toEqual(expected);
  });

  test("an unsupported protocol version answers StopCCN result 5 with our version in the error code", () => {
    const avps = { ...withRequired(MESSAGE_TYPES[0].required), protocolVersion: { version: 2, revision: 0 } };
    expect(validateMessage({ type: "SCCRQ", avps })).toMatchObject({
      field: "SCCRQ.protocolVersion",
      resultCode: 5,
      errorCode: 0x0100,
      scope: "tunnel",
    });
  });

  test("zero assigned ids are out of range (error 3)", () => {
    const sccrp = {
      ...withRequired(["protocolVersion", "hostName", "framingCapabilities"]),
      assignedTunnelId: 0,
    };
    expect(validateMessage({ type: "SCCRP", avps: sccrp })).toMatchObject({
      field: "SCCRP.assignedTunnelId",
      errorCode: 3,
    });
    expect(
      validateMessage({ type: "ICRQ", avps: { assignedSessionId: 0, callSerialNumber: 1 } }),
    ).toMatchObject({
      field: "ICRQ.assignedSessionId",
      resultCode: 2,
      errorCode: 3,
      scope: "session",
    });
  });

  test("any message with its required AVPs and nonzero ids passes", () => {
    for (const info of MESSAGE_TYPES) {
      const valid = messageArbitrary(info.name).map((m) => ({
        ...m,
        avps: {
          ...m.avps,
          protocolVersion: m.avps.protocolVersion && { version: 1, revision: 0 },
          assignedTunnelId: m.avps.assignedTunnelId === undefined ? undefined : m.avps.assignedTunnelId || 1,
          assignedSessionId:
            m.avps.assignedSessionId === undefined ? undefined : m.avps.assignedSessionId || 1,
        },
      }));
      fc.assert(
        fc.property(valid, (m) => validateMessage(m) === null),
        { numRuns: 30 },
      );
    }
  });
});
