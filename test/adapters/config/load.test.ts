import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { matchProfile, resolveProfiles } from "../../../actors/config.ts";
import { DEFAULT_CONTROL_CHANNEL_OPTIONS } from "../../../actors/control-channel/channel.ts";
import {
  type ConfigResult,
  detectFormat,
  HIDEABLE_AVPS,
  loadConfig,
  parseConfig,
  type RunConfig,
  toNodeConfig,
} from "../../../adapters/config/index.ts";
import { LOCKOUT_MS } from "../../../machines/destination.ts";
import { SESSION_SETUP_TIMEOUT_MS } from "../../../machines/session.ts";
import { STOP_CCN_HOLD_MS } from "../../../machines/tunnel.ts";

const FULL_YAML = `# an LNS
node:
  name: lns-1
  hostName: lns.test
  vendorName: Example
listen:
  - address: 127.0.0.1
    port: 0
  - address: "::1"
    port: 1701
admin: { address: 127.0.0.1, port: 0 }
events: "nats://127.0.0.1:4222"
timers:
  helloSeconds: 0
  retransmitInitialSeconds: 0.5
  retransmitCapSeconds: 4
  maxRetransmits: 3
  ackDelayMs: 50
  lockoutSeconds: 10
  stopCcnHoldSeconds: 5
  sessionSetupSeconds: 30
  destructTimeoutSeconds: 60
  handshakeSeconds: 5
  maxRetransmitsUnauthenticated: 1
limits:
  maxTunnels: 8
  maxSessionsPerTunnel: 100
  receiveWindow: 4
  maxEndedRecords: 500
  maxHalfOpenTunnels: 500
  maxHalfOpenPerAddress: 50
destinations:
  - address: 192.0.2.10
    port: 1701
    peerHostName: lac.test
    secret: s3cret
    hostName: lns-for-lac.test
    hide: [assignedSessionId, callingNumber]
    accept: false
    maxTunnels: 2
    maxSessionsPerTunnel: 10
    lockoutSeconds: 1.5
  - address: "2001:DB8:0:0::1"
  - address: any
    secret: other
aaa:
  radius:
    servers:
      - { address: 127.0.0.1, authPort: 11812, acctPort: 11813, secret: radsecret }
      - { address: 127.0.0.3, secret: other-secret }
    timeoutSeconds: 0.5
    retries: 2
    maxInFlight: 64
    deadTimeSeconds: 30
    requireMessageAuthenticator: true
accounting: { enabled: true, required: true, interimSeconds: 300 }
`;

/** The `ppp` section when the file has none (RFC 1661 §4.6 timers, 1460-byte MRU for L2TP). */
const DEFAULT_PPP: RunConfig["ppp"] = {
  enabled: true,
  mru: 1460,
  minMru: 576,
  maxMru: 1460,
  authProtocols: ["chap", "pap"],
  proxyLcp: "accept",
  renegotiateOnMismatch: true,
  localAddress: "10.0.0.1",
  dns: [],
  ipv6: false,
  keepaliveSeconds: 30,
  keepaliveMisses: 3,
  restartSeconds: 3,
  maxConfigure: 10,
  maxFailure: 5,
  maxTerminate: 2,
  authTimeoutSeconds: 30,
};

/** The RunConfig FULL_YAML describes. */
const FULL: RunConfig = {
  node: { name: "lns-1", hostName: "lns.test", vendorName: "Example", outgoingCalls: false },
  listen: [
    { address: "127.0.0.1", port: 0 },
    { address: "::1", port: 1701 },
  ],
  admin: { address: "127.0.0.1", port: 0 },
  events: "nats://127.0.0.1:4222",
  eventLog: { kind: "nats", servers: "nats://127.0.0.1:4222" },
  timers: {
    helloSeconds: 0,
    retransmitInitialSeconds: 0.5,
    retransmitCapSeconds: 4,
    maxRetransmits: 3,
    ackDelayMs: 50,
    lockoutSeconds: 10,
    stopCcnHoldSeconds: 5,
    sessionSetupSeconds: 30,
    destructTimeoutSeconds: 60,
    handshakeSeconds: 5,
    maxRetransmitsUnauthenticated: 1,
  },
  limits: {
    maxTunnels: 8,
    maxSessionsPerTunnel: 100,
    receiveWindow: 4,
    maxEndedRecords: 500,
    maxHalfOpenTunnels: 500,
    maxHalfOpenPerAddress: 50,
  },
  destinations: [
    {
      address: "192.0.2.10",
      port: 1701,
      peerHostName: "lac.test",
      secret: "s3cret",
      hostName: "lns-for-lac.test",
      hide: ["assignedSessionId", "callingNumber"],
      accept: false,
      maxTunnels: 2,
      maxSessionsPerTunnel: 10,
      lockoutSeconds: 1.5,
    },
    // IPv6 in the spelling sockets report (RFC 5952), so profiles match by string.
    { address: "2001:db8::1", hide: [], accept: true },
    { secret: "other", hide: [], accept: true },
  ],
  ppp: DEFAULT_PPP,
  pools: [],
  aaa: {
    kind: "radius",
    servers: [
      { address: "127.0.0.1", authPort: 11812, acctPort: 11813, secret: "radsecret" },
      { address: "127.0.0.3", authPort: 1812, acctPort: 1813, secret: "other-secret" },
    ],
    nasIdentifier: "lns.test",
    timeoutSeconds: 0.5,
    retries: 2,
    maxInFlight: 64,
    deadTimeSeconds: 30,
    requireMessageAuthenticator: true,
  },
  accounting: { enabled: true, required: true, interimSeconds: 300 },
};

/** The same file as JSON. */
const FULL_JSON = JSON.stringify({
  node: { name: "lns-1", hostName: "lns.test", vendorName: "Example", outgoingCalls: false },
  listen: [
    { address: "127.0.0.1", port: 0 },
    { address: "::1", port: 1701 },
  ],
  admin: { address: "127.0.0.1", port: 0 },
  events: "nats://127.0.0.1:4222",
  timers: {
    helloSeconds: 0,
    retransmitInitialSeconds: 0.5,
    retransmitCapSeconds: 4,
    maxRetransmits: 3,
    ackDelayMs: 50,
    lockoutSeconds: 10,
    stopCcnHoldSeconds: 5,
    sessionSetupSeconds: 30,
    destructTimeoutSeconds: 60,
    handshakeSeconds: 5,
    maxRetransmitsUnauthenticated: 1,
  },
  limits: {
    maxTunnels: 8,
    maxSessionsPerTunnel: 100,
    receiveWindow: 4,
    maxEndedRecords: 500,
    maxHalfOpenTunnels: 500,
    maxHalfOpenPerAddress: 50,
  },
  destinations: [
    {
      address: "192.0.2.10",
      port: 1701,
      peerHostName: "lac.test",
      secret: "s3cret",
      hostName: "lns-for-lac.test",
      hide: ["assignedSessionId", "callingNumber"],
      accept: false,
      maxTunnels: 2,
      maxSessionsPerTunnel: 10,
      lockoutSeconds: 1.5,
    },
    { address: "2001:DB8:0:0::1" },
    { address: "any", secret: "other" },
  ],
  aaa: {
    radius: {
      servers: [
        { address: "127.0.0.1", authPort: 11812, acctPort: 11813, secret: "radsecret" },
        { address: "127.0.0.3", secret: "other-secret" },
      ],
      timeoutSeconds: 0.5,
      retries: 2,
      maxInFlight: 64,
      deadTimeSeconds: 30,
      requireMessageAuthenticator: true,
    },
  },
  accounting: { enabled: true, required: true, interimSeconds: 300 },
});

function config(result: ConfigResult): RunConfig {
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.errors.join("\n")}`);
  return result.config;
}

function errors(text: string, format: "yaml" | "json" = "yaml"): string[] {
  const result = parseConfig(text, format);
  if (result.ok) throw new Error("expected errors, the config was valid");
  return result.errors;
}

/** A valid minimal file with `extra` YAML appended (top-level sections). */
function withNode(extra: string): string {
  return `node: { name: n }\n${extra}`;
}

describe("valid files", () => {
  test("a full YAML file gives every field as written", () => {
    expect(config(parseConfig(FULL_YAML, "yaml"))).toEqual(FULL);
  });

  test("the same file as JSON gives the same configuration", () => {
    expect(config(parseConfig(FULL_JSON, "json"))).toEqual(FULL);
  });

  test("every default: a file with only node.name", () => {
    expect(config(parseConfig("node:\n  name: lns1\n"))).toEqual({
      node: { name: "lns1", hostName: "lns1", outgoingCalls: false },
      listen: [{ address: "0.0.0.0", port: 1701 }],
      admin: { address: "127.0.0.1", port: 17010 },
      events: "file:./var/events",
      eventLog: { kind: "file", dir: "./var/events" },
      timers: {
        helloSeconds: 60,
        retransmitInitialSeconds: 1,
        retransmitCapSeconds: 8,
        maxRetransmits: 5,
        ackDelayMs: 100,
        lockoutSeconds: 300,
        stopCcnHoldSeconds: 31,
        sessionSetupSeconds: 120,
        destructTimeoutSeconds: 600,
        handshakeSeconds: 10,
        maxRetransmitsUnauthenticated: 2,
      },
      limits: {
        maxTunnels: 65535,
        maxSessionsPerTunnel: 65535,
        receiveWindow: 16,
        maxEndedRecords: 10000,
        maxHalfOpenTunnels: 1024,
        maxHalfOpenPerAddress: 128,
      },
      destinations: [],
      ppp: DEFAULT_PPP,
      pools: [],
      accounting: { enabled: true, required: false, interimSeconds: 0 },
    });
  });

  test("aaa.local: users with their optional authorization", () => {
    const c = config(
      parseConfig(
        withNode(
          "aaa:\n  local:\n    users:\n      - { name: alice, password: pw, framedIpAddress: 10.0.0.5, sessionTimeout: 60 }\n      - { name: bob, password: pw2, framedPool: gold }\n",
        ),
      ),
    );
    expect(c.aaa).toEqual({
      kind: "local",
      users: [
        { name: "alice", password: "pw", framedIpAddress: "10.0.0.5", sessionTimeout: 60 },
        { name: "bob", password: "pw2", framedPool: "gold" },
      ],
    });
  });

  test("ppp and pools: the node's PPP in milliseconds; errors name the field and the fix", () => {
    const yaml = `node: { name: n }
ppp:
  authProtocols: [pap]
  dns: [10.0.0.53, 10.0.0.54]
  ipv6: true
  keepaliveSeconds: 10
  defaultPool: main
pools:
  - { name: main, start: 10.1.0.1, end: 10.1.3.255 }
`;
    const node = toNodeConfig(config(parseConfig(yaml)));
    expect(node.ppp?.lns).toMatchObject({
      authProtocols: ["pap"],
      dns: ["10.0.0.53", "10.0.0.54"],
      ipv6: true,
      restartMs: 3000,
    });
    expect(node.ppp).toMatchObject({
      keepaliveMs: 10_000,
      defaultPool: "main",
      pools: [{ name: "main", start: "10.1.0.1", end: "10.1.3.255" }],
    });
    expect(
      toNodeConfig(config(parseConfig("node: { name: n }\nppp: { enabled: false }\n"))).ppp,
    ).toBeUndefined();
    const errors = (text: string) => {
      const r = parseConfig(text);
      return r.ok ? [] : r.errors;
    };
    expect(errors("node: { name: n }\nppp: { authProtocols: [mschap] }\n").join("\n")).toContain(
      "ppp.authProtocols[0]",
    );
    expect(errors("node: { name: n }\nppp: { defaultPool: nope }\n").join("\n")).toContain(
      'no pool named "nope"',
    );
    expect(
      errors("node: { name: n }\npools: [{ name: a, start: 10.0.0.9, end: 10.0.0.1 }]\n").join("\n"),
    ).toContain("pools[0].end");
    expect(errors("node: { name: n }\nppp: { minMru: 1500, maxMru: 1400 }\n").join("\n")).toContain(
      "ppp.minMru",
    );
  });

  test("the defaults are the machines' and the control channel's own", () => {
    const node = toNodeConfig(config(parseConfig("node: { name: n }")));
    expect(node.channel).toEqual({
      receiveWindow: DEFAULT_CONTROL_CHANNEL_OPTIONS.receiveWindow,
      retransmitInitialMs: DEFAULT_CONTROL_CHANNEL_OPTIONS.retransmitInitialMs,
      retransmitCapMs: DEFAULT_CONTROL_CHANNEL_OPTIONS.retransmitCapMs,
      maxRetransmits: DEFAULT_CONTROL_CHANNEL_OPTIONS.maxRetransmits,
      ackDelayMs: DEFAULT_CONTROL_CHANNEL_OPTIONS.ackDelayMs,
      helloIntervalMs: DEFAULT_CONTROL_CHANNEL_OPTIONS.helloIntervalMs,
    });
    expect(node.lockoutMs).toBe(LOCKOUT_MS);
    expect(node.stopHoldMs).toBe(STOP_CCN_HOLD_MS);
    expect(node.sessionSetupTimeoutMs).toBe(SESSION_SETUP_TIMEOUT_MS);
  });

  test("defaults inside a section fill the keys it leaves out", () => {
    const c = config(
      parseConfig(
        withNode(
          "listen: [{ address: '::' }]\nadmin: { port: 9 }\ntimers: { helloSeconds: 5 }\nlimits: {}\n",
        ),
      ),
    );
    expect(c.listen).toEqual([{ address: "::", port: 1701 }]);
    expect(c.admin).toEqual({ address: "127.0.0.1", port: 9 });
    expect(c.timers.helloSeconds).toBe(5);
    expect(c.timers.retransmitCapSeconds).toBe(8);
    expect(c.limits.receiveWindow).toBe(16);
  });

  test("a section with everything under it commented out means all its defaults", () => {
    const c = config(
      parseConfig(withNode("timers:\n  # helloSeconds: 5\nlimits:\ndestinations:\nlisten:\n")),
    );
    expect(c.timers.helloSeconds).toBe(60);
    expect(c.destinations).toEqual([]);
    expect(c.listen).toEqual([{ address: "0.0.0.0", port: 1701 }]);
  });

  test("events: file, memory and nats targets, read by the event log's own parser", () => {
    const target = (events: string) => config(parseConfig(withNode(`events: "${events}"`))).eventLog;
    expect(target("file:/var/lib/l2tp")).toEqual({ kind: "file", dir: "/var/lib/l2tp" });
    expect(target("memory:")).toEqual({ kind: "memory" });
    expect(target("nats://nats.example:4333")).toEqual({ kind: "nats", servers: "nats://nats.example:4333" });
    expect(target("nats://[::1]")).toEqual({ kind: "nats", servers: "nats://[::1]:4222" });
    // The JetStream stream, as openEventLog and --events take it.
    expect(target("nats://127.0.0.1:4222/L2TP_lab-1")).toEqual({
      kind: "nats",
      servers: "nats://127.0.0.1:4222",
      stream: "L2TP_lab-1",
    });
    // A cluster: several servers and a stream of 3 replicas.
    expect(target("nats://127.0.0.1:4222,127.0.0.1:4223,127.0.0.1:4224/L2TP?replicas=3")).toEqual({
      kind: "nats",
      servers: ["nats://127.0.0.1:4222", "nats://127.0.0.1:4223", "nats://127.0.0.1:4224"],
      stream: "L2TP",
      replicas: 3,
    });
    const bad = parseConfig(withNode('events: "nats://127.0.0.1:4222/L2TP?replicas=9"'));
    expect(bad.ok ? [] : bad.errors).toEqual([
      'config events: expected "file:DIRECTORY", "memory:" or "nats://HOST:PORT[,HOST:PORT…][/STREAM][?replicas=N]", got "nats://127.0.0.1:4222/L2TP?replicas=9"',
    ]);
  });

  test("a byte-order mark before JSON or YAML is ignored", () => {
    expect(config(parseConfig(`\uFEFF${FULL_JSON}`, "json"))).toEqual(FULL);
    expect(config(parseConfig(`\uFEFF${FULL_YAML}`, "yaml"))).toEqual(FULL);
  });

  test("format by extension, else by content", () => {
    expect(detectFormat("a.json", "node: x")).toBe("json");
    expect(detectFormat("a.YAML", "{}")).toBe("yaml");
    expect(detectFormat("a.yml", "{}")).toBe("yaml");
    expect(detectFormat("lns.conf", '  {"node": {}}')).toBe("json");
    expect(detectFormat("lns", "node:\n  name: x\n")).toBe("yaml");
    // JSON is also YAML: a JSON file without the extension still loads through the YAML reader.
    expect(config(parseConfig(FULL_JSON, "yaml"))).toEqual(FULL);
  });
});

describe("toNodeConfig", () => {
  test("seconds become milliseconds, any becomes undefined, empty hide is left out", () => {
    const node = toNodeConfig(FULL);
    expect(node).toEqual({
      name: "lns-1",
      hostName: "lns.test",
      vendorName: "Example",
      outgoingCalls: false,
      destinations: [
        {
          address: "192.0.2.10",
          port: 1701,
          peerHostName: "lac.test",
          secret: "s3cret",
          hostName: "lns-for-lac.test",
          hide: ["assignedSessionId", "callingNumber"],
          accept: false,
          maxTunnels: 2,
          maxSessionsPerTunnel: 10,
          lockoutMs: 1500,
        },
        { address: "2001:db8::1", accept: true },
        { secret: "other", accept: true },
      ],
      channel: {
        receiveWindow: 4,
        retransmitInitialMs: 500,
        retransmitCapMs: 4000,
        maxRetransmits: 3,
        ackDelayMs: 50,
        helloIntervalMs: 0,
      },
      stopHoldMs: 5000,
      lockoutMs: 10_000,
      sessionSetupTimeoutMs: 30_000,
      handshakeTimeoutMs: 5_000,
      maxRetransmitsUnauthenticated: 1,
      maxHalfOpenTunnels: 500,
      maxHalfOpenPerAddress: 50,
      maxTunnels: 8,
      maxSessionsPerTunnel: 100,
      destructTimeoutMs: 60_000,
      maxEndedRecords: 500,
      ppp: {
        lns: {
          mru: 1460,
          minMru: 576,
          maxMru: 1460,
          authProtocols: ["chap", "pap"],
          proxyLcp: "accept",
          renegotiateOnMismatch: true,
          localAddress: "10.0.0.1",
          dns: [],
          ipv6: false,
          restartMs: 3000,
          maxConfigure: 10,
          maxFailure: 5,
          maxTerminate: 2,
          authTimeoutMs: 30_000,
        },
        keepaliveMs: 30_000,
        keepaliveMisses: 3,
        accounting: { enabled: true, required: true, interimMs: 300_000 },
        pools: [],
      },
    });
  });

  test("the profiles match peers as the actors look them up", () => {
    const profiles = resolveProfiles(toNodeConfig(FULL).destinations);
    expect(matchProfile(profiles, { address: "192.0.2.10", port: 1701 })?.peerHostName).toBe("lac.test");
    expect(matchProfile(profiles, { address: "192.0.2.10", port: 5000 })?.secret).toBe("other");
    expect(matchProfile(profiles, { address: "2001:db8::1", port: 40000 })?.secret).toBeUndefined();
    expect(matchProfile(profiles, { address: "198.51.100.1", port: 1701 })?.secretBytes).toEqual(
      new TextEncoder().encode("other"),
    );
  });
});

describe("field errors name the field and the fix", () => {
  test("aaa: one of local or radius, servers with a secret, bounded numbers; a secret never echoed", () => {
    expect(errors(withNode("aaa: {}"))).toEqual([
      "config aaa: expected exactly one of local: or radius:; keep the one this node uses",
    ]);
    const radius = (body: string) => errors(withNode(`aaa:\n  radius:\n${body}`));
    expect(radius("    servers: [{ address: 127.0.0.1 }]\n")).toEqual([
      "config aaa.radius.servers[0].secret: missing; add secret: (the server's clients entry for this NAS)",
    ]);
    expect(radius("    servers: []\n")).toEqual([
      "config aaa.radius.servers: expected at least one server; add one or use aaa.local instead",
    ]);
    const big = radius("    servers: [{ address: 127.0.0.1, secret: s }]\n    maxInFlight: 1000\n");
    expect(big).toEqual([
      "config aaa.radius.maxInFlight: expected an integer 1-256, got 1000; a server has 256 Identifiers per socket (RFC 2865 §3); requests beyond wait in a queue",
    ]);
    const longSecret = radius(`    servers: [{ address: 127.0.0.1, secret: ${"k".repeat(300)} }]\n`);
    expect(longSecret).toEqual([
      "config aaa.radius.servers[0].secret: expected a shared secret of 1-255 bytes, got 300 bytes",
    ]);
    expect(
      errors(withNode("aaa: { local: { users: [{ name: a, password: p }, { name: a, password: q }] } }")),
    ).toEqual(["config aaa.local.users[1]: same name as users[0]; remove one"]);
    expect(errors(withNode("accounting: { interimSeconds: 5 }"))).toEqual([
      "config accounting.interimSeconds: expected 0 (no interim updates) or a number of seconds 60-86400, got 5",
    ]);
  });

  test("a misspelled key: the closest known key is suggested", () => {
    const text = withNode("destinations:\n  - address: 192.0.2.1\n  - address: 192.0.2.2\n    secrett: x\n");
    expect(errors(text)).toEqual(['config destinations[1].secrett: unknown field; did you mean "secret"?']);
  });

  test("another case, kebab-case, snake_case or a missing unit suffix find the one spelling", () => {
    expect(errors("node: { name: n, hostname: h }")).toEqual([
      'config node.hostname: unknown field; did you mean "hostName"?',
    ]);
    expect(errors("node: { name: n, host-name: h }")).toEqual([
      'config node.host-name: unknown field; did you mean "hostName"?',
    ]);
    expect(errors(withNode("timers: { hello: 5, ack_delay_ms: 5 }"))).toEqual([
      'config timers.hello: unknown field; did you mean "helloSeconds"?',
      'config timers.ack_delay_ms: unknown field; did you mean "ackDelayMs"?',
    ]);
    expect(errors(withNode("destination: []"))).toEqual([
      'config destination: unknown field; did you mean "destinations"?',
    ]);
  });

  test("an unknown key with no close match lists the known ones", () => {
    expect(errors(withNode("admin: { address: 127.0.0.1, colour: red }"))).toEqual([
      "config admin.colour: unknown field; known fields: address, port, token",
    ]);
  });

  test("missing required fields say what to add", () => {
    expect(errors("listen: [{ port: 1701 }]\n")).toEqual([
      "config node: missing; add node: with at least name:",
      "config listen[0].address: missing; add address: 0.0.0.0 (or the address to listen on)",
    ]);
    expect(errors("node: { hostName: x }\ndestinations: [{ port: 1701 }]")).toEqual([
      "config node.name: missing; add name: with this node's name (letters, digits, - or _)",
      'config destinations[0].address: missing; add address: with the peer\'s IP address, or "any"',
    ]);
  });

  test("wrong types: what was expected, what was found, and how to write it", () => {
    expect(
      errors(
        withNode(
          'listen: [{ address: 0.0.0.0, port: "1701" }]\nadmin: 5\ntimers: []\ndestinations:\n  - { address: 192.0.2.1, accept: yes, hide: assignedSessionId }\n',
        ),
      ),
    ).toEqual([
      "config listen[0].port: expected a port number 0-65535 (0 picks a free port), got a string; remove the quotes",
      "config admin: expected a map with keys address, port, token, got 5",
      "config timers: expected a map with keys helloSeconds, retransmitInitialSeconds, retransmitCapSeconds, maxRetransmits, ackDelayMs, lockoutSeconds, stopCcnHoldSeconds, sessionSetupSeconds, destructTimeoutSeconds, handshakeSeconds, maxRetransmitsUnauthenticated, got a list",
      "config destinations[0].hide: expected a list of AVP names, got a string",
      "config destinations[0].accept: expected true or false, got a string; write true or false, without quotes",
    ]);
  });

  test("a secret is never echoed, even when it is a number", () => {
    const secret = "TOPSECRET-".repeat(30);
    const lines = [
      ...errors(withNode("destinations:\n  - { address: 192.0.2.1, secret: 987654321 }")),
      ...errors(withNode(`destinations:\n  - { address: 192.0.2.1, secret: "${secret}" }`)),
      ...errors(withNode("destinations:\n  - { address: 192.0.2.1, secret: '' }")),
    ];
    expect(lines).toEqual([
      "config destinations[0].secret: expected a string of 1-255 bytes, got a number; put it in quotes",
      "config destinations[0].secret: expected a string of 1-255 bytes, got 300 bytes",
      "config destinations[0].secret: expected a string of 1-255 bytes, got an empty string",
    ]);
  });

  test("a secret is counted in bytes, not characters", () => {
    const ok = "é".repeat(127); // 254 bytes
    const tooLong = "é".repeat(128); // 256 bytes
    expect(parseConfig(withNode(`destinations: [{ address: any, secret: "${ok}" }]`)).ok).toBe(true);
    expect(errors(withNode(`destinations: [{ address: any, secret: "${tooLong}" }]`))).toEqual([
      "config destinations[0].secret: expected a string of 1-255 bytes, got 256 bytes",
    ]);
  });

  test("ports: 1-65535 for peers, 0-65535 where we listen, integers only", () => {
    expect(
      errors(
        withNode(
          "listen: [{ address: 0.0.0.0, port: 70000 }]\nadmin: { port: 17010.5 }\ndestinations: [{ address: 192.0.2.1, port: 0 }]",
        ),
      ),
    ).toEqual([
      "config listen[0].port: expected a port number 0-65535 (0 picks a free port), got 70000",
      "config admin.port: expected a port number 0-65535 (0 picks a free port), got 17010.5",
      "config destinations[0].port: expected a port number 1-65535, got 0",
    ]);
  });

  test('addresses: IPv4 or IPv6, and "any" only for a destination', () => {
    expect(
      errors(
        withNode(
          "listen: [{ address: any }, { address: localhost }]\ndestinations: [{ address: 10.0.0.256 }, { address: '01.2.3.4' }]",
        ),
      ),
    ).toEqual([
      'config listen[0].address: expected an IPv4 or IPv6 address such as 0.0.0.0, 127.0.0.1 or ::, got "any"',
      'config listen[1].address: expected an IPv4 or IPv6 address such as 0.0.0.0, 127.0.0.1 or ::, got "localhost"',
      'config destinations[0].address: expected an IPv4 or IPv6 address, or "any" to match every peer, got "10.0.0.256"',
      'config destinations[1].address: expected an IPv4 or IPv6 address, or "any" to match every peer, got "01.2.3.4"',
    ]);
  });

  test("node name, host names, events", () => {
    expect(
      errors(`node: { name: "lns 1", hostName: "", vendorName: "${"v".repeat(256)}" }\nevents: kafka://x`),
    ).toEqual([
      'config node.name: expected a name of 1-64 letters, digits, "-" or "_", got "lns 1"',
      "config node.hostName: expected a host name of 1-255 bytes, got an empty string",
      "config node.vendorName: expected a vendor name of 1-255 bytes, got 256 bytes",
      'config events: expected "file:DIRECTORY", "memory:" or "nats://HOST:PORT[,HOST:PORT…][/STREAM][?replicas=N]", got "kafka://x"',
    ]);
    expect(errors(withNode('events: "file:"')).length).toBe(1);
    expect(errors(withNode('events: "nats://host:4222/a/b"')).length).toBe(1);
    expect(errors(withNode('events: "nats://host:4222/bad.stream"')).length).toBe(1);
  });

  test("timers: hello is 0 or at least 1 s; ranges; the ack delay says why", () => {
    expect(
      errors(
        withNode(
          "timers: { helloSeconds: 0.5, retransmitInitialSeconds: 0, maxRetransmits: 2.5, ackDelayMs: 5000, lockoutSeconds: -1, sessionSetupSeconds: .inf }",
        ),
      ),
    ).toEqual([
      "config timers.helloSeconds: expected 0 (no HELLO) or a number of seconds 1-86400, got 0.5",
      "config timers.retransmitInitialSeconds: expected a number of seconds 0.01-60, got 0",
      "config timers.maxRetransmits: expected an integer 0-100, got 2.5",
      "config timers.ackDelayMs: expected an integer number of milliseconds 0-1000, got 5000; keep it well below the peer's retransmission time (1 s)",
      "config timers.lockoutSeconds: expected a number of seconds 0-86400 (0: no lockout), got -1",
      "config timers.sessionSetupSeconds: expected a number of seconds 1-3600, got Infinity",
    ]);
  });

  test("the retransmission cap may not be below the initial interval", () => {
    expect(errors(withNode("timers: { retransmitInitialSeconds: 2, retransmitCapSeconds: 1 }"))).toEqual([
      "config timers.retransmitCapSeconds: expected at least retransmitInitialSeconds (2), got 1; raise it or lower retransmitInitialSeconds",
    ]);
    expect(parseConfig(withNode("timers: { retransmitInitialSeconds: 2, retransmitCapSeconds: 2 }")).ok).toBe(
      true,
    );
  });

  test("limits are 1-65535", () => {
    expect(
      errors(withNode("limits: { maxTunnels: 0, maxSessionsPerTunnel: 65536, receiveWindow: 0 }")),
    ).toEqual([
      "config limits.maxTunnels: expected an integer 1-65535, got 0",
      "config limits.maxSessionsPerTunnel: expected an integer 1-65535, got 65536",
      "config limits.receiveWindow: expected an integer 1-65535, got 0",
    ]);
  });

  test("hide: unknown names get a suggestion and the valid list; some AVPs may not be hidden", () => {
    const valid = `AVPs that can be hidden: ${HIDEABLE_AVPS.join(", ")}`;
    expect(
      errors(
        withNode(
          "destinations:\n  - { address: any, secret: s, hide: [assignedTunnelID, hostName, bogus, callingNumber] }",
        ),
      ),
    ).toEqual([
      `config destinations[0].hide[0]: unknown AVP "assignedTunnelID"; did you mean "assignedTunnelId"? (${valid})`,
      `config destinations[0].hide[1]: "hostName" may not be hidden (RFC 2661 §4.4.3); remove it (${valid})`,
      `config destinations[0].hide[2]: unknown AVP "bogus"; use one of the ${valid}`,
    ]);
    expect(HIDEABLE_AVPS).toContain("assignedSessionId");
    expect(HIDEABLE_AVPS).not.toContain("randomVector");
  });

  test("hide needs a secret", () => {
    expect(errors(withNode("destinations:\n  - { address: 192.0.2.1, hide: [callingNumber] }"))).toEqual([
      "config destinations[0].hide: hiding AVPs needs a shared secret (RFC 2661 §4.3: the secret keys the hiding); add secret: to this destination or remove hide:",
    ]);
  });

  test("one profile per peer: duplicates, and entries an earlier one hides", () => {
    const text = withNode(`destinations:
  - { address: 192.0.2.1, port: 1701 }
  - { address: 192.0.2.1, port: 1701 }
  - { address: 192.0.2.2 }
  - { address: 192.0.2.2, port: 9 }
  - { address: "2001:db8::1" }
  - { address: "2001:DB8:0::1" }
  - { address: any, port: 1701 }
  - { address: 192.0.2.3, port: 1701 }
  - { address: 192.0.2.3, port: 1702 }
`);
    expect(errors(text)).toEqual([
      "config destinations[1]: same peer as destinations[0] (192.0.2.1, port 1701); merge the two or remove one",
      "config destinations[3]: never used: destinations[2] (192.0.2.2, any port) matches its peers first; move it above destinations[2]",
      "config destinations[5]: same peer as destinations[4] (2001:DB8:0::1, any port); merge the two or remove one",
      "config destinations[7]: never used: destinations[6] (any address, port 1701) matches its peers first; move it above destinations[6]",
    ]);
  });

  test("listen: at least one, no duplicates", () => {
    expect(errors(withNode("listen: []"))).toEqual([
      "config listen: expected at least one { address, port } to listen on; add one or remove listen:",
    ]);
    expect(errors(withNode("listen: [{ address: '::' }, { address: '0:0::0', port: 1701 }]"))).toEqual([
      "config listen[1]: same address and port as listen[0]; remove one",
    ]);
    // Port 0 twice is two different free ports.
    expect(
      parseConfig(withNode("listen: [{ address: '::1', port: 0 }, { address: '::1', port: 0 }]")).ok,
    ).toBe(true);
  });

  test("every error of a file is reported at once, in file order", () => {
    const lines = errors(`node: { name: "a b" }
listen: [{ address: x }]
timers: { helloSeconds: -1, retransmitCapSeconds: "8" }
destinations:
  - { address: y, port: 0, secrett: s }
  - { address: 192.0.2.1, hide: [nope] }
`);
    expect(lines.map((l) => l.slice(0, l.indexOf(":", 7)))).toEqual([
      "config node.name",
      "config listen[0].address",
      "config timers.helloSeconds",
      "config timers.retransmitCapSeconds",
      "config destinations[0].secrett",
      "config destinations[0].address",
      "config destinations[0].port",
      "config destinations[1].hide[0]",
    ]);
  });

  test("a long value is cut short, a long key too", () => {
    const long = "a".repeat(100);
    expect(errors(withNode(`listen: [{ address: ${long} }]\ntimers: { ${long}: 1 }`))).toEqual([
      `config listen[0].address: expected an IPv4 or IPv6 address such as 0.0.0.0, 127.0.0.1 or ::, got "${"a".repeat(64)}…"`,
      `config timers.${"a".repeat(64)}…: unknown field; known fields: helloSeconds, retransmitInitialSeconds, retransmitCapSeconds, maxRetransmits, ackDelayMs, lockoutSeconds, stopCcnHoldSeconds, sessionSetupSeconds, destructTimeoutSeconds, handshakeSeconds, maxRetransmitsUnauthenticated`,
    ]);
  });

  test("a path segment that is not a plain name is quoted", () => {
    expect(errors(withNode('timers: { "hello seconds": 1 }'))).toEqual([
      'config timers["hello seconds"]: unknown field; did you mean "helloSeconds"?',
    ]);
  });
});

describe("file-level errors", () => {
  test("an empty file, or only comments", () => {
    const empty =
      "config: the file is empty; add node: with name: (adapters/config/example.yaml shows every setting)";
    expect(errors("")).toEqual([empty]);
    expect(errors("# nothing yet\n")).toEqual([empty]);
    expect(errors("null", "json")).toEqual([empty]);
  });

  test("a document that is not a map", () => {
    expect(errors("- node\n")).toEqual([
      "config: expected a map with keys node, listen, admin, events, timers, limits, destinations, ppp, pools, aaa, accounting, lac, got a list",
    ]);
  });

  test("YAML syntax errors give line and column, and a fix", () => {
    expect(errors("node:\n  name: a\n\tlisten: []\n")).toEqual([
      "config line 3, column 1: Tabs are not allowed as indentation; indent with spaces",
    ]);
    expect(errors("node:\n  name: a\nnode:\n  name: b\n")).toEqual([
      "config line 3, column 1: Map keys must be unique; remove one of the two",
    ]);
    expect(errors("node: { name: a }\n---\nnode: { name: b }\n")).toEqual([
      "config line 2, column 1: Source contains multiple documents; please use YAML.parseAllDocuments(); keep one document per file (remove the ---)",
    ]);
    const [unclosed] = errors('node: { name: "a }\n');
    expect(unclosed).toStartWith("config line 2, column 1: ");
    expect(unclosed).toContain("quote");
  });

  test("YAML that does not say what it seems to: unknown tags, unresolved aliases", () => {
    expect(errors("node: { name: !secret a }\n")).toEqual([
      "config line 1, column 15: Unresolved tag: !secret; remove the tag",
    ]);
    expect(errors("node: *missing\n")).toEqual([
      "config: Unresolved alias (the anchor must be set before the alias): missing; fix the YAML aliases",
    ]);
  });

  test("JSON syntax errors give line and column, the same on every runtime", () => {
    expect(errors('{\n  "node": { "name": "a" },\n  "listen": [1 2]\n}', "json")).toEqual([
      'config line 3, column 16: invalid JSON, unexpected "2"; fix the JSON syntax there',
    ]);
    expect(errors('{"node": {"name": "a",}}', "json")).toEqual([
      'config line 1, column 23: invalid JSON, unexpected "}"; fix the JSON syntax there',
    ]);
    expect(errors('{"node": {"name": "a"}', "json")).toEqual([
      "config line 1, column 23: invalid JSON, the text ends too early; fix the JSON syntax there",
    ]);
    expect(errors('{"a": "\\q"}', "json")).toEqual([
      'config line 1, column 9: invalid JSON, unexpected "q"; fix the JSON syntax there',
    ]);
  });
});

describe("loadConfig", () => {
  const dir = mkdtempSync(join(tmpdir(), "l2tp-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  test("the shipped example loads without error", async () => {
    const example = new URL("../../../adapters/config/example.yaml", import.meta.url).pathname;
    const c = config(await loadConfig(example));
    expect(c.node.name).toBe("lns1");
    expect(c.destinations.length).toBeGreaterThan(1);
    expect(c.destinations.some((d) => d.hide.length > 0)).toBe(true);
  });

  test("YAML and JSON by extension, and by content without one", async () => {
    expect(config(await loadConfig(write("lns.yaml", FULL_YAML)))).toEqual(FULL);
    expect(config(await loadConfig(write("lns.json", FULL_JSON)))).toEqual(FULL);
    expect(config(await loadConfig(write("lns-json", FULL_JSON)))).toEqual(FULL);
    expect(config(await loadConfig(write("lns-yaml", FULL_YAML)))).toEqual(FULL);
  });

  test("a .json file is read as JSON: YAML in it is a JSON syntax error", async () => {
    const result = await loadConfig(write("wrong.json", FULL_YAML));
    expect(result).toEqual({
      ok: false,
      errors: ['config line 1, column 1: invalid JSON, unexpected "#"; fix the JSON syntax there'],
    });
  });

  test("a missing file, a directory, a huge file", async () => {
    const missing = join(dir, "nope.yaml");
    expect(await loadConfig(missing)).toEqual({
      ok: false,
      errors: [`config ${missing}: no such file; check the path given to --config`],
    });
    expect(await loadConfig(dir)).toEqual({
      ok: false,
      errors: [`config ${dir}: is a directory; give the path of a .yaml or .json file to --config`],
    });
    const huge = write("huge.yaml", `# ${"x".repeat(1024 * 1024)}\n`);
    const result = await loadConfig(huge);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toContain("too large for a configuration file");
  });
});

describe("lac: the domain map and RADIUS groups", () => {
  const base = "node: { name: lac }\n";
  test("the example's domain map reaches the node: groups with their tunnels, terminate, default route", async () => {
    const example = new URL("../../../adapters/config/example.yaml", import.meta.url).pathname;
    const lac = toNodeConfig(config(await loadConfig(example))).lac;
    expect(lac?.domainSeparator).toBe("@");
    const isp = lac?.domains.get("isp.example");
    expect(isp?.kind === "tunnel" && isp.group).toMatchObject({
      name: "isp.example",
      failoverWithinPreference: true,
      proxyAvps: true,
      tunnels: [
        {
          peer: { address: "192.0.2.20", port: 1701 },
          preference: 0,
          maxSessions: 1000,
          assignmentId: "a",
          secret: new TextEncoder().encode("lns-secret"),
          clientAuthId: "lac.test",
          serverAuthId: "lns.test",
        },
        { peer: { address: "192.0.2.21", port: 1701 }, preference: 1, maxSessions: 0 },
      ],
    });
    expect(lac?.domains.get("local.example")).toEqual({ kind: "terminate" });
    expect(lac?.defaultRoute).toBe(isp);
    expect(lac?.radiusGroup).toEqual({
      weightedLoadBalancing: false,
      failoverWithinPreference: false,
      proxyAvps: true,
      maxSessions: 0,
    });
  });

  test("errors name the field and the fix", () => {
    const errors = (yaml: string) => {
      const r = parseConfig(base + yaml);
      return r.ok ? [] : r.errors;
    };
    expect(
      errors("lac: { domains: [{ domain: a, tunnels: [{ address: 10.0.0.1, preference: 9 }] }] }"),
    ).toEqual([
      "config lac.domains[0].tunnels[0].preference: expected an integer 0-7 (0 the most preferred), got 9",
    ]);
    expect(errors("lac: { domains: [{ domain: a }] }")[0]).toContain(
      "lac.domains[0].tunnels: expected at least one tunnel; add one, or terminate: true",
    );
    expect(
      errors("lac: { domains: [{ domain: a, terminate: true, tunnels: [{ address: 10.0.0.1 }] }] }")[0],
    ).toContain("lac.domains[0].tunnels: a terminated domain has no tunnels");
    expect(
      errors("lac: { domains: [{ domain: a, terminate: true }, { domain: A, terminate: true }] }")[0],
    ).toContain("lac.domains[1]: same domain as domains[0]");
    expect(errors("lac: { defaultDomain: b, domains: [{ domain: a, terminate: true }] }")[0]).toContain(
      'lac.defaultDomain: no domain "b" in domains:; domains are: a',
    );
    expect(errors("lac: { domains: [{ domain: a, tunnels: [{ address: lns.example }] }] }")[0]).toContain(
      "lac.domains[0].tunnels[0].address: expected an IPv4 address",
    );
    expect(errors("lac: { stripDomian: true }")[0]).toContain("stripDomain");
  });
});
