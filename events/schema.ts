/**
 * The codec of the event envelope (effect/Schema): it versions events (`v`), validates what is read
 * back, and turns an envelope's `data` into JSON on encode, where secrets are redacted by key and by
 * type (tunnel secrets, CHAP secrets, PAP and RADIUS passwords, challenge responses, effect `Redacted`
 * values) at any nesting, and binary values become hex. Redaction lives in the schema so that no caller
 * can forget it: every adapter of the EventLog port encodes through `encodeEnvelope`.
 *
 * Encoding is deliberately lossy: "[redacted]" and hex strings decode as strings. Events are for people
 * and projections; a standby takes its secrets from its configuration, never from the log.
 */
import { Redacted, Schema, SchemaGetter, SchemaIssue, SchemaParser } from "effect";
import { ENVELOPE_VERSION, type Envelope, MACHINE_KINDS, NODE_NAME_PATTERN } from "./envelope.ts";

/** What a redacted value is replaced with. */
export const REDACTED = "[redacted]";

/** Nesting beyond this is written as "[too deep]" (context objects are shallow; this bounds a cycle-free walk). */
const MAX_DEPTH = 16;

/**
 * Key names (lower-cased, without separators) that hold a secret or something derived from one:
 * `secret`, `chapSecret`, `secretBytes`, `password`, `tunnelPassword`, `user_password`, `passphrase`,
 * `challengeResponse` (RFC 2661 §4.4.3), `chapResponse`, `proxyAuthenResponse` (RFC 2661 §4.4.5: a PAP
 * password in clear, or a CHAP response), `privateKey`.
 */
const SECRET_KEY = /secret|passw(?:or)?d|passphrase|challengeresponse|chapresponse|authenresponse|privatekey/;

/** Whether a field of this name is a secret and is written as "[redacted]". */
export function isSecretKey(key: string): boolean {
  let secret = secretKeys.get(key);
  if (secret === undefined) {
    const k = key.toLowerCase().replace(/[^a-z0-9]/g, "");
    secret = k === "response" || SECRET_KEY.test(k);
    // Context keys are a small fixed set; the bound only keeps odd inputs from growing the cache.
    if (secretKeys.size < 4096) secretKeys.set(key, secret);
  }
  return secret;
}

/** isSecretKey's answers so far (every event walks the same few context keys). */
const secretKeys = new Map<string, boolean>();

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Bytes as lower-case hex, two digits per byte. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i] as number];
  return out;
}

/** A JSON value as stored in the log. */
export type JsonValue = Schema.Json;

/**
 * Any value as JSON for the event log: secrets redacted (by key, by effect `Redacted`, and the value of
 * a CHAP Response packet, RFC 1994 §4.1), bytes as hex, bigint as a decimal string, Date as ISO text,
 * Map as [key, value] pairs, Set as an array, actor references as "[actor id]", other class instances
 * as "[ClassName]" (live objects, not data), cycles as "[cycle]"; functions, symbols and undefined
 * fields are left out. Total: it never throws.
 */
export function toEventJson(value: unknown): JsonValue {
  // A getter that encodes while a walk runs gets a stack of its own.
  return walk(value, 0, stack.length === 0 ? stack : []) ?? null;
}

/**
 * The objects being walked, outermost first (at most MAX_DEPTH): a cycle is an object met again below
 * itself. One array reused by every walk instead of a new set per call.
 */
const stack: object[] = [];

function walk(value: unknown, depth: number, ancestors: object[]): JsonValue | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "bigint":
      return value.toString();
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (value === null) return null;
  const object = value as object;
  const prototype = Object.getPrototypeOf(object);
  // Context objects are nearly all plain: they skip the checks for bytes, dates, errors and classes
  // (none of which has Object.prototype as its prototype).
  if (prototype !== Object.prototype) {
    if (Redacted.isRedacted(object)) return REDACTED;
    if (object instanceof Uint8Array) return toHex(object);
    if (ArrayBuffer.isView(object))
      return toHex(new Uint8Array(object.buffer, object.byteOffset, object.byteLength));
    if (object instanceof ArrayBuffer) return toHex(new Uint8Array(object));
    if (object instanceof Date) return Number.isNaN(object.getTime()) ? null : object.toISOString();
  } else if (Redacted.isRedacted(object)) {
    return REDACTED;
  }
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (ancestors.includes(object)) return "[cycle]";
  if (isActorRef(object)) return `[actor ${String((object as { id?: unknown }).id ?? "?")}]`;
  if (prototype !== Object.prototype) {
    if (object instanceof Error) return { name: object.name, message: object.message };
    const plain = prototype === null || Array.isArray(object);
    if (!plain && !(object instanceof Map) && !(object instanceof Set)) {
      // A class instance in a context (a control channel, a socket) is a live object, not data: name it only.
      return `[${(prototype?.constructor?.name as string | undefined) || "object"}]`;
    }
  }
  const mark = ancestors.length;
  ancestors.push(object);
  try {
    if (prototype === Object.prototype || prototype === null) return walkRecord(object, depth, ancestors);
    if (Array.isArray(object)) return object.map((item) => walk(item, depth + 1, ancestors) ?? null);
    if (object instanceof Set) return [...object].map((item) => walk(item, depth + 1, ancestors) ?? null);
    if (object instanceof Map) {
      const pairs: JsonValue[] = [];
      for (const [key, item] of object) {
        const secret = typeof key === "string" && isSecretKey(key);
        pairs.push([
          walk(key, depth + 1, ancestors) ?? null,
          secret ? REDACTED : (walk(item, depth + 1, ancestors) ?? null),
        ]);
      }
      return pairs;
    }
    return walkRecord(object, depth, ancestors);
  } finally {
    ancestors.length = mark;
  }
}

/** The fields of a record, secrets redacted. */
function walkRecord(object: object, depth: number, ancestors: object[]): JsonValue {
  // RFC 1994 §4.1: a CHAP Response's Value is a hash of the secret; the Challenge's value is public.
  const chapResponse = (object as { code?: unknown }).code === "Response";
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(object)) {
    const item = (object as Record<string, unknown>)[key];
    if (isSecretKey(key) || (chapResponse && key === "value")) {
      if (item !== undefined) out[key] = REDACTED;
      continue;
    }
    const json = walk(item, depth + 1, ancestors);
    if (json !== undefined) out[key] = json;
  }
  return out;
}

function isActorRef(object: object): boolean {
  const candidate = object as { send?: unknown; getSnapshot?: unknown };
  return typeof candidate.send === "function" && typeof candidate.getSnapshot === "function";
}

/**
 * The `data` of an envelope: any record in memory, a JSON object in the log. The encode direction is the
 * redacting transform (toEventJson); decoding accepts JSON objects only.
 */
export const EventData = Schema.JsonObject.pipe(
  Schema.decodeTo(Schema.Record(Schema.String, Schema.Unknown), {
    decode: SchemaGetter.transform((json) => json as Record<string, unknown>),
    encode: SchemaGetter.transform((data) => {
      const json = toEventJson(data);
      return (
        json !== null && typeof json === "object" && !Array.isArray(json) ? json : {}
      ) as Schema.JsonObject;
    }),
  }),
);

const Id16 = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 0xffff })));

/** Where the actor sits below its node. */
export const EnvelopePathSchema = Schema.Struct({
  destination: Schema.optionalKey(Schema.String),
  tunnel: Schema.optionalKey(Id16),
  session: Schema.optionalKey(Id16),
  subscriber: Schema.optionalKey(Schema.String),
});

/**
 * The envelope, version 1. A later version adds its own struct and a transform from this one, so old
 * logs stay readable; a reader of this version refuses any other `v`.
 */
export const EnvelopeSchema = Schema.Struct({
  v: Schema.Literal(ENVELOPE_VERSION),
  node: Schema.String.pipe(Schema.check(Schema.isPattern(NODE_NAME_PATTERN))),
  seq: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }))),
  time: Schema.Finite,
  path: EnvelopePathSchema,
  machine: Schema.Literals(MACHINE_KINDS),
  from: Schema.NullOr(Schema.String),
  to: Schema.String,
  cause: Schema.String,
  data: EventData,
});

/** An envelope as it is stored: plain JSON, secrets redacted, bytes as hex. */
export type EncodedEnvelope = typeof EnvelopeSchema.Encoded;

// The schema's decoded type and the Envelope interface must stay the same shape.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape: Same<typeof EnvelopeSchema.Type, Envelope> = true;
void sameShape;

/** Why some input is not a valid envelope: the field and the reason. */
export interface EnvelopeError {
  field: string;
  reason: string;
}

/** The outcome of decoding an envelope from untrusted input; it never throws. */
export type DecodedEnvelope = { ok: true; value: Envelope } | { ok: false; error: EnvelopeError };

const encodeSync = Schema.encodeSync(EnvelopeSchema);
const decodeResult = SchemaParser.decodeUnknownResult(EnvelopeSchema);
const formatIssue = SchemaIssue.makeFormatterStandardSchemaV1();

/**
 * Encodes an envelope for storage (redacting secrets, bytes as hex). Throws a SchemaError when the
 * envelope itself is malformed (a bad node name, a fractional seq): that is a bug of the caller.
 */
export function encodeEnvelope(envelope: Envelope): EncodedEnvelope {
  // Every recorded event is encoded once: a well-formed envelope is checked and built by hand (the same
  // checks and the same output as the schema, property-tested); anything else meets the schema's error.
  if (!isEncodable(envelope)) return encodeSync(envelope);
  const { destination, tunnel, session, subscriber } = envelope.path;
  const path: EncodedEnvelope["path"] = {};
  if (destination !== undefined) (path as { destination?: string }).destination = destination;
  if (tunnel !== undefined) (path as { tunnel?: number }).tunnel = tunnel;
  if (session !== undefined) (path as { session?: number }).session = session;
  if (subscriber !== undefined) (path as { subscriber?: string }).subscriber = subscriber;
  const data = toEventJson(envelope.data);
  return {
    v: envelope.v,
    node: envelope.node,
    seq: envelope.seq,
    time: envelope.time,
    path,
    machine: envelope.machine,
    from: envelope.from,
    to: envelope.to,
    cause: envelope.cause,
    data: (data !== null && typeof data === "object" && !Array.isArray(data)
      ? data
      : {}) as Schema.JsonObject,
  };
}

/** The stored JSON text of an envelope (encodeEnvelope, then JSON). */
export function envelopeToJson(envelope: Envelope): string {
  return JSON.stringify(encodeEnvelope(envelope));
}

/** Decodes a stored envelope (already parsed JSON); never throws. */
export function decodeEnvelope(input: unknown): DecodedEnvelope {
  // The common case (what encodeEnvelope made, or parsed JSON) by hand; the rest through the schema.
  if (hasEnvelopeShape(input, isJsonObject)) return { ok: true, value: input };
  const result = decodeResult(input);
  if (result._tag === "Success") return { ok: true, value: result.success as Envelope };
  const first = formatIssue(result.failure).issues[0];
  const path = (first?.path ?? []).map((key) => String(typeof key === "object" ? key.key : key));
  return {
    ok: false,
    error: { field: ["envelope", ...path].join("."), reason: first?.message ?? "invalid envelope" },
  };
}

/** Parses and decodes the stored JSON text of an envelope; never throws. */
export function parseEnvelope(text: string): DecodedEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: { field: "envelope", reason: `not JSON: ${(error as Error).message}` } };
  }
  // Replay reads millions of envelopes: the common case (a well-formed stored envelope) is checked by
  // hand, field by field as the schema would; anything else goes through the schema for its error.
  if (isStoredEnvelope(json)) return { ok: true, value: json };
  return decodeEnvelope(json);
}

const ENVELOPE_KEYS = 10;
const MACHINES: ReadonlySet<unknown> = new Set(MACHINE_KINDS);

/**
 * Whether parsed JSON is an envelope exactly as the schema decodes it (no field more or less, every
 * value in range), so it can be taken as it is. `data` needs no walk: it came from JSON.parse.
 * False is not an error, only "ask the schema".
 */
export function isStoredEnvelope(json: unknown): json is Envelope {
  return hasEnvelopeShape(json, isDataRecord);
}

/** Whether `input` has exactly the envelope's fields with valid values, `data` passing `dataOk`. */
function hasEnvelopeShape(input: unknown, dataOk: (data: unknown) => boolean): input is Envelope {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return false;
  const e = input as Record<string, unknown>;
  let keys = 0;
  for (const _ in e) keys++;
  return keys === ENVELOPE_KEYS && hasEnvelopeFields(e, isStoredPath, dataOk);
}

/**
 * Whether the schema encodes `input` without an error, to what encodeEnvelope builds by hand. Fields
 * the envelope does not have are not counted: the schema's encode leaves them out (as the hand does).
 */
function isEncodable(input: unknown): input is Envelope {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return false;
  return hasEnvelopeFields(input as Record<string, unknown>, isEncodablePath, isDataRecord);
}

/** Whether the envelope's fields have valid values, its path passing `pathOk`, `data` passing `dataOk`. */
function hasEnvelopeFields(
  e: Record<string, unknown>,
  pathOk: (path: unknown) => boolean,
  dataOk: (data: unknown) => boolean,
): boolean {
  const { seq, time, path, from, data } = e;
  return (
    e.v === ENVELOPE_VERSION &&
    typeof e.node === "string" &&
    validNodeName(e.node) &&
    typeof seq === "number" &&
    Number.isInteger(seq) &&
    seq >= 1 &&
    seq <= Number.MAX_SAFE_INTEGER &&
    typeof time === "number" &&
    Number.isFinite(time) &&
    pathOk(path) &&
    MACHINES.has(e.machine) &&
    (from === null || typeof from === "string") &&
    typeof e.to === "string" &&
    typeof e.cause === "string" &&
    dataOk(data)
  );
}

/** The last node name found valid: a node encodes and reads back its own name over and over. */
let validNode = "";

function validNodeName(node: string): boolean {
  if (node === validNode) return true;
  if (!NODE_NAME_PATTERN.test(node)) return false;
  validNode = node;
  return true;
}

/** A record (not null, not an array): what the schema's type side takes as `data`. */
function isDataRecord(data: unknown): boolean {
  return typeof data === "object" && data !== null && !Array.isArray(data);
}

/** A plain JSON object all the way down (what the schema's encoded side takes as `data`). */
function isJsonObject(data: unknown): boolean {
  return isDataRecord(data) && Object.getPrototypeOf(data) === Object.prototype && isJson(data, 0);
}

function isJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object": {
      if (value === null) return true;
      if (depth > 32) return false; // the schema decides
      if (Array.isArray(value)) {
        for (const item of value) if (!isJson(item, depth + 1)) return false;
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      for (const key in value) if (!isJson((value as Record<string, unknown>)[key], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

/** A path the schema encodes: its known fields absent or valid (a field present as undefined is not). */
function isEncodablePath(path: unknown): boolean {
  if (typeof path !== "object" || path === null || Array.isArray(path)) return false;
  const { destination, tunnel, session, subscriber } = path as Record<string, unknown>;
  return (
    (destination === undefined ? !("destination" in path) : typeof destination === "string") &&
    (subscriber === undefined ? !("subscriber" in path) : typeof subscriber === "string") &&
    (tunnel === undefined ? !("tunnel" in path) : isId16(tunnel)) &&
    (session === undefined ? !("session" in path) : isId16(session))
  );
}

function isId16(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0xffff;
}

function isStoredPath(path: unknown): boolean {
  if (typeof path !== "object" || path === null || Array.isArray(path)) return false;
  for (const key in path) {
    const value = (path as Record<string, unknown>)[key];
    if (key === "destination" || key === "subscriber") {
      if (typeof value !== "string") return false;
    } else if (key === "tunnel" || key === "session") {
      if (!isId16(value)) return false;
    } else {
      return false;
    }
  }
  return true;
}
