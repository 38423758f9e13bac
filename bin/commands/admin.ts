/**
 * The operator's commands against a running node, through its local admin API (adapters/admin):
 * `l2tp drain|enable|shutdown [TARGET]`, `l2tp close TARGET`, `l2tp dial` (`l2tp show` is show.ts).
 *
 * TARGET: nothing or `system`; `destination ADDR:PORT`; `tunnel ID`; `session TUNNEL-ID SESSION-ID` (close only).
 */
import process from "node:process";
import { clientAdminToken } from "../../adapters/admin/access.ts";
import { type AdminRequestTarget, parsePeer } from "../../adapters/admin/server.ts";
import { L2TP, parseCommandArgs, UsageError, wholeNumber } from "./cli.ts";
import type { Command } from "./index.ts";

/** Where `l2tp run` serves its admin API unless the config says otherwise. */
export const DEFAULT_ADMIN_URL = "http://127.0.0.1:17010";

const TARGETS = "system | destination ADDR:PORT | tunnel ID";
const TARGET_HELP = `TARGET: ${TARGETS} (default: system)`;
/** Closing is not undone: `close` names its target, the system included. */
const CLOSE_TARGET_HELP = `TARGET (required): ${TARGETS} | session TUNNEL-ID SESSION-ID`;

function options(command: string, argv: string[]) {
  return parseCommandArgs(command, {
    args: argv,
    allowPositionals: true,
    options: {
      admin: { type: "string", default: DEFAULT_ADMIN_URL },
      message: { type: "string" },
      count: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

/**
 * Calls the admin API at `admin`: GET `path`, or POST `body` as JSON, with the admin token when there
 * is one (adapters/admin/access.ts); the answer, or an Error with its message.
 */
export async function callAdmin(admin: string, path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  const headers: Record<string, string> = body === undefined ? {} : { "content-type": "application/json" };
  const token = clientAdminToken(admin);
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  try {
    response = await fetch(`${admin.replace(/\/$/, "")}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new Error(
      `no node answers at ${admin} (${(err as Error).message}); is '${L2TP} run' up, and is --admin right?`,
    );
  }
  const value = (await response.json().catch(() => ({}))) as { error?: string };
  if (!response.ok) throw new Error(value.error ?? `${response.status} ${response.statusText}`);
  return value;
}

function parseTarget(words: string[], allowSession: boolean): AdminRequestTarget {
  const [level = "system", ...rest] = words;
  const id = (text: string | undefined, what: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new UsageError(`${what}: expected 1-65535, got '${text ?? ""}'`);
    return n;
  };
  switch (level) {
    case "system":
      return { level: "system" };
    case "destination": {
      if (!rest[0] || !parsePeer(rest[0]))
        throw new UsageError(`destination: expected ADDR:PORT, e.g. 127.0.0.1:1701, got '${rest[0] ?? ""}'`);
      return { level: "destination", peer: rest[0] };
    }
    case "tunnel":
      return { level: "tunnel", tunnelId: id(rest[0], "tunnel") };
    case "session":
      if (!allowSession)
        throw new UsageError(
          `sessions have no admin state: use '${L2TP} close session TUNNEL-ID SESSION-ID'`,
        );
      return {
        level: "session",
        tunnelId: id(rest[0], "session tunnel id"),
        sessionId: id(rest[1], "session id"),
      };
    default:
      throw new UsageError(`unknown target '${level}'. ${TARGET_HELP}`);
  }
}

function adminStateCommand(state: "enabled" | "drain" | "shutdown", summary: string): Command {
  return {
    summary,
    async run(argv) {
      const name = state === "enabled" ? "enable" : state;
      const { values, positionals } = options(name, argv);
      if (values.help) {
        process.stdout.write(`usage: ${L2TP} ${name} [TARGET] [--admin URL]\n${TARGET_HELP}\n`);
        return 0;
      }
      const target = parseTarget(positionals, false);
      const answer = (await callAdmin(values.admin, "/v1/admin", { target, state })) as {
        lockedOutUntil?: number;
      };
      process.stdout.write(`${describeTarget(target)}: admin state ${state}\n`);
      if (answer.lockedOutUntil !== undefined && target.level === "destination") {
        process.stdout.write(
          `${describeTarget(target)}: still locked out ${lockoutEndText(answer.lockedOutUntil)}; 'l2tp lockout clear ${target.peer}' clears it\n`,
        );
      }
      return 0;
    },
  };
}

function describeTarget(t: AdminRequestTarget): string {
  switch (t.level) {
    case "system":
      return "system";
    case "destination":
      return `destination ${t.peer}`;
    case "tunnel":
      return `tunnel ${t.tunnelId}`;
    case "session":
      return `session ${t.tunnelId}/${t.sessionId}`;
  }
}

export const drain = adminStateCommand("drain", "admin state drain: no new tunnels or sessions below TARGET");
export const enable = adminStateCommand("enabled", "admin state enabled: TARGET takes new children again");
export const shutdown = adminStateCommand(
  "shutdown",
  "admin state shutdown: close everything below TARGET, accept nothing",
);

export const close: Command = {
  summary: "close a destination (StopCCNs), a tunnel (StopCCN), a session (CDN) or the system",
  async run(argv) {
    const { values, positionals } = options("close", argv);
    const help = `usage: ${L2TP} close TARGET [--message TEXT] [--admin URL]\n${CLOSE_TARGET_HELP}\n`;
    if (values.help) {
      process.stdout.write(help);
      return 0;
    }
    if (positionals.length === 0) {
      process.stderr.write(
        `l2tp close: name what to close (${L2TP} close system closes every tunnel)\n${help}`,
      );
      return 2;
    }
    const target = parseTarget(positionals, true);
    await callAdmin(values.admin, "/v1/close", {
      target,
      ...(values.message ? { message: values.message } : {}),
    });
    process.stdout.write(`${describeTarget(target)}: closing\n`);
    return 0;
  },
};

export const lockout: Command = {
  summary:
    "clear a destination's lockout, or run its lockout test now (JUNOSe: clear|test l2tp destination lockout)",
  async run(argv) {
    const { values, positionals } = options("lockout", argv);
    const [action, peer] = positionals;
    const usageText = `usage: ${L2TP} lockout clear|test ADDR:PORT [--admin URL]\n`;
    if (values.help) {
      process.stdout.write(usageText);
      return 0;
    }
    if ((action !== "clear" && action !== "test") || positionals.length !== 2) {
      process.stderr.write(usageText);
      return 2;
    }
    const target = parseTarget(["destination", peer], false);
    await callAdmin(values.admin, "/v1/lockout", { target, action });
    process.stdout.write(
      action === "clear"
        ? `destination ${peer}: lockout cleared; calls go to it again\n`
        : `destination ${peer}: lockout test started (a test tunnel is opening)\n`,
    );
    return 0;
  },
};

export const dial: Command = {
  summary: "place calls toward a destination from a running LAC (a subscriber stand-in)",
  async run(argv) {
    const { values, positionals } = options("dial", argv);
    if (values.help || positionals.length !== 1) {
      (values.help ? process.stdout : process.stderr).write(
        `usage: ${L2TP} dial ADDR:PORT [--count N] [--admin URL]\n`,
      );
      return values.help ? 0 : 2;
    }
    const count = wholeNumber("--count", values.count ?? "1", 1, 65535);
    const result = (await callAdmin(values.admin, "/v1/dial", { destination: positionals[0], count })) as {
      established: number;
      sessions: { tunnelId: number; sessionId: number }[];
      failures: { reason: string; message: string }[];
    };
    for (const s of result.sessions)
      process.stdout.write(`established: tunnel ${s.tunnelId} session ${s.sessionId}\n`);
    for (const f of result.failures) process.stdout.write(`failed: ${f.reason}: ${f.message}\n`);
    return result.failures.length ? 1 : 0;
  },
};

/** "until 12:34:56 UTC (in 287 s)": when a lockout ends, for a person. */
function lockoutEndText(endsAt: number, now = Date.now()): string {
  const left = Math.max(0, Math.ceil((endsAt - now) / 1000));
  return `until ${new Date(endsAt).toISOString().slice(11, 19)} UTC (in ${left} s)`;
}
