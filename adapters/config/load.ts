/**
 * Reading the configuration file of `l2tp run --config FILE`: YAML or JSON text → the schema in
 * `schema.ts` → a `RunConfig` with every default filled in → the actors' `NodeConfig`.
 *
 * Every problem is one line that names the place and the fix, and all of them are reported at once:
 *
 *   config line 4, column 3: Tabs are not allowed as indentation; indent with spaces
 *   config destinations[1].secrett: unknown field; did you mean "secret"?
 *   config listen[0].port: expected a port number 0-65535 (0 picks a free port), got 70000
 *
 * Checks that span several fields (retransmit cap ≥ initial, hide needs a secret, one profile per peer)
 * run once the fields they compare are valid, so a second run may find more after the first fixes.
 */
import { readFile, stat } from "node:fs/promises";
import type { SchemaIssue } from "effect";
import { Result, Schema } from "effect";
import { LineCounter, parseDocument, type YAMLError } from "yaml";
import type { DestinationProfile, NodeConfig } from "../../actors/config.ts";
import type { PppNodeConfig } from "../../actors/ppp-link.ts";
import type { DomainRoute, LacPolicy } from "../../machines/lac-decision.ts";
import type { TunnelGroup } from "../../machines/tunnel-selection.ts";
import {
  type AaaConfig,
  canonicalAddress,
  type DestinationConfig,
  type EventLogTarget,
  parseEventLogTarget,
  quoteValue,
  type RunConfig,
  type RunConfigFile,
  RunConfigFileSchema,
  SECTIONS,
} from "./schema.ts";
import { closestName } from "./suggest.ts";

/** The two spellings of a configuration file. */
export type ConfigFormat = "yaml" | "json";

/** A configuration, or every problem found in it (one line each: `config <where>: <what>; <fix>`). */
export type ConfigResult = { ok: true; config: RunConfig } | { ok: false; errors: string[] };

/** A configuration file larger than this is refused: it is surely not one. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

const PREFIX = "config";

/** The format by file extension (`.yaml`, `.yml`, `.json`), else by content: `{` or `[` first means JSON. */
export function detectFormat(path: string, text: string): ConfigFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith(".json")) return "json";
  if (lower.endsWith(".yaml") || lower.endsWith(".yml")) return "yaml";
  const first = text.trimStart()[0];
  return first === "{" || first === "[" ? "json" : "yaml";
}

/** Reads and checks a configuration file; never throws. */
export async function loadConfig(path: string): Promise<ConfigResult> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      return fail(`${PREFIX} ${path}: is a directory; give the path of a .yaml or .json file to --config`);
    }
    if (info.size > MAX_CONFIG_BYTES) {
      return fail(
        `${PREFIX} ${path}: ${info.size} bytes is too large for a configuration file (at most ${MAX_CONFIG_BYTES}); check the path given to --config`,
      );
    }
    text = await readFile(path, "utf8");
  } catch (error) {
    return fail(`${PREFIX} ${path}: ${readError(error)}`);
  }
  return parseConfig(text, detectFormat(path, text));
}

function readError(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "ENOENT") return "no such file; check the path given to --config";
  if (code === "EACCES" || code === "EPERM") return "permission denied; make the file readable by this user";
  return `cannot read it (${error instanceof Error ? error.message : String(error)}); check the path given to --config`;
}

/** Checks the text of a configuration file; never throws. */
export function parseConfig(text: string, format: ConfigFormat = detectFormat("", text)): ConfigResult {
  // A byte-order mark is legal at the start of a UTF-8 file but JSON.parse refuses it.
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const parsed = format === "json" ? parseJson(source) : parseYaml(source);
  if (!parsed.ok) return parsed;
  return decodeConfig(parsed.value);
}

/** Checks an already parsed document (plain JSON-like data); never throws. */
export function decodeConfig(input: unknown): ConfigResult {
  if (input === null || input === undefined) {
    return fail(
      `${PREFIX}: the file is empty; add node: with name: (adapters/config/example.yaml shows every setting)`,
    );
  }
  const decoded = Schema.decodeUnknownResult(RunConfigFileSchema)(withoutEmptySections(input), {
    errors: "all",
    onExcessProperty: "error",
    // The input on an issue lets the error say what was found; kindOf never echoes a string.
    reportInput: true,
  });
  if (Result.isFailure(decoded)) {
    const lines: string[] = [];
    describeIssue(decoded.failure.issue, [], lines);
    return { ok: false, errors: [...new Set(lines)] };
  }
  return { ok: true, config: resolve(decoded.success) };
}

function fail(...errors: string[]): { ok: false; errors: string[] } {
  return { ok: false, errors };
}

// ---- syntax -----------------------------------------------------------------------------------------

type Parsed = { ok: true; value: unknown } | { ok: false; errors: string[] };

/** Hints for the YAML errors a person most often makes, by the `yaml` package's error code. */
const YAML_HINTS: Readonly<Record<string, string>> = {
  DUPLICATE_KEY: "remove one of the two",
  TAB_AS_INDENT: "indent with spaces",
  BAD_INDENT: "align it with the keys it belongs with",
  MULTIPLE_DOCS: "keep one document per file (remove the ---)",
  BLOCK_AS_IMPLICIT_KEY: "put a space after the colon or fix the indentation",
  TAG_RESOLVE_FAILED: "remove the tag",
};

/**
 * The hint for one YAML error. A plain value that ends in ":" or holds ": " (`events: memory:`) reads
 * as a nested mapping: the fix is to quote the value, not to touch the colon.
 */
function yamlHint(code: string, lineText: string): string {
  const pair = /^(\s*(?:-\s+)?[A-Za-z0-9_-]+):\s+([^"'{[\s#][^#]*?)\s*(?:#.*)?$/.exec(lineText);
  if (code === "BLOCK_AS_IMPLICIT_KEY" && pair && /:(\s|$)/.test(pair[2] ?? "")) {
    return `a value with ":" in it must be quoted, e.g. ${pair[1]?.trim()}: "${pair[2]}"`;
  }
  return YAML_HINTS[code] ?? "fix the YAML syntax there";
}

function parseYaml(text: string): Parsed {
  const lineCounter = new LineCounter();
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { prettyErrors: false, lineCounter, uniqueKeys: true });
  } catch (error) {
    // The yaml package reads LOG_TOKENS and LOG_STREAM from the environment; Deno without env access
    // throws there.
    const reason = error instanceof Error ? error.message : String(error);
    return fail(
      `${PREFIX}: the YAML parser failed (${reason}); on Deno run with --allow-env=LOG_TOKENS,LOG_STREAM, or write the file as JSON`,
    );
  }
  // Warnings (an unknown tag, a key that is itself a map) mean the file does not say what it seems to.
  const problems: YAMLError[] = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    return {
      ok: false,
      errors: problems.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        const hint = yamlHint(e.code, text.split("\n")[line - 1] ?? "");
        // One line per problem, whatever the parser's wording.
        return `${PREFIX} line ${line}, column ${col}: ${e.message.replace(/\s*\n\s*/g, " ")}; ${hint}`;
      }),
    };
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
  } catch (error) {
    // Unresolved aliases and alias bombs are only found when the document is turned into values.
    return fail(`${PREFIX}: ${error instanceof Error ? error.message : String(error)}; fix the YAML aliases`);
  }
}

function parseJson(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    // The runtimes word JSON errors differently (V8 gives a position, JavaScriptCore does not), so the
    // place and the reason come from our own scan: the same line on Bun and Deno.
    const at = firstJsonError(text);
    const reason = at >= text.length ? "the text ends too early" : `unexpected ${JSON.stringify(text[at])}`;
    return fail(`${PREFIX} ${lineAndColumn(text, at)}: invalid JSON, ${reason}; fix the JSON syntax there`);
  }
}

/** "line L, column C" of an offset, both counted from 1. */
function lineAndColumn(text: string, offset: number): string {
  let line = 1;
  let column = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      column = 1;
    } else {
      column++;
    }
  }
  return `line ${line}, column ${column}`;
}

/**
 * Offset of the first character where `text` stops being valid JSON (text.length if it ends early).
 * Exported for tests.
 */
export function firstJsonError(text: string): number {
  let i = 0;
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) return false;
      i++;
    }
    return true;
  };
  const string = (): boolean => {
    i++; // the opening quote
    while (i < text.length) {
      const ch = text[i];
      if (ch === '"') {
        i++;
        return true;
      }
      if (ch < " ") return false;
      if (ch === "\\") {
        i++;
        const esc = text[i];
        if (esc === "u") {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) {
              i += k;
              return false;
            }
          }
          i += 5;
          continue;
        }
        if (esc === undefined || !'"\\/bfnrt'.includes(esc)) return false;
      }
      i++;
    }
    return false;
  };
  const number = (): boolean => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (match === null || match[0].length === 0) return false;
    i += match[0].length;
    return true;
  };
  // A loop over an explicit stack, not recursion: a file of a million "[" must not overflow the call stack.
  const stack: ("{" | "[")[] = [];
  let expect: "value" | "key" | "after" = "value";
  for (;;) {
    space();
    const ch = text[i];
    if (expect === "value") {
      if (ch === "{" || ch === "[") {
        i++;
        space();
        if (text[i] === (ch === "{" ? "}" : "]")) {
          i++;
          expect = "after";
        } else {
          stack.push(ch);
          expect = ch === "{" ? "key" : "value";
        }
        continue;
      }
      const ok =
        ch === '"'
          ? string()
          : ch === "t"
            ? literal("true")
            : ch === "f"
              ? literal("false")
              : ch === "n"
                ? literal("null")
                : ch === "-" || (ch >= "0" && ch <= "9")
                  ? number()
                  : false;
      if (!ok) return i;
      expect = "after";
    } else if (expect === "key") {
      if (ch !== '"' || !string()) return i;
      space();
      if (text[i] !== ":") return i;
      i++;
      expect = "value";
    } else {
      const top = stack[stack.length - 1];
      if (top === undefined) return i;
      if (ch === (top === "{" ? "}" : "]")) {
        stack.pop();
        i++;
      } else if (ch === ",") {
        i++;
        expect = top === "{" ? "key" : "value";
      } else {
        return i;
      }
    }
  }
}

/** `timers:` with everything under it commented out is null in YAML: it means "all defaults". */
function withoutEmptySections(input: unknown): unknown {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return input;
  const copy: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const key of SECTIONS) if (copy[key] === null) delete copy[key];
  return copy;
}

// ---- issues → lines ---------------------------------------------------------------------------------

/** `destinations[1].secret`, `node.name`, `listen[0]`; odd keys quoted. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") {
      out += `[${segment}]`;
      continue;
    }
    const key = String(segment);
    const plain = /^[A-Za-z_$][\w$-]*$/.test(key);
    const shown = key.length > 64 ? `${key.slice(0, 64)}…` : key;
    out += plain ? `${out === "" ? "" : "."}${shown}` : `[${quoteValue(key)}]`;
  }
  return out;
}

function where(path: readonly PropertyKey[]): string {
  const field = fieldPath(path);
  return field === "" ? PREFIX : `${PREFIX} ${field}`;
}

/** How an error names a value of the wrong type; strings are never echoed, numbers only when `show`. */
function kindOf(input: unknown, show: boolean): string {
  if (input === null) return "null (nothing)";
  if (Array.isArray(input)) return "a list";
  switch (typeof input) {
    case "string":
      return "a string";
    case "number":
      return show ? String(input) : "a number";
    case "boolean":
      return show ? String(input) : "a boolean";
    case "object":
      return "a map";
    default:
      return typeof input;
  }
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  String: "a string",
  Number: "a number",
  Boolean: "true or false",
  Arrays: "a list",
  Objects: "a map",
};

function describeIssue(issue: SchemaIssue.Issue, path: readonly PropertyKey[], out: string[]): void {
  switch (issue._tag) {
    case "Pointer":
      describeIssue(issue.issue, [...path, ...issue.path], out);
      return;
    case "Composite":
      for (const inner of issue.issues) describeIssue(inner, path, out);
      return;
    case "Filter":
    case "Encoding":
      describeIssue(issue.issue, path, out);
      return;
    case "AnyOf":
      if (issue.issues.length > 0) for (const inner of issue.issues) describeIssue(inner, path, out);
      else out.push(`${where(path)}: invalid value`);
      return;
    case "MissingKey":
      out.push(`${where(path)}: ${issue.annotations?.messageMissingKey ?? "missing"}`);
      return;
    case "UnexpectedKey": {
      const known =
        issue.ast._tag === "Objects" ? issue.ast.propertySignatures.map((p) => String(p.name)) : [];
      const name = String(path[path.length - 1]);
      const guess = closestName(name, known);
      const fix = guess ? `did you mean "${guess}"?` : `known fields: ${known.join(", ")}`;
      out.push(`${where(path)}: unknown field; ${fix}`);
      return;
    }
    case "InvalidType": {
      const expected = (issue.ast.annotations?.expected as string | undefined) ?? TYPE_NAMES[issue.ast._tag];
      const input = "input" in issue ? issue.input : undefined;
      // A string field may be a secret: what was written there is described, never shown.
      const got = !("input" in issue)
        ? "something else"
        : issue.ast._tag === "String"
          ? kindOf(input, false)
          : kindOf(input, true);
      let fix = "";
      if (issue.ast._tag === "String" && (typeof input === "number" || typeof input === "boolean")) {
        fix = "; put it in quotes";
      } else if (issue.ast._tag === "Number" && typeof input === "string" && input.trim() !== "") {
        if (Number.isFinite(Number(input))) fix = "; remove the quotes";
      } else if (issue.ast._tag === "Boolean" && typeof input === "string") {
        // YAML 1.2 reads yes/no/on/off as strings.
        fix = "; write true or false, without quotes";
      }
      out.push(`${where(path)}: expected ${expected ?? "another type"}, got ${got}${fix}`);
      return;
    }
    case "InvalidValue": {
      const a = issue.annotations;
      out.push(`${where(path)}: ${a?.message ?? (a?.expected ? `expected ${a.expected}` : "invalid value")}`);
      return;
    }
    default:
      out.push(`${where(path)}: invalid value`);
  }
}

// ---- the resolved configuration ---------------------------------------------------------------------

function resolve(file: RunConfigFile): RunConfig {
  const endpoint = (e: { address: string; port: number }) => ({
    address: canonicalAddress(e.address),
    port: e.port,
  });
  return {
    node: {
      name: file.node.name,
      // RFC 2661 §4.4.3: a Host Name is mandatory in SCCRQ/SCCRP; the node's name serves by default.
      hostName: file.node.hostName ?? file.node.name,
      ...(file.node.vendorName !== undefined ? { vendorName: file.node.vendorName } : {}),
      outgoingCalls: file.node.outgoingCalls,
    },
    listen: file.listen.map(endpoint),
    admin: {
      ...endpoint(file.admin),
      ...(file.admin.token === undefined ? {} : { token: file.admin.token }),
    },
    events: file.events,
    // The schema only lets parseable targets through.
    eventLog: parseEventLogTarget(file.events) as EventLogTarget,
    timers: { ...file.timers },
    limits: { ...file.limits },
    destinations: file.destinations.map((d) => {
      const out: DestinationConfig = { hide: [...d.hide] as DestinationConfig["hide"], accept: d.accept };
      if (d.address !== "any") out.address = canonicalAddress(d.address);
      if (d.port !== undefined) out.port = d.port;
      if (d.peerHostName !== undefined) out.peerHostName = d.peerHostName;
      if (d.secret !== undefined) out.secret = d.secret;
      if (d.hostName !== undefined) out.hostName = d.hostName;
      if (d.maxTunnels !== undefined) out.maxTunnels = d.maxTunnels;
      if (d.maxSessionsPerTunnel !== undefined) out.maxSessionsPerTunnel = d.maxSessionsPerTunnel;
      if (d.lockoutSeconds !== undefined) out.lockoutSeconds = d.lockoutSeconds;
      return out;
    }),
    ppp: { ...file.ppp, authProtocols: [...file.ppp.authProtocols], dns: [...file.ppp.dns] },
    pools: file.pools.map((p) => ({ ...p })),
    ...(file.aaa !== undefined ? { aaa: resolveAaa(file.aaa, file.node.hostName ?? file.node.name) } : {}),
    accounting: { ...file.accounting },
    ...(file.lac !== undefined ? { lac: structuredClone(file.lac) } : {}),
  };
}

/** The LAC's decision settings from the file's `lac` (machines/lac-decision.ts). */
export function toLacPolicy(lac: NonNullable<RunConfig["lac"]>): LacPolicy {
  const domains = new Map<string, DomainRoute>();
  for (const d of lac.domains) {
    const name = d.domain.toLowerCase();
    if (d.terminate) {
      domains.set(name, { kind: "terminate" });
      continue;
    }
    const group: TunnelGroup = {
      name,
      weightedLoadBalancing: d.weightedLoadBalancing ?? lac.weightedLoadBalancing,
      failoverWithinPreference: d.failoverWithinPreference ?? lac.failoverWithinPreference,
      proxyAvps: d.proxyAvps ?? lac.proxyAvps,
      tunnels: d.tunnels.map((t) => ({
        peer: { address: t.address, port: t.port },
        preference: t.preference,
        maxSessions: t.maxSessions,
        ...(t.assignmentId !== undefined ? { assignmentId: t.assignmentId } : {}),
        ...(t.secret !== undefined ? { secret: utf8.encode(t.secret) } : {}),
        ...(t.hostName !== undefined ? { clientAuthId: t.hostName } : {}),
        ...(t.peerHostName !== undefined ? { serverAuthId: t.peerHostName } : {}),
      })),
    };
    domains.set(name, { kind: "tunnel", group });
  }
  const fallback = lac.defaultDomain !== undefined ? domains.get(lac.defaultDomain.toLowerCase()) : undefined;
  return {
    domainSeparator: lac.domainSeparator,
    stripDomain: lac.stripDomain,
    domains,
    ...(fallback ? { defaultRoute: fallback } : {}),
    radiusGroup: {
      weightedLoadBalancing: lac.weightedLoadBalancing,
      failoverWithinPreference: lac.failoverWithinPreference,
      proxyAvps: lac.proxyAvps,
      maxSessions: lac.maxSessionsPerTunnel,
    },
  };
}

const utf8 = new TextEncoder();

/** The node's PPP from the file's `ppp` and `pools` (undefined when PPP is off). */
function toPppConfig(config: RunConfig): PppNodeConfig | undefined {
  const p = config.ppp;
  if (!p.enabled) return undefined;
  return {
    lns: {
      mru: p.mru,
      minMru: p.minMru,
      maxMru: p.maxMru,
      authProtocols: p.authProtocols,
      proxyLcp: p.proxyLcp,
      renegotiateOnMismatch: p.renegotiateOnMismatch,
      localAddress: p.localAddress,
      dns: p.dns,
      ipv6: p.ipv6,
      restartMs: ms(p.restartSeconds),
      maxConfigure: p.maxConfigure,
      maxFailure: p.maxFailure,
      maxTerminate: p.maxTerminate,
      authTimeoutMs: ms(p.authTimeoutSeconds),
    },
    keepaliveMs: ms(p.keepaliveSeconds),
    keepaliveMisses: p.keepaliveMisses,
    accounting: {
      enabled: config.accounting.enabled,
      required: config.accounting.required,
      interimMs: ms(config.accounting.interimSeconds),
    },
    pools: config.pools,
    ...(p.defaultPool !== undefined ? { defaultPool: p.defaultPool } : {}),
  };
}

function resolveAaa(aaa: NonNullable<RunConfigFile["aaa"]>, hostName: string): AaaConfig {
  if (aaa.radius) {
    const r = aaa.radius;
    return {
      kind: "radius",
      servers: r.servers.map((s) => ({ ...s, address: canonicalAddress(s.address) })),
      nasIdentifier: r.nasIdentifier ?? hostName,
      timeoutSeconds: r.timeoutSeconds,
      retries: r.retries,
      maxInFlight: r.maxInFlight,
      deadTimeSeconds: r.deadTimeSeconds,
      requireMessageAuthenticator: r.requireMessageAuthenticator,
    };
  }
  return { kind: "local", users: (aaa.local?.users ?? []).map((u) => ({ ...u })) };
}

const ms = (seconds: number) => Math.round(seconds * 1000);

/** The actors' configuration from a checked file: seconds become milliseconds, "any" becomes undefined. */
export function toNodeConfig(config: RunConfig): NodeConfig {
  const { timers, limits } = config;
  const ppp = toPppConfig(config);
  return {
    name: config.node.name,
    hostName: config.node.hostName,
    ...(config.node.vendorName !== undefined ? { vendorName: config.node.vendorName } : {}),
    outgoingCalls: config.node.outgoingCalls,
    destinations: config.destinations.map((d) => {
      const profile: DestinationProfile = { accept: d.accept };
      if (d.address !== undefined) profile.address = d.address;
      if (d.port !== undefined) profile.port = d.port;
      if (d.peerHostName !== undefined) profile.peerHostName = d.peerHostName;
      if (d.secret !== undefined) profile.secret = d.secret;
      if (d.hostName !== undefined) profile.hostName = d.hostName;
      if (d.hide.length > 0) profile.hide = d.hide;
      if (d.maxTunnels !== undefined) profile.maxTunnels = d.maxTunnels;
      if (d.maxSessionsPerTunnel !== undefined) profile.maxSessionsPerTunnel = d.maxSessionsPerTunnel;
      if (d.lockoutSeconds !== undefined) profile.lockoutMs = ms(d.lockoutSeconds);
      return profile;
    }),
    channel: {
      receiveWindow: limits.receiveWindow,
      retransmitInitialMs: ms(timers.retransmitInitialSeconds),
      retransmitCapMs: ms(timers.retransmitCapSeconds),
      maxRetransmits: timers.maxRetransmits,
      ackDelayMs: timers.ackDelayMs,
      helloIntervalMs: ms(timers.helloSeconds),
    },
    stopHoldMs: ms(timers.stopCcnHoldSeconds),
    lockoutMs: ms(timers.lockoutSeconds),
    sessionSetupTimeoutMs: ms(timers.sessionSetupSeconds),
    handshakeTimeoutMs: ms(timers.handshakeSeconds),
    maxRetransmitsUnauthenticated: timers.maxRetransmitsUnauthenticated,
    maxHalfOpenTunnels: limits.maxHalfOpenTunnels,
    maxHalfOpenPerAddress: limits.maxHalfOpenPerAddress,
    maxTunnels: limits.maxTunnels,
    maxSessionsPerTunnel: limits.maxSessionsPerTunnel,
    ...(ppp ? { ppp } : {}),
    destructTimeoutMs: ms(timers.destructTimeoutSeconds),
    maxEndedRecords: limits.maxEndedRecords,
    ...(config.lac ? { lac: toLacPolicy(config.lac) } : {}),
  };
}
