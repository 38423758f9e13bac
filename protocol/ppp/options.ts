/**
 * The Configuration Option list shared by LCP and every NCP (RFC 1661 §5.1-5.4, §6): Type (1 octet),
 * Length (1 octet, counting Type and Length), Data. A catalog per protocol says which types it knows and how
 * to read them; types it does not know are kept byte-exact, in order, so they can be Configure-Rejected as
 * received (RFC 1661 §5.4).
 */
import { be16, concat, hexBytes, u16 } from "../bytes.ts";
import { protocolName } from "./numbers.ts";
import { type Decoded, fail } from "./result.ts";

/** An option whose type the protocol's catalog does not know, kept as it arrived. */
export interface UnknownOption {
  kind: "unknown";
  type: number;
  /** The Data field (after Type and Length), byte-exact. */
  raw: Uint8Array;
}

/** Which part of an option's Data is wrong, and why. */
export class OptionValueError {
  readonly part: "length" | "value";
  readonly reason: string;
  constructor(part: "length" | "value", reason: string) {
    this.part = part;
    this.reason = reason;
  }
}

/**
 * The outcome of reading one option's Data: the option itself (no wrapper: a set-up reads a few dozen
 * options), or an OptionValueError.
 */
export type OptionValueResult<O> = O | OptionValueError;

/** How one known option type is read, written and shown. */
export interface OptionSpec<O extends { kind: string }> {
  /** The Type octet. */
  type: number;
  /** The RFC's name, for errors and output ("MRU", "Magic-Number"). */
  name: string;
  /**
   * Reads the Data field (without Type and Length): its `length` octets from `at` in `bytes` (no view or
   * copy of the field is made to be read: decodeOptions says why).
   */
  decode(bytes: Uint8Array, at: number, length: number): OptionValueResult<O>;
  /** Writes the Data field (without Type and Length). */
  encode(option: O): Uint8Array;
  /** One short token for readable output ("MRU=1500"). */
  describe(option: O): string;
}

/** One spec per option kind of a protocol's option union. */
export type OptionSpecs<O extends { kind: string }> = {
  [K in O["kind"]]: OptionSpec<Extract<O, { kind: K }>>;
};

/** The options a protocol knows, looked up by Type (decoding) and by kind (encoding). */
export interface OptionCatalog<O extends { kind: string }> {
  /** The protocol's name for error fields ("LCP", "IPCP"). */
  protocol: string;
  byType: ReadonlyMap<number, OptionSpec<O>>;
  byKind: ReadonlyMap<string, OptionSpec<O>>;
  /** Names of option types that are not decoded but are worth naming in output. */
  otherNames: ReadonlyMap<number, string>;
}

/** Builds a catalog from one spec per option kind. */
export function optionCatalog<O extends { kind: string }>(
  protocol: string,
  specs: OptionSpecs<O>,
  otherNames: Record<number, string> = {},
): OptionCatalog<O> {
  const byType = new Map<number, OptionSpec<O>>();
  const byKind = new Map<string, OptionSpec<O>>();
  for (const [kind, spec] of Object.entries(specs) as [string, OptionSpec<O>][]) {
    byType.set(spec.type, spec);
    byKind.set(kind, spec);
  }
  const names = new Map<number, string>(Object.entries(otherNames).map(([t, n]) => [Number(t), n]));
  return { protocol, byType, byKind, otherNames: names };
}

/** The name of an option type in a catalog ("MRU (1)", or "option 42" when unnamed). */
export function optionLabel<O extends { kind: string }>(catalog: OptionCatalog<O>, type: number): string {
  const name = catalog.byType.get(type)?.name ?? catalog.otherNames.get(type);
  return name ? `${name} (${type})` : `option ${type}`;
}

/**
 * Reads an option list (from `start` to `end` in `bytes`: all of it by default); `field` prefixes error
 * fields ("LCP Configure-Request", or "Configure-Request" with `protocol` "LCP": the two are joined only
 * for an error). Never throws, never loops on a bad length: every option advances by at least its two
 * header octets.
 *
 * Each option's Data is read where it lies, and nothing is made per option but the option itself: a set-up
 * decodes a dozen option lists, and a copy of each Data field, a closure naming the field, and the
 * joined field name were half of what decoding a Configure-Request allocated (956 → ~500 bytes for two
 * options, Bun); a view (`subarray`) would cost more still (frame.ts says why).
 */
export function decodeOptions<O extends { kind: string }>(
  bytes: Uint8Array,
  catalog: OptionCatalog<O>,
  field: string,
  protocol?: string,
  start = 0,
  end = bytes.length,
): Decoded<(O | UnknownOption)[]> {
  const options: (O | UnknownOption)[] = [];
  let at = start;
  for (let index = 0; at < end; index++) {
    if (at + 2 > end) {
      return fail(
        `${fieldName(protocol, field)}.option[${index}]`,
        `1 octet left where an option needs at least 2 (Type, Length)`,
      );
    }
    const type = bytes[at];
    const length = bytes[at + 1];
    // RFC 1661 §6: Length counts Type, Length and Data, so it is at least 2.
    if (length < 2) {
      return fail(
        `${optionField(protocol, field, index, catalog, type)}.length`,
        `expected at least 2, got ${length}`,
      );
    }
    if (at + length > end) {
      return fail(
        `${optionField(protocol, field, index, catalog, type)}.length`,
        `${length} runs past the end of the options (${end - at} octets left)`,
      );
    }
    const spec = catalog.byType.get(type);
    if (spec) {
      const read = spec.decode(bytes, at + 2, length - 2);
      if (read instanceof OptionValueError)
        return fail(`${optionField(protocol, field, index, catalog, type)}.${read.part}`, read.reason);
      options.push(read);
    } else {
      options.push({ kind: "unknown", type, raw: bytes.slice(at + 2, at + length) });
    }
    at += length;
  }
  return { ok: true, value: options };
}

function fieldName(protocol: string | undefined, field: string): string {
  return protocol === undefined ? field : `${protocol} ${field}`;
}

/** The field of an option in errors: "LCP Configure-Request.option[1] MRU (1)". */
function optionField<O extends { kind: string }>(
  protocol: string | undefined,
  field: string,
  index: number,
  catalog: OptionCatalog<O>,
  type: number,
): string {
  return `${fieldName(protocol, field)}.option[${index}] ${optionLabel(catalog, type)}`;
}

/**
 * Each option's Data (written by its spec) and the list's length on the wire; throws RangeError for an
 * option whose Data exceeds 253 octets or an unknown kind.
 */
export function optionData<O extends { kind: string }>(
  options: readonly (O | UnknownOption)[],
  catalog: OptionCatalog<O>,
): { data: Uint8Array[]; length: number } {
  const data: Uint8Array[] = new Array(options.length);
  let length = 0;
  for (let i = 0; i < options.length; i++) {
    const option = options[i] as O | UnknownOption;
    let type: number;
    let bytes: Uint8Array;
    if (option.kind === "unknown") {
      ({ type, raw: bytes } = option as UnknownOption);
    } else {
      const spec = catalog.byKind.get(option.kind);
      if (!spec) throw new RangeError(`${catalog.protocol} has no option kind "${option.kind}"`);
      type = spec.type;
      bytes = spec.encode(option as O);
    }
    if (!Number.isInteger(type) || type < 0 || type > 255)
      throw new RangeError(`option type ${type} is not an octet`);
    if (bytes.length > 253)
      throw new RangeError(`${optionLabel(catalog, type)}: ${bytes.length} octets of data exceed 253`);
    data[i] = bytes;
    length += 2 + bytes.length;
  }
  return { data, length };
}

/** Writes an option list into `out` from `at`, each option's Data as optionData made it. */
export function writeOptions<O extends { kind: string }>(
  options: readonly (O | UnknownOption)[],
  catalog: OptionCatalog<O>,
  data: readonly Uint8Array[],
  out: Uint8Array,
  at: number,
): void {
  for (let i = 0; i < options.length; i++) {
    const option = options[i] as O | UnknownOption;
    const bytes = data[i] as Uint8Array;
    out[at] =
      option.kind === "unknown"
        ? (option as UnknownOption).type
        : (catalog.byKind.get(option.kind) as OptionSpec<O>).type;
    out[at + 1] = bytes.length + 2;
    out.set(bytes, at + 2);
    at += 2 + bytes.length;
  }
}

/** Writes an option list; throws RangeError for an option whose Data exceeds 253 octets or an unknown kind. */
export function encodeOptions<O extends { kind: string }>(
  options: readonly (O | UnknownOption)[],
  catalog: OptionCatalog<O>,
): Uint8Array {
  const { data, length } = optionData(options, catalog);
  const out = new Uint8Array(length);
  writeOptions(options, catalog, data, out, 0);
  return out;
}

/** Shows an option list as space-separated tokens ("MRU=1500 Magic=0x11223344 opt42=0a0b"). */
export function describeOptions<O extends { kind: string }>(
  options: readonly (O | UnknownOption)[],
  catalog: OptionCatalog<O>,
): string {
  return options
    .map((option) => {
      if (option.kind === "unknown") {
        const { type, raw } = option as UnknownOption;
        const name = catalog.otherNames.get(type) ?? `opt${type}`;
        return raw.length ? `${name}=${hexBytes(raw)}` : name;
      }
      const spec = catalog.byKind.get(option.kind) as OptionSpec<O>;
      return spec.describe(option as O);
    })
    .join(" ");
}

// Small readers and writers for option Data fields, shared by the catalogs.

/** An option's Length is wrong: `reason` says how. */
export function lengthError(reason: string): OptionValueError {
  return new OptionValueError("length", reason);
}

/** Data of exactly `size` octets, or the "length" error worded as the brief shows: "expected 4, got 3". */
export function expectLength(length: number, size: number): OptionValueError | undefined {
  return length === size ? undefined : lengthError(`expected ${size + 2}, got ${length + 2}`);
}

/** A compression option as IPCP and IPV6CP share it: a protocol number, then protocol-specific data. */
export interface CompressionOption<K extends string> {
  kind: K;
  protocol: number;
  data: Uint8Array;
}

/**
 * The spec of an NCP's Compression-Protocol option (type 2: RFC 1332 §3.2, RFC 5072 §4.2); `describe`
 * words a protocol the NCP knows better, else undefined for the generic wording.
 */
export function compressionOption<K extends string>(
  kind: K,
  name: string,
  describe?: (o: CompressionOption<K>) => string | undefined,
): OptionSpec<CompressionOption<K>> {
  return {
    type: 2,
    name,
    decode: (bytes, at, length) => {
      if (length < 2) return lengthError(`expected at least 4, got ${length + 2}`);
      return { kind, protocol: u16(bytes, at), data: bytes.slice(at + 2, at + length) };
    },
    encode: (o) => concat(be16(o.protocol, name), o.data),
    describe: (o) =>
      describe?.(o) ??
      `Compression=${protocolName(o.protocol)}${o.data.length ? `(${hexBytes(o.data)})` : ""}`,
  };
}
