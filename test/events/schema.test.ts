import { describe, expect, test } from "bun:test";
import { Redacted, Schema, SchemaParser } from "effect";
import fc from "fast-check";
import type { Envelope } from "../../events/envelope.ts";
import {
  decodeEnvelope,
  EnvelopeSchema,
  encodeEnvelope,
  envelopeToJson,
  isSecretKey,
  isStoredEnvelope,
  parseEnvelope,
  REDACTED,
  toEventJson,
  toHex,
} from "../../events/schema.ts";

const secret = new TextEncoder().encode("s3cret");

function envelope(data: Record<string, unknown>, extra: Partial<Envelope> = {}): Envelope {
  return {
    v: 1,
    node: "lns-1",
    seq: 7,
    time: 1_700_000_000_000,
    path: { destination: "127.0.0.1:1701", tunnel: 4242 },
    machine: "tunnel",
    from: "waitCtlConn",
    to: "established",
    cause: "rx.SCCCN",
    data,
    ...extra,
  };
}

describe("envelope encoding", () => {
  test("a plain envelope survives encode, JSON and decode unchanged", () => {
    const original = envelope({
      peerTunnelId: 9,
      peerHost: "lac.test",
      admin: "enabled",
      nested: { a: [1, "x"] },
    });
    const decoded = parseEnvelope(envelopeToJson(original));
    expect(decoded).toEqual({ ok: true, value: original });
  });

  test("the first snapshot of an actor has from = null", () => {
    const original = envelope(
      {},
      { from: null, cause: "xstate.init", to: "idle", machine: "system", path: {} },
    );
    expect(parseEnvelope(envelopeToJson(original))).toEqual({ ok: true, value: original });
  });

  test("bytes are written as hex, other views and buffers too", () => {
    const encoded = encodeEnvelope(
      envelope({
        challenge: new Uint8Array([0x00, 0x7f, 0xff, 0x10]),
        words: new Uint16Array([0x0102]),
        buffer: new Uint8Array([0xab]).buffer,
      }),
    );
    expect(encoded.data).toEqual({
      challenge: "007fff10",
      words: toHex(new Uint8Array(new Uint16Array([0x0102]).buffer)),
      buffer: "ab",
    });
  });

  test("values JSON cannot hold become readable JSON and encoding never throws on them", () => {
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    const shared = { x: 1 };
    const fakeActor = { id: "tunnel-4242", send() {}, getSnapshot() {} };
    class ControlChannel {
      secret = "s3cret";
      queue = [1, 2, 3];
    }
    const encoded = encodeEnvelope(
      envelope({
        big: 12345678901234567890n,
        when: new Date(0),
        nan: Number.NaN,
        gone: undefined,
        fn: () => 1,
        set: new Set([1, 2]),
        map: new Map<unknown, unknown>([
          ["a", 1],
          [2, "b"],
        ]),
        error: new Error("boom"),
        cyclic,
        twice: [shared, shared],
        actor: fakeActor,
        channel: new ControlChannel(),
        bare: Object.create(null),
      }),
    );
    expect(encoded.data).toEqual({
      big: "12345678901234567890",
      when: "1970-01-01T00:00:00.000Z",
      nan: "NaN",
      set: [1, 2],
      map: [
        ["a", 1],
        [2, "b"],
      ],
      error: { name: "Error", message: "boom" },
      cyclic: { name: "loop", self: "[cycle]" },
      twice: [{ x: 1 }, { x: 1 }],
      actor: "[actor tunnel-4242]",
      channel: "[ControlChannel]",
      bare: {},
    });
  });

  test("very deep nesting is cut, not followed", () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 40; i++) deep = { deeper: deep };
    expect(envelopeToJson(envelope({ deep }))).toContain("[too deep]");
  });
});

/** Field names the schema must take for secrets. */
const SECRET_KEYS = [
  "secret",
  "password",
  "tunnelPassword",
  "chapSecret",
  "secretBytes",
  "challengeResponse",
  "chapResponse",
  "user_password",
  "Tunnel-Password",
  "sharedSecret",
  "radiusSecret",
  "passphrase",
  "response",
];

describe("redaction of secrets by the schema", () => {
  test.each(SECRET_KEYS)("a field named %s is redacted", (key) => {
    expect(isSecretKey(key)).toBe(true);
    const encoded = encodeEnvelope(envelope({ [key]: secret, inner: { [key]: "s3cret" } }));
    expect(encoded.data).toEqual({ [key]: REDACTED, inner: { [key]: REDACTED } });
  });

  test.each(["challenge", "peerTunnelId", "hostName", "tieBreaker", "responseTimeMs", "secretary"])(
    "%s is not a secret key unless its name says so",
    (key) => {
      // "secretary" does contain "secret": the rule errs on the side of redacting.
      expect(isSecretKey(key)).toBe(key === "secretary");
    },
  );

  test("secrets are redacted at any nesting: objects, arrays, maps, avps of a message", () => {
    const encoded = encodeEnvelope(
      envelope({
        input: { hostName: "lns.test", secret, challenge: new Uint8Array([1, 2]) },
        lastMessage: { type: "SCCCN", avps: { challengeResponse: new Uint8Array(16).fill(9) } },
        users: [{ name: "alice", password: "wonderland" }],
        byName: new Map([["tunnelPassword", "hunter2"]]),
      }),
    );
    const text = JSON.stringify(encoded);
    expect(text).not.toContain("wonderland");
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain(toHex(secret));
    expect(text).not.toContain("09090909");
    expect(encoded.data).toEqual({
      input: { hostName: "lns.test", secret: REDACTED, challenge: "0102" },
      lastMessage: { type: "SCCCN", avps: { challengeResponse: REDACTED } },
      users: [{ name: "alice", password: REDACTED }],
      byName: [["tunnelPassword", REDACTED]],
    });
  });

  test("an effect Redacted value is redacted whatever its key", () => {
    const encoded = encodeEnvelope(
      envelope({ configured: Redacted.make("s3cret"), list: [Redacted.make(1)] }),
    );
    expect(encoded.data).toEqual({ configured: REDACTED, list: [REDACTED] });
  });

  test("a CHAP Response packet's value is redacted, a Challenge's value is not (RFC 1994 §4.1)", () => {
    const encoded = encodeEnvelope(
      envelope({
        response: undefined,
        chap: { code: "Response", id: 1, value: new Uint8Array([0xaa, 0xbb]), name: new Uint8Array([0x61]) },
        challenge: { code: "Challenge", id: 1, value: new Uint8Array([0xcc]), name: new Uint8Array([0x62]) },
      }),
    );
    expect(encoded.data).toEqual({
      chap: { code: "Response", id: 1, value: REDACTED, name: "61" },
      challenge: { code: "Challenge", id: 1, value: "cc", name: "62" },
    });
  });

  test("decoding a redacted log and encoding it again changes nothing", () => {
    const once = encodeEnvelope(envelope({ secret, nested: { password: "x" }, bytes: new Uint8Array([1]) }));
    const decoded = decodeEnvelope(once);
    if (!decoded.ok) throw new Error(decoded.error.reason);
    expect(encodeEnvelope(decoded.value)).toEqual(once);
  });

  test("property: a secret planted under a secret key at any depth never reaches the encoded text", () => {
    const marker = "S3CR3T-MARKER";
    const plain = fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.constantFrom("a", "b", "lns.test"),
      fc.constant(null),
    );
    const secretKey = fc.constantFrom(...SECRET_KEYS);
    const secretValue = fc.constantFrom<unknown>(
      marker,
      new TextEncoder().encode(marker),
      { inner: marker },
      [marker, marker],
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        plain,
        fc.array(tie("node"), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom("a", "b", "c", "avps", "input"), tie("node"), { maxKeys: 3 }),
        fc.tuple(secretKey, secretValue).map(([k, v]) => ({ [k]: v })),
      ),
    }));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom("x", "y", "z"), tree.node, { maxKeys: 3 }), (data) => {
        const text = envelopeToJson(envelope(data as Record<string, unknown>));
        expect(text).not.toContain(marker);
        expect(text).not.toContain(toHex(new TextEncoder().encode(marker)));
      }),
      { numRuns: 500 },
    );
  });
});

describe("decoding untrusted input", () => {
  const good = encodeEnvelope(envelope({ a: 1 }));

  test.each([
    ["version 2", { ...good, v: 2 }, "envelope.v"],
    ["seq 0", { ...good, seq: 0 }, "envelope.seq"],
    ["seq 1.5", { ...good, seq: 1.5 }, "envelope.seq"],
    ["a node name with a dot", { ...good, node: "lns.test" }, "envelope.node"],
    ["an unknown machine", { ...good, machine: "router" }, "envelope.machine"],
    ["tunnel id 70000", { ...good, path: { tunnel: 70000 } }, "envelope.path.tunnel"],
    ["data as an array", { ...good, data: [1] }, "envelope.data"],
    ["from as a number", { ...good, from: 3 }, "envelope.from"],
    ["time as text", { ...good, time: "now" }, "envelope.time"],
  ] as const)("%s is refused at %s", (_label, input, field) => {
    const decoded = decodeEnvelope(input);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.error.field).toBe(field);
      expect(decoded.error.reason.length).toBeGreaterThan(0);
    }
  });

  test("a missing field is named", () => {
    const { cause: _cause, ...missing } = good;
    const decoded = decodeEnvelope(missing);
    expect(decoded).toMatchObject({ ok: false, error: { field: "envelope.cause" } });
  });

  test("text that is not JSON, or not an object, is refused without throwing", () => {
    expect(parseEnvelope("{not json")).toMatchObject({ ok: false, error: { field: "envelope" } });
    expect(parseEnvelope("42")).toMatchObject({ ok: false });
    expect(parseEnvelope("null")).toMatchObject({ ok: false });
  });

  test("encoding a malformed envelope is a caller bug and throws", () => {
    expect(() => encodeEnvelope(envelope({}, { node: "has.dot" }))).toThrow();
  });

  test("toEventJson of a non-object is that value", () => {
    expect(toEventJson(3)).toBe(3);
    expect(toEventJson(undefined)).toBe(null);
  });
});

describe("the fast path of parseEnvelope (replay reads millions)", () => {
  const good = encodeEnvelope(envelope({ a: 1, nested: { b: [1, "x"] } }));

  test("a stored envelope takes it, and decodes to what the schema gives", () => {
    expect(isStoredEnvelope(JSON.parse(JSON.stringify(good)))).toBe(true);
    const fast = parseEnvelope(JSON.stringify(good));
    expect(fast).toEqual(decodeEnvelope(good));
  });

  test("anything the fast path takes, the schema takes too, with the same value", () => {
    const value = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.integer({ min: -2, max: 70_000 }),
      fc.constantFrom(0.5, 1e300, Number.MAX_SAFE_INTEGER + 2),
      fc.string({ maxLength: 4 }),
      fc.constantFrom("lns", "a.b", "session", "router", ""),
      fc.constant([]),
      fc.constant({}),
      fc.constant({ destination: "x", tunnel: 3 }),
      fc.constant({ tunnel: 70_000 }),
      fc.constant({ other: 1 }),
    );
    const keys = [...Object.keys(good), "extra", "__proto__"];
    fc.assert(
      fc.property(fc.constantFrom(...keys), value, fc.boolean(), (key, v, drop) => {
        const input: Record<string, unknown> = JSON.parse(JSON.stringify(good));
        if (drop) delete input[key];
        else input[key] = v;
        const json = JSON.parse(JSON.stringify(input));
        const schema = decodeEnvelope(json);
        if (isStoredEnvelope(json)) {
          expect(schema.ok).toBe(true);
          if (schema.ok) expect(json).toEqual(schema.value);
        }
        // parseEnvelope answers as the schema does, whichever path it took.
        expect(parseEnvelope(JSON.stringify(input)).ok).toBe(schema.ok);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("the fast paths of encodeEnvelope and decodeEnvelope (every event is encoded once)", () => {
  const schemaEncode = Schema.encodeSync(EnvelopeSchema);
  const schemaDecode = SchemaParser.decodeUnknownResult(EnvelopeSchema);
  const leaf = fc.oneof(
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.string({ maxLength: 6 }),
    fc.uint8Array({ maxLength: 6 }),
    fc.bigInt(),
    fc.constant(Redacted.make("planted-secret-7f3a")),
    fc.constant(new Date(0)),
  );
  const key = fc.constantFrom("a", "secret", "chapResponse", "peerSessionId", "nested", "value", "code");
  const data = fc.dictionary(key, fc.oneof(leaf, fc.dictionary(key, leaf), fc.array(leaf, { maxLength: 3 })));
  const path = fc.record(
    {
      destination: fc.constantFrom("127.0.0.1:1701", "[::1]:1701"),
      tunnel: fc.integer({ min: 0, max: 65535 }),
      session: fc.integer({ min: 0, max: 65535 }),
    },
    { requiredKeys: [] },
  );
  const anEnvelope = fc.record({
    v: fc.constant(1 as const),
    node: fc.constantFrom("lns", "lac-2", "a_b"),
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    time: fc.integer({ min: 0, max: 2 ** 45 }),
    path,
    machine: fc.constantFrom("system", "destination", "tunnel", "session") as fc.Arbitrary<
      Envelope["machine"]
    >,
    from: fc.option(fc.constantFrom("idle", "established", "closing.wait"), { nil: null }),
    to: fc.constantFrom("idle", "established", "closed"),
    cause: fc.constantFrom("xstate.init", "rx.ICCN", "close"),
    data,
  });

  test("encodeEnvelope gives what the schema gives, secrets redacted", () => {
    fc.assert(
      fc.property(anEnvelope, (e) => {
        const fast = encodeEnvelope(e);
        expect(fast).toEqual(schemaEncode(e));
        // The marker is longer than any generated string, so only a leak can put it in the output.
        expect(JSON.stringify(fast)).not.toContain("planted-secret-7f3a");
      }),
      { numRuns: 1000 },
    );
  });

  test("encodeEnvelope of a spoilt envelope throws when the schema throws, else gives what it gives", () => {
    const spoil = fc.oneof(
      fc.constant((x: Record<string, unknown>) => x),
      fc.constant((x: Record<string, unknown>) => ({ ...x, extra: 1 })),
      fc.constant((x: Record<string, unknown>) => ({ ...x, path: { ...(x.path as object), junk: 2 } })),
      fc.constant((x: Record<string, unknown>) => ({ ...x, path: { destination: undefined } })),
      fc.constant((x: Record<string, unknown>) => ({ ...x, path: { tunnel: undefined, session: 3 } })),
      fc.constant((x: Record<string, unknown>) => ({ ...x, path: { session: 1.5 } })),
      fc.constant((x: Record<string, unknown>) => ({ ...x, path: [] })),
      fc.constant((x: Record<string, unknown>) => ({ ...x, from: undefined })),
      fc.constant((x: Record<string, unknown>) => {
        const { cause: _cause, ...rest } = x;
        return rest;
      }),
      fc.constant((x: Record<string, unknown>) => ({ ...x, node: "a.b" })),
      fc.constant((x: Record<string, unknown>) => ({ ...x, data: null })),
    );
    const outcome = (f: () => unknown) => {
      try {
        return { value: f() };
      } catch {
        return { threw: true };
      }
    };
    fc.assert(
      fc.property(anEnvelope, spoil, (e, change) => {
        const input = change(e as unknown as Record<string, unknown>) as unknown as Envelope;
        expect(outcome(() => encodeEnvelope(input))).toEqual(outcome(() => schemaEncode(input)));
      }),
      { numRuns: 1000 },
    );
  });

  test("decodeEnvelope gives what the schema gives, for good and spoilt input", () => {
    const spoil = fc.oneof(
      fc.constant((x: Record<string, unknown>) => x),
      fc.constant((x: Record<string, unknown>) => ({ ...x, data: { n: Number.NaN } })),
      fc.constant((x: Record<string, unknown>) => ({ ...x, data: { u: undefined } })),
      fc.constant((x: Record<string, unknown>) => ({ ...x, data: { d: new Date(0) } })),
      fc.constant((x: Record<string, unknown>) => ({ ...x, data: Object.create(null) })),
      fc.constant((x: Record<string, unknown>) => ({ ...x, extra: 1 })),
      fc.constant((x: Record<string, unknown>) => ({ ...x, seq: 0 })),
      fc.constant((x: Record<string, unknown>) => ({ ...x, path: { tunnel: -1 } })),
    );
    fc.assert(
      fc.property(anEnvelope, spoil, (e, change) => {
        const input = change(encodeEnvelope(e) as unknown as Record<string, unknown>);
        const slow = schemaDecode(input);
        const fast = decodeEnvelope(input);
        expect(fast.ok).toBe(slow._tag === "Success");
        if (fast.ok && slow._tag === "Success") expect(fast.value).toEqual(slow.success as Envelope);
      }),
      { numRuns: 1000 },
    );
  });

  test("a malformed envelope still throws the schema's error", () => {
    expect(() => encodeEnvelope(envelope({}, { seq: 1.5 }))).toThrow();
    expect(() => encodeEnvelope({ ...envelope({}), path: { tunnel: 70_000 } })).toThrow();
  });
});
