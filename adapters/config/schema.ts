/**
 * The schema of the configuration file of `l2tp run --config FILE` (YAML or JSON). Keys are camelCase,
 * times are in seconds (the unit is in the key: `helloSeconds`, `ackDelayMs`), and every field but
 * `node.name` has a default. Each field carries the words that describe it (`expected`), so that an error
 * names the field and what would be right: "config listen[0].port: expected a port number 0-65535, got
 * 70000". Rules that span fields (retransmit cap ≥ initial, hide needs a secret, one profile per peer)
 * are checks on the enclosing struct or list.
 *
 * `RunConfigFile` is what the file holds after decoding, with defaults filled in; `load.ts` turns it into
 * a `RunConfig` (host name defaulted, IPv6 addresses in canonical form) and into the actors' `NodeConfig`.
 */
import { isIPv4, isIPv6 } from "node:net";
import { Effect, Schema } from "effect";
import { DEFAULT_CONTROL_CHANNEL_OPTIONS } from "../../actors/control-channel/channel.ts";
import {
  MAX_HALF_OPEN_PER_ADDRESS,
  MAX_HALF_OPEN_TUNNELS,
  MAX_RETRANSMITS_UNAUTHENTICATED,
} from "../../actors/half-open.ts";
import { DESTRUCT_TIMEOUT_MS, MAX_ENDED_RECORDS } from "../../actors/views.ts";
import { LOCKOUT_MS, MAX_SESSIONS_PER_TUNNEL } from "../../machines/destination.ts";
import { PPP_DEFAULTS } from "../../machines/ppp/endpoint.ts";
import { SESSION_SETUP_TIMEOUT_MS } from "../../machines/session.ts";
import { HANDSHAKE_TIMEOUT_MS, STOP_CCN_HOLD_MS } from "../../machines/tunnel.ts";
import { PREFERENCE_LEVELS } from "../../machines/tunnel-selection.ts";
import { ipv4ToNumber } from "../../protocol/ipv4.ts";
import { AVP_CATALOG, type AvpName } from "../../protocol/l2tp/avps.ts";
import { isLoopback } from "../admin/access.ts";
import { type EventLogAddress, parseEventLogAddress } from "../event-log/index.ts";
import { closestName } from "./suggest.ts";

// ---- defaults ------------------------------------------------------------------------------------

/** The UDP port of L2TP (RFC 2661 §8.1). */
export const L2TP_PORT = 1701;

/** Every default of the file, in the file's units; the machines' and the channel's own defaults. */
export const CONFIG_DEFAULTS = {
  /** All IPv4 addresses on the L2TP port: a real node answers on every interface. */
  listen: [{ address: "0.0.0.0", port: L2TP_PORT }],
  /** The admin API answers on loopback only unless the operator says otherwise. */
  admin: { address: "127.0.0.1", port: 17010 },
  events: "file:./var/events",
  timers: {
    helloSeconds: DEFAULT_CONTROL_CHANNEL_OPTIONS.helloIntervalMs / 1000,
    retransmitInitialSeconds: DEFAULT_CONTROL_CHANNEL_OPTIONS.retransmitInitialMs / 1000,
    retransmitCapSeconds: DEFAULT_CONTROL_CHANNEL_OPTIONS.retransmitCapMs / 1000,
    maxRetransmits: DEFAULT_CONTROL_CHANNEL_OPTIONS.maxRetransmits,
    ackDelayMs: DEFAULT_CONTROL_CHANNEL_OPTIONS.ackDelayMs,
    lockoutSeconds: LOCKOUT_MS / 1000,
    stopCcnHoldSeconds: STOP_CCN_HOLD_MS / 1000,
    sessionSetupSeconds: SESSION_SETUP_TIMEOUT_MS / 1000,
    destructTimeoutSeconds: DESTRUCT_TIMEOUT_MS / 1000,
    handshakeSeconds: HANDSHAKE_TIMEOUT_MS / 1000,
    maxRetransmitsUnauthenticated: MAX_RETRANSMITS_UNAUTHENTICATED,
  },
  limits: {
    // RFC 2661 §4.4.3: tunnel ids are 16 bits and 0 is reserved.
    maxTunnels: 65_535,
    maxSessionsPerTunnel: MAX_SESSIONS_PER_TUNNEL,
    receiveWindow: DEFAULT_CONTROL_CHANNEL_OPTIONS.receiveWindow,
    maxEndedRecords: MAX_ENDED_RECORDS,
    maxHalfOpenTunnels: MAX_HALF_OPEN_TUNNELS,
    maxHalfOpenPerAddress: MAX_HALF_OPEN_PER_ADDRESS,
  },
} as const;

/**
 * Where the event log goes: an embedded file log, memory (lost at exit), or NATS JetStream (one server
 * or several of a cluster, a stream with replicas): the event log's own reading of the address.
 */
export type EventLogTarget = EventLogAddress;

/**
 * Reads the `events` string with the event log's own parser (adapters/event-log: `file:DIR`, `memory:`,
 * `nats://HOST:PORT[,HOST:PORT…][/STREAM][?replicas=N]`, the forms --events and replay take); undefined
 * when it is none of them.
 */
export function parseEventLogTarget(text: string): EventLogTarget | undefined {
  try {
    return parseEventLogAddress(text);
  } catch {
    return undefined;
  }
}

/**
 * The one spelling of an IP address used everywhere (lower case, IPv6 compressed as RFC 5952 and
 * inet_ntop write it), so that a profile's address compares equal to the address a socket reports.
 */
export function canonicalAddress(address: string): string {
  if (!isIPv6(address)) return address;
  // IPv4-mapped and zone-scoped forms keep their spelling: URL would rewrite the dotted quad as hex
  // (inet_ntop does not) and rejects a zone.
  if (address.includes(".") || address.includes("%")) return address.toLowerCase();
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** Whether a string is an IPv4 or IPv6 address in numeric form. */
export function isIpAddress(address: string): boolean {
  return isIPv4(address) || isIPv6(address);
}

// ---- field builders ------------------------------------------------------------------------------

/** The names of the AVPs RFC 2661 §4.3 lets us hide, in catalog order. */
export const HIDEABLE_AVPS: readonly AvpName[] = AVP_CATALOG.filter((s) => s.hideable).map((s) => s.key);

const utf8 = new TextEncoder();

function byteLength(text: string): number {
  return utf8.encode(text).length;
}

/** A number field: `expected` is what the error says it should be; `ok` the rule. */
function numberField(expected: string, ok: (n: number) => boolean, fix?: string) {
  return Schema.Number.annotate({ expected }).check(
    Schema.makeFilter((n: number) =>
      ok(n) ? undefined : `expected ${expected}, got ${n}${fix ? `; ${fix}` : ""}`,
    ),
  );
}

/** A value from the file as an error shows it: quoted, escaped, and cut short if long. */
export function quoteValue(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

/** A string field whose value may be echoed in an error. */
function stringField(expected: string, ok: (s: string) => boolean) {
  return Schema.String.annotate({ expected }).check(
    Schema.makeFilter((s: string) => (ok(s) ? undefined : `expected ${expected}, got ${quoteValue(s)}`)),
  );
}

/** A string of 1-255 UTF-8 bytes; its value is never echoed (it may be a secret). */
function boundedString(expected: string) {
  return Schema.String.annotate({ expected }).check(
    Schema.makeFilter((s: string) => {
      const n = byteLength(s);
      return n >= 1 && n <= 255
        ? undefined
        : `expected ${expected}, got ${n === 0 ? "an empty string" : `${n} bytes`}`;
    }),
  );
}

function integerIn(min: number, max: number): (n: number) => boolean {
  return (n) => Number.isInteger(n) && n >= min && n <= max;
}

function within(min: number, max: number): (n: number) => boolean {
  return (n) => Number.isFinite(n) && n >= min && n <= max;
}

/** A map whose `expected` lists its keys, so "expected a map with keys …" tells what may go in it. */
function section<const Fields extends Schema.Struct.Fields>(fields: Fields) {
  return Schema.Struct(fields).annotate({ expected: `a map with keys ${Object.keys(fields).join(", ")}` });
}

/** The field, filled with `value` (in the file's terms) when its key is missing. */
function withDefault<S extends Schema.Top>(schema: S, value: S["Encoded"]) {
  return schema.pipe(Schema.withDecodingDefaultKey<S>(Effect.succeed(value)));
}

/** The field, with what to do when its key is missing. */
function required<S extends Schema.Top>(schema: S, hint: string) {
  return schema.pipe(Schema.annotateKey<S>({ messageMissingKey: `missing; ${hint}` }));
}

// ---- fields --------------------------------------------------------------------------------------

const listenPort = numberField("a port number 0-65535 (0 picks a free port)", integerIn(0, 65535));
const peerPort = numberField("a port number 1-65535", integerIn(1, 65535));
const ipAddress = stringField("an IPv4 or IPv6 address such as 0.0.0.0, 127.0.0.1 or ::", isIpAddress);
const peerAddress = stringField(
  'an IPv4 or IPv6 address, or "any" to match every peer',
  (s) => s === "any" || isIpAddress(s),
);
const hostName = boundedString("a host name of 1-255 bytes");
const count65535 = numberField("an integer 1-65535", integerIn(1, 65535));
const lockoutSeconds = numberField("a number of seconds 0-86400 (0: no lockout)", within(0, 86_400));

const hiddenAvp = Schema.String.annotate({ expected: "the camelCase name of an AVP" }).check(
  Schema.makeFilter((name: string) => {
    if ((HIDEABLE_AVPS as readonly string[]).includes(name)) return undefined;
    const valid = `AVPs that can be hidden: ${HIDEABLE_AVPS.join(", ")}`;
    const spec = AVP_CATALOG.find((s) => s.key === name);
    if (spec !== undefined) return `"${name}" may not be hidden (${spec.rfc}); remove it (${valid})`;
    const guess = closestName(name, HIDEABLE_AVPS);
    return guess
      ? `unknown AVP ${quoteValue(name)}; did you mean "${guess}"? (${valid})`
      : `unknown AVP ${quoteValue(name)}; use one of the ${valid}`;
  }),
);

const Endpoint = section({
  address: required(ipAddress, "add address: 0.0.0.0 (or the address to listen on)"),
  port: withDefault(listenPort, L2TP_PORT),
});

/** The admin API's bearer token: printable ASCII without spaces, long enough not to be guessed. */
const adminToken = Schema.String.annotate({ expected: "a token of 16-255 printable characters" }).check(
  Schema.makeFilter((s: string) =>
    /^[\x21-\x7e]{16,255}$/.test(s)
      ? undefined
      : `expected 16-255 printable characters without spaces (e.g. openssl rand -hex 24), got ${s.length} characters`,
  ),
);

const AdminEndpoint = section({
  address: withDefault(ipAddress, CONFIG_DEFAULTS.admin.address),
  port: withDefault(listenPort, CONFIG_DEFAULTS.admin.port),
  token: Schema.optionalKey(adminToken),
}).check(
  // adapters/admin/access.ts: an admin API off loopback without a token would let anyone drive the node.
  Schema.makeFilter((admin) =>
    admin.token !== undefined || isLoopback(admin.address)
      ? undefined
      : {
          path: ["token"],
          issue: `listening on ${admin.address} (not loopback) needs a token: add token: with 16+ characters (e.g. openssl rand -hex 24), or listen on 127.0.0.1`,
        },
  ),
);

/** "192.0.2.1, port 1701", "any address, any port": how errors name a destination's peer. */
function peerLabel(d: { address: string; port?: number | undefined }): string {
  const address = d.address === "any" ? "any address" : d.address;
  return `${address}, ${d.port === undefined ? "any port" : `port ${d.port}`}`;
}

const Destination = section({
  address: required(peerAddress, 'add address: with the peer\'s IP address, or "any"'),
  port: Schema.optionalKey(peerPort),
  peerHostName: Schema.optionalKey(hostName),
  secret: Schema.optionalKey(boundedString("a string of 1-255 bytes")),
  hostName: Schema.optionalKey(hostName),
  hide: withDefault(Schema.Array(hiddenAvp).annotate({ expected: "a list of AVP names" }), []),
  accept: withDefault(Schema.Boolean.annotate({ expected: "true or false" }), true),
  maxTunnels: Schema.optionalKey(count65535),
  maxSessionsPerTunnel: Schema.optionalKey(count65535),
  lockoutSeconds: Schema.optionalKey(lockoutSeconds),
}).check(
  Schema.makeFilter((d) =>
    d.hide.length > 0 && d.secret === undefined
      ? {
          path: ["hide"],
          issue:
            "hiding AVPs needs a shared secret (RFC 2661 §4.3: the secret keys the hiding); add secret: to this destination or remove hide:",
        }
      : undefined,
  ),
);

const Destinations = Schema.Array(Destination)
  .annotate({ expected: "a list of destinations" })
  .check(
    Schema.makeFilter((list) => {
      const issues: { path: number[]; issue: string }[] = [];
      const key = (d: (typeof list)[number]) => ({
        address: d.address === "any" ? undefined : canonicalAddress(d.address),
        port: d.port,
      });
      // matchProfile takes the first profile that matches a peer, so a later one that an earlier one
      // covers is never used.
      for (let j = 1; j < list.length; j++) {
        const b = key(list[j]);
        for (let i = 0; i < j; i++) {
          const a = key(list[i]);
          const sameAddress = a.address === b.address;
          const samePort = a.port === b.port;
          if (sameAddress && samePort) {
            issues.push({
              path: [j],
              issue: `same peer as destinations[${i}] (${peerLabel(list[j])}); merge the two or remove one`,
            });
            break;
          }
          if ((a.address === undefined || sameAddress) && (a.port === undefined || samePort)) {
            issues.push({
              path: [j],
              issue: `never used: destinations[${i}] (${peerLabel(list[i])}) matches its peers first; move it above destinations[${i}]`,
            });
            break;
          }
        }
      }
      return issues;
    }),
  );

const Listen = Schema.Array(Endpoint)
  .annotate({ expected: "a list of { address, port }" })
  .check(
    Schema.makeFilter((list) => {
      if (list.length === 0)
        return "expected at least one { address, port } to listen on; add one or remove listen:";
      const issues: { path: number[]; issue: string }[] = [];
      list.forEach((e, j) => {
        const i = list.findIndex(
          (o) => canonicalAddress(o.address) === canonicalAddress(e.address) && o.port === e.port,
        );
        if (i < j && e.port !== 0) {
          issues.push({ path: [j], issue: `same address and port as listen[${i}]; remove one` });
        }
      });
      return issues;
    }),
  );

const events = stringField(
  '"file:DIRECTORY", "memory:" or "nats://HOST:PORT[,HOST:PORT…][/STREAM][?replicas=N]"',
  (s) => parseEventLogTarget(s) !== undefined,
);

const nodeName = stringField('a name of 1-64 letters, digits, "-" or "_"', (s) =>
  /^[A-Za-z0-9_-]{1,64}$/.test(s),
);

const Node = section({
  name: required(nodeName, "add name: with this node's name (letters, digits, - or _)"),
  hostName: Schema.optionalKey(hostName),
  vendorName: Schema.optionalKey(boundedString("a vendor name of 1-255 bytes")),
  outgoingCalls: withDefault(Schema.Boolean.annotate({ expected: "true or false" }), false),
});

const helloSeconds = numberField(
  "0 (no HELLO) or a number of seconds 1-86400",
  (n) => n === 0 || within(1, 86_400)(n),
);
const ackDelayMs = numberField(
  "an integer number of milliseconds 0-1000",
  integerIn(0, 1000),
  "keep it well below the peer's retransmission time (1 s)",
);
const stopCcnHoldSeconds = numberField(
  "a number of seconds 0-600 (RFC 2661 §5.7 suggests 31)",
  within(0, 600),
);

const t = CONFIG_DEFAULTS.timers;
const Timers = section({
  helloSeconds: withDefault(helloSeconds, t.helloSeconds),
  retransmitInitialSeconds: withDefault(
    numberField("a number of seconds 0.01-60", within(0.01, 60)),
    t.retransmitInitialSeconds,
  ),
  retransmitCapSeconds: withDefault(
    numberField("a number of seconds 0.01-600", within(0.01, 600)),
    t.retransmitCapSeconds,
  ),
  maxRetransmits: withDefault(numberField("an integer 0-100", integerIn(0, 100)), t.maxRetransmits),
  ackDelayMs: withDefault(ackDelayMs, t.ackDelayMs),
  lockoutSeconds: withDefault(lockoutSeconds, t.lockoutSeconds),
  stopCcnHoldSeconds: withDefault(stopCcnHoldSeconds, t.stopCcnHoldSeconds),
  sessionSetupSeconds: withDefault(
    numberField("a number of seconds 1-3600", within(1, 3600)),
    t.sessionSetupSeconds,
  ),
  // JUNOSe's l2tp destruct-timeout: 10-3600 s.
  destructTimeoutSeconds: withDefault(
    numberField("a number of seconds 10-3600", within(10, 3600)),
    t.destructTimeoutSeconds,
  ),
  handshakeSeconds: withDefault(numberField("a number of seconds 1-600", within(1, 600)), t.handshakeSeconds),
  maxRetransmitsUnauthenticated: withDefault(
    numberField("an integer 0-100", integerIn(0, 100)),
    t.maxRetransmitsUnauthenticated,
  ),
}).check(
  Schema.makeFilter((timers) =>
    timers.retransmitCapSeconds >= timers.retransmitInitialSeconds
      ? undefined
      : {
          path: ["retransmitCapSeconds"],
          issue: `expected at least retransmitInitialSeconds (${timers.retransmitInitialSeconds}), got ${timers.retransmitCapSeconds}; raise it or lower retransmitInitialSeconds`,
        },
  ),
);

const l = CONFIG_DEFAULTS.limits;
const Limits = section({
  maxTunnels: withDefault(count65535, l.maxTunnels),
  maxSessionsPerTunnel: withDefault(count65535, l.maxSessionsPerTunnel),
  receiveWindow: withDefault(count65535, l.receiveWindow),
  maxEndedRecords: withDefault(
    numberField("an integer 0-1000000 (0: keep no ended tunnels or sessions)", integerIn(0, 1_000_000)),
    l.maxEndedRecords,
  ),
  maxHalfOpenTunnels: withDefault(count65535, l.maxHalfOpenTunnels),
  maxHalfOpenPerAddress: withDefault(count65535, l.maxHalfOpenPerAddress),
});

// ---- PPP (RFC 1661) and address pools -----------------------------------------------------------

const pd = PPP_DEFAULTS;
const ipv4 = stringField("an IPv4 address such as 10.0.0.1", (s) => isIPv4(s));
const mru = numberField("an MRU of 64-65535 bytes", integerIn(64, 65535));
const authProtocol = Schema.Literals(["chap", "pap"]).annotate({ expected: '"chap" or "pap"' });

const Ppp = section({
  enabled: withDefault(Schema.Boolean.annotate({ expected: "true or false" }), true),
  mru: withDefault(mru, pd.mru),
  minMru: withDefault(mru, pd.minMru),
  maxMru: withDefault(mru, pd.maxMru),
  authProtocols: withDefault(
    Schema.Array(authProtocol).annotate({ expected: 'a list of "chap" and "pap", most preferred first' }),
    [...pd.authProtocols],
  ),
  proxyLcp: withDefault(
    Schema.Literals(["accept", "renegotiate-always"]).annotate({
      expected: '"accept" or "renegotiate-always"',
    }),
    pd.proxyLcp,
  ),
  renegotiateOnMismatch: withDefault(
    Schema.Boolean.annotate({ expected: "true or false" }),
    pd.renegotiateOnMismatch,
  ),
  localAddress: withDefault(ipv4, pd.localAddress),
  dns: withDefault(Schema.Array(ipv4).annotate({ expected: "a list of at most two IPv4 addresses" }), []),
  ipv6: withDefault(Schema.Boolean.annotate({ expected: "true or false" }), pd.ipv6),
  keepaliveSeconds: withDefault(
    numberField("0 (off) or a number of seconds 1-3600", (n) => n === 0 || within(1, 3600)(n)),
    30,
  ),
  keepaliveMisses: withDefault(numberField("an integer 1-100", integerIn(1, 100)), 3),
  restartSeconds: withDefault(
    numberField("a number of seconds 0.1-60", within(0.1, 60)),
    pd.restartMs / 1000,
  ),
  maxConfigure: withDefault(numberField("an integer 1-100", integerIn(1, 100)), pd.maxConfigure),
  maxFailure: withDefault(numberField("an integer 1-100", integerIn(1, 100)), pd.maxFailure),
  maxTerminate: withDefault(numberField("an integer 1-100", integerIn(1, 100)), pd.maxTerminate),
  authTimeoutSeconds: withDefault(
    numberField("a number of seconds 1-600", within(1, 600)),
    pd.authTimeoutMs / 1000,
  ),
  defaultPool: Schema.optionalKey(stringField("the name of a pool in pools:", (s) => s.length > 0)),
}).check(
  Schema.makeFilter((p) => {
    if (p.minMru > p.maxMru) {
      return {
        path: ["minMru"],
        issue: `expected at most maxMru (${p.maxMru}), got ${p.minMru}; lower it or raise maxMru`,
      };
    }
    if (p.dns.length > 2)
      return { path: ["dns"], issue: `expected at most 2 (primary, secondary), got ${p.dns.length}` };
    return undefined;
  }),
);

const Pool = section({
  name: required(
    stringField("a pool name of letters, digits, - or _", (s) => /^[A-Za-z0-9_-]{1,64}$/.test(s)),
    "add name:",
  ),
  start: required(ipv4, "add start: with the first address of the range"),
  end: required(ipv4, "add end: with the last address of the range"),
}).check(
  Schema.makeFilter((p) => {
    const start = ipv4ToNumber(p.start) ?? 0;
    const end = ipv4ToNumber(p.end) ?? 0;
    if (end < start)
      return { path: ["end"], issue: `expected an address at or after start (${p.start}), got ${p.end}` };
    if (end - start + 1 > 1 << 20) {
      return {
        path: ["end"],
        issue: `the range has ${end - start + 1} addresses; at most 1048576 (a /12) per pool: split it`,
      };
    }
    return undefined;
  }),
);

const Pools = Schema.Array(Pool)
  .annotate({ expected: "a list of { name, start, end }" })
  .check(
    Schema.makeFilter((list) => {
      const issues: { path: number[]; issue: string }[] = [];
      list.forEach((p, j) => {
        const i = list.findIndex((o) => o.name === p.name);
        if (i < j)
          issues.push({ path: [j], issue: `a second pool named ${p.name} (pools[${i}]); rename one` });
      });
      return issues;
    }),
  );

// ---- AAA (issue 8): who may connect, and where their sessions are accounted ----------------------

/** RADIUS defaults: RFC 2865 §3 / RFC 2866 §3 ports; waits and counts as common NAS defaults. */
export const AAA_DEFAULTS = {
  authPort: 1812,
  acctPort: 1813,
  timeoutSeconds: 3,
  retries: 3,
  // 256 (every Identifier) overflowed FreeRADIUS's socket under Linux's default 208 KiB receive buffer
  // (bench/radius: 65 of 20,000 CHAP requests resent after a 3 s silence); 128 lost none.
  maxInFlight: 128,
  deadTimeSeconds: 60,
  requireMessageAuthenticator: false,
  accounting: { enabled: true, required: false, interimSeconds: 0 },
} as const;

const LocalUser = section({
  name: required(boundedString("a user name of 1-255 bytes"), "add name: with the subscriber's user name"),
  password: required(boundedString("a password of 1-255 bytes"), "add password: (PAP and CHAP check it)"),
  framedIpAddress: Schema.optionalKey(stringField("an IPv4 address such as 10.0.0.5", (a) => isIPv4(a))),
  framedPool: Schema.optionalKey(boundedString("a pool name of 1-255 bytes")),
  sessionTimeout: Schema.optionalKey(
    numberField("a number of seconds 1-4294967295", integerIn(1, 0xffffffff)),
  ),
});

const LocalUsers = Schema.Array(LocalUser)
  .annotate({ expected: "a list of { name, password }" })
  .check(
    Schema.makeFilter((list) => {
      const issues: { path: number[]; issue: string }[] = [];
      list.forEach((u, j) => {
        const i = list.findIndex((o) => o.name === u.name);
        if (i < j) issues.push({ path: [j], issue: `same name as users[${i}]; remove one` });
      });
      return issues;
    }),
  );

const RadiusServer = section({
  address: required(ipAddress, "add address: with the RADIUS server's IP address"),
  authPort: withDefault(peerPort, AAA_DEFAULTS.authPort),
  acctPort: withDefault(peerPort, AAA_DEFAULTS.acctPort),
  secret: required(
    boundedString("a shared secret of 1-255 bytes"),
    "add secret: (the server's clients entry for this NAS)",
  ),
});

const a = AAA_DEFAULTS;
const Radius = section({
  servers: required(
    Schema.Array(RadiusServer)
      .annotate({ expected: "a list of { address, authPort, acctPort, secret }" })
      .check(
        Schema.makeFilter((list) =>
          list.length === 0 ? "expected at least one server; add one or use aaa.local instead" : undefined,
        ),
      ),
    "add servers: with at least one { address, secret }",
  ),
  nasIdentifier: Schema.optionalKey(boundedString("a NAS-Identifier of 1-253 bytes")),
  timeoutSeconds: withDefault(numberField("a number of seconds 0.05-60", within(0.05, 60)), a.timeoutSeconds),
  retries: withDefault(numberField("an integer 0-10", integerIn(0, 10)), a.retries),
  maxInFlight: withDefault(
    numberField(
      "an integer 1-256",
      integerIn(1, 256),
      "a server has 256 Identifiers per socket (RFC 2865 §3); requests beyond wait in a queue",
    ),
    a.maxInFlight,
  ),
  deadTimeSeconds: withDefault(numberField("a number of seconds 0-3600", within(0, 3600)), a.deadTimeSeconds),
  requireMessageAuthenticator: withDefault(
    Schema.Boolean.annotate({ expected: "true or false" }),
    a.requireMessageAuthenticator,
  ),
});

const Aaa = section({
  local: Schema.optionalKey(section({ users: withDefault(LocalUsers, []) })),
  radius: Schema.optionalKey(Radius),
}).check(
  Schema.makeFilter((x) =>
    (x.local === undefined) === (x.radius === undefined)
      ? "expected exactly one of local: or radius:; keep the one this node uses"
      : undefined,
  ),
);

const Accounting = section({
  enabled: withDefault(Schema.Boolean.annotate({ expected: "true or false" }), a.accounting.enabled),
  required: withDefault(Schema.Boolean.annotate({ expected: "true or false" }), a.accounting.required),
  interimSeconds: withDefault(
    numberField(
      "0 (no interim updates) or a number of seconds 60-86400",
      (n) => n === 0 || within(60, 86_400)(n),
    ),
    a.accounting.interimSeconds,
  ),
});

// ---- LAC (issue 9): where an authenticated subscriber goes ---------------------------------------

/** E-series: up to 31 destinations per domain. */
export const MAX_TUNNELS_PER_DOMAIN = 31;

const preference = numberField("an integer 0-7 (0 the most preferred)", integerIn(0, PREFERENCE_LEVELS - 1));
const maxSessions = numberField("0 (no limit) or an integer 1-65535", integerIn(0, 65_535));
const boolean = Schema.Boolean.annotate({ expected: "true or false" });

const LacTunnel = section({
  address: required(
    stringField("an IPv4 address such as 192.0.2.20", (s) => isIPv4(s)),
    "add address: with the LNS's IPv4 address",
  ),
  port: withDefault(peerPort, L2TP_PORT),
  preference: withDefault(preference, 0),
  maxSessions: withDefault(maxSessions, 0),
  assignmentId: Schema.optionalKey(boundedString("a Tunnel-Assignment-Id of 1-253 bytes")),
  secret: Schema.optionalKey(boundedString("a string of 1-255 bytes")),
  hostName: Schema.optionalKey(hostName),
  peerHostName: Schema.optionalKey(hostName),
});

const LacDomain = section({
  domain: required(
    stringField("a domain such as isp.example", (s) => s.length > 0 && s.length <= 253 && !/\s/.test(s)),
    "add domain: with the part of the user name after the separator",
  ),
  terminate: withDefault(boolean, false),
  tunnels: withDefault(
    Schema.Array(LacTunnel).annotate({ expected: "a list of { address, port, preference, maxSessions }" }),
    [],
  ),
  weightedLoadBalancing: Schema.optionalKey(boolean),
  failoverWithinPreference: Schema.optionalKey(boolean),
  proxyAvps: Schema.optionalKey(boolean),
}).check(
  Schema.makeFilter((d) => {
    if (d.terminate && d.tunnels.length > 0)
      return {
        path: ["tunnels"],
        issue: "a terminated domain has no tunnels; remove tunnels: or terminate: true",
      };
    if (!d.terminate && d.tunnels.length === 0)
      return {
        path: ["tunnels"],
        issue: "expected at least one tunnel; add one, or terminate: true to end PPP here",
      };
    if (d.tunnels.length > MAX_TUNNELS_PER_DOMAIN)
      return {
        path: ["tunnels"],
        issue: `expected at most ${MAX_TUNNELS_PER_DOMAIN} tunnels, got ${d.tunnels.length}; split the domain`,
      };
    return undefined;
  }),
);

const Lac = section({
  domainSeparator: withDefault(
    stringField("a separator of 1-8 characters such as @", (s) => s.length >= 1 && s.length <= 8),
    "@",
  ),
  stripDomain: withDefault(boolean, false),
  weightedLoadBalancing: withDefault(boolean, false),
  failoverWithinPreference: withDefault(boolean, false),
  maxSessionsPerTunnel: withDefault(maxSessions, 0),
  proxyAvps: withDefault(boolean, true),
  defaultDomain: Schema.optionalKey(stringField("a domain listed in domains:", (s) => s.length > 0)),
  domains: withDefault(Schema.Array(LacDomain).annotate({ expected: "a list of { domain, tunnels }" }), []),
}).check(
  Schema.makeFilter((lac) => {
    const issues: { path: (string | number)[]; issue: string }[] = [];
    lac.domains.forEach((d, j) => {
      const i = lac.domains.findIndex((o) => o.domain.toLowerCase() === d.domain.toLowerCase());
      if (i < j) issues.push({ path: ["domains", j], issue: `same domain as domains[${i}]; merge the two` });
    });
    const fallback = lac.defaultDomain;
    if (
      fallback !== undefined &&
      !lac.domains.some((d) => d.domain.toLowerCase() === fallback.toLowerCase())
    ) {
      const names = lac.domains.map((d) => d.domain).join(", ");
      issues.push({
        path: ["defaultDomain"],
        issue: `no domain ${quoteValue(fallback)} in domains:; ${names ? `domains are: ${names}` : "add it"}`,
      });
    }
    return issues;
  }),
);

/** The whole file. Decode with `{ errors: "all", onExcessProperty: "error" }` (as `parseConfig` does). */
export const RunConfigFileSchema = section({
  node: required(Node, "add node: with at least name:"),
  listen: withDefault(Listen, CONFIG_DEFAULTS.listen),
  admin: withDefault(AdminEndpoint, {}),
  events: withDefault(events, CONFIG_DEFAULTS.events),
  timers: withDefault(Timers, {}),
  limits: withDefault(Limits, {}),
  destinations: withDefault(Destinations, []),
  ppp: withDefault(Ppp, {}),
  pools: withDefault(Pools, []),
  aaa: Schema.optionalKey(Aaa),
  accounting: withDefault(Accounting, {}),
  lac: Schema.optionalKey(Lac),
}).check(
  Schema.makeFilter((file) => {
    const name = file.ppp.defaultPool;
    if (name === undefined || file.pools.some((p) => p.name === name)) return undefined;
    const names = file.pools.map((p) => p.name).join(", ");
    return {
      path: ["ppp", "defaultPool"],
      issue: `no pool named ${quoteValue(name)}; ${names ? `pools are: ${names}` : "add it under pools:"}`,
    };
  }),
);

/** The file's content after decoding, defaults filled in. */
export type RunConfigFile = typeof RunConfigFileSchema.Type;

/** The top-level sections of the file, in the order the example gives them. */
export const SECTIONS: readonly string[] = Object.keys(RunConfigFileSchema.fields);

// ---- the resolved configuration ---------------------------------------------------------------------

/** A UDP address and port to bind. */
export interface Endpoint {
  address: string;
  port: number;
}

/** One peer profile as the file gives it; `address` undefined means any peer, `port` undefined any port. */
export interface DestinationConfig {
  address?: string;
  port?: number;
  peerHostName?: string;
  secret?: string;
  hostName?: string;
  hide: readonly AvpName[];
  accept: boolean;
  maxTunnels?: number;
  maxSessionsPerTunnel?: number;
  lockoutSeconds?: number;
}

/** Everything `l2tp run` needs, every default filled in, in the file's units (seconds). */
export interface RunConfig {
  node: { name: string; hostName: string; vendorName?: string; outgoingCalls: boolean };
  listen: readonly Endpoint[];
  /** The admin API; `token` is the bearer token its mutating requests need (adapters/admin/access.ts). */
  admin: Endpoint & { token?: string };
  /** The `events` string as written, and what it means. */
  events: string;
  eventLog: EventLogTarget;
  timers: {
    helloSeconds: number;
    retransmitInitialSeconds: number;
    retransmitCapSeconds: number;
    maxRetransmits: number;
    ackDelayMs: number;
    lockoutSeconds: number;
    stopCcnHoldSeconds: number;
    sessionSetupSeconds: number;
    destructTimeoutSeconds: number;
    handshakeSeconds: number;
    maxRetransmitsUnauthenticated: number;
  };
  limits: {
    maxTunnels: number;
    maxSessionsPerTunnel: number;
    receiveWindow: number;
    maxEndedRecords: number;
    maxHalfOpenTunnels: number;
    maxHalfOpenPerAddress: number;
  };
  destinations: readonly DestinationConfig[];
  /** PPP on incoming calls (RFC 1661), in the file's units. */
  ppp: RunConfigFile["ppp"];
  pools: RunConfigFile["pools"];
  /** How subscribers are authenticated (the LNS terminating PPP); absent: nobody is. */
  aaa?: AaaConfig;
  accounting: AccountingConfig;
  /** The LAC's decision (domain map, RADIUS groups); absent: this node tunnels nobody by domain. */
  lac?: RunConfigFile["lac"];
}

/** The `aaa` section: local users, or RADIUS servers (adapters/aaa's openAaa takes it). */
export type AaaConfig =
  | {
      kind: "local";
      users: readonly {
        name: string;
        password: string;
        framedIpAddress?: string;
        framedPool?: string;
        sessionTimeout?: number;
      }[];
    }
  | {
      kind: "radius";
      servers: readonly { address: string; authPort: number; acctPort: number; secret: string }[];
      /** Default: the node's host name. */
      nasIdentifier: string;
      timeoutSeconds: number;
      retries: number;
      maxInFlight: number;
      deadTimeSeconds: number;
      requireMessageAuthenticator: boolean;
    };

/** The `accounting` section: whether sessions are accounted, whether a lost record ends them, interim updates. */
export interface AccountingConfig {
  enabled: boolean;
  /** When true, a session whose Start no server acknowledged is cleared (a billing requirement). */
  required: boolean;
  /** 0: none; else seconds between Interim-Updates (a server's Acct-Interim-Interval overrides it). */
  interimSeconds: number;
}
