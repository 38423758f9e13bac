/**
 * Restoring a node from its event log (standby takeover, issue 4): which tunnels and sessions a recorded
 * node had, and the persisted XState snapshots to resume each of them in the state it was recorded in.
 *
 * `restorePlan(view)` reads the replay fold of one node (events/replay.ts `NodeView`) and keeps what can
 * be resumed without the peer noticing: established tunnels whose control channel state was recorded
 * (`context.channel`: next Ns, next Nr, peer tunnel id, window and address; RFC 2661 §5.8) and their
 * established sessions. A tunnel or session caught half-way (setting up, or closing) is left out: its
 * timers and the messages it had in flight are not in the log, and the peer's retransmissions or its
 * own timeout will end it.
 *
 * Honest limit: the recorder appends asynchronously, so a primary killed with -9 can lose its last few
 * envelopes. A tunnel that was idle (everything acknowledged) before the kill is complete in the log;
 * one that was busy may be restored with an Ns or Nr a few messages behind, and the peer then sees
 * duplicates (it re-acknowledges them) or a gap (it drops our messages until it tears the tunnel down).
 * RFC 4951 (failover) is the protocol answer to that case; xl2tpd does not speak it.
 *
 * Secrets are never in the log (events/schema.ts redacts them): the tunnel secret comes from the
 * standby's own configuration, matched to the peer as on the primary.
 */

import type { ActorView, NodeView } from "../events/replay.ts";
import type { AdminState } from "../machines/common.ts";
import { initialPppContext, type PppInput } from "../machines/ppp/endpoint.ts";
import type { SessionKind } from "../machines/session.ts";
import type { TunnelRole } from "../machines/tunnel.ts";
import type { ResolvedProfile } from "./config.ts";
import type { PeerAddress } from "./ports.ts";

/** What a standby resumes: the admin states and every resumable tunnel and session. */
export interface RestorePlan {
  /** The node's name in the log. */
  node: string;
  /** The system's admin state. */
  admin: AdminState;
  destinations: RestoredDestination[];
  /** Tunnels and sessions the log shows alive but that cannot be resumed, with why (for the operator). */
  skipped: string[];
}

/** A destination with its resumable tunnels. */
export interface RestoredDestination {
  /** "address:port". */
  key: string;
  peer: PeerAddress;
  admin: AdminState;
  tunnels: RestoredTunnel[];
}

/** One established tunnel as recorded. */
export interface RestoredTunnel {
  id: number;
  role: TunnelRole;
  /** The recorded state value ("established"). */
  state: string;
  /** The recorded context fields (secrets redacted, bytes as hex), as the log has them. */
  context: Record<string, unknown>;
  channel: {
    ns: number;
    nr: number;
    peerTunnelId: number;
    peerReceiveWindow: number;
    peer: PeerAddress;
    /** Our address the tunnel ran on, when recorded. */
    local?: PeerAddress;
  };
  sessions: RestoredSession[];
}

/** One established session as recorded. */
export interface RestoredSession {
  id: number;
  kind: SessionKind;
  state: string;
  peerSessionId: number;
  context: Record<string, unknown>;
  /** Its PPP link, when it had one and it was up (IPCP opened): resumed with the session. */
  ppp?: { context: Record<string, unknown> };
}

const ADMIN_STATES: ReadonlySet<string> = new Set(["enabled", "drain", "shutdown"]);
const SESSION_KINDS: ReadonlySet<string> = new Set([
  "lac-incoming",
  "lns-incoming",
  "lac-outgoing",
  "lns-outgoing",
]);

function adminOf(view: ActorView | undefined): AdminState {
  const admin = view?.data.admin;
  return typeof admin === "string" && ADMIN_STATES.has(admin) ? (admin as AdminState) : "enabled";
}

function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 0xffff;
}

function isSeq(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0xffff;
}

/** Reads "127.0.0.1:1701" or "[::1]:1701". */
function peerOfKey(key: string): PeerAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]+)):(\d{1,5})$/.exec(key);
  if (!m) return undefined;
  return { address: (m[1] ?? m[2]) as string, port: Number(m[3]) };
}

/** The recorded channel state of a tunnel, when it is complete and sane. */
function channelOf(data: Record<string, unknown>): RestoredTunnel["channel"] | undefined {
  const c = data.channel as Record<string, unknown> | null | undefined;
  if (!c || typeof c !== "object") return undefined;
  const { ns, nr, peerTunnelId, peerReceiveWindow, peerAddress, peerPort, localAddress, localPort } = c;
  if (!isSeq(ns) || !isSeq(nr) || !isId(peerTunnelId)) return undefined;
  if (typeof peerAddress !== "string" || !isId(peerPort)) return undefined;
  const window = typeof peerReceiveWindow === "number" && peerReceiveWindow >= 1 ? peerReceiveWindow : 4;
  const channel: RestoredTunnel["channel"] = {
    ns,
    nr,
    peerTunnelId,
    peerReceiveWindow: window,
    peer: { address: peerAddress, port: peerPort },
  };
  if (typeof localAddress === "string" && isId(localPort))
    channel.local = { address: localAddress, port: localPort };
  return channel;
}

/** What can be resumed of one recorded node (see the module comment for what is left out and why). */
export function restorePlan(view: NodeView): RestorePlan {
  const plan: RestorePlan = { node: view.node, admin: adminOf(view.system), destinations: [], skipped: [] };
  for (const [key, d] of Object.entries(view.destinations)) {
    if (d.actor && d.actor.state === "closed") continue;
    const peer = peerOfKey(key);
    if (!peer) continue;
    const destination: RestoredDestination = { key, peer, admin: adminOf(d.actor), tunnels: [] };
    for (const [tunnelKey, t] of Object.entries(d.tunnels)) {
      const actor = t.actor;
      if (!actor || actor.state === "closed") continue;
      const id = Number(tunnelKey);
      const channel = channelOf(actor.data);
      if (actor.state !== "established" || !channel || !isId(id)) {
        plan.skipped.push(
          `tunnel ${key}/${tunnelKey}: ${actor.state !== "established" ? `in state ${actor.state}` : "no channel state recorded"}`,
        );
        continue;
      }
      const role = actor.data.role === "initiator" ? "initiator" : "responder";
      const tunnel: RestoredTunnel = {
        id,
        role,
        state: actor.state,
        context: actor.data,
        channel,
        sessions: [],
      };
      for (const [sessionKey, s] of Object.entries(t.sessions)) {
        if (s.state === "closed") continue;
        const sid = Number(sessionKey);
        const kind = s.data.kind;
        const peerSessionId = s.data.peerSessionId;
        if (
          s.state !== "established" ||
          !isId(sid) ||
          !isId(peerSessionId) ||
          typeof kind !== "string" ||
          !SESSION_KINDS.has(kind)
        ) {
          plan.skipped.push(`session ${key}/${tunnelKey}/${sessionKey}: in state ${s.state}`);
          continue;
        }
        // A PPP link half-way (negotiating, authenticating, terminating) cannot be resumed: its timers and
        // the packets in flight are not in the log; the subscriber retries. An opened one can.
        const ppp = t.ppp?.[sessionKey];
        if (ppp && ppp.state !== "opened") {
          plan.skipped.push(`session ${key}/${tunnelKey}/${sessionKey}: PPP in phase ${ppp.state}`);
          continue;
        }
        tunnel.sessions.push({
          id: sid,
          kind: kind as SessionKind,
          state: s.state,
          peerSessionId,
          context: s.data,
          ...(ppp ? { ppp: { context: ppp.data } } : {}),
        });
      }
      destination.tunnels.push(tunnel);
    }
    if (destination.tunnels.length > 0) plan.destinations.push(destination);
  }
  return plan;
}

/** How many tunnels and sessions a plan resumes. */
export function planSize(plan: RestorePlan): { tunnels: number; sessions: number } {
  let tunnels = 0;
  let sessions = 0;
  for (const d of plan.destinations) {
    tunnels += d.tunnels.length;
    for (const t of d.tunnels) sessions += t.sessions.length;
  }
  return { tunnels, sessions };
}

/** Hex text (as the log stores bytes) back to bytes; undefined when it is not hex. */
function fromHex(value: unknown): Uint8Array | undefined {
  if (typeof value !== "string" || value.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(value)) return undefined;
  const bytes = new Uint8Array(value.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(value.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** A state value string ("closing.stop-sent") as XState's value ({ closing: "stop-sent" }). */
export function stateValueOf(text: string): unknown {
  const dot = text.indexOf(".");
  return dot < 0 ? text : { [text.slice(0, dot)]: stateValueOf(text.slice(dot + 1)) };
}

/** Recorded context fields without the ones a removal wrote as null. */
function withoutNulls(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (v !== null && k !== "status" && k !== "error") out[k] = v;
  return out;
}

/** The tunnel machine's persisted snapshot of a recorded tunnel; the secret from the standby's profile. */
export function tunnelSnapshot(
  tunnel: RestoredTunnel,
  path: { system: string; destination: string; tunnel: number },
  profile: ResolvedProfile | undefined,
): unknown {
  const context: Record<string, unknown> = withoutNulls(tunnel.context);
  context.path = path;
  context.localTunnelId = tunnel.id;
  context.peerTunnelId = tunnel.channel.peerTunnelId;
  context.peerReceiveWindow = tunnel.channel.peerReceiveWindow;
  // The log has these as hex (events/schema.ts); the machine wants bytes. The secret is never in the log.
  delete context.secret;
  if (profile?.secretBytes) context.secret = profile.secretBytes;
  for (const key of ["challenge", "tieBreaker"]) {
    const bytes = fromHex(context[key]);
    if (bytes) context[key] = bytes;
    else delete context[key];
  }
  return persisted(tunnel.state, context);
}

/** The session logic's persisted snapshot of a recorded session. */
export function sessionSnapshot(
  session: RestoredSession,
  path: { system: string; destination: string; tunnel: number; session: number },
): unknown {
  const context: Record<string, unknown> = withoutNulls(session.context);
  context.path = path;
  context.localSessionId = session.id;
  context.peerSessionId = session.peerSessionId;
  context.kind = session.kind;
  // The call's first message is long handled; AVPs are kept as recorded (only sent at setup).
  delete context.request;
  return persisted(session.state, context);
}

/**
 * The PPP actor's persisted snapshot of a recorded opened link: the recorded negotiation (magic numbers,
 * MRU, protocols, user, addresses, automaton states) over a fresh context with the standby's settings.
 * The CHAP challenge is hex in the log; the proxy AVPs and a password never are.
 */
export function pppSnapshot(session: RestoredSession, input: PppInput): unknown {
  const context = initialPppContext(input) as unknown as Record<string, unknown>;
  const recorded = withoutNulls(session.ppp?.context ?? {});
  for (const key of PPP_RESTORED_FIELDS) if (key in recorded) context[key] = recorded[key];
  const challenge = fromHex(recorded.challenge);
  if (challenge) context.challenge = challenge;
  return { status: "active", value: "opened", context, output: undefined, error: undefined };
}

/** The recorded fields of a PPP link that a standby takes over as they are (plain values). */
const PPP_RESTORED_FIELDS = [
  "role",
  "lcp",
  "ipcp",
  "ipv6cp",
  "auth",
  "authProtocol",
  "user",
  "address",
  "peerAddress",
  "localInterfaceId",
  "peerInterfaceId",
  "interfaceIdSuggested",
  "localMagic",
  "peerMagic",
  "localMru",
  "peerMru",
  "proxied",
  "lcpNcp",
  "ipcpNcp",
  "ipv6cpNcp",
  "authIndex",
  "authId",
  "ipcpAsk",
  "dnsLearnt",
] as const;

/** A persisted snapshot in XState v5's shape (what `getPersistedSnapshot` makes and `restoreSnapshot` takes). */
function persisted(state: string, context: Record<string, unknown>): unknown {
  return {
    status: "active",
    value: stateValueOf(state),
    context,
    children: {},
    historyValue: {},
    output: undefined,
    error: undefined,
  };
}
