/**
 * What the inspector page asks of a tree of actors (the replay fold, events/replay.ts): the counts per
 * level and state, one level of children at a time, and server-side filtered, sorted and paged lists.
 * Pure functions over an `ActorTree`; the live node and a replayed log both answer through them.
 *
 * A list's matching rows are kept for the tree's version (its event count) so that scrolling through
 * 100,000 sessions sorts them once, not once per page.
 */
import { type EnvelopePath, MACHINE_KINDS, type MachineKind } from "../../events/envelope.ts";
import type {
  ActorTree,
  ActorView,
  DestinationView,
  NodeView,
  SubscriberView,
  TunnelView,
} from "../../events/replay.ts";

/** Which actor: its node and the path below it, down to the actor's own level. */
export interface ActorAddress extends EnvelopePath {
  node: string;
  /** The PPP link rather than its session or subscriber (both have their owner's path). */
  ppp?: boolean;
}

/** Counts by state, per level: `{ session: { established: 1000, closed: 3 } }`. */
export type LevelCounts = Record<MachineKind, Record<string, number>>;

/** One actor as a row of a list or a child in the tree. */
export interface ActorRow extends ActorAddress {
  machine: MachineKind;
  state: string;
  /** Admin state (system, destination, tunnel), when known. */
  admin?: string;
  since: number;
  updated: number;
  cause: string;
  events: number;
  /** How many children it has (tunnels of a destination, sessions of a tunnel …). */
  children: number;
  /** Its children's counts by state. */
  childStates?: Record<string, number>;
}

/** The rows (made on demand) of every actor of the given levels, in path order. */
export function* actorsOf(
  tree: ActorTree,
  levels: ReadonlySet<MachineKind> = ALL_LEVELS,
): Generator<() => ActorRow> {
  const deeper =
    levels.has("destination") || levels.has("tunnel") || levels.has("session") || levels.has("ppp");
  // In path order: nodes and destinations sorted here; tunnel and session ids are integer keys, which
  // objects keep in ascending order (ECMA-262 OrdinaryOwnPropertyKeys), so a path-sorted list needs no sort.
  for (const name of Object.keys(tree.nodes).sort()) {
    const node = tree.nodes[name] as NodeView;
    if (levels.has("system")) yield () => systemRow(node);
    if (levels.has("subscriber") || levels.has("ppp")) {
      for (const id of Object.keys(node.subscribers ?? {}).sort()) {
        const s = node.subscribers?.[id] as SubscriberView;
        if (levels.has("subscriber")) yield () => subscriberRow(node.node, id, s);
        if (levels.has("ppp") && s.ppp) yield () => subscriberPppRow(node.node, id, s.ppp as ActorView);
      }
    }
    if (!deeper) continue;
    for (const key of Object.keys(node.destinations).sort()) {
      const d = node.destinations[key] as DestinationView;
      if (levels.has("destination")) yield () => destinationRow(node.node, key, d);
      if (!levels.has("tunnel") && !levels.has("session") && !levels.has("ppp")) continue;
      for (const [tid, t] of Object.entries(d.tunnels)) {
        if (levels.has("tunnel")) yield () => tunnelRow(node.node, key, Number(tid), t);
        if (levels.has("session")) {
          for (const [sid, s] of Object.entries(t.sessions)) {
            yield () => sessionRow(node.node, key, Number(tid), Number(sid), s);
          }
        }
        if (levels.has("ppp")) {
          for (const [sid, p] of Object.entries(t.ppp ?? {}))
            yield () => pppRow(node.node, key, Number(tid), Number(sid), p);
        }
      }
    }
  }
}

const ALL_LEVELS: ReadonlySet<MachineKind> = new Set(MACHINE_KINDS);

function emptyCounts(): LevelCounts {
  return { system: {}, destination: {}, tunnel: {}, session: {}, ppp: {}, subscriber: {} };
}

function bump(counts: Record<string, number>, state: string): void {
  counts[state] = (counts[state] ?? 0) + 1;
}

/** Counts per level and state over the whole tree (or one node's part of it). */
export function levelCounts(tree: ActorTree, node?: string): LevelCounts {
  const counts = emptyCounts();
  for (const n of Object.values(tree.nodes)) {
    if (node !== undefined && n.node !== node) continue;
    if (n.system) bump(counts.system, n.system.state);
    for (const s of Object.values(n.subscribers ?? {})) {
      if (s.actor) bump(counts.subscriber, s.actor.state);
      if (s.ppp) bump(counts.ppp, s.ppp.state);
    }
    for (const d of Object.values(n.destinations)) {
      if (d.actor) bump(counts.destination, d.actor.state);
      for (const t of Object.values(d.tunnels)) {
        if (t.actor) bump(counts.tunnel, t.actor.state);
        for (const s of Object.values(t.sessions)) bump(counts.session, s.state);
        for (const p of Object.values(t.ppp ?? {})) bump(counts.ppp, p.state);
      }
    }
  }
  return counts;
}

const NO_VIEW = "(no events)";

function baseRow(machine: MachineKind, address: ActorAddress, view: ActorView | undefined): ActorRow {
  const admin = view?.data.admin;
  return {
    ...address,
    machine,
    state: view?.state ?? NO_VIEW,
    ...(typeof admin === "string" ? { admin } : {}),
    since: view?.since ?? 0,
    updated: view?.updated ?? 0,
    cause: view?.cause ?? "",
    events: view?.events ?? 0,
    children: 0,
  };
}

function systemRow(n: NodeView): ActorRow {
  const row = baseRow("system", { node: n.node }, n.system);
  const destinations = Object.values(n.destinations);
  const subscribers = Object.values(n.subscribers ?? {});
  row.children = destinations.length + subscribers.length;
  row.childStates = {};
  for (const d of destinations) bump(row.childStates, d.actor?.state ?? NO_VIEW);
  for (const s of subscribers) bump(row.childStates, s.actor?.state ?? NO_VIEW);
  return row;
}

function destinationRow(node: string, key: string, d: DestinationView): ActorRow {
  const row = baseRow("destination", { node, destination: key }, d.actor);
  const tunnels = Object.values(d.tunnels);
  row.children = tunnels.length;
  row.childStates = {};
  for (const t of tunnels) bump(row.childStates, t.actor?.state ?? NO_VIEW);
  return row;
}

function tunnelRow(node: string, key: string, id: number, t: TunnelView): ActorRow {
  const row = baseRow("tunnel", { node, destination: key, tunnel: id }, t.actor);
  const sessions = Object.values(t.sessions);
  row.children = sessions.length;
  row.childStates = {};
  for (const s of sessions) bump(row.childStates, s.state);
  return row;
}

function sessionRow(node: string, key: string, tid: number, sid: number, s: ActorView): ActorRow {
  return baseRow("session", { node, destination: key, tunnel: tid, session: sid }, s);
}

function pppRow(node: string, key: string, tid: number, sid: number, p: ActorView): ActorRow {
  return baseRow("ppp", { node, destination: key, tunnel: tid, session: sid, ppp: true }, p);
}

function subscriberRow(node: string, id: string, s: SubscriberView): ActorRow {
  const row = baseRow("subscriber", { node, subscriber: id }, s.actor);
  row.children = s.ppp ? 1 : 0;
  if (s.ppp) row.childStates = { [s.ppp.state]: 1 };
  return row;
}

function subscriberPppRow(node: string, id: string, p: ActorView): ActorRow {
  return baseRow("ppp", { node, subscriber: id, ppp: true }, p);
}

/** An actor's place in the tree, found from its address (undefined when the tree has no such actor). */
export interface FoundActor {
  machine: MachineKind;
  view: ActorView | undefined;
  row: ActorRow;
}

/** Finds the actor at `address` (its deepest given level). */
export function findActor(tree: ActorTree, address: ActorAddress): FoundActor | undefined {
  const n = tree.nodes[address.node];
  if (!n) return undefined;
  if (address.subscriber !== undefined) {
    const s = n.subscribers?.[address.subscriber];
    if (!s) return undefined;
    if (address.ppp) {
      if (!s.ppp) return undefined;
      return { machine: "ppp", view: s.ppp, row: subscriberPppRow(n.node, address.subscriber, s.ppp) };
    }
    return { machine: "subscriber", view: s.actor, row: subscriberRow(n.node, address.subscriber, s) };
  }
  if (address.destination === undefined) return { machine: "system", view: n.system, row: systemRow(n) };
  const d = n.destinations[address.destination];
  if (!d) return undefined;
  if (address.tunnel === undefined) {
    return { machine: "destination", view: d.actor, row: destinationRow(n.node, address.destination, d) };
  }
  const t = d.tunnels[String(address.tunnel)];
  if (!t) return undefined;
  if (address.session === undefined) {
    return {
      machine: "tunnel",
      view: t.actor,
      row: tunnelRow(n.node, address.destination, address.tunnel, t),
    };
  }
  if (address.ppp) {
    const p = t.ppp?.[String(address.session)];
    if (!p) return undefined;
    return {
      machine: "ppp",
      view: p,
      row: pppRow(n.node, address.destination, address.tunnel, address.session, p),
    };
  }
  const s = t.sessions[String(address.session)];
  if (!s) return undefined;
  return {
    machine: "session",
    view: s,
    row: sessionRow(n.node, address.destination, address.tunnel, address.session, s),
  };
}

/** The children of an address (the nodes for none), at most `limit` of them, and how many there are. */
export function childrenOf(
  tree: ActorTree,
  address: Partial<ActorAddress>,
  limit: number,
): { rows: ActorRow[]; total: number } {
  const rows: ActorRow[] = [];
  let total = 0;
  const take = (make: () => ActorRow) => {
    total++;
    if (rows.length < limit) rows.push(make());
  };
  if (address.node === undefined) {
    for (const n of Object.values(tree.nodes)) take(() => systemRow(n));
    return { rows, total };
  }
  const n = tree.nodes[address.node];
  if (!n) return { rows, total };
  if (address.subscriber !== undefined) {
    const p = n.subscribers?.[address.subscriber]?.ppp;
    const id = address.subscriber;
    if (p && !address.ppp) take(() => subscriberPppRow(n.node, id, p));
    return { rows, total };
  }
  if (address.destination === undefined) {
    // The system's children: its destinations, then a LAC's subscribers (a level of their own under it).
    for (const [key, d] of Object.entries(n.destinations)) take(() => destinationRow(n.node, key, d));
    for (const [id, s] of Object.entries(n.subscribers ?? {})) take(() => subscriberRow(n.node, id, s));
    return { rows, total };
  }
  const d = n.destinations[address.destination];
  if (!d) return { rows, total };
  const key = address.destination;
  if (address.tunnel === undefined) {
    for (const [tid, t] of Object.entries(d.tunnels)) take(() => tunnelRow(n.node, key, Number(tid), t));
    return { rows, total };
  }
  const t = d.tunnels[String(address.tunnel)];
  if (!t) return { rows, total };
  const tid = address.tunnel;
  for (const [sid, s] of Object.entries(t.sessions)) take(() => sessionRow(n.node, key, tid, Number(sid), s));
  return { rows, total };
}

/** The sort orders a list takes. */
export const LIST_SORTS = ["path", "state", "since", "updated", "events"] as const;
export type ListSort = (typeof LIST_SORTS)[number];

/** What a list shows: one level, optionally one state and a search text, sorted, one page. */
export interface ListQuery {
  level: MachineKind;
  state?: string;
  /** Case-insensitive text matched against the path, state, admin state and cause. */
  search?: string;
  sort: ListSort;
  descending: boolean;
  offset: number;
  limit: number;
}

/** Most rows one page answers. */
export const MAX_LIST_LIMIT = 1000;

/** Reads a list query from URL parameters; a string names the bad parameter and what it takes. */
export function parseListQuery(params: URLSearchParams): ListQuery | string {
  const level = params.get("level") ?? "session";
  if (!(MACHINE_KINDS as readonly string[]).includes(level)) {
    return `level: expected one of ${MACHINE_KINDS.join(", ")}`;
  }
  let sort = params.get("sort") ?? "path";
  let descending = false;
  if (sort.startsWith("-")) {
    descending = true;
    sort = sort.slice(1);
  }
  if (!(LIST_SORTS as readonly string[]).includes(sort)) {
    return `sort: expected one of ${LIST_SORTS.join(", ")} (prefix '-' for descending)`;
  }
  const offset = wholeNumber(params.get("offset"), 0);
  if (offset === undefined) return "offset: expected a whole number ≥ 0";
  const limit = wholeNumber(params.get("limit"), 100);
  if (limit === undefined || limit > MAX_LIST_LIMIT)
    return `limit: expected a whole number from 0 to ${MAX_LIST_LIMIT}`;
  const state = params.get("state") || undefined;
  const search = params.get("search")?.trim().toLowerCase() || undefined;
  return {
    level: level as MachineKind,
    ...(state ? { state } : {}),
    ...(search ? { search } : {}),
    sort: sort as ListSort,
    descending,
    offset,
    limit,
  };
}

function wholeNumber(text: string | null, fallback: number): number | undefined {
  if (text === null || text === "") return fallback;
  if (!/^\d{1,9}$/.test(text)) return undefined;
  return Number(text);
}

function pathKey(row: ActorRow): string {
  return `${row.node}/${row.destination ?? ""}/${row.tunnel ?? ""}/${row.session ?? ""}${row.subscriber !== undefined ? `/subscriber:${row.subscriber}` : ""}${row.ppp ? "/ppp" : ""}`;
}

/** Plain code-unit order: localeCompare costs a microsecond a call, and 100,000 rows take 1.7 M calls. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareRows(sort: ListSort): (a: ActorRow, b: ActorRow) => number {
  const byPath = (a: ActorRow, b: ActorRow) =>
    compareText(a.node, b.node) ||
    compareText(a.destination ?? "", b.destination ?? "") ||
    (a.tunnel ?? 0) - (b.tunnel ?? 0) ||
    (a.session ?? 0) - (b.session ?? 0);
  switch (sort) {
    case "path":
      return byPath;
    case "state":
      return (a, b) => compareText(a.state, b.state) || byPath(a, b);
    case "since":
      return (a, b) => a.since - b.since || byPath(a, b);
    case "updated":
      return (a, b) => a.updated - b.updated || byPath(a, b);
    case "events":
      return (a, b) => a.events - b.events || byPath(a, b);
  }
}

/** Counts per node for one tree version: a live page asks for the whole tree's and each expanded node's. */
export class CountsCache {
  #version = -1;
  #tree: ActorTree | undefined;
  readonly #counts = new Map<string, LevelCounts>();

  /** The counts of `node` (all nodes when undefined) in `tree`, whose content is identified by `version`. */
  counts(tree: ActorTree, version: number, node?: string): LevelCounts {
    if (version !== this.#version || tree !== this.#tree) {
      this.#version = version;
      this.#tree = tree;
      this.#counts.clear();
    }
    const key = node ?? "";
    let counts = this.#counts.get(key);
    if (!counts) {
      counts = levelCounts(tree, node);
      this.#counts.set(key, counts);
    }
    return counts;
  }
}

/** Lists the rows a query matches, sorted; `cache` keeps the last sorted match per query for one tree version. */
export class ListCache {
  #version = -1;
  #tree: ActorTree | undefined;
  readonly #sorted = new Map<string, ActorRow[]>();

  /**
   * One page of the query over `tree`, whose content is identified by `version`. With the tree's
   * `counts`, a list of any level in path order without a search is answered by walking the tree only
   * as far as the page (`actorsOf` walks in path order, the counts give the total): what a live page
   * asks on every refresh costs its page, not the whole list (20,000 subscribers of a LAC included).
   */
  list(
    tree: ActorTree,
    version: number,
    query: ListQuery,
    counts?: LevelCounts,
  ): { rows: ActorRow[]; total: number } {
    if (counts && query.sort === "path" && query.search === undefined) {
      return pageInPathOrder(tree, query, counts);
    }
    if (version !== this.#version || tree !== this.#tree) {
      this.#version = version;
      this.#tree = tree;
      this.#sorted.clear();
    }
    const key = `${query.level}\u0000${query.state ?? ""}\u0000${query.search ?? ""}\u0000${query.sort}`;
    let rows = this.#sorted.get(key);
    if (!rows) {
      rows = [];
      for (const row of actorsOf(tree, new Set([query.level]))) {
        const r = row();
        if (query.state !== undefined && r.state !== query.state) continue;
        if (query.search !== undefined && !matchesSearch(r, query.search)) continue;
        rows.push(r);
      }
      if (query.sort !== "path") rows.sort(compareRows(query.sort)); // actorsOf gives path order
      // A handful of queries are live at once (the page's list and a few filters).
      if (this.#sorted.size >= 8) this.#sorted.clear();
      this.#sorted.set(key, rows);
    }
    return pageOf(rows, rows.length, query, 0);
  }
}

/** The rows of the query's page, from `rows` that hold the sorted list from position `first` on. */
function pageOf(
  rows: readonly ActorRow[],
  total: number,
  query: ListQuery,
  first: number,
): { rows: ActorRow[]; total: number } {
  const start = query.descending ? Math.max(0, total - query.offset - query.limit) : query.offset;
  const end = query.descending ? total - query.offset : query.offset + query.limit;
  const page = rows.slice(start - first, Math.max(start, end) - first);
  if (query.descending) page.reverse();
  return { rows: page, total };
}

/** A page of a path-ordered list with no search, walked only up to the page's end; the total from `counts`. */
function pageInPathOrder(
  tree: ActorTree,
  query: ListQuery,
  counts: LevelCounts,
): { rows: ActorRow[]; total: number } {
  const byState = counts[query.level];
  const total =
    query.state !== undefined
      ? (byState[query.state] ?? 0)
      : Object.values(byState).reduce((sum, n) => sum + n, 0);
  const start = query.descending ? Math.max(0, total - query.offset - query.limit) : query.offset;
  const end = Math.max(start, query.descending ? total - query.offset : query.offset + query.limit);
  const rows: ActorRow[] = [];
  let index = 0;
  for (const row of actorsOf(tree, new Set([query.level]))) {
    if (index >= end) break;
    if (query.state === undefined) {
      if (index++ >= start) rows.push(row());
      continue;
    }
    const r = row();
    if (r.state !== query.state) continue;
    if (index++ >= start) rows.push(r);
  }
  return pageOf(rows, total, query, start);
}

function matchesSearch(row: ActorRow, search: string): boolean {
  return `${pathKey(row)} ${row.state} ${row.admin ?? ""} ${row.cause}`.toLowerCase().includes(search);
}
