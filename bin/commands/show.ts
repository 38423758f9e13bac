/**
 * `l2tp show`: a running node's objects through its admin API, as an E-series operator reads them.
 *
 *   show                                   the tree: system, destinations, tunnels (--sessions: sessions)
 *   show destinations|tunnels|sessions     one level as a table sized to the terminal; --detail for every
 *                                          field; --json for the rows (adapters/admin/show.ts)
 */
import process from "node:process";
import type { NodeSnapshot } from "../../actors/node.ts";
import {
  type DestinationRow,
  type SessionRow,
  SHOW_LEVELS,
  type ShowAnswer,
  type ShowLevel,
  type StateCounts,
  type TunnelRow,
} from "../../adapters/admin/show.ts";
import type { Cause } from "../../machines/common.ts";
import { callAdmin, DEFAULT_ADMIN_URL } from "./admin.ts";
import { L2TP, parseCommandArgs, UsageError, wholeNumber } from "./cli.ts";
import type { Command } from "./index.ts";
import { durationText, formatTable } from "./table.ts";

const HELP = `usage: ${L2TP} show [destinations|tunnels|sessions] [--detail] [--json] [filters] [--admin URL]

Without a level: the tree of the node (system, destinations, tunnels; --sessions adds sessions).
With a level, one row per object, as a table sized to the terminal:
  destinations   address:port, state (available, locked out until T, ended), admin state,
                 tunnels and sessions (by state with --detail), lockouts, last failure
  tunnels        local and remote ids, peer, state, admin state, uptime, sessions; --detail adds
                 role, host names, receive windows (ours/peer's), Ns/Nr, retransmissions, cause
  sessions       local and remote ids, tunnel, user, state, uptime; --detail adds calling number,
                 octets and packets each way, cause

  --detail            every field
  --json              the rows as one JSON object ({ level, at, matched, rows })
  --state S           only objects in state S (or inside it: available takes available.used)
  --destination A:P   only this destination and what is under it
  --user U            only sessions of this user
  --limit N           at most N rows
  --admin URL         the node's admin API (default ${DEFAULT_ADMIN_URL})
`;

export const show: Command = {
  summary: "show a running node's destinations, tunnels or sessions (table, --detail, --json, filters)",
  async run(argv) {
    const { values, positionals } = parseCommandArgs("show", {
      args: argv,
      allowPositionals: true,
      options: {
        admin: { type: "string", default: DEFAULT_ADMIN_URL },
        sessions: { type: "boolean", default: false },
        detail: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        state: { type: "string" },
        destination: { type: "string" },
        user: { type: "string" },
        limit: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (positionals.length > 1) throw new UsageError(`one level at a time, got '${positionals.join(" ")}'`);
    const level = positionals[0] as ShowLevel | undefined;
    if (level === undefined) {
      if (values.state ?? values.destination ?? values.user ?? values.limit ?? (values.detail || undefined))
        throw new UsageError(
          `filters and --detail are for a level: ${L2TP} show destinations|tunnels|sessions …`,
        );
      const snapshot = (await callAdmin(
        values.admin,
        `/v1/snapshot${values.sessions ? "?sessions=1" : ""}`,
      )) as NodeSnapshot;
      process.stdout.write(
        values.json ? `${JSON.stringify(snapshot)}\n` : treeText(snapshot, values.sessions),
      );
      return 0;
    }
    if (!(SHOW_LEVELS as readonly string[]).includes(level))
      throw new UsageError(`unknown level '${level}': expected ${SHOW_LEVELS.join(", ")}`);
    if (values.sessions) throw new UsageError(`--sessions is for the tree; use '${L2TP} show sessions'`);
    if (values.user !== undefined && level !== "sessions")
      throw new UsageError(`--user: only sessions have a user; use '${L2TP} show sessions --user U'`);
    const query = new URLSearchParams();
    if (values.state !== undefined) query.set("state", values.state);
    if (values.destination !== undefined) query.set("destination", values.destination);
    if (values.user !== undefined) query.set("user", values.user);
    if (values.limit !== undefined)
      query.set("limit", String(wholeNumber("--limit", values.limit, 1, 1_000_000)));
    const answer = (await callAdmin(
      values.admin,
      `/v1/show/${level}${query.size ? `?${query}` : ""}`,
    )) as ShowAnswer;
    if (values.json) {
      process.stdout.write(`${JSON.stringify(answer)}\n`);
      return 0;
    }
    process.stdout.write(showTable(answer, values.detail, terminalWidth()));
    if (answer.matched > answer.rows.length)
      process.stderr.write(`${answer.rows.length} of ${answer.matched} ${level} shown (--limit)\n`);
    return 0;
  },
};

/** The terminal's width: COLUMNS when set, the TTY's columns, or no limit (a pipe). */
function terminalWidth(): number {
  const columns = Number(process.env.COLUMNS);
  if (Number.isInteger(columns) && columns > 0) return columns;
  return process.stdout.isTTY ? (process.stdout.columns ?? 80) : Number.POSITIVE_INFINITY;
}

/** The rows of a show answer as a table; `detail` adds every field. */
export function showTable(answer: ShowAnswer, detail: boolean, width: number): string {
  if (answer.rows.length === 0) return `no ${answer.level}\n`;
  switch (answer.level) {
    case "destinations": {
      const rows = answer.rows as DestinationRow[];
      const headers = ["DESTINATION", "STATE", "ADMIN", "TUNNELS", "SESSIONS", "LOCKOUTS"];
      if (detail) headers.push("LAST FAILURE");
      return formatTable(
        headers,
        rows.map((d) => {
          const cells = [
            d.destination,
            destinationState(d),
            d.admin,
            countsText(d.tunnels, detail),
            countsText(d.sessions, detail),
            String(d.lockouts),
          ];
          if (detail) cells.push(causeText(d.lastFailure));
          return cells;
        }),
        width,
      );
    }
    case "tunnels": {
      const rows = answer.rows as TunnelRow[];
      const headers = ["TUNNEL", "PEER-ID", "PEER", "STATE", "ADMIN", "UPTIME", "SESSIONS"];
      if (detail) headers.push("ROLE", "HOST", "PEER-HOST", "WINDOW", "NS/NR", "RETX", "CAUSE");
      return formatTable(
        headers,
        rows.map((t) => {
          const cells = [
            String(t.id),
            String(t.peerTunnelId),
            t.peer,
            t.state,
            t.admin,
            durationText(t.uptimeSeconds),
            countsText(t.sessions, detail),
          ];
          if (detail)
            cells.push(
              t.role,
              t.hostName,
              t.peerHostName ?? "",
              `${t.receiveWindow}/${t.peerReceiveWindow}`,
              `${t.ns}/${t.nr}`,
              String(t.retransmissions),
              causeText(t.cause),
            );
          return cells;
        }),
        width,
      );
    }
    case "sessions": {
      const rows = answer.rows as SessionRow[];
      const headers = ["SESSION", "PEER-ID", "TUNNEL", "USER", "STATE", "UPTIME"];
      if (detail) headers.push("CALLING", "IN OCTETS/PKTS", "OUT OCTETS/PKTS", "CAUSE");
      return formatTable(
        headers,
        rows.map((s) => {
          const cells = [
            String(s.id),
            String(s.peerSessionId),
            String(s.tunnelId),
            s.user,
            s.state,
            durationText(s.uptimeSeconds),
          ];
          if (detail)
            cells.push(
              s.callingNumber ?? "",
              `${s.bytesIn}/${s.packetsIn}`,
              `${s.bytesOut}/${s.packetsOut}`,
              causeText(s.cause),
            );
          return cells;
        }),
        width,
      );
    }
  }
}

/** available, locked out until 12:00:05Z, probing, testing, closing, ended. */
function destinationState(d: DestinationRow): string {
  if (d.lockedOutUntil !== undefined)
    return `locked out until ${new Date(d.lockedOutUntil).toISOString().slice(11, 19)}Z`;
  const top = d.state.split(".")[0] ?? d.state;
  return top;
}

/** "3" or, with detail, "3 (established 2, wait-ctl-reply 1)". */
function countsText(counts: StateCounts, detail: boolean): string {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (!detail || total === 0) return String(total);
  return `${total} (${Object.entries(counts)
    .map(([state, n]) => `${state} ${n}`)
    .join(", ")})`;
}

function causeText(c: Cause | undefined): string {
  return c ? `${c.reason}: ${c.message}` : "";
}

/** The tree of a snapshot as an operator reads it. */
export function treeText(s: NodeSnapshot, withSessions: boolean): string {
  const lines = [
    `system  ${s.system.state}  admin ${s.system.admin}  destinations ${s.registries.destinations}  tunnels ${s.registries.tunnels}  sessions ${s.registries.sessions}`,
  ];
  for (const d of s.destinations) {
    lines.push(
      `  destination ${d.key}  ${d.state}  admin ${d.admin}${d.lockouts ? `  lockouts ${d.lockouts}` : ""}`,
    );
    for (const t of d.tunnels) {
      const sessions = withSessions ? t.sessions.length : undefined;
      lines.push(
        `    tunnel ${t.id} → ${t.peerTunnelId}  ${t.state}  admin ${t.admin}  ${t.role}${t.test ? "  (test tunnel)" : ""}${sessions === undefined ? "" : `  ${sessions} sessions`}`,
      );
      for (const x of withSessions ? t.sessions : []) {
        const numbers = `${x.callingNumber !== undefined ? `  calling ${x.callingNumber}` : ""}${x.calledNumber !== undefined ? `  called ${x.calledNumber}` : ""}`;
        lines.push(
          `      session ${x.id} → ${x.peerSessionId}  ${x.state}${numbers}  packets in ${x.packetsIn} out ${x.packetsOut}`,
        );
      }
    }
  }
  const st = s.stats;
  lines.push(
    `counters  malformed ${st.malformed}  undecodable ${st.undecodable}  unknown tunnel ${st.unknownTunnel}  unknown session ${st.unknownSession}  invalid calls refused ${st.invalidCallsRefused}  invalid unanswerable ${st.invalidUnanswerable}  refused tunnels ${st.refusedTunnels}  data ${st.dataDelivered}  data to no session ${st.dataUnknown}`,
  );
  for (const socket of s.sockets ?? []) {
    lines.push(
      `socket ${socket.local}  sent ${socket.sent}  received ${socket.received}  send errors ${socket.sendErrors}  unhandled ${socket.unhandled}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
