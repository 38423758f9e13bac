/**
 * How people read the event log: the incident timeline (one line per envelope: time, node, path,
 * machine, from → to, cause, the changed data) and the tree of actors at one moment (the replay fold,
 * shown like `l2tp show`). Pure text functions; `l2tp replay` prints them.
 */
import type { Envelope, EnvelopePath } from "./envelope.ts";
import type { ActorTree, ActorView, DestinationView, SubscriberView, TunnelView } from "./replay.ts";

/**
 * Where an actor sits, as `destination/tunnel/session`, `subscriber:ID` for a LAC's subscriber ("-" for
 * the node's system actor).
 */
export function pathText(path: EnvelopePath): string {
  if (path.subscriber !== undefined) return `subscriber:${path.subscriber}`;
  if (path.destination === undefined && path.tunnel === undefined) return "-";
  let text = path.destination ?? "?";
  if (path.tunnel !== undefined) text += `/${path.tunnel}`;
  if (path.session !== undefined) text += `/${path.session}`;
  return text;
}

/** A time in ms as ISO 8601 UTC with milliseconds ("2024-05-01T10:00:00.123Z"). */
export function timeText(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/** Strings that read the same without quotes (ids, states, addresses, hex). */
const BARE = /^[A-Za-z0-9_.:@/+-]{1,80}$/;

/** One value, compactly: bare words as they are, everything else as JSON. */
function valueText(value: unknown): string {
  if (typeof value === "string") return BARE.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** The changed fields as `key=value …`, cut to `maxChars` with "…" (0: no limit). */
export function dataText(data: Record<string, unknown>, maxChars = 160): string {
  let text = "";
  for (const key of Object.keys(data)) {
    const part = `${key}=${valueText(data[key])}`;
    text = text ? `${text} ${part}` : part;
    if (maxChars > 0 && text.length > maxChars) return `${text.slice(0, maxChars - 1)}…`;
  }
  return text;
}

/** What a timeline line shows. */
export interface TimelineOptions {
  /** Longest data text (default 160; 0: all of it). */
  maxData?: number;
}

/**
 * One envelope as a line of the timeline:
 * `2024-05-01T10:00:00.123Z lns 127.0.0.2:1701/7/3 session wait-connect → established rx.ICCN peerSessionId=9`.
 * An actor's first snapshot reads `(new) → state`; a state kept (a context change) reads `= state`.
 */
export function timelineLine(envelope: Envelope, options: TimelineOptions = {}): string {
  const change =
    envelope.from === null
      ? `(new) → ${envelope.to}`
      : envelope.from === envelope.to
        ? `= ${envelope.to}`
        : `${envelope.from} → ${envelope.to}`;
  const data = dataText(envelope.data, options.maxData ?? 160);
  return (
    `${timeText(envelope.time)} ${envelope.node} ${pathText(envelope.path)} ${envelope.machine} ` +
    `${change}  ${envelope.cause}${data ? `  ${data}` : ""}`
  );
}

/** What the tree text shows. */
export interface TreeTextOptions {
  /** One line per session (default: a count per state under each tunnel). */
  sessions?: boolean;
}

/** The tree of actors at a moment, as `l2tp show` prints a live node: system → destinations → tunnels → sessions. */
export function treeText(tree: ActorTree, options: TreeTextOptions = {}): string {
  const lines: string[] = [];
  const nodes = Object.values(tree.nodes).sort((a, b) => a.node.localeCompare(b.node));
  if (nodes.length === 0) lines.push("no events");
  for (const node of nodes) {
    const destinations = Object.entries(node.destinations).sort(([a], [b]) => a.localeCompare(b));
    let tunnels = 0;
    let sessions = 0;
    for (const [, d] of destinations) {
      for (const t of Object.values(d.tunnels)) {
        tunnels++;
        sessions += Object.keys(t.sessions).length;
      }
    }
    const subscribers = Object.entries(node.subscribers ?? {}).sort(([a], [b]) => a.localeCompare(b));
    lines.push(
      `node ${node.node}  system ${actorText(node.system)}  destinations ${destinations.length}  tunnels ${tunnels}  sessions ${sessions}${subscribers.length > 0 ? `  subscribers ${subscribers.length}` : ""}  (last seq ${node.lastSeq})`,
    );
    for (const [key, d] of destinations) lines.push(...destinationLines(key, d, options));
    lines.push(...subscriberLines(subscribers, options));
  }
  return `${lines.join("\n")}\n`;
}

function destinationLines(key: string, d: DestinationView, options: TreeTextOptions): string[] {
  const lines = [`  destination ${key}  ${actorText(d.actor)}`];
  const tunnels = Object.entries(d.tunnels).sort(([a], [b]) => Number(a) - Number(b));
  for (const [id, t] of tunnels) lines.push(...tunnelLines(Number(id), t, options));
  return lines;
}

function tunnelLines(id: number, t: TunnelView, options: TreeTextOptions): string[] {
  const peer = t.actor?.data.peerTunnelId;
  const sessions = Object.entries(t.sessions).sort(([a], [b]) => Number(a) - Number(b));
  const byState = new Map<string, number>();
  for (const [, s] of sessions) byState.set(s.state, (byState.get(s.state) ?? 0) + 1);
  const counts = [...byState.entries()].map(([state, n]) => `${state} ${n}`).join(", ");
  const lines = [
    `    tunnel ${id}${peer ? ` → ${String(peer)}` : ""}  ${actorText(t.actor)}  sessions ${sessions.length}${counts ? ` (${counts})` : ""}`,
  ];
  if (options.sessions) {
    for (const [sid, s] of sessions) {
      const peerSession = s.data.peerSessionId;
      lines.push(`      session ${sid}${peerSession ? ` → ${String(peerSession)}` : ""}  ${actorText(s)}`);
    }
  }
  return lines;
}

/**
 * A LAC's subscribers: a count per state, or (with `sessions`) a line each with its user, where its
 * call went (or why not) and its PPP link's phase.
 */
function subscriberLines(subscribers: [string, SubscriberView][], options: TreeTextOptions): string[] {
  if (subscribers.length === 0) return [];
  const byState = new Map<string, number>();
  for (const [, s] of subscribers) {
    const state = s.actor?.state ?? "(no events)";
    byState.set(state, (byState.get(state) ?? 0) + 1);
  }
  const counts = [...byState.entries()].map(([state, n]) => `${state} ${n}`).join(", ");
  const lines = [`  subscribers ${subscribers.length} (${counts})`];
  if (!options.sessions) return lines;
  for (const [id, s] of subscribers) {
    const data = s.actor?.data ?? {};
    const placed = data.placed as { destination?: string; tunnel?: number; session?: number } | undefined;
    const where = placed
      ? `  → ${placed.destination}/${placed.tunnel}/${placed.session}`
      : typeof data.reason === "string"
        ? `  ${data.decision ?? ""}: ${data.reason}`
        : "";
    const user = typeof data.user === "string" ? `  ${data.user}` : "";
    lines.push(`    subscriber ${id}${user}${where}  ${actorText(s.actor)}  ppp ${s.ppp?.state ?? "-"}`);
  }
  return lines;
}

/** An actor's state, admin state and when it got there. */
function actorText(view: ActorView | undefined): string {
  if (!view) return "(no events of its own)";
  const admin = typeof view.data.admin === "string" ? `  admin ${view.data.admin}` : "";
  return `${view.state}${admin}  since ${timeText(view.since)}  by ${view.cause}`;
}
