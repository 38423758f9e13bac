/**
 * What an operator sees of a tunnel or a session, live or ended (`l2tp show`, the admin API), and the
 * ended ones kept for a while: a tunnel or session that ended stays visible, in state `ended` with its
 * cause, for the destruct timeout (JUNOSe's `l2tp destruct-timeout`: default 600 s, 10-3600), so that
 * an operator can see what just happened. At most `max` are kept per node (default 10,000), the oldest
 * dropped first: a ring, filled from the tunnel's and the session's end, never a timer per record
 * (expired records are dropped when the ring is read or written).
 */
import type { Cause } from "../machines/common.ts";
import type { SessionKind } from "../machines/session.ts";
import { linkLocalOf } from "../protocol/ppp/ipv6cp.ts";
import { destinationKey } from "./config.ts";
import type { Clock } from "./ports.ts";
import type { PppLink } from "./ppp-link.ts";
import { type SessionHandle, stateName, type TunnelHandle } from "./tunnel-actor.ts";

/** Default destruct timeout. */
export const DESTRUCT_TIMEOUT_MS = 600_000;
/** Default bound of the ended tunnels and sessions kept per node. */
export const MAX_ENDED_RECORDS = 10_000;

/** A session's PPP link as the operator sees it. */
export interface PppLinkSnapshot {
  /** The link phase (RFC 1661 §3.2): establish, authenticate, network, opened, terminate, closed. */
  phase: string;
  lcp: string;
  ipcp: string;
  user: string | undefined;
  address: string | undefined;
  /** LCP was taken over from the LAC's proxy LCP. */
  proxied: boolean;
  /** With IPv6 on (RFC 5072): IPV6CP's state and the subscriber's link-local address once it is up. */
  ipv6cp?: string;
  ipv6Address?: string;
}

/** What a snapshot says of a PPP link. */
function pppSnapshot(link: PppLink): PppLinkSnapshot {
  const s = link.node.actor.getSnapshot();
  return {
    phase: s.value,
    lcp: s.context.lcp,
    ipcp: s.context.ipcp,
    user: s.context.user,
    address: link.address ?? s.context.address,
    proxied: s.context.proxied,
    ...(s.context.ipv6cp !== "initial" ? { ipv6cp: s.context.ipv6cp } : {}),
    ...(link.peerInterfaceId !== undefined ? { ipv6Address: linkLocalOf(link.peerInterfaceId) } : {}),
  };
}

/** A session as the operator sees it. */
export interface SessionSnapshot {
  id: number;
  /** Our tunnel id. */
  tunnelId: number;
  kind: SessionKind;
  state: string;
  peerSessionId: number;
  /** The subscriber's user name, once PPP authenticated it (empty before, or without PPP). */
  user: string;
  callingNumber?: string;
  calledNumber?: string;
  /** When it was created (clock ms; `NodeSnapshot.at` is now). */
  createdAt: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Why it is closing or ended. */
  cause?: Cause;
  /** Its PPP link, when the node runs PPP on it. */
  ppp?: PppLinkSnapshot;
}

/** A tunnel as the operator sees it. */
export interface TunnelSnapshot {
  id: number;
  role: "initiator" | "responder";
  state: string;
  phase: string;
  peerTunnelId: number;
  /** The peer's current "address:port". */
  peer: string;
  hostName: string;
  peerHostName?: string;
  admin: "enabled" | "drain" | "shutdown";
  test: boolean;
  createdAt: number;
  /** Our Receive Window Size and the peer's (RFC 2661 §5.8). */
  receiveWindow: number;
  peerReceiveWindow: number;
  /** The next Ns we send and the next Nr we expect (RFC 2661 §5.8). */
  ns: number;
  nr: number;
  retransmissions: number;
  /** Sessions on it (the list is in `sessions` when asked for). */
  sessionCount: number;
  cause?: Cause;
  sessions: SessionSnapshot[];
}

/** An ended tunnel or session: its last view, state `ended`, where it was and when it ended. */
export type Ended<T> = T & { destination: string; endedAt: number };

/** The view of a live (or just ended) tunnel; `sessions` lists its sessions when asked. */
export function tunnelView(t: TunnelHandle, withSessions: boolean): TunnelSnapshot {
  const ts = t.node.actor.getSnapshot();
  const channel = t.channel.state();
  const view: TunnelSnapshot = {
    id: t.id,
    role: t.role,
    state: stateName(ts.value),
    phase: t.phase,
    peerTunnelId: t.channel.peerTunnelId,
    peer: destinationKey(t.peer),
    hostName: ts.context.hostName,
    admin: ts.context.admin,
    test: t.test,
    createdAt: t.createdAt,
    receiveWindow: ts.context.receiveWindow,
    peerReceiveWindow: ts.context.peerReceiveWindow,
    ns: channel.ns,
    nr: channel.nr,
    retransmissions: t.channel.stats().retransmitted,
    sessionCount: t.sessions.size,
    sessions: withSessions ? [...t.sessions.values()].map(sessionView) : [],
  };
  if (ts.context.peerHost !== undefined) view.peerHostName = ts.context.peerHost;
  if (ts.context.cause) view.cause = ts.context.cause;
  return view;
}

/** The view of a live (or just ended) session. */
export function sessionView(s: SessionHandle): SessionSnapshot {
  const snapshot = s.node.actor.getSnapshot();
  const view: SessionSnapshot = {
    id: s.id,
    tunnelId: s.tunnel.id,
    kind: s.kind,
    state: stateName(snapshot.value),
    peerSessionId: s.peerSessionId,
    user: "",
    createdAt: s.createdAt,
    packetsIn: s.packetsIn,
    packetsOut: s.packetsOut,
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
  };
  // RFC 2661 §4.4.5: the caller's number and the number dialled, kept by the session from its call request.
  if (snapshot.context.callingNumber !== undefined) view.callingNumber = snapshot.context.callingNumber;
  if (snapshot.context.calledNumber !== undefined) view.calledNumber = snapshot.context.calledNumber;
  if (s.ppp) {
    view.ppp = pppSnapshot(s.ppp);
    // The authenticated name (the link's), else what the peer offered so far.
    view.user = s.ppp.user ?? view.ppp.user ?? "";
  }
  if (snapshot.context.cause) view.cause = snapshot.context.cause;
  return view;
}

/** The ended tunnels and sessions of a node, each kept for `keepMs`, at most `max` of them. */
export class EndedRecords {
  readonly keepMs: number;
  readonly max: number;
  readonly #clock: Clock;
  /** A ring: `#records[(#head + i) % max]` for i < #size, oldest first. */
  readonly #records: (Ended<TunnelSnapshot> | Ended<SessionSnapshot> | undefined)[];
  #head = 0;
  #size = 0;

  constructor(clock: Clock, keepMs = DESTRUCT_TIMEOUT_MS, max = MAX_ENDED_RECORDS) {
    this.#clock = clock;
    this.keepMs = keepMs;
    this.max = max;
    this.#records = new Array(max);
  }

  /** A tunnel ended: keep its last view (without its sessions: they are kept on their own). */
  tunnel(t: TunnelHandle, why: Cause): void {
    if (this.max === 0) return;
    const view = tunnelView(t, false);
    this.add({ ...view, state: "ended", cause: why, destination: t.owner.key, endedAt: this.#clock.now() });
  }

  /** A session ended: keep its last view. */
  session(s: SessionHandle, why: Cause): void {
    if (this.max === 0) return;
    const view = sessionView(s);
    this.add({
      ...view,
      state: "ended",
      cause: why,
      destination: s.tunnel.owner.key,
      endedAt: this.#clock.now(),
    });
  }

  /** What is kept now, oldest first. */
  list(): { tunnels: Ended<TunnelSnapshot>[]; sessions: Ended<SessionSnapshot>[] } {
    this.expire();
    const tunnels: Ended<TunnelSnapshot>[] = [];
    const sessions: Ended<SessionSnapshot>[] = [];
    for (let i = 0; i < this.#size; i++) {
      const r = this.#records[(this.#head + i) % this.max];
      if (r === undefined) continue;
      if ("peerSessionId" in r) sessions.push(r);
      else tunnels.push(r);
    }
    return { tunnels, sessions };
  }

  /** How many are kept now. */
  get size(): number {
    this.expire();
    return this.#size;
  }

  private add(record: Ended<TunnelSnapshot> | Ended<SessionSnapshot>): void {
    this.expire();
    if (this.#size === this.max) {
      // Full: the oldest gives way.
      this.#records[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.max;
      this.#size--;
    }
    this.#records[(this.#head + this.#size) % this.max] = record;
    this.#size++;
  }

  /** Drops the records older than the destruct timeout (they are in end order). */
  private expire(): void {
    const oldest = this.#clock.now() - this.keepMs;
    while (this.#size > 0) {
      const r = this.#records[this.#head];
      if (r !== undefined && r.endedAt > oldest) return;
      this.#records[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.max;
      this.#size--;
    }
  }
}

/**
 * The module's own hot code, which adapters/jit keeps out of JSC's top tier with what it exports (it
 * reaches nothing else: these are not exported to be used).
 */
export const hotInternals: readonly unknown[] = [pppSnapshot];
