/**
 * Tunnel selection of a LAC as the E-series does it: which destination, and which tunnel to it, a
 * subscriber's session goes on, given a tunnel group (from the domain map or RADIUS RFC 2868 tunnel
 * attributes), the destinations' lockouts and the live tunnels.
 *
 * - Up to 8 preference levels, 0 the most preferred (RADIUS Tunnel-Preference gives the level).
 * - The candidates at a level are the group's tunnels whose destination is not locked out and that this
 *   call has not failed on yet; those with room (a tunnel below max sessions, 0 meaning no limit, or none
 *   opened yet) come first. Among them the choice is random, or, with `weightedLoadBalancing`, the one
 *   with the largest max sessions until it is full, then the next (ties random).
 * - Sessions with the same Tunnel-Assignment-Id to the same endpoint share a tunnel; a usable tunnel is
 *   reused, and when every tunnel of the chosen one is full it gets a sibling.
 * - After a failure (a tunnel that could not be set up, a CDN with error 7 "try another"), the next try
 *   drops to the next level, or, with `failoverWithinPreference`, first tries the rest of the same level.
 *   Levels below exhausted, what is left above is tried.
 * - When every destination is locked out, the one locked out first is retried once (its lockout set
 *   aside); if that fails too, the subscriber is refused.
 *
 * Pure: no clock, no randomness of its own; every answer carries a reason for the event log.
 */
import { type Cause, cause, peerKey } from "./common.ts";

/** E-series: preference levels 0 (most preferred) to 7. */
export const PREFERENCE_LEVELS = 8;

/** RFC 2661 §4.4.2 General Error Code 7: try another (the LNS knows it cannot take the call). */
export const TRY_ANOTHER = 7;

/** One tunnel of a group: an endpoint and how it is used (a RADIUS tag, or a domain map entry). */
export interface GroupTunnel {
  /** The LNS's address and UDP port. */
  peer: { address: string; port: number };
  /** 0 (most preferred) to 7. */
  preference: number;
  /** Sessions per tunnel at most; 0: no limit. */
  maxSessions: number;
  /** RFC 2868 Tunnel-Assignment-Id: sessions with the same one to the same endpoint share a tunnel. */
  assignmentId?: string;
  /** The tunnel secret (RFC 2661 §5.1.1; RADIUS Tunnel-Password, decrypted); else the destination profile's. */
  secret?: Uint8Array;
  /** Our Host Name toward this LNS (RFC 2868 Tunnel-Client-Auth-Id); else the profile's or the node's. */
  clientAuthId?: string;
  /** The Host Name the LNS must present (RFC 2868 Tunnel-Server-Auth-Id); else the profile's. */
  serverAuthId?: string;
}

/** A tunnel group: its tunnels and how it chooses among them. */
export interface TunnelGroup {
  /** For people and the event log: the domain, or "radius". */
  name: string;
  tunnels: readonly GroupTunnel[];
  /** Choose by max sessions (the largest first, until full) instead of at random. */
  weightedLoadBalancing: boolean;
  /** After a failure, try the rest of the same level before dropping to the next. */
  failoverWithinPreference: boolean;
  /** Whether the ICCN carries proxy LCP and authentication (RFC 2661 AVPs 26-33); default true. */
  proxyAvps?: boolean;
}

/** A live tunnel to a destination, as selection sees it. */
export interface LiveTunnel {
  tunnelId: number;
  /** Sessions on it (waiting or live). */
  sessions: number;
  /** Takes sessions: not closing, enabled, not an unproven test tunnel. */
  usable: boolean;
  established: boolean;
  /** The Tunnel-Assignment-Id it was opened for (undefined: none). */
  assignmentId: string | undefined;
}

/** What selection reads of the node. */
export interface SelectionView {
  /** Milliseconds now. */
  now: number;
  /** The destination's lockout (ms since / until), or undefined when it is not locked out. */
  lockout(destination: string): { since: number; until: number } | undefined;
  /**
   * Shows `visit` each of the destination's live tunnels. The LiveTunnel given may be one object filled
   * again for each (a node has tens of tunnels per destination, asked on every call): read it during
   * the visit, keep nothing of it.
   */
  eachTunnel(destination: string, visit: (live: LiveTunnel) => void): void;
}

/** One call's progress through its group. */
export interface SelectionAttempt {
  /** Destinations this call failed on, in order. */
  failed: string[];
  /** The level the next try starts at. */
  level: number;
  /** The last resort (the first locked-out destination retried) was used. */
  lastResort: boolean;
}

/** What selection decided. */
export type Selection =
  /** Put the session on this existing tunnel. */
  | { kind: "reuse"; tunnel: GroupTunnel; destination: string; tunnelId: number; reason: string }
  /** Open a tunnel (the first of this one, or a sibling of full ones) and put the session on it. */
  | { kind: "open"; tunnel: GroupTunnel; destination: string; sibling: boolean; reason: string }
  /** Every destination is locked out: try the first locked out once more, its lockout set aside. */
  | { kind: "lastResort"; tunnel: GroupTunnel; destination: string; reason: string }
  /** Nothing left: refuse the subscriber. */
  | { kind: "refuse"; cause: Cause; reason: string };

/** A new call's attempt. */
export function newAttempt(): SelectionAttempt {
  return { failed: [], level: 0, lastResort: false };
}

/** The key of a destination ("address:port", as actors/config.ts destinationKey). */
export function destinationOf(t: GroupTunnel): string {
  return peerKey(t.peer);
}

/** Why a group cannot be used, or null: up to 8 levels, max sessions ≥ 0, at least one tunnel. */
export function groupProblem(group: TunnelGroup): string | null {
  if (group.tunnels.length === 0) return `tunnel group ${group.name} has no tunnels: add one`;
  for (const [i, t] of group.tunnels.entries()) {
    if (!Number.isInteger(t.preference) || t.preference < 0 || t.preference >= PREFERENCE_LEVELS)
      return `tunnel group ${group.name} tunnels[${i}].preference: expected an integer 0-7, got ${t.preference}`;
    if (!Number.isInteger(t.maxSessions) || t.maxSessions < 0)
      return `tunnel group ${group.name} tunnels[${i}].maxSessions: expected an integer ≥ 0 (0: no limit), got ${t.maxSessions}`;
  }
  return null;
}

/**
 * Chooses where the call goes next. `random()` gives a number in [0, 1) (the node's Random port).
 */
export function selectTunnel(
  group: TunnelGroup,
  view: SelectionView,
  attempt: SelectionAttempt,
  random: () => number,
): Selection {
  if (attempt.lastResort) {
    return refuse(group, attempt, "the first locked-out destination was retried once and failed again");
  }
  // The levels from the attempt's on; then, those exhausted, the ones above it.
  const order: number[] = [];
  for (let l = attempt.level; l < PREFERENCE_LEVELS; l++) order.push(l);
  for (let l = 0; l < Math.min(attempt.level, PREFERENCE_LEVELS); l++) order.push(l);
  const skipped: string[] = [];
  for (const level of order) {
    const atLevel = group.tunnels.filter((t) => t.preference === level);
    if (atLevel.length === 0) continue;
    const candidates: Candidate[] = [];
    for (const t of atLevel) {
      const d = destinationOf(t);
      if (attempt.failed.includes(d)) {
        skipped.push(`${d} failed`);
        continue;
      }
      const lock = view.lockout(d);
      if (lock && lock.until > view.now) {
        skipped.push(`${d} locked out until ${lock.until}`);
        continue;
      }
      candidates.push(candidate(t, d, view));
    }
    if (candidates.length === 0) continue;
    const withRoom = candidates.filter((c) => c.room !== "full");
    const pool = withRoom.length > 0 ? withRoom : candidates;
    const chosen = group.weightedLoadBalancing ? heaviest(pool, random) : pick(pool, random);
    const how = group.weightedLoadBalancing
      ? `weighted by max sessions among ${pool.length}`
      : `random among ${pool.length}`;
    const failover = attempt.failed.length > 0 ? `failover after ${attempt.failed.join(", ")} failed: ` : "";
    const where = `group ${group.name}: ${failover}preference ${level}, ${how}${
      skipped.length > 0 ? ` (${skipped.join(", ")})` : ""
    }`;
    const { tunnel, destination } = chosen;
    if (chosen.room !== "full" && chosen.room !== "none") {
      return {
        kind: "reuse",
        tunnel,
        destination,
        tunnelId: chosen.room.tunnelId,
        reason: `${where}: ${destination}, tunnel ${chosen.room.tunnelId} has room (${chosen.room.sessions} sessions)`,
      };
    }
    const sibling = chosen.room === "full";
    return {
      kind: "open",
      tunnel,
      destination,
      sibling,
      reason: sibling
        ? `${where}: ${destination}, its tunnels are full (max ${tunnel.maxSessions}): a sibling`
        : `${where}: ${destination}, a new tunnel${assignment(tunnel)}`,
    };
  }
  // Every destination is locked out or failed: the one locked out first is retried once.
  let first: { tunnel: GroupTunnel; destination: string; since: number } | undefined;
  for (const t of group.tunnels) {
    const d = destinationOf(t);
    const lock = view.lockout(d);
    if (!lock || lock.until <= view.now) continue;
    if (!first || lock.since < first.since) first = { tunnel: t, destination: d, since: lock.since };
  }
  if (!first) return refuse(group, attempt, "every destination failed for this call");
  return {
    kind: "lastResort",
    tunnel: first.tunnel,
    destination: first.destination,
    reason: `group ${group.name}: every destination is locked out: ${first.destination}, locked out first (at ${first.since}), retried once`,
  };
}

/**
 * Records that the call failed on `chosen` and says whether it may try again: the next try drops to the
 * next level (or stays on it with failoverWithinPreference).
 */
export function recordFailure(group: TunnelGroup, attempt: SelectionAttempt, chosen: Selection): void {
  if (chosen.kind === "refuse") return;
  if (!attempt.failed.includes(chosen.destination)) attempt.failed.push(chosen.destination);
  if (chosen.kind === "lastResort") {
    attempt.lastResort = true;
    return;
  }
  const level = chosen.tunnel.preference;
  attempt.level = group.failoverWithinPreference ? level : Math.min(level + 1, PREFERENCE_LEVELS);
}

/**
 * Whether a call that ended before it was established should fail over to another destination: its
 * tunnel could not be set up (no answer, authentication, a refusal or protocol error, a lockout), or the
 * LNS answered with a CDN carrying General Error Code 7, "try another" (RFC 2661 §4.4.2).
 */
export function triggersFailover(why: Cause): boolean {
  if (why.resultCode?.error === TRY_ANOTHER) return true;
  switch (why.reason) {
    case "retries":
    case "auth":
    case "protocol":
    case "lockout":
    case "tunnel-gone":
    case "timeout":
    // The destination refused (at its max tunnels): another may take the call.
    case "refused":
      return true;
    case "peer":
      // A StopCCN before the tunnel was up; a CDN without error 7 is the LNS's answer about this call.
      return why.message.includes("StopCCN");
    default:
      return false;
  }
}

interface Candidate {
  tunnel: GroupTunnel;
  destination: string;
  /** A tunnel with room, "none" (no tunnel for it yet), or "full" (every one full: a sibling). */
  room: LiveTunnel | "none" | "full";
}

function candidate(t: GroupTunnel, destination: string, view: SelectionView): Candidate {
  let best: LiveTunnel | undefined;
  let any = false;
  view.eachTunnel(destination, (live) => {
    if (!live.usable || live.assignmentId !== t.assignmentId) return;
    any = true;
    if (t.maxSessions > 0 && live.sessions >= t.maxSessions) return;
    // Established before opening, then the fullest, so that tunnels fill before new ones open.
    if (
      !best ||
      (live.established && !best.established) ||
      (live.established === best.established && live.sessions > best.sessions)
    ) {
      // A copy: the view may fill the same object again for the next tunnel.
      best = { ...live };
    }
  });
  return { tunnel: t, destination, room: best ?? (any ? "full" : "none") };
}

function pick(pool: readonly Candidate[], random: () => number): Candidate {
  return pool[Math.min(pool.length - 1, Math.floor(random() * pool.length))] as Candidate;
}

/** Weighted load balancing: the largest max sessions (0: no limit, the largest of all); ties at random. */
function heaviest(pool: readonly Candidate[], random: () => number): Candidate {
  const weight = (c: Candidate) =>
    c.tunnel.maxSessions === 0 ? Number.POSITIVE_INFINITY : c.tunnel.maxSessions;
  let top = 0;
  for (const c of pool) top = Math.max(top, weight(c));
  return pick(
    pool.filter((c) => weight(c) === top),
    random,
  );
}

function assignment(t: GroupTunnel): string {
  return t.assignmentId !== undefined ? ` for Tunnel-Assignment-Id ${t.assignmentId}` : "";
}

function refuse(group: TunnelGroup, attempt: SelectionAttempt, why: string): Selection {
  const tried = attempt.failed.length > 0 ? ` (tried ${attempt.failed.join(", ")})` : "";
  const message = `tunnel group ${group.name}: ${why}${tried}`;
  return { kind: "refuse", cause: cause("refused", message), reason: message };
}
