/**
 * `GET /v1/show/{destinations|tunnels|sessions}` of the admin API: a node's objects one level at a
 * time, as an E-series operator reads them (`show l2tp destination | tunnel | session`), with the
 * filters of `l2tp show` (state, destination, user, limit). Each row carries every field, for both the
 * summary and the detail level: the CLI picks the columns, `--json` prints the rows.
 *
 *   ?state=S          the state, or a parent state (`available` takes `available.used`); `ended`: the
 *                     tunnels and sessions that ended within the destruct timeout, with their cause
 *   ?destination=A:P  only this destination and what is under it
 *   ?user=U           only sessions of this user (sessions only)
 *   ?limit=N          at most N rows (1-1,000,000), after the filters; `matched` says how many there were
 */
import type { NodeSnapshot, SessionSnapshot, TunnelSnapshot } from "../../actors/node.ts";
import type { Cause } from "../../machines/common.ts";

/** The levels `show` lists. */
export const SHOW_LEVELS = ["destinations", "tunnels", "sessions"] as const;
export type ShowLevel = (typeof SHOW_LEVELS)[number];

/** The filters of a show request. */
export interface ShowFilter {
  state?: string;
  destination?: string;
  user?: string;
  limit?: number;
}

/** Counts by state: `{ established: 3, "wait-ctl-reply": 1 }`. */
export type StateCounts = Record<string, number>;

/** A destination as `show destinations` lists it. */
export interface DestinationRow {
  destination: string;
  address: string;
  port: number;
  state: string;
  lockedOutUntil?: number;
  admin: string;
  tunnels: StateCounts;
  sessions: StateCounts;
  lockouts: number;
  lastFailure?: Cause;
}

/** A tunnel as `show tunnels` lists it. */
export interface TunnelRow extends Omit<TunnelSnapshot, "sessions" | "phase" | "test" | "createdAt"> {
  destination: string;
  /** Up to now, or to its end for an ended tunnel. */
  uptimeSeconds: number;
  sessions: StateCounts;
  /** When it ended (clock ms), for a tunnel in state `ended`. */
  endedAt?: number;
}

/** A session as `show sessions` lists it. */
export interface SessionRow extends Omit<SessionSnapshot, "createdAt"> {
  destination: string;
  /** Up to now, or to its end for an ended session. */
  uptimeSeconds: number;
  /** When it ended (clock ms), for a session in state `ended`. */
  endedAt?: number;
}

/** What a show request answers. */
export interface ShowAnswer<R = DestinationRow | TunnelRow | SessionRow> {
  level: ShowLevel;
  /** The node's clock (ms) the rows were read at. */
  at: number;
  /** Rows that passed the filters (before the limit). */
  matched: number;
  rows: R[];
}

/** Reads the filters of a query; a string names the bad parameter and the fix. */
export function parseShowQuery(level: ShowLevel, query: URLSearchParams): ShowFilter | string {
  const filter: ShowFilter = {};
  const state = query.get("state");
  if (state !== null && state !== "") filter.state = state;
  const destination = query.get("destination");
  if (destination !== null && destination !== "") {
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(destination))
      return "destination: expected ADDRESS:PORT, e.g. 127.0.0.1:1701 or [::1]:1701";
    filter.destination = destination;
  }
  const user = query.get("user");
  if (user !== null && user !== "") {
    if (level !== "sessions") return "user: only sessions have a user; ask for sessions with it";
    filter.user = user;
  }
  const limit = query.get("limit");
  if (limit !== null) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1_000_000)
      return `limit: expected a whole number from 1 to 1,000,000, got '${limit}'`;
    filter.limit = n;
  }
  return filter;
}

/** A state matches a filter when it is the filter or lies inside it (`available` ⊃ `available.used`). */
export function stateMatches(state: string, wanted: string | undefined): boolean {
  return wanted === undefined || state === wanted || state.startsWith(`${wanted}.`);
}

/** The rows of `level` in a snapshot (taken with sessions), filtered. */
export function showRows(snapshot: NodeSnapshot, level: ShowLevel, filter: ShowFilter = {}): ShowAnswer {
  const at = snapshot.at;
  const all: (DestinationRow | TunnelRow | SessionRow)[] = [];
  for (const d of snapshot.destinations) {
    if (filter.destination !== undefined && d.key !== filter.destination) continue;
    if (level === "destinations") {
      const row: DestinationRow = {
        destination: d.key,
        address: d.address,
        port: d.port,
        state: d.state,
        admin: d.admin,
        tunnels: countBy(d.tunnels, (t) => t.state),
        sessions: countBy(
          d.tunnels.flatMap((t) => t.sessions),
          (s) => s.state,
        ),
        lockouts: d.lockouts,
      };
      if (d.lockedOutUntil !== undefined) row.lockedOutUntil = d.lockedOutUntil;
      if (d.lastFailure) row.lastFailure = d.lastFailure;
      if (stateMatches(row.state, filter.state)) all.push(row);
      continue;
    }
    for (const t of d.tunnels) {
      if (level === "tunnels") {
        const { sessions, phase: _phase, test: _test, createdAt, ...rest } = t;
        const row: TunnelRow = {
          ...rest,
          destination: d.key,
          uptimeSeconds: seconds(at - createdAt),
          sessions: countBy(sessions, (s) => s.state),
        };
        if (stateMatches(row.state, filter.state)) all.push(row);
        continue;
      }
      for (const s of t.sessions) {
        if (!stateMatches(s.state, filter.state)) continue;
        if (filter.user !== undefined && s.user !== filter.user) continue;
        const { createdAt, ...rest } = s;
        all.push({ ...rest, destination: d.key, uptimeSeconds: seconds(at - createdAt) });
      }
    }
  }
  // Ended tunnels and sessions, kept for the destruct timeout, after the live ones.
  const ended = snapshot.ended;
  if (ended && level !== "destinations") {
    const pass = (r: { destination: string; state: string }) =>
      (filter.destination === undefined || r.destination === filter.destination) &&
      stateMatches(r.state, filter.state);
    if (level === "tunnels") {
      for (const t of ended.tunnels) {
        if (!pass(t)) continue;
        const { sessions: _sessions, phase: _phase, test: _test, createdAt, endedAt, ...rest } = t;
        all.push({ ...rest, uptimeSeconds: seconds(endedAt - createdAt), sessions: {}, endedAt });
      }
    } else {
      for (const s of ended.sessions) {
        if (!pass(s) || (filter.user !== undefined && s.user !== filter.user)) continue;
        const { createdAt, endedAt, ...rest } = s;
        all.push({ ...rest, uptimeSeconds: seconds(endedAt - createdAt), endedAt });
      }
    }
  }
  const rows = filter.limit !== undefined ? all.slice(0, filter.limit) : all;
  return { level, at, matched: all.length, rows };
}

/** The answer to `GET /v1/show/LEVEL`: a status and its JSON body; `snapshot` is called once, with sessions. */
export function answerShow(
  level: string,
  query: URLSearchParams,
  snapshot: () => NodeSnapshot,
): { status: number; body: unknown } {
  if (!(SHOW_LEVELS as readonly string[]).includes(level)) {
    return { status: 404, body: { error: `no such level '${level}': expected ${SHOW_LEVELS.join(", ")}` } };
  }
  const filter = parseShowQuery(level as ShowLevel, query);
  if (typeof filter === "string") return { status: 400, body: { error: filter } };
  return { status: 200, body: showRows(snapshot(), level as ShowLevel, filter) };
}

function countBy<T>(items: readonly T[], key: (item: T) => string): StateCounts {
  const counts: StateCounts = {};
  for (const item of items) {
    const k = key(item);
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

function seconds(ms: number): number {
  return Math.max(0, Math.floor(ms / 1000));
}
