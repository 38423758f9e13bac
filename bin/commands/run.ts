/**
 * `l2tp run --config FILE`: a node that is LAC, LNS or both, on the UDP addresses of its config, with
 * its admin API on loopback. SIGINT or SIGTERM closes it gracefully (a StopCCN on every tunnel, the
 * RFC 2661 §5.7 hold), a second signal exits at once.
 */

import { readFileSync } from "node:fs";
import process from "node:process";
import { createNode } from "../../actors/node.ts";
import type { Transport } from "../../actors/ports.ts";
import { openAaa } from "../../adapters/aaa/index.ts";
import { adminTokenFile } from "../../adapters/admin/access.ts";
import { createNodeMetrics } from "../../adapters/admin/metrics.ts";
import { startAdminServer } from "../../adapters/admin/server.ts";
import { describeAllocator } from "../../adapters/allocator/index.ts";
import { realClock } from "../../adapters/clock/index.ts";
import { loadConfig, toNodeConfig } from "../../adapters/config/index.ts";
import { EchoDataPlane } from "../../adapters/dataplane/index.ts";
import { createInspector, inspectorUrl } from "../../adapters/inspector/index.ts";
import { StatelyBridge, statelyRoutes, withStately } from "../../adapters/inspector/stately.ts";
import { spareTopTier } from "../../adapters/jit/index.ts";
import { cryptoRandom } from "../../adapters/random/index.ts";
import { bindUdp, receiveBufferWarning } from "../../adapters/udp/index.ts";
import { DEFAULT_TAKEOVER_AFTER_MS, HEARTBEAT_MS } from "../../events/standby.ts";
import { cause } from "../../machines/common.ts";
import { L2TP, parseCommandArgs, wholeNumber } from "./cli.ts";
import type { Command } from "./index.ts";
import { runLab } from "./lab.ts";
import { openRecording, type Recording, summaryText } from "./recording.ts";
import { runStandby } from "./standby.ts";

/** The largest warm-up: 20,000 calls take a few seconds of CPU; more gains nothing measured. */
const MAX_WARM_UP = 20_000;

const HELP = `usage: ${L2TP} run --config FILE [--events ADDRESS] [--inspect-actions] [--standby [--takeover-after SECONDS]]

Runs a node (LAC, LNS or both) as the configuration file says; adapters/config/example.yaml shows every
key with its default. The admin API (${L2TP} show, drain, enable, shutdown, close, dial) listens on the
config's admin address (default 127.0.0.1:17010). SIGINT/SIGTERM: graceful close; twice: exit at once.

Every state transition is recorded in the event log (${L2TP} replay reads it); while the log cannot keep
up, new tunnels and sessions are refused (RFC 2661 result codes for insufficient resources).
  --events A   file:DIR, memory: or nats://HOST:PORT[,HOST:PORT…][/STREAM][?replicas=N]; overrides the config's events

The inspector page (the live tree, statecharts, the event stream) is served by the admin API at
/inspector/; the node does no inspection work while no page is open.
  --inspect-actions   let the page drain, shut down, enable and close (default: it only looks)
For development, '${L2TP} stately' sends one actor's inspection events to a Stately inspector (off until asked).

  --warm-up N  before binding, run N synthetic calls (with PPP when the node runs it) through a LAC and an
               LNS in this process on loopback, so that a reconnect storm meets compiled code; a
               --standby does it before it follows, so that it takes over warm
               (0-${MAX_WARM_UP.toLocaleString("en-US")}; default 0; the log says what it did)

A running node records a heartbeat every second. With --standby the node binds no L2TP address: it
follows the events of the node of the same name (the primary, same config file) and takes over its
tunnels and sessions, on the same addresses and at the recorded sequence numbers, on '${L2TP}
takeover --admin URL' or when the primary has been silent for --takeover-after seconds (default 3; 0: only on
command). The admin address must differ from the primary's (port 0 picks a free one).
`;

/**
 * Runs `calls` synthetic calls (with PPP subscribers when the node runs PPP) through a lab LAC and LNS in
 * this process, on ephemeral loopback ports that no peer knows, recording nothing, before the node
 * starts: the JIT compiles the code a reconnect storm needs before the storm (issue 13: a cold process
 * spent as much CPU compiling as working; 2,000 calls took the LNS's cold CPU per call at 5,000 × 10 from 68-86 to 36-52 µs (median 42, six runs), bench/lns-load).
 * Bounded and said in the log.
 */
async function warmUpCode(calls: number, ppp: boolean): Promise<void> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const report = await runLab({
    sessions: calls,
    tunnels: Math.min(10, calls),
    holdMs: 0,
    window: 1000,
    ppp,
  });
  const used = process.cpuUsage(cpu);
  process.stderr.write(
    `l2tp run: warm-up: ${report.established} synthetic calls${ppp ? " with PPP" : ""} through a LAC and an LNS in this process on loopback (no peer sees them) in ${Math.round(performance.now() - started)} ms, ${Math.round((used.user + used.system) / 1000)} ms of CPU${report.ok ? "" : `; problems: ${report.problems.join("; ")}`}\n`,
  );
}

export const run: Command = {
  summary: "run a node (LAC, LNS or both) from a YAML or JSON config file",
  async run(argv) {
    const { values } = parseCommandArgs("run", {
      args: argv,
      options: {
        config: { type: "string" },
        events: { type: "string" },
        standby: { type: "boolean", default: false },
        "inspect-actions": { type: "boolean", default: false },
        "takeover-after": { type: "string" },
        "warm-up": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help || !values.config) {
      process.stdout.write(HELP);
      return values.help ? 0 : 2;
    }
    const loaded = await loadConfig(values.config);
    if (!loaded.ok) {
      for (const e of loaded.errors) process.stderr.write(`${e}\n`);
      return 2;
    }
    const config = loaded.config;
    const name = config.node.name;
    const address = values.events ?? config.events;
    const warmUp =
      values["warm-up"] === undefined ? 0 : wholeNumber("--warm-up", values["warm-up"], 0, MAX_WARM_UP);
    // A standby warms up before it follows: it takes over, and meets the LACs' retries, with compiled code.
    if (warmUp > 0) await warmUpCode(warmUp, config.ppp.enabled);
    if (values.standby) {
      const after = Number(values["takeover-after"] ?? DEFAULT_TAKEOVER_AFTER_MS / 1000);
      if (!Number.isFinite(after) || after < 0) {
        process.stderr.write("--takeover-after: expected seconds (0 or more)\n");
        return 2;
      }
      return runStandby(config, {
        configPath: values.config,
        events: address,
        takeoverAfterMs: after * 1000,
      });
    }
    let recording: Recording;
    try {
      recording = await openRecording(address, {
        clock: realClock,
        onBackpressure: (_node, on) =>
          process.stderr.write(
            on
              ? `l2tp run: the event log ${recording.where} cannot keep up: refusing new tunnels and sessions until it does\n`
              : `l2tp run: the event log ${recording.where} caught up: accepting new tunnels and sessions again\n`,
          ),
      });
    } catch (err) {
      throw new Error(`cannot open the event log ${address}: ${(err as Error).message}`);
    }
    const transports: Transport[] = [];
    const metrics = createNodeMetrics(realClock);
    const bufferWarning = receiveBufferWarning();
    if (bufferWarning) process.stderr.write(`l2tp run: warning: ${bufferWarning}\n`);
    try {
      for (const l of config.listen) transports.push(metrics.countTransport(await bindUdp(l)));
    } catch (err) {
      for (const t of transports) await t.close();
      await recording.close();
      throw new Error(`cannot bind the listen addresses of ${values.config}: ${(err as Error).message}`);
    }
    const recorded = recording.forNode(name);
    // The config's aaa section: local users or RADIUS servers (adapters/aaa); none: nobody authenticated.
    const aaa = config.aaa ? openAaa(config.aaa, { clock: realClock, random: cryptoRandom }) : undefined;
    // The Stately bridge follows nothing until `l2tp stately` asks (adapters/inspector/stately.ts).
    const stately = new StatelyBridge({
      onEnd: (why) => process.stderr.write(`l2tp run: stately: ${why}; following nothing now\n`),
    });
    void spareTopTier(); // adapters/jit: the engine kept out of JSC's top tier (Bun)
    const node = createNode(toNodeConfig(config), {
      transport: transports,
      clock: realClock,
      random: cryptoRandom,
      inspect: withStately(stately, (event) => {
        recorded.inspect(event);
        metrics.inspect(event);
      }),
      admit: recorded.admit,
      // A subscriber's ping to the LNS's own PPP address is answered; other IP is counted (no TUN yet).
      dataPlane: new EchoDataPlane(),
      ...(aaa ? { aaa } : {}),
    });
    void node.closed.then(() => aaa?.close());
    recorded.attach(node);
    stately.attach(node);
    void node.closed.then(() => stately.stop("the node closed"));
    // A standby following this node's events takes its silence for death (events/standby.ts).
    const heartbeat = setInterval(() => node.heartbeat(), HEARTBEAT_MS);
    void node.closed.then(() => clearInterval(heartbeat));
    let admin: Awaited<ReturnType<typeof startAdminServer>> | undefined;
    const inspector = createInspector({
      mode: "live",
      log: recording.log,
      feed: recording,
      nodes: [node],
      actions: values["inspect-actions"],
    });
    void node.closed.then(() => inspector.close());
    const statelyApi = statelyRoutes(stately);
    try {
      admin = await startAdminServer(node, config.admin, {
        ...(config.admin.token === undefined ? {} : { token: config.admin.token }),
        routes: async (req, res) => (await inspector.handle(req, res)) || statelyApi(req, res),
        metrics: () =>
          metrics.render(node.snapshot({ sessions: true }), recorded.recorder.stats, aaa?.stats()),
      });
    } catch (err) {
      await node.close(cause("internal", "the admin API could not start"));
      for (const t of transports) await t.close();
      await recording.close();
      throw err;
    }
    // Signals are handled before the ready line: whoever waits for that line may send one at once.
    let signals = 0;
    const onSignal = (signal: string) => {
      signals++;
      if (signals > 1) process.exit(130);
      process.stdout.write(`l2tp run: ${signal}: closing every tunnel (again to exit at once)\n`);
      void node.close(cause("admin", `node stopped by ${signal}`));
    };
    process.on("SIGINT", () => onSignal("SIGINT"));
    process.on("SIGTERM", () => onSignal("SIGTERM"));
    const where = transports.map((t) => `${t.local.address}:${t.local.port}`).join(", ");
    process.stdout.write(
      `l2tp run: allocator: ${describeAllocator()}\n` +
        `l2tp run: node ${name} (${config.node.hostName}) on UDP ${where}; events ${recording.where}; admin API ${admin.url}\n` +
        `l2tp run: inspector ${inspectorUrl(admin.url, values["inspect-actions"] ? adminToken(config.admin.token, admin.url) : undefined)}\n`,
    );

    const why = await node.closed;
    await admin.close();
    for (const t of transports) await t.close();
    process.stdout.write(`l2tp run: node ${name} closed: ${why.message}\n`);
    const summary = await recording.close();
    process.stdout.write(`l2tp run: ${summaryText(summary)}\n`);
    return summary.unstored > 0 ? 1 : 0;
  },
};

/** The admin token of the API at `url`: the configured one, else the one the node wrote to its file (access.ts). */
function adminToken(configured: string | undefined, url: string): string | undefined {
  if (configured !== undefined) return configured;
  const { hostname, port } = new URL(url);
  try {
    return readFileSync(adminTokenFile(hostname.replace(/^\[|\]$/g, ""), Number(port)), "utf8").trim();
  } catch {
    return undefined;
  }
}
