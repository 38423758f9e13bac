/**
 * Replay: the fold of envelopes into the tree of actors (node → destinations → tunnels → sessions) with
 * each actor's current state and last data, in the decider shape (emmett): `initialTree()`,
 * `evolve(tree, envelope)`, and replay is `envelopes.reduce(evolve, initialTree())`. `--at TIME` is the
 * same fold stopped at that time (`replay(envelopes, { at })`). Filters are a pure predicate over
 * envelopes (`matchesFilter`, `selectEnvelopes`).
 *
 * An actor that reached a final state stays in the tree with that state: what to hide is the CLI's choice.
 *
 * `evolve` updates the tree in place and returns it. A fold owns its accumulator; copying a tunnel's
 * sessions (up to 65,535) for every event would make a replay quadratic. Keep a copy (`copyTree`) to
 * hold on to an intermediate tree.
 */
import type { Envelope, EnvelopePath, MachineKind } from "./envelope.ts";

/** One actor as the events have shown it so far. */
export interface ActorView {
  machine: MachineKind;
  node: string;
  path: EnvelopePath;
  /** The current state value (serialised). */
  state: string;
  /** The state before the last state change (null until the actor has changed state). */
  previous: string | null;
  /** When it entered its current state (ms). */
  since: number;
  /** When its last envelope was recorded (ms). */
  updated: number;
  /** The XState event type of its last envelope. */
  cause: string;
  /** Its last known context fields (each envelope's data merged over the previous). */
  data: Record<string, unknown>;
  /** How many envelopes it has had. */
  events: number;
  /** The seq of its last envelope. */
  lastSeq: number;
}

/** A tunnel and its sessions, by local session id, and the sessions' PPP links (same keys). */
export interface TunnelView {
  actor?: ActorView;
  sessions: Record<string, ActorView>;
  ppp?: Record<string, ActorView>;
}

/** A destination and its tunnels, by local tunnel id. */
export interface DestinationView {
  actor?: ActorView;
  tunnels: Record<string, TunnelView>;
}

/** A LAC's subscriber and its PPP link (docs/LAC.md: its own level under the system). */
export interface SubscriberView {
  actor?: ActorView;
  ppp?: ActorView;
}

/** One node (system), its destinations by "address:port", and a LAC's subscribers by line id. */
export interface NodeView {
  node: string;
  system?: ActorView;
  destinations: Record<string, DestinationView>;
  /** A LAC's subscribers, by their Access line's id (absent on a node that has none). */
  subscribers?: Record<string, SubscriberView>;
  /** The seq of the node's last envelope folded in. */
  lastSeq: number;
}

/** The whole tree at one moment. */
export interface ActorTree {
  nodes: Record<string, NodeView>;
  /** The time of the last envelope folded in (null for an empty tree). */
  time: number | null;
  /** How many envelopes were folded in. */
  events: number;
}

/** Where an envelope names no destination (a tunnel or session path without one): the key used. */
export const UNKNOWN_DESTINATION = "?";

/** The empty tree: no nodes, no events. */
export function initialTree(): ActorTree {
  return { nodes: {}, time: null, events: 0 };
}

/** Folds one envelope into the tree (in place; see the module comment) and returns the tree. */
export function evolve(tree: ActorTree, envelope: Envelope): ActorTree {
  let node = tree.nodes[envelope.node];
  if (!node) {
    node = { node: envelope.node, destinations: {}, lastSeq: 0 };
    tree.nodes[envelope.node] = node;
  }
  node.lastSeq = Math.max(node.lastSeq, envelope.seq);
  tree.time = tree.time === null ? envelope.time : Math.max(tree.time, envelope.time);
  tree.events++;

  if (envelope.machine === "system") {
    // A system's first snapshot starts a new life of the node (a restart, a standby that took over): what
    // the previous life left open (a killed process never recorded its tunnels closing) is forgotten.
    if (envelope.from === null && node.system) {
      node.system = undefined;
      node.destinations = {};
      node.subscribers = undefined;
    }
    node.system = nextView(node.system, envelope);
    return tree;
  }
  const subscriberId = envelope.path.subscriber;
  if (subscriberId !== undefined) {
    node.subscribers ??= {};
    let subscriber = node.subscribers[subscriberId];
    if (!subscriber) {
      subscriber = {};
      node.subscribers[subscriberId] = subscriber;
    }
    if (envelope.machine === "ppp") subscriber.ppp = nextView(subscriber.ppp, envelope);
    else subscriber.actor = nextView(subscriber.actor, envelope);
    return tree;
  }
  const key = envelope.path.destination ?? UNKNOWN_DESTINATION;
  let destination = node.destinations[key];
  if (!destination) {
    destination = { tunnels: {} };
    node.destinations[key] = destination;
  }
  if (envelope.machine === "destination") {
    destination.actor = nextView(destination.actor, envelope);
    return tree;
  }
  const tunnelKey = String(envelope.path.tunnel ?? 0);
  let tunnel = destination.tunnels[tunnelKey];
  if (!tunnel) {
    tunnel = { sessions: {} };
    destination.tunnels[tunnelKey] = tunnel;
  }
  if (envelope.machine === "tunnel") {
    tunnel.actor = nextView(tunnel.actor, envelope);
    return tree;
  }
  const sessionKey = String(envelope.path.session ?? 0);
  if (envelope.machine === "ppp") {
    tunnel.ppp ??= {};
    tunnel.ppp[sessionKey] = nextView(tunnel.ppp[sessionKey], envelope);
    return tree;
  }
  tunnel.sessions[sessionKey] = nextView(tunnel.sessions[sessionKey], envelope);
  return tree;
}

/**
 * A copy of a tree that later folds into either leave the other alone, at a fraction of structuredClone's
 * cost: `evolve` replaces an actor's top-level data fields and never changes a value inside one (nor a
 * path), so each actor's view and data object are copied and their values shared.
 */
export function copyTree(tree: ActorTree): ActorTree {
  const copyView = (view: ActorView): ActorView => ({ ...view, data: { ...view.data } });
  const nodes: Record<string, NodeView> = {};
  for (const [name, n] of Object.entries(tree.nodes)) {
    const destinations: Record<string, DestinationView> = {};
    for (const [key, d] of Object.entries(n.destinations)) {
      const tunnels: Record<string, TunnelView> = {};
      for (const [id, t] of Object.entries(d.tunnels)) {
        const sessions: Record<string, ActorView> = {};
        for (const [sid, s] of Object.entries(t.sessions)) sessions[sid] = copyView(s);
        const tunnel: TunnelView = { ...(t.actor ? { actor: copyView(t.actor) } : {}), sessions };
        if (t.ppp) {
          tunnel.ppp = {};
          for (const [sid, p] of Object.entries(t.ppp)) tunnel.ppp[sid] = copyView(p);
        }
        tunnels[id] = tunnel;
      }
      destinations[key] = { ...(d.actor ? { actor: copyView(d.actor) } : {}), tunnels };
    }
    const copied: NodeView = { ...n, ...(n.system ? { system: copyView(n.system) } : {}), destinations };
    if (n.subscribers) {
      const subscribers: Record<string, SubscriberView> = {};
      for (const [id, s] of Object.entries(n.subscribers)) {
        subscribers[id] = {
          ...(s.actor ? { actor: copyView(s.actor) } : {}),
          ...(s.ppp ? { ppp: copyView(s.ppp) } : {}),
        };
      }
      copied.subscribers = subscribers;
    }
    nodes[name] = copied;
  }
  return { nodes, time: tree.time, events: tree.events };
}

/** The view of an actor after one more envelope. */
function nextView(view: ActorView | undefined, envelope: Envelope): ActorView {
  if (!view) {
    return {
      machine: envelope.machine,
      node: envelope.node,
      path: envelope.path,
      state: envelope.to,
      previous: envelope.from,
      since: envelope.time,
      updated: envelope.time,
      cause: envelope.cause,
      data: { ...envelope.data },
      events: 1,
      lastSeq: envelope.seq,
    };
  }
  if (envelope.to !== view.state) {
    view.previous = view.state;
    view.since = envelope.time;
    view.state = envelope.to;
  }
  view.updated = envelope.time;
  view.cause = envelope.cause;
  Object.assign(view.data, envelope.data);
  view.events++;
  view.lastSeq = envelope.seq;
  return view;
}

/** What to keep of a stream of envelopes; every given field must match. */
export interface EventFilter {
  /** Only envelopes at or after this time (ms). */
  since?: number;
  /** Only envelopes at or before this time (ms). */
  until?: number;
  node?: string;
  machine?: MachineKind;
  /** This destination ("address:port") and everything below it. */
  destination?: string;
  /** This tunnel (local id) and its sessions. */
  tunnel?: number;
  /** This session (local id). */
  session?: number;
  /** This subscriber of a LAC (its Access line's id) and its PPP link. */
  subscriber?: string;
  /** The cause: an exact event type or the reason an actor ended with ("ppp"), or a prefix ending in "*" ("rx.*"). */
  cause?: string;
}

/** Whether an envelope passes the filter. */
export function matchesFilter(envelope: Envelope, filter: EventFilter): boolean {
  if (filter.since !== undefined && envelope.time < filter.since) return false;
  if (filter.until !== undefined && envelope.time > filter.until) return false;
  if (filter.node !== undefined && envelope.node !== filter.node) return false;
  if (filter.machine !== undefined && envelope.machine !== filter.machine) return false;
  if (filter.destination !== undefined && envelope.path.destination !== filter.destination) return false;
  if (filter.tunnel !== undefined && envelope.path.tunnel !== filter.tunnel) return false;
  if (filter.session !== undefined && envelope.path.session !== filter.session) return false;
  if (filter.subscriber !== undefined && envelope.path.subscriber !== filter.subscriber) return false;
  if (filter.cause !== undefined) {
    const wanted = filter.cause;
    const matches = (text: string): boolean =>
      wanted.endsWith("*") ? text.startsWith(wanted.slice(0, -1)) : text === wanted;
    // The XState event, or the reason of the cause an actor ended with ("ppp", "peer", "timeout" …).
    const reason = (envelope.data.cause as { reason?: unknown } | undefined)?.reason;
    if (!matches(envelope.cause) && !(typeof reason === "string" && matches(reason))) return false;
  }
  return true;
}

/** The envelopes that pass the filter, in their order. */
export function selectEnvelopes(envelopes: Iterable<Envelope>, filter: EventFilter): Envelope[] {
  const out: Envelope[] = [];
  for (const envelope of envelopes) if (matchesFilter(envelope, filter)) out.push(envelope);
  return out;
}

/** The tree after every envelope up to time `at` (all of them without `at`). */
export function replay(envelopes: Iterable<Envelope>, options: { at?: number } = {}): ActorTree {
  const tree = initialTree();
  for (const envelope of envelopes) {
    if (options.at !== undefined && envelope.time > options.at) continue;
    evolve(tree, envelope);
  }
  return tree;
}

/** `replay` over an async stream (an EventLog read). */
export async function replayAsync(
  envelopes: AsyncIterable<Envelope>,
  options: { at?: number } = {},
): Promise<ActorTree> {
  const tree = initialTree();
  for await (const envelope of envelopes) {
    if (options.at !== undefined && envelope.time > options.at) continue;
    evolve(tree, envelope);
  }
  return tree;
}
