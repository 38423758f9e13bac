/**
 * The inspector's HTTP routes, served beside the admin API (adapters/admin/server.ts) of a running node,
 * or alone by `l2tp replay SRC --inspect` over a recorded log. Everything is under /inspector:
 *
 *   GET  /inspector/                   the page (page/index.html; its one script, page/dist/app.js, built by
 *                                      scripts/build-inspector.ts)
 *   GET  /inspector/api/info           mode (live or replay), nodes, whether actions are allowed, the log's bounds
 *   GET  /inspector/api/graphs         the statechart of every machine kind (graphs.ts)
 *   GET  /inspector/api/tree?node&destination&tunnel&limit      counts per level and state, and one level of children
 *   GET  /inspector/api/list?level&state&search&sort&offset&limit  rows and a total, filtered and sorted here
 *   GET  /inspector/api/actor?node&destination&tunnel&session   one actor: state, context, admin, counters, cause, recent events
 *   GET  /inspector/api/events?level&actor&cause&type           Server-Sent Events (live), resumable with Last-Event-ID
 *   POST /inspector/api/action {node, destination?, tunnel?, session?, action}   drain, shutdown, enable or close
 *   GET  /inspector/api/spans?failures&offset&limit             the replay's timeline spans
 *   GET  /inspector/api/density?buckets                         the replay's minimap
 *
 * In replay, `at` (a position: how many envelopes are folded in) or `time` (ms) says which moment the
 * tree, lists and actor detail describe. Actions answer 403 unless the node was started with them allowed.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { L2tpNode } from "../../actors/node.ts";
import type { PeerAddress } from "../../actors/ports.ts";
import type { Envelope } from "../../events/envelope.ts";
import type { EventLog } from "../../events/port.ts";
import type { EnvelopeFeed } from "../../events/recorder.ts";
import { type ActorTree, replay } from "../../events/replay.ts";
import { toEventJson } from "../../events/schema.ts";
import { cause } from "../../machines/common.ts";
import { parsePeer, readJson, reply } from "../admin/server.ts";
import { machineGraphs } from "./graphs.ts";
import { LiveSource } from "./live.ts";
import type { RecordedLog } from "./recorded.ts";
import { actorText, parseSeqVector, parseStreamFilter, StreamSubscriber } from "./stream.ts";
import { type ActorAddress, CountsCache, childrenOf, findActor, ListCache, parseListQuery } from "./view.ts";

/** The page, and its script as scripts/build-inspector.ts builds it (checked in). */
const PAGE_HTML = new URL("./page/index.html", import.meta.url);
const PAGE_JS = new URL("./page/dist/app.js", import.meta.url);

/** Recent events an actor's detail shows. */
const RECENT_EVENTS = 50;
/** Most children one tree request answers (a tunnel holds up to 65,535 sessions: the list pages them). */
const MAX_CHILDREN = 1000;

/** What the inspector looks at: live nodes (and their event log), or a recorded log. */
export type InspectorSubject =
  | { mode: "live"; log: EventLog; feed: EnvelopeFeed; nodes: readonly L2tpNode[]; actions: boolean }
  | { mode: "replay"; recorded: RecordedLog; source: string };

/** The inspector's routes: `handle` answers a request under /inspector and returns false for any other. */
export interface Inspector {
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Whether it is doing any work now (live: a page asked recently or a stream is open). */
  readonly watching: boolean;
  close(): void;
}

/** Makes the inspector of `subject`. */
export function createInspector(subject: InspectorSubject): Inspector {
  const live = subject.mode === "live" ? new LiveSource(subject.log, subject.feed, subject.nodes) : undefined;
  const lists = new ListCache();
  const counts = new CountsCache();
  let page: { html: string; js: string } | undefined;

  const moment = async (
    params: URLSearchParams,
  ): Promise<{ tree: ActorTree; version: number; index: number }> => {
    if (live) {
      const { tree, version } = live.tree();
      return { tree, version, index: version };
    }
    const recorded = (subject as { recorded: RecordedLog }).recorded;
    const index = positionOf(recorded, params);
    return { tree: recorded.treeAt(index), version: index, index };
  };

  const routes: Record<
    string,
    (params: URLSearchParams, req: IncomingMessage, res: ServerResponse) => Promise<void>
  > = {
    "GET /inspector/api/info": async (_params, _req, res) => {
      if (live) {
        const nodes = (subject as { nodes: readonly L2tpNode[] }).nodes.map((n) => n.name);
        return reply(res, 200, { mode: "live", nodes, actions: (subject as { actions: boolean }).actions });
      }
      const recorded = (subject as { recorded: RecordedLog }).recorded;
      return reply(res, 200, {
        mode: "replay",
        source: (subject as { source: string }).source,
        actions: false,
        envelopes: recorded.length,
        checkpoints: recorded.checkpoints,
        ...recorded.bounds,
      });
    },
    "GET /inspector/api/graphs": async (_params, _req, res) => reply(res, 200, machineGraphs()),
    "GET /inspector/api/tree": async (params, _req, res) => {
      const { tree, index, version } = await moment(params);
      const address = addressOf(params, false);
      if (typeof address === "string") return reply(res, 400, { error: address });
      const limit = Number(params.get("limit") ?? MAX_CHILDREN);
      const children = childrenOf(
        tree,
        address,
        Math.min(MAX_CHILDREN, Number.isFinite(limit) ? limit : MAX_CHILDREN),
      );
      return reply(res, 200, {
        at: index,
        time: tree.time,
        counts: live ? live.counts(address.node) : counts.counts(tree, version, address.node),
        ...children,
      });
    },
    "GET /inspector/api/list": async (params, _req, res) => {
      const query = parseListQuery(params);
      if (typeof query === "string") return reply(res, 400, { error: query });
      const { tree, version, index } = await moment(params);
      // The counts give a path-ordered page its total without walking the whole list (view.ts).
      const levels = live ? live.counts() : counts.counts(tree, version);
      return reply(res, 200, { at: index, ...lists.list(tree, version, query, levels) });
    },
    "GET /inspector/api/actor": async (params, _req, res) => {
      const address = addressOf(params, true);
      if (typeof address === "string") return reply(res, 400, { error: address });
      const { tree, index } = await moment(params);
      const name = actorName(address as ActorAddress);
      const recent = live
        ? await live.recent(
            address.node as string,
            (e) => actorText(e.node, e.path, e.machine) === name,
            RECENT_EVENTS,
          )
        : (subject as { recorded: RecordedLog }).recorded.recent(name, index, RECENT_EVENTS);
      let found = findActor(tree, address as ActorAddress);
      // The live tree drops an actor when it ends; its last events still say how it ended.
      const ended = !found && live !== undefined && recent.length > 0;
      if (ended) found = findActor(replay(recent), address as ActorAddress);
      if (!found) return reply(res, 404, { error: `no such actor at this moment: ${name}` });
      // Known by its first envelope alone (a seeded actor's, for one older than the page's first look):
      // the state it came from is in its events.
      const first = found.view?.previous === null && found.view.events === 1;
      const entered = first ? enteredBy(recent, found.row.state) : undefined;
      return reply(res, 200, {
        at: index,
        ended,
        ...found.row,
        // When and by what it entered its state, from its events (the seed's own when the log has them no more).
        ...(entered ? { since: entered.time, cause: entered.cause } : {}),
        previous: (entered ? entered.from : found.view?.previous) ?? null,
        // Stored envelopes are redacted already; the walk again keeps a secret out of the page whatever the source.
        context: toEventJson(found.view?.data ?? {}),
        counters: live ? countersOf(subject as { nodes: readonly L2tpNode[] }, found.row) : undefined,
        lastCause: toEventJson(found.view?.data.cause ?? null),
        recent: recent.map(toEventJson),
      });
    },
    "GET /inspector/api/events": async (params, req, res) => {
      if (!live) return reply(res, 404, { error: "the event stream is live only; a replay seeks with ?at" });
      const filter = parseStreamFilter(params);
      if (typeof filter === "string") return reply(res, 400, { error: filter });
      const from = parseSeqVector(
        (req.headers["last-event-id"] as string | undefined) ?? params.get("lastEventId"),
      );
      await live.subscribe(new StreamSubscriber(res, filter, from), from);
    },
    "POST /inspector/api/action": async (_params, req, res) => {
      if (subject.mode !== "live" || !subject.actions) {
        return reply(res, 403, {
          error:
            "actions are off: start the node with them allowed (l2tp run --inspect-actions, l2tp lab --inspect-actions)",
        });
      }
      const body = await readJson(req);
      if (typeof body === "string") return reply(res, 400, { error: body });
      const [status, answer] = act(subject.nodes, body);
      return reply(res, status, answer);
    },
    "GET /inspector/api/spans": async (params, _req, res) => {
      if (live) return reply(res, 404, { error: "spans are for a replay (l2tp replay SRC --inspect)" });
      const recorded = (subject as { recorded: RecordedLog }).recorded;
      const failuresOnly = params.get("failures") === "1";
      const all = recorded.spans();
      const rows = failuresOnly ? all.filter((s) => s.outcome === "failed") : all;
      const offset = Math.max(0, Number(params.get("offset") ?? 0) || 0);
      const limit = Math.min(5000, Math.max(0, Number(params.get("limit") ?? 1000) || 0));
      return reply(res, 200, { total: rows.length, rows: rows.slice(offset, offset + limit) });
    },
    "GET /inspector/api/density": async (params, _req, res) => {
      if (live) return reply(res, 404, { error: "the minimap is for a replay (l2tp replay SRC --inspect)" });
      const buckets = Math.min(2000, Math.max(1, Number(params.get("buckets") ?? 400) || 400));
      return reply(res, 200, (subject as { recorded: RecordedLog }).recorded.density(buckets));
    },
  };

  return {
    get watching() {
      return live?.watching ?? false;
    },
    close: () => live?.stop(),
    async handle(req, res) {
      const url = new URL(req.url ?? "/", "http://inspector");
      if (url.pathname !== "/inspector" && !url.pathname.startsWith("/inspector/")) return false;
      const refused = browserGuard(req);
      if (refused) {
        reply(res, 403, { error: refused });
        return true;
      }
      if (req.method === "GET" && (url.pathname === "/inspector" || url.pathname === "/inspector/")) {
        page ??= loadPage();
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
        res.end(page.html);
        return true;
      }
      if (req.method === "GET" && url.pathname === "/inspector/app.js") {
        page ??= loadPage();
        res.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" });
        res.end(page.js);
        return true;
      }
      const route = routes[`${req.method} ${url.pathname}`];
      if (!route) {
        reply(res, 404, { error: `no such inspector endpoint: ${req.method} ${url.pathname}` });
        return true;
      }
      try {
        await route(url.searchParams, req, res);
      } catch (err) {
        if (!res.headersSent) reply(res, 500, { error: (err as Error).message });
        else res.end();
      }
      return true;
    },
  };
}

/**
 * What keeps other web pages out, since the inspector is opened in a browser: a page from elsewhere
 * that the operator visits may send requests to loopback. DNS rebinding (a hostname of theirs that
 * resolves to 127.0.0.1) arrives with their hostname in Host: only addresses and localhost are answered.
 * A cross-site POST (a form, or fetch with a text body, which needs no preflight) arrives with their
 * Origin: actions are taken only from the page's own origin.
 */
function browserGuard(req: IncomingMessage): string | undefined {
  const host = req.headers.host ?? "";
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d+$/, "");
  const isAddress = /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.startsWith("[") || name === "localhost";
  if (!isAddress) {
    return `Host: '${host}' is not an address; open the page by the node's address (e.g. http://127.0.0.1:17010/inspector/)`;
  }
  const origin = req.headers.origin;
  if (req.method !== "GET" && origin !== undefined && origin !== `http://${host}`) {
    return `Origin: '${origin}' is not this page's origin (http://${host}); actions are taken only from the page itself`;
  }
  return undefined;
}

/** The page: its HTML and its one script (the bundle). */
function loadPage(): { html: string; js: string } {
  try {
    return {
      html: readFileSync(PAGE_HTML, "utf8"),
      js: readFileSync(PAGE_JS, "utf8"),
    };
  } catch (err) {
    const message = `the inspector page is not built (${(err as Error).message}): run node_modules/.bin/bun scripts/build-inspector.ts`;
    return {
      html: `<!doctype html><title>inspector</title><pre>${message}</pre>`,
      js: `console.error(${JSON.stringify(message)})`,
    };
  }
}

/** The last of `recent` that moved its actor into `state` (or first made it there). */
function enteredBy(recent: readonly Envelope[], state: string): Envelope | undefined {
  for (let i = recent.length - 1; i >= 0; i--) {
    const e = recent[i] as Envelope;
    if (e.to === state && e.from !== state) return e;
  }
  return undefined;
}

/** The replay position a request names: `at` (envelopes folded in), `time` (ms), or the end. */
function positionOf(recorded: RecordedLog, params: URLSearchParams): number {
  const at = params.get("at");
  if (at !== null && /^\d{1,12}$/.test(at)) return Math.min(Number(at), recorded.length);
  const time = params.get("time");
  if (time !== null && Number.isFinite(Number(time))) return recorded.indexAt(Number(time));
  return recorded.length;
}

/** Reads an actor's address from parameters (a node is required when `needNode`). */
function addressOf(params: URLSearchParams, needNode: boolean): Partial<ActorAddress> | string {
  const address: Partial<ActorAddress> = {};
  const node = params.get("node");
  if (node) address.node = node;
  else if (needNode) return "node: expected the node's name (e.g. lac)";
  const destination = params.get("destination");
  if (destination) {
    if (!address.node) return "destination: give node too";
    address.destination = destination;
  }
  for (const key of ["tunnel", "session"] as const) {
    const text = params.get(key);
    if (!text) continue;
    const id = Number(text);
    if (!Number.isInteger(id) || id < 0 || id > 65535) return `${key}: expected an id from 0 to 65535`;
    if (key === "tunnel" && address.destination === undefined) return "tunnel: give destination too";
    if (key === "session" && address.tunnel === undefined) return "session: give tunnel too";
    address[key] = id;
  }
  const subscriber = params.get("subscriber");
  if (subscriber) {
    if (!address.node) return "subscriber: give node too";
    if (address.destination !== undefined)
      return "subscriber: a subscriber is under its node, not a destination (leave destination out)";
    address.subscriber = subscriber;
  }
  if (params.get("ppp") === "1") {
    if (address.session === undefined && address.subscriber === undefined)
      return "ppp: give session (or subscriber) too (a PPP link is its session's or its subscriber's)";
    address.ppp = true;
  }
  return address;
}

function actorName(address: ActorAddress): string {
  return actorText(address.node, address, address.ppp ? "ppp" : undefined);
}

/** The live counters of an actor, from its node's snapshot. */
function countersOf(
  subject: { nodes: readonly L2tpNode[] },
  row: ActorAddress & { machine: string },
): Record<string, unknown> | undefined {
  const node = subject.nodes.find((n) => n.name === row.node);
  if (!node) return undefined;
  const snapshot = node.snapshot({ sessions: row.machine === "session" });
  if (row.machine === "system") {
    return { registries: snapshot.registries, router: snapshot.stats, channels: snapshot.channels };
  }
  const destination = snapshot.destinations.find((d) => d.key === row.destination);
  if (!destination) return undefined;
  if (row.machine === "destination")
    return { lockouts: destination.lockouts, tunnels: destination.tunnels.length };
  const tunnel = destination.tunnels.find((t) => t.id === row.tunnel);
  if (!tunnel) return undefined;
  if (row.machine === "tunnel") {
    const { sessions, ...rest } = tunnel;
    return { ...rest, sessions: sessions.length };
  }
  const session = tunnel.sessions.find((s) => s.id === row.session);
  return session ? { packetsIn: session.packetsIn, packetsOut: session.packetsOut } : undefined;
}

const ACTIONS = ["drain", "shutdown", "enable", "close"] as const;

/** Runs an admin action from the page on the node it names: the HTTP status and answer. */
function act(nodes: readonly L2tpNode[], body: Record<string, unknown>): [number, unknown] {
  const node = nodes.find((n) => n.name === body.node);
  if (!node) return [404, { error: `node: expected one of ${nodes.map((n) => n.name).join(", ")}` }];
  const action = body.action;
  if (typeof action !== "string" || !(ACTIONS as readonly string[]).includes(action)) {
    return [400, { error: `action: expected one of ${ACTIONS.join(", ")}` }];
  }
  const peer = typeof body.destination === "string" ? parsePeer(body.destination) : undefined;
  if (body.destination !== undefined && !peer) return [400, { error: "destination: expected ADDRESS:PORT" }];
  const tunnelId = Number(body.tunnel);
  const sessionId = Number(body.session);
  const level = !peer
    ? "system"
    : body.tunnel === undefined
      ? "destination"
      : body.session === undefined
        ? "tunnel"
        : "session";
  const why = cause("admin", `${action} from the inspector page`);
  let found = true;
  if (action === "close") {
    if (level === "system") void node.close(why);
    else if (level === "destination") found = node.closeDestination(peer as PeerAddress, why);
    else if (level === "tunnel") found = node.closeTunnel(tunnelId, why);
    else found = node.closeSession(tunnelId, sessionId, why);
  } else {
    const state = action === "enable" ? "enabled" : (action as "drain" | "shutdown");
    if (level === "session")
      return [400, { error: "action: sessions have no admin state; close the session instead" }];
    found = node.setAdmin(
      level === "system"
        ? { level }
        : level === "destination"
          ? { level, peer: peer as PeerAddress }
          : { level, tunnelId },
      state,
    );
  }
  return found ? [200, { ok: true, level, action }] : [404, { error: `no such ${level}` }];
}
