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
  /**
   * Its last known context fields (each envelope's data merged over the previous). After one envelope
   * it is that envelope's own `data` object (shared, never written into: see `nextView`).
   */
  data: Record<string, unknown>;
  /** How many envelopes it has had. */
  events: number;
  /** The seq of its last envelope. */
  lastSeq: number;
  /** The tree generation that may change it in place (copy on write, `copyTree`); none: any. */
  generation?: number;
}

/** A tunnel and its sessions, by local session id, and the sessions' PPP links (same keys). */
export interface TunnelView {
  actor?: ActorView;
  sessions: Record<string, ActorView>;
  ppp?: Record<string, ActorView>;
  generation?: number;
}

/** A destination and its tunnels, by local tunnel id. */
export interface DestinationView {
  actor?: ActorView;
  tunnels: Record<string, TunnelView>;
  generation?: number;
}

/** A LAC's subscriber and its PPP link (docs/LAC.md: its own level under the system). */
export interface SubscriberView {
  actor?: ActorView;
  ppp?: ActorView;
  generation?: number;
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
  generation?: number;
}

/** The whole tree at one moment. */
export interface ActorTree {
  nodes: Record<string, NodeView>;
  /** The time of the last envelope folded in (null for an empty tree). */
  time: number | null;
  /** How many envelopes were folded in. */
  events: number;
  /**
   * Set once the tree shares parts with another (`copyTree`): a fold copies a node, destination,
   * tunnel or actor view of another generation before changing it. Unset: everything is its own.
   */
  generation?: number;
}

/** Where an envelope names no destination (a tunnel or session path without one): the key used. */
export const UNKNOWN_DESTINATION = "?";

/** The empty tree: no nodes, no events. */
export function initialTree(): ActorTree {
  return { nodes: {}, time: null, events: 0 };
}

/** Folds one envelope into the tree (in place; see the module comment) and returns the tree. */
export function evolve(tree: ActorTree, envelope: Envelope): ActorTree {
  evolveActor(tree, envelope);
  return tree;
}

/** Folds one envelope into the tree (in place) and returns the view of the actor it is about. */
export function evolveActor(tree: ActorTree, envelope: Envelope): ActorView {
  const g = tree.generation;
  let node = tree.nodes[envelope.node];
  if (!node) {
    node = {
      node: envelope.node,
      destinations: {},
      lastSeq: 0,
      ...(g === undefined ? {} : { generation: g }),
    };
    tree.nodes[envelope.node] = node;
  } else if (g !== undefined && node.generation !== g) {
    node = {
      ...node,
      destinations: { ...node.destinations },
      ...(node.subscribers ? { subscribers: { ...node.subscribers } } : {}),
      generation: g,
    };
    tree.nodes[envelope.node] = node;
  }
  countEnvelope(tree, node, envelope);

  if (envelope.machine === "system") {
    // A system's first snapshot starts a new life of the node (a restart, a standby that took over): what
    // the previous life left open (a killed process never recorded its tunnels closing) is forgotten.
    if (envelope.from === null && node.system) {
      node.system = undefined;
      node.destinations = {};
      node.subscribers = undefined;
    }
    node.system = nextView(own(node.system, g), envelope, g);
    return node.system;
  }
  const subscriberId = envelope.path.subscriber;
  if (subscriberId !== undefined) {
    node.subscribers ??= {};
    let subscriber = node.subscribers[subscriberId];
    if (!subscriber) {
      subscriber = g === undefined ? {} : { generation: g };
      node.subscribers[subscriberId] = subscriber;
    } else if (g !== undefined && subscriber.generation !== g) {
      subscriber = { ...subscriber, generation: g };
      node.subscribers[subscriberId] = subscriber;
    }
    if (envelope.machine === "ppp") {
      subscriber.ppp = nextView(own(subscriber.ppp, g), envelope, g);
      return subscriber.ppp;
    }
    subscriber.actor = nextView(own(subscriber.actor, g), envelope, g);
    return subscriber.actor;
  }
  const key = envelope.path.destination ?? UNKNOWN_DESTINATION;
  let destination = node.destinations[key];
  if (!destination) {
    destination = { tunnels: {}, ...(g === undefined ? {} : { generation: g }) };
    node.destinations[key] = destination;
  } else if (g !== undefined && destination.generation !== g) {
    destination = { ...destination, tunnels: { ...destination.tunnels }, generation: g };
    node.destinations[key] = destination;
  }
  if (envelope.machine === "destination") {
    destination.actor = nextView(own(destination.actor, g), envelope, g);
    return destination.actor;
  }
  // Ids index the maps as numbers: the same property as their text, without parsing the text each time.
  const tunnelKey = envelope.path.tunnel ?? 0;
  let tunnel = destination.tunnels[tunnelKey];
  if (!tunnel) {
    tunnel = { sessions: {}, ...(g === undefined ? {} : { generation: g }) };
    destination.tunnels[tunnelKey] = tunnel;
  } else if (g !== undefined && tunnel.generation !== g) {
    // A tunnel's sessions are copied once per generation that changes one of them (pointers only).
    tunnel = {
      ...tunnel,
      sessions: { ...tunnel.sessions },
      ...(tunnel.ppp ? { ppp: { ...tunnel.ppp } } : {}),
      generation: g,
    };
    destination.tunnels[tunnelKey] = tunnel;
  }
  if (envelope.machine === "tunnel") {
    tunnel.actor = nextView(own(tunnel.actor, g), envelope, g);
    return tunnel.actor;
  }
  // A view changed in place is not stored again: session ids are sparse 16-bit keys, and each store
  // into such a map costs as much as the lookup (bench/inspector.ts, the live tree's fold).
  const sessionKey = envelope.path.session ?? 0;
  if (envelope.machine === "ppp") {
    tunnel.ppp ??= {};
    const was = tunnel.ppp[sessionKey];
    const link = nextView(own(was, g), envelope, g);
    if (link !== was) tunnel.ppp[sessionKey] = link;
    return link;
  }
  const was = tunnel.sessions[sessionKey];
  const session = nextView(own(was, g), envelope, g);
  if (session !== was) tunnel.sessions[sessionKey] = session;
  return session;
}

/**
 * Counts an envelope in the tree and in its node (`node` is `tree.nodes[envelope.node]`) without folding
 * it into an actor: what `evolveActor` does besides the actor's view (the live tree drops an actor that
 * ends without bringing its view up to date first, adapters/inspector/live.ts).
 */
export function countEnvelope(tree: ActorTree, node: NodeView, envelope: Envelope): void {
  node.lastSeq = Math.max(node.lastSeq, envelope.seq);
  tree.time = tree.time === null ? envelope.time : Math.max(tree.time, envelope.time);
  tree.events++;
}

/** The view itself when generation `g` may change it, else a copy that it may. */
function own(view: ActorView | undefined, g: number | undefined): ActorView | undefined {
  if (!view || g === undefined || view.generation === g) return view;
  return { ...view, data: { ...view.data }, generation: g };
}

/** The last generation given (see ActorTree.generation). */
let generations = 0;

/**
 * A copy of a tree that later folds into either leave the other alone, in a time that does not grow
 * with the actors: both trees share every node, destination, tunnel, subscriber and actor view, and each takes a
 * new generation, so a fold into either copies what it changes first (copy on write: a changed actor's
 * view, its tunnel's session map, once per generation). `evolve` replaces an actor's top-level data
 * fields and never changes a value inside one (nor a path), so a copied view shares its values.
 */
export function copyTree(tree: ActorTree): ActorTree {
  tree.generation = ++generations;
  return { nodes: { ...tree.nodes }, time: tree.time, events: tree.events, generation: ++generations };
}

/** The view of an actor after one more envelope. */
function nextView(view: ActorView | undefined, envelope: Envelope, g: number | undefined): ActorView {
  if (!view) {
    const made: ActorView = {
      machine: envelope.machine,
      node: envelope.node,
      path: envelope.path,
      state: envelope.to,
      previous: envelope.from,
      since: envelope.time,
      updated: envelope.time,
      cause: envelope.cause,
      // Shared with the envelope until a second one changes it (copy on write, below): one copy per actor,
      // not a copy and then merges into it (a lab's session has three envelopes, and the live tree drops
      // an actor at its last without folding it). An envelope is kept as it was recorded (the log, the
      // inspector's ring). With that drop, five alternated profiles of a watched lab (3 × 20,000 calls):
      // this module's samples 600-640 → 312-464 ms, the live tree's own (live.ts) 808-884 → 712-819 ms.
      data: envelope.data,
      events: 1,
      lastSeq: envelope.seq,
    };
    if (g !== undefined) made.generation = g;
    return made;
  }
  if (envelope.to !== view.state) {
    view.previous = view.state;
    view.since = envelope.time;
    view.state = envelope.to;
  }
  view.updated = envelope.time;
  view.cause = envelope.cause;
  // One envelope so far: its data is the envelope's own; the merge is a new object.
  if (view.events === 1) view.data = { ...view.data, ...envelope.data };
  else Object.assign(view.data, envelope.data);
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
