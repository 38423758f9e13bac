import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { challengeResponse, responsesEqual } from "../../../protocol/l2tp/auth.ts";
import { type ControlMessage, decodeControl } from "../../../protocol/l2tp/messages.ts";
import { controlPackets, captureSecret as secret } from "./captures.ts";

function messages(file: string): ControlMessage[] {
  return controlPackets(file).flatMap((p) => {
    const r = decodeControl(p.payload, { secret });
    return r.ok && r.value.message ? [r.value.message] : [];
  });
}

function byType(file: string, type: ControlMessage["type"]): ControlMessage {
  const m = messages(file).find((x) => x.type === type);
  if (!m) throw new Error(`${file}: no ${type}`);
  return m;
}

describe("challengeResponse (RFC 2661 §4.2)", () => {
  test("is MD5(message type byte + secret + challenge)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(2, 3),
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        (type, key, challenge) => {
          const expected = createHash("md5")
            .update(new Uint8Array([type]))
            .update(key)
            .update(challenge)
            .digest();
          expect(challengeResponse(type, key, challenge)).toEqual(new Uint8Array(expected));
        },
      ),
    );
  });

  for (const file of [
    "xl2tpd-lns-realpppd.pcapng",
    "xl2tpd-lac-realpppd.pcapng",
    "xl2tpd-lns-hidden.pcapng",
  ]) {
    test(`${file}: both responses of the captured handshake verify with secret s3cret`, () => {
      const sccrq = byType(file, "SCCRQ");
      const sccrp = byType(file, "SCCRP");
      const scccn = byType(file, "SCCCN");
      if (!sccrq.avps.challenge || !sccrp.avps.challenge) throw new Error("no challenges");
      expect(sccrp.avps.challengeResponse).toEqual(challengeResponse(2, secret, sccrq.avps.challenge));
      expect(scccn.avps.challengeResponse).toEqual(challengeResponse(3, secret, sccrp.avps.challenge));
    });
  }

  test("xl2tpd-lns-badauth: the bad SCCCN response does not verify", () => {
    const sccrp = byType("xl2tpd-lns-badauth.pcapng", "SCCRP");
    const scccn = byType("xl2tpd-lns-badauth.pcapng", "SCCCN");
    if (!sccrp.avps.challenge || !scccn.avps.challengeResponse) throw new Error("missing AVPs");
    expect(
      responsesEqual(scccn.avps.challengeResponse, challengeResponse(3, secret, sccrp.avps.challenge)),
    ).toBe(false);
  });

  test("responsesEqual compares contents and lengths", () => {
    expect(responsesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(responsesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(responsesEqual(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
  });
});
