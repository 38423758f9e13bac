/**
 * Real FreeRADIUS 3.2.1 replies (test/fixtures/radius/, recorded by
 * test/integration/radius/record-fixtures.ts) decoded and verified as our client does: Response
 * Authenticators against the request's, attributes read by name, Tunnel-Password decrypted.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import {
  type AttributeName,
  type AttributeValue,
  decodePacket,
  decryptTunnelPassword,
  findValue,
  findValues,
  type RadiusAttribute,
  RadiusCode,
  type RadiusPacket,
  verifyRequest,
  verifyResponse,
} from "../../../protocol/radius/index.ts";

interface Fixture {
  secret: string;
  request: Uint8Array;
  reply: Uint8Array;
}

function load(name: string): Fixture {
  const raw = JSON.parse(
    readFileSync(new URL(`../../fixtures/radius/${name}.json`, import.meta.url), "utf8"),
  );
  return {
    secret: raw.secret,
    request: Buffer.from(raw.request, "hex"),
    reply: Buffer.from(raw.reply, "hex"),
  };
}

const text = (s: string) => new TextEncoder().encode(s);

/** Decodes a fixture's reply and verifies it against its request; throws on any failure. */
function verified(f: Fixture): { request: RadiusPacket; reply: RadiusPacket } {
  const request = decodePacket(f.request);
  const reply = decodePacket(f.reply);
  if (!request.ok || !reply.ok) throw new Error("fixture does not decode");
  const check = verifyResponse(f.reply, reply.value, request.value.authenticator, text(f.secret), false);
  if (!check.ok) throw new Error(`${check.error.field}: ${check.error.reason}`);
  return { request: request.value, reply: reply.value };
}

function valueOfAttribute<N extends AttributeName>(
  attributes: readonly RadiusAttribute[],
  name: N,
): AttributeValue<N> {
  const found = findValue(attributes, name);
  if (!found?.ok) throw new Error(`${name}: ${found ? found.error.reason : "absent"}`);
  return found.value;
}

describe("FreeRADIUS 3.2 replies", () => {
  test("PAP Access-Accept: verified, with Framed-IP-Address, Class, Session-Timeout and Reply-Message; no Message-Authenticator", () => {
    const f = load("pap-accept");
    const { reply } = verified(f);
    expect(reply.code).toBe(RadiusCode.accessAccept);
    expect(valueOfAttribute(reply.attributes, "Framed-IP-Address")).toBe("10.20.30.40");
    expect(valueOfAttribute(reply.attributes, "Class")).toEqual(Uint8Array.of(1, 0xff, 2));
    expect(valueOfAttribute(reply.attributes, "Session-Timeout")).toBe(3600);
    expect(valueOfAttribute(reply.attributes, "Reply-Message")).toBe("welcome");
    expect(findValue(reply.attributes, "Message-Authenticator")).toBeUndefined();
    // With a wrong secret, or required Message-Authenticator, it does not verify.
    const decoded = decodePacket(f.reply);
    const request = decodePacket(f.request);
    if (!decoded.ok || !request.ok) throw new Error("decode");
    expect(verifyResponse(f.reply, decoded.value, request.value.authenticator, text("other"), false).ok).toBe(
      false,
    );
    expect(verifyResponse(f.reply, decoded.value, request.value.authenticator, text(f.secret), true).ok).toBe(
      false,
    );
  });

  test("our requests verify as FreeRADIUS checked them (Message-Authenticator first)", () => {
    for (const name of ["pap-accept", "chap-accept", "tunnels-accept", "accounting-response"]) {
      const f = load(name);
      const request = decodePacket(f.request);
      if (!request.ok) throw new Error(name);
      expect(request.value.attributes[0].type).toBe(80);
      expect(verifyRequest(f.request, request.value, text(f.secret)).ok).toBe(true);
    }
  });

  test("PAP Access-Reject and CHAP Access-Accept verify", () => {
    expect(verified(load("pap-reject")).reply.code).toBe(RadiusCode.accessReject);
    expect(verified(load("chap-accept")).reply.code).toBe(RadiusCode.accessAccept);
    expect(verified(load("accounting-response")).reply.code).toBe(RadiusCode.accountingResponse);
  });

  test("two tagged tunnel groups; each Tunnel-Password decrypts with the request's authenticator and its salt", () => {
    const f = load("tunnels-accept");
    const { request, reply } = verified(f);
    expect(findValues(reply.attributes, "Tunnel-Type").map((v) => (v.ok ? v.value : undefined))).toEqual([
      { tag: 1, value: 3 },
      { tag: 2, value: 3 },
    ]);
    expect(
      findValues(reply.attributes, "Tunnel-Server-Endpoint").map((v) => (v.ok ? v.value : undefined)),
    ).toEqual([
      { tag: 1, value: "192.0.2.1" },
      { tag: 2, value: "192.0.2.2" },
    ]);
    const passwords = findValues(reply.attributes, "Tunnel-Password").map((v) => {
      if (!v.ok) throw new Error(v.error.reason);
      const clear = decryptTunnelPassword(
        v.value.encrypted,
        text(f.secret),
        request.authenticator,
        v.value.salt,
      );
      if (!clear.ok) throw new Error(clear.error.reason);
      return [v.value.tag, new TextDecoder().decode(clear.value)];
    });
    expect(passwords).toEqual([
      [1, "first-secret"],
      [2, "a-second-tunnel-secret-longer-than-16"],
    ]);
    expect(valueOfAttribute(reply.attributes, "Tunnel-Assignment-ID")).toEqual({ tag: 1, value: "lns-a" });
  });
});
