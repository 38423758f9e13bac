/**
 * `l2tp run --config FILE --standby --events nats://…`: a standby of the primary that runs the same
 * configuration (issue 4, silent failover). It binds nothing of L2TP; it follows the primary's events
 * (events/standby.ts) and serves its admin API. On `l2tp takeover` (POST /v1/takeover), or when the
 * primary has been silent for `--takeover-after` seconds (a live primary records a heartbeat every
 * second), it rebuilds the primary's tunnels and sessions from the log (actors/restore.ts), binds the
 * configuration's UDP addresses, and resumes them at the recorded Ns/Nr: the peers do not notice.
 *
 * `l2tp takeover [--admin URL]`: tells a standby to take over now.
 *
 * Limit (also in actors/restore.ts): envelopes are appended asynchronously, so a primary killed with -9
 * can lose its last few; a tunnel that was idle before the kill is complete in the log.
 */
import process from "node:process";
import { createNode, type L2tpNode } from "../../actors/node.ts";
import type { Transport } from "../../actors/ports.ts";
import { planSize, type RestorePlan, restorePlan } from "../../actors/restore.ts";
import { clientAdminToken } from "../../adapters/admin/access.ts";
import type { AdminServer } from "../../adapters/admin/server.ts";
import { startStandbyAdminServer } from "../../adapters/admin/standby.ts";
import { realClock } from "../../adapters/clock/index.ts";
import type { RunConfig } from "../../adapters/config/index.ts";
import { toNodeConfig } from "../../adapters/config/index.ts";
import { openEventLog } from "../../adapters/event-log/index.ts";
import { spareTopTier } from "../../adapters/jit/index.ts";
import { cryptoRandom } from "../../adapters/random/index.ts";
import { bindUdp } from "../../adapters/udp/index.ts";
import { followPrimary, HEARTBEAT_MS, type PrimaryFollower } from "../../events/standby.ts";
import { cause } from "../../machines/common.ts";
import { DEFAULT_ADMIN_URL } from "./admin.ts";
import { L2TP, parseCommandArgs } from "./cli.ts";
import type { Command } from "./index.ts";
import { openRecording, type Recording, summaryText } from "./recording.ts";

/** What `l2tp run --standby` needs besides the configuration. */
export interface StandbyOptions {
  /** The config file, for messages. */
  configPath: string;
  /** The event log address the primary records to. */
  events: string;
  /** Silence before a takeover, ms; 0: only on command. */
  takeoverAfterMs: number;
}

/** What a takeover resumed. */
export interface TakeoverResult {
  ok: true;
  reason: string;
  tunnels: number;
  sessions: number;
  skipped: string[];
  /** The seq of the primary's last envelope the standby had. */
  lastSeq: number;
}

/** Runs a standby until it has taken over and the node it became has closed (or a signal before). */
export async function runStandby(config: RunConfig, options: StandbyOptions): Promise<number> {
  const name = config.node.name;
  const log = await openEventLog(options.events).catch((err: Error) => {
    throw new Error(`cannot open the event log ${options.events}: ${err.message}`);
  });
  let role: "standby" | "taking-over" | "active" = "standby";
  let node: L2tpNode | undefined;
  let takeover: Promise<TakeoverResult> | undefined;
  let recording: Recording | undefined;
  let transports: Transport[] = [];
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let admin: AdminServer | undefined;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });

  const follower: PrimaryFollower = followPrimary({
    log,
    node: name,
    clock: realClock,
    takeoverAfterMs: options.takeoverAfterMs,
    onSilent: (ms) => void takeOver(`primary silent for ${ms} ms`).catch(failed),
    onError: (err) =>
      process.stderr.write(`l2tp run: standby: following ${log.description} failed: ${String(err)}\n`),
  });

  /**
   * A takeover that failed (the address still in use: is the primary alive?) ends the standby: it has
   * stopped following, and half-bound sockets would not make a node. Both the process and the admin
   * answer say so.
   */
  let failedOnce = false;
  const failed = (err: unknown): void => {
    if (failedOnce) return;
    failedOnce = true;
    process.stderr.write(`l2tp run: ${takeoverFailure(err)}\n`);
    void (async () => {
      clearInterval(heartbeat);
      if (node) await node.close(cause("internal", "takeover failed"));
      for (const t of transports) await t.close();
      await recording?.close().catch(() => undefined);
      await admin?.close();
      await log.close().catch(() => undefined);
      finish(1);
    })();
  };

  const takeOver = (reason: string): Promise<TakeoverResult> => {
    takeover ??= (async () => {
      role = "taking-over";
      const tree = await follower.stop();
      const view = tree.nodes[name];
      const plan: RestorePlan = view
        ? restorePlan(view)
        : { node: name, admin: "enabled", destinations: [], skipped: [] };
      recording = await openRecording(options.events, {
        clock: realClock,
        onBackpressure: (_node, on) =>
          process.stderr.write(
            on
              ? "l2tp run: the event log cannot keep up: refusing new tunnels and sessions until it does\n"
              : "l2tp run: the event log caught up: accepting new tunnels and sessions again\n",
          ),
      });
      transports = await bindAll(config, options.configPath);
      const recorded = recording.forNode(name);
      void spareTopTier(); // adapters/jit: the engine kept out of JSC's top tier (Bun)
      node = createNode(toNodeConfig(config), {
        transport: transports,
        clock: realClock,
        random: cryptoRandom,
        inspect: recorded.inspect,
        admit: recorded.admit,
        restore: plan,
      });
      recorded.attach(node);
      heartbeat = setInterval(() => node?.heartbeat(), HEARTBEAT_MS);
      role = "active";
      const size = planSize(plan);
      const where = transports.map((t) => `${t.local.address}:${t.local.port}`).join(", ");
      process.stdout.write(
        `l2tp run: took over from ${name} (${reason}) on UDP ${where}: ${size.tunnels} tunnels, ${size.sessions} sessions resumed${plan.skipped.length ? `; not resumed: ${plan.skipped.join("; ")}` : ""}\n`,
      );
      const active = node;
      void active.closed.then(async (why) => {
        clearInterval(heartbeat);
        await admin?.close();
        for (const t of transports) await t.close();
        process.stdout.write(`l2tp run: node ${name} closed: ${why.message}\n`);
        const summary = await recording?.close();
        await log.close().catch(() => undefined);
        if (summary) process.stdout.write(`l2tp run: ${summaryText(summary)}\n`);
        finish(summary && summary.unstored > 0 ? 1 : 0);
      });
      return {
        ok: true,
        reason,
        tunnels: size.tunnels,
        sessions: size.sessions,
        skipped: plan.skipped,
        lastSeq: follower.status().lastSeq,
      };
    })();
    return takeover;
  };

  admin = await startStandbyAdminServer(
    {
      node: () => node,
      status: () => ({ role, node: name, events: log.description, primary: follower.status() }),
      takeover: (reason) =>
        takeOver(reason).catch((err: unknown) => {
          failed(err);
          throw new Error(takeoverFailure(err));
        }),
    },
    config.admin,
    config.admin.token,
  ).catch(async (err) => {
    await follower.stop();
    await log.close();
    throw err;
  });
  process.stdout.write(
    `l2tp run: node ${name} (${config.node.hostName}) standby: following ${log.description}; ${
      options.takeoverAfterMs > 0
        ? `takes over after ${options.takeoverAfterMs / 1000} s of silence`
        : "takes over on command only"
    }; admin API ${admin.url}\n`,
  );

  let signals = 0;
  const onSignal = (signal: string) => {
    signals++;
    if (signals > 1) process.exit(130);
    if (node) {
      process.stdout.write(`l2tp run: ${signal}: closing every tunnel (again to exit at once)\n`);
      void node.close(cause("admin", `node stopped by ${signal}`));
      return;
    }
    process.stdout.write(`l2tp run: ${signal}: standby stopped\n`);
    void (async () => {
      await follower.stop();
      await admin?.close();
      await log.close().catch(() => undefined);
      finish(0);
    })();
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  return finished;
}

/** What a failed takeover says, on the standby's stderr and in the admin API's answer. */
function takeoverFailure(err: unknown): string {
  return `takeover failed: ${err instanceof Error ? err.message : String(err)}; this standby has stopped (exit 1): fix the cause, then start it again with '${L2TP} run --standby'`;
}

/**
 * Binds the configuration's UDP addresses. The primary's sockets may take a moment to go (a process
 * being killed): an address in use is tried again for a few seconds.
 */
async function bindAll(config: RunConfig, configPath: string): Promise<Transport[]> {
  const transports: Transport[] = [];
  const deadline = Date.now() + 5000;
  try {
    for (const l of config.listen) {
      for (;;) {
        try {
          transports.push(await bindUdp(l));
          break;
        } catch (err) {
          if (Date.now() > deadline || !/EADDRINUSE|in use/i.test(String((err as Error).message ?? err))) {
            throw err;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    return transports;
  } catch (err) {
    for (const t of transports) await t.close();
    const busy = /EADDRINUSE|in use/i.test(String((err as Error).message ?? err));
    throw new Error(
      `cannot bind the listen addresses of ${configPath}: ${(err as Error).message}${busy ? " (is the primary still running? a standby takes over from a dead primary)" : ""}`,
    );
  }
}

/** `l2tp takeover`: tells a standby to take over now. */
export const takeover: Command = {
  summary: "tell a standby (l2tp run --standby) to take over from its primary now",
  async run(argv) {
    const { values } = parseCommandArgs("takeover", {
      args: argv,
      options: {
        admin: { type: "string", default: DEFAULT_ADMIN_URL },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) {
      process.stdout.write(`usage: ${L2TP} takeover [--admin URL]   (the standby's admin API)\n`);
      return 0;
    }
    let response: Response;
    try {
      const token = clientAdminToken(values.admin);
      response = await fetch(`${values.admin.replace(/\/$/, "")}/v1/takeover`, {
        method: "POST",
        ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
      });
    } catch (err) {
      throw new Error(`no standby answers at ${values.admin} (${(err as Error).message}); is --admin right?`);
    }
    const body = (await response.json().catch(() => ({}))) as Partial<TakeoverResult> & { error?: string };
    // An active node's admin API has no takeover: it is a primary (or a standby that took over).
    if (response.status === 404) {
      throw new Error(
        `the node at ${values.admin} is not a standby (it is an active node, it has nothing to take over); give the --admin URL of a node started with '${L2TP} run --standby'`,
      );
    }
    if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
    process.stdout.write(
      `took over (${body.reason}): ${body.tunnels} tunnels, ${body.sessions} sessions resumed${body.skipped?.length ? `; not resumed: ${body.skipped.join("; ")}` : ""}\n`,
    );
    return 0;
  },
};
