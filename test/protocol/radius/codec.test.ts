/**
 * The RADIUS codec against the RFC 2865 §7 examples byte for byte, round trips of every format, the
 * hiding of User-Password and Tunnel-Password, both kinds of Message-Authenticator, and malformed
 * input (every prefix, random bytes, random mutations) that must give an error, never a throw.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  type AttributeName,
  type AttributeValue,
  attribute,
  decodePacket,
  decryptTunnelPassword,
  encodeRequest,
  encodeResponse,
  encryptTunnelPassword,
  findValue,
  findValues,
  hideUserPassword,
  type RadiusAttribute,
  RadiusCode,
  readValue,
  revealUserPassword,
  verifyRequest,
  verifyResponse,
} from "../../../protocol/radius/index.ts";

const hex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));
const text = (s: string) => new TextEncoder().encode(s);
const rfcSecret = text("xyzzy5461");

// RFC 2865 §7.1: nemo, password "arctangent", on NAS 192.168.1.16 port 3, and the server's Access-Accept.
const RFC_7_1_REQUEST = hex(`01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb
  98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06 c0 a8
  01 10 05 06 00 00 00 03`);
const RFC_7_1_ACCEPT = hex(`02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf
  9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00 0e 06 c0 a8 01 03`);
// RFC 2865 §7.2: flopsy with CHAP (the challenge in the Request Authenticator).
const RFC_7_2_REQUEST = hex(`01 01 00 47 2a ee 86 f0 8d 0d 55 96 9c a5 97 8e
  0d 33 67 a2 01 08 66 6c 6f 70 73 79 03 13 16 e9 75 57 c3 16 18 58 95 f2 93 ff 63 44 07 72 75 04
  06 c0 a8 01 10 05 06 00 00 00 14 06 06 00 00 00 02 07 06 00 00 00 01`);

function must<T>(
  result: { ok: true; value: T } | { ok: false; error: { field: string; reason: string } },
): T {
  if (!result.ok) throw new Error(`${result.error.field}: ${result.error.reason}`);
  return result.value;
}

/** The value of the first attribute named `name`; throws when absent or malformed. */
function attributeValue<N extends AttributeName>(
  attributes: readonly RadiusAttribute[],
  name: N,
): AttributeValue<N> {
  return must(findValue(attributes, name) ?? { ok: false, error: { field: name, reason: "absent" } });
}

describe("RFC 2865 §7 examples", () => {
  test("§7.1: the Access-Request is built byte for byte, User-Password hidden as the RFC shows", () => {
    const authenticator = RFC_7_1_REQUEST.subarray(4, 20);
    const bytes = encodeRequest(
      {
        code: RadiusCode.accessRequest,
        identifier: 0,
        authenticator,
        messageAuthenticator: false,
        attributes: [
          attribute("User-Name", "nemo"),
          attribute("User-Password", hideUserPassword(text("arctangent"), rfcSecret, authenticator)),
          attribute("NAS-IP-Address", "192.168.1.16"),
          attribute("NAS-Port", 3),
        ],
      },
      rfcSecret,
    );
    expect(Buffer.from(bytes).toString("hex")).toBe(Buffer.from(RFC_7_1_REQUEST).toString("hex"));
    const packet = must(decodePacket(bytes));
    const hidden = attributeValue(packet.attributes, "User-Password");
    expect(new TextDecoder().decode(must(revealUserPassword(hidden, rfcSecret, authenticator)))).toBe(
      "arctangent",
    );
  });

  test("§7.1: the Access-Accept's Response Authenticator verifies, and is rebuilt byte for byte", () => {
    const request = must(decodePacket(RFC_7_1_REQUEST));
    const accept = must(decodePacket(RFC_7_1_ACCEPT));
    expect(verifyResponse(RFC_7_1_ACCEPT, accept, request.authenticator, rfcSecret, false)).toEqual({
      ok: true,
      value: true,
    });
    expect(verifyResponse(RFC_7_1_ACCEPT, accept, request.authenticator, text("xyzzy5462"), false).ok).toBe(
      false,
    );
    const rebuilt = encodeResponse(
      {
        code: RadiusCode.accessAccept,
        identifier: 0,
        attributes: accept.attributes,
        messageAuthenticator: false,
      },
      request.authenticator,
      rfcSecret,
    );
    expect(Buffer.from(rebuilt).equals(Buffer.from(RFC_7_1_ACCEPT))).toBe(true);
    expect(attributeValue(accept.attributes, "Service-Type")).toBe(1);
  });

  test("§7.2: the CHAP request decodes (CHAP-Password id 22, Service-Type Framed, Framed-Protocol PPP)", () => {
    const packet = must(decodePacket(RFC_7_2_REQUEST));
    expect(packet.identifier).toBe(1);
    expect(attributeValue(packet.attributes, "User-Name")).toBe("flopsy");
    expect(attributeValue(packet.attributes, "CHAP-Password").id).toBe(22);
    expect(attributeValue(packet.attributes, "NAS-Port")).toBe(20);
    expect(attributeValue(packet.attributes, "Service-Type")).toBe(2);
    expect(attributeValue(packet.attributes, "Framed-Protocol")).toBe(1);
  });
});

describe("attributes", () => {
  test("tagged values (RFC 2868 §3): a tag octet for integers always; for text only when tagged or needed", () => {
    expect(attribute("Tunnel-Type", { tag: 1, value: 3 }).value).toEqual(Uint8Array.of(1, 0, 0, 3));
    expect(attribute("Tunnel-Server-Endpoint", { tag: 2, value: "10.0.0.1" }).value[0]).toBe(2);
    expect(attribute("Tunnel-Server-Endpoint", { tag: 0, value: "10.0.0.1" }).value[0]).toBe(
      "1".charCodeAt(0),
    );
    expect(must(readValue("Tunnel-Server-Endpoint", text("10.0.0.1")))).toEqual({
      tag: 0,
      value: "10.0.0.1",
    });
    expect(must(readValue("Tunnel-Assignment-ID", Uint8Array.of(5, 0x61)))).toEqual({ tag: 5, value: "a" });
  });

  test("a value of the wrong size is an error naming the attribute", () => {
    const result = readValue("Framed-IP-Address", Uint8Array.of(10, 0, 0));
    expect(result).toEqual({
      ok: false,
      error: { field: "Framed-IP-Address", reason: "expected 4 octets, got 3 octets" },
    });
    expect(readValue("Session-Timeout", new Uint8Array(5)).ok).toBe(false);
    expect(readValue("Tunnel-Password", new Uint8Array(10)).ok).toBe(false);
    expect(() => attribute("NAS-Port", -1)).toThrow("NAS-Port");
    expect(() => attribute("Framed-IP-Address", "10.0.0.256")).toThrow("Framed-IP-Address");
    expect(() => attribute("Reply-Message", "x".repeat(254))).toThrow("Reply-Message");
  });

  test("every format round-trips through a packet", () => {
    fc.assert(
      fc.property(
        fc.record({
          user: fc.string({ minLength: 1, maxLength: 60 }),
          port: fc.integer({ min: 0, max: 0xffffffff }),
          ip: fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join(".")),
          classes: fc.array(fc.uint8Array({ maxLength: 253, size: "max" }), { maxLength: 3 }),
          tag: fc.integer({ min: 0, max: 31 }),
          tunnelType: fc.integer({ min: 0, max: 0xffffff }),
          endpoint: fc.string({ minLength: 1, maxLength: 40 }),
          identifier: fc.nat(255),
          unknown: fc.uint8Array({ maxLength: 20 }),
        }),
        (v) => {
          const attributes = [
            attribute("User-Name", v.user),
            attribute("NAS-Port", v.port),
            attribute("Framed-IP-Address", v.ip),
            ...v.classes.map((c) => attribute("Class", c)),
            attribute("Tunnel-Type", { tag: v.tag, value: v.tunnelType }),
            attribute("Tunnel-Client-Endpoint", { tag: v.tag, value: v.endpoint }),
            { type: 26, value: v.unknown },
            { type: 240, value: v.unknown },
          ];
          const bytes = encodeRequest(
            {
              code: RadiusCode.accountingRequest,
              identifier: v.identifier,
              attributes,
              messageAuthenticator: true,
            },
            rfcSecret,
          );
          const packet = must(decodePacket(bytes));
          expect(packet.identifier).toBe(v.identifier);
          expect(packet.attributes.slice(1)).toEqual(attributes);
          expect(attributeValue(packet.attributes, "User-Name")).toBe(v.user);
          expect(attributeValue(packet.attributes, "Framed-IP-Address")).toBe(v.ip);
          expect(findValues(packet.attributes, "Class").map(must)).toEqual(v.classes);
          expect(attributeValue(packet.attributes, "Tunnel-Client-Endpoint")).toEqual({
            tag: v.tag,
            value: v.endpoint,
          });
          expect(verifyRequest(bytes, packet, rfcSecret).ok).toBe(true);
        },
      ),
    );
  });
});

describe("hiding", () => {
  test("User-Password round-trips for 0-128 octets (NULs at the end excepted: they are padding)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 128, size: "max" }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (password, ra) => {
          let end = password.length;
          while (end > 0 && password[end - 1] === 0) end--;
          const trimmed = password.subarray(0, end);
          const hidden = hideUserPassword(trimmed, rfcSecret, ra);
          expect(hidden.length).toBe(Math.max(16, Math.ceil(trimmed.length / 16) * 16));
          expect(must(revealUserPassword(hidden, rfcSecret, ra))).toEqual(trimmed);
        },
      ),
    );
    expect(() => hideUserPassword(new Uint8Array(129), rfcSecret, new Uint8Array(16))).toThrow(
      "User-Password",
    );
  });

  test("Tunnel-Password (RFC 2868 §3.5) round-trips with its salt; a wrong secret or salt does not reveal it", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 239, size: "max" }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0x8000, max: 0xffff }),
        (password, ra, salt) => {
          const encrypted = encryptTunnelPassword(password, rfcSecret, ra, salt);
          expect(encrypted.length % 16).toBe(0);
          expect(must(decryptTunnelPassword(encrypted, rfcSecret, ra, salt))).toEqual(password);
          const wrong = decryptTunnelPassword(encrypted, text("other"), ra, salt);
          if (wrong.ok) expect(wrong.value).not.toEqual(password.length > 0 ? password : Uint8Array.of(1));
        },
      ),
    );
    expect(() => encryptTunnelPassword(text("x"), rfcSecret, new Uint8Array(16), 0x7fff)).toThrow("salt");
  });
});

describe("authenticators", () => {
  const ra = hex("00112233445566778899aabbccddeeff");

  test("an Access-Request carries Message-Authenticator first, verifiable; one changed octet fails", () => {
    const bytes = encodeRequest(
      {
        code: RadiusCode.accessRequest,
        identifier: 7,
        authenticator: ra,
        messageAuthenticator: true,
        attributes: [attribute("User-Name", "a")],
      },
      rfcSecret,
    );
    expect(bytes[20]).toBe(80);
    expect(bytes[21]).toBe(18);
    expect(verifyRequest(bytes, must(decodePacket(bytes)), rfcSecret).ok).toBe(true);
    const spoilt = bytes.slice();
    spoilt[spoilt.length - 1] ^= 1;
    const result = verifyRequest(spoilt, must(decodePacket(spoilt)), rfcSecret);
    expect(result.ok ? "" : result.error.field).toBe("Message-Authenticator");
  });

  test("an Accounting-Request's authenticator (RFC 2866 §3) covers the Message-Authenticator", () => {
    for (const messageAuthenticator of [false, true]) {
      const bytes = encodeRequest(
        {
          code: RadiusCode.accountingRequest,
          identifier: 1,
          messageAuthenticator,
          attributes: [attribute("Acct-Status-Type", 1)],
        },
        rfcSecret,
      );
      expect(verifyRequest(bytes, must(decodePacket(bytes)), rfcSecret).ok).toBe(true);
      const spoilt = bytes.slice();
      spoilt[spoilt.length - 1] ^= 1;
      const result = verifyRequest(spoilt, must(decodePacket(spoilt)), rfcSecret);
      expect(result.ok ? "" : result.error.field).toBe("Request Authenticator");
    }
  });

  test("a reply with a Message-Authenticator verifies; without one it fails only when required", () => {
    const withMa = encodeResponse(
      { code: RadiusCode.accessAccept, identifier: 3, attributes: [], messageAuthenticator: true },
      ra,
      rfcSecret,
    );
    expect(verifyResponse(withMa, must(decodePacket(withMa)), ra, rfcSecret, true).ok).toBe(true);
    const without = encodeResponse(
      { code: RadiusCode.accessAccept, identifier: 3, attributes: [], messageAuthenticator: false },
      ra,
      rfcSecret,
    );
    expect(verifyResponse(without, must(decodePacket(without)), ra, rfcSecret, false).ok).toBe(true);
    const required = verifyResponse(without, must(decodePacket(without)), ra, rfcSecret, true);
    expect(required.ok ? "" : required.error.field).toBe("Message-Authenticator");
    // A forged Response Authenticator: every octet counts.
    for (let i = 4; i < 20; i++) {
      const forged = withMa.slice();
      forged[i] ^= 0x80;
      expect(verifyResponse(forged, must(decodePacket(forged)), ra, rfcSecret, false).ok).toBe(false);
    }
  });
});

describe("malformed input", () => {
  test("every prefix of a real packet shorter than its Length is an error naming the field", () => {
    for (let n = 0; n < RFC_7_2_REQUEST.length; n++) {
      const result = decodePacket(RFC_7_2_REQUEST.subarray(0, n));
      expect(result.ok).toBe(false);
      if (!result.ok) expect(["header", "length"]).toContain(result.error.field);
    }
  });

  test("a truncated attribute is named by index, name and length", () => {
    const bytes = RFC_7_1_ACCEPT.slice();
    bytes[bytes.length - 5] = 9; // the last attribute claims 9 octets, 6 are left
    expect(decodePacket(bytes)).toEqual({
      ok: false,
      error: {
        field: "attribute[2] Attribute-14 (14).length",
        reason: "9 exceeds the 6 octets left in the packet",
      },
    });
    bytes[bytes.length - 5] = 1;
    const one = decodePacket(bytes);
    expect(one.ok ? "" : one.error.reason).toBe("expected at least 2, got 1");
  });

  test("random bytes and random mutations of real packets never throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const result = decodePacket(bytes);
        if (result.ok)
          for (const a of result.value.attributes)
            for (const name of ["Tunnel-Password", "Tunnel-Type", "User-Name"] as const)
              readValue(name, a.value);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.constantFrom(RFC_7_1_REQUEST, RFC_7_1_ACCEPT, RFC_7_2_REQUEST),
        fc.array(fc.tuple(fc.nat(80), fc.nat(255)), { maxLength: 4 }),
        (packet, edits) => {
          const bytes = packet.slice();
          for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
          const result = decodePacket(bytes);
          if (result.ok) verifyResponse(bytes, result.value, new Uint8Array(16), rfcSecret, true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
