/**
 * The local admin API of a running node: a small JSON-over-HTTP surface (node:http, on Bun and Deno)
 * that `l2tp show`, `l2tp drain|enable|shutdown` and `l2tp close` talk to. It listens on loopback by
 * default; mutating requests need the bearer token (access.ts).
 *
 *   GET  /metrics                          Prometheus text format (metrics.ts)
 *   GET  /v1/snapshot[?sessions=1]         the tree and the registries (NodeSnapshot)
 *   GET  /v1/show/LEVEL?filters            destinations, tunnels or sessions as rows (show.ts)
 *   POST /v1/admin  {target, state}        set the admin state of the system, a destination or a tunnel
 *   POST /v1/close  {target}               close a destination, a tunnel or a session (with a cause)
 *   POST /v1/lockout {target, action}      a destination's lockout: "clear" it, or "test" now (a test
 *                                          tunnel at once), as JUNOSe's clear|test l2tp destination lockout
 *   POST /v1/dial   {destination, count?}  place calls toward a destination as a LAC (a subscriber
 *                                          stand-in until the Access port exists); answers when they settle
 *
 * A target is `{ level: "system" }`, `{ level: "destination", peer: "ADDR:PORT" }`,
 * `{ level: "tunnel", tunnelId }` or `{ level: "session", tunnelId, sessionId }`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { destinationKey } from "../../actors/config.ts";
import type { L2tpNode } from "../../actors/node.ts";
import type { PeerAddress } from "../../actors/ports.ts";
import { cause } from "../../machines/common.ts";
import { type AdminAccess, adminAccess } from "./access.ts";
import { METRICS_CONTENT_TYPE } from "./metrics.ts";
import { answerShow } from "./show.ts";

/** A running admin server. */
export interface AdminServer {
  /** "http://127.0.0.1:17010" */
  readonly url: string;
  close(): Promise<void>;
}

/** What an admin request names. */
export type AdminRequestTarget =
  | { level: "system" }
  | { level: "destination"; peer: string }
  | { level: "tunnel"; tunnelId: number }
  | { level: "session"; tunnelId: number; sessionId: number };

const ADMIN_STATES = new Set(["enabled", "drain", "shutdown"]);
const MAX_BODY = 64 * 1024;

/** More routes on the same server (the inspector page): true when it answered the request. */
export type AdminRoutes = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** What an admin API serves besides the node's tree. */
export interface AdminOptions {
  /** The bearer token of mutating requests (access.ts); none: one is made and written to a file. */
  token?: string;
  /** The text of GET /metrics (metrics.ts); none: 404. */
  metrics?: () => string;
  /** More routes (the inspector page), tried after the access rules: true when they answered. */
  routes?: AdminRoutes;
}

/**
 * Starts the admin API of `node` on `listen` (port 0: an ephemeral port, told in `url`). Throws before
 * listening when `listen` is not loopback and no token is given (access.ts).
 */
export async function startAdminServer(
  node: L2tpNode,
  listen: PeerAddress,
  options: AdminOptions = {},
): Promise<AdminServer> {
  const access = adminAccess(listen, options.token);
  const server = createServer((req, res) => {
    if (refuse(access, req, res)) return;
    if (req.method === "GET" && req.url === "/metrics") {
      if (!options.metrics) return reply(res, 404, { error: "this node collects no metrics" });
      const text = options.metrics();
      res.writeHead(200, { "content-type": METRICS_CONTENT_TYPE, "content-length": Buffer.byteLength(text) });
      return res.end(text);
    }
    const handled = options.routes ? options.routes(req, res) : Promise.resolve(false);
    handled
      .then((done) => (done ? undefined : handleAdminRequest(node, req, res)))
      .catch((err) => reply(res, 500, { error: String(err) }));
  });
  return listenAdmin(server, listen, access);
}

/** Answers a request the access rules refuse; true if it did. */
export function refuse(access: AdminAccess, req: IncomingMessage, res: ServerResponse): boolean {
  const refused = access.check(req);
  if (!refused) return false;
  req.resume();
  reply(res, refused.status, { error: refused.error });
  return true;
}

/**
 * Listens with an admin API's `server` on `listen` (shared with the standby's server,
 * adapters/admin/standby.ts); `access` writes its token file once the port is known.
 */
export async function listenAdmin(
  server: Server,
  listen: PeerAddress,
  access: AdminAccess,
): Promise<AdminServer> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) =>
      reject(new Error(`admin API: cannot listen on ${listen.address}:${listen.port}: ${err.message}`)),
    );
    server.listen(listen.port, listen.address, resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  access.listening(port);
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        access.dispose();
        server.close(() => resolve());
      }),
  };
}

/** Answers one admin API request for `node` (shared with the standby's server, adapters/admin/standby.ts). */
export async function handleAdminRequest(
  node: L2tpNode,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://admin");
  if (req.method === "GET" && url.pathname === "/v1/snapshot") {
    return reply(res, 200, node.snapshot({ sessions: url.searchParams.get("sessions") === "1" }));
  }
  if (req.method === "GET" && url.pathname.startsWith("/v1/show/")) {
    const level = url.pathname.slice("/v1/show/".length);
    const answer = answerShow(level, url.searchParams, () => node.snapshot({ sessions: true, ended: true }));
    return reply(res, answer.status, answer.body);
  }
  if (
    req.method !== "POST" ||
    !["/v1/admin", "/v1/close", "/v1/dial", "/v1/lockout"].includes(url.pathname)
  ) {
    return reply(res, 404, { error: `no such endpoint: ${req.method} ${url.pathname}` });
  }
  const body = await readJson(req);
  if (typeof body === "string") return reply(res, 400, { error: body });
  if (url.pathname === "/v1/dial") return dial(node, body, res);
  const target = parseTarget(body.target);
  if (typeof target === "string") return reply(res, 400, { error: target });

  if (url.pathname === "/v1/lockout") {
    if (target.level !== "destination")
      return reply(res, 400, {
        error: "target.level: only a destination is locked out; expected destination",
      });
    const action = body.action;
    if (action !== "clear" && action !== "test")
      return reply(res, 400, { error: "action: expected clear or test" });
    const done = node.lockout(target.peer, action);
    if (done === "no-destination") return reply(res, 404, { error: "no such destination" });
    if (done === "not-locked-out")
      return reply(res, 409, { error: "the destination is not locked out; nothing to clear or test" });
    return reply(res, 200, { ok: true });
  }

  if (url.pathname === "/v1/admin") {
    const state = body.state;
    if (typeof state !== "string" || !ADMIN_STATES.has(state)) {
      return reply(res, 400, { error: "state: expected one of enabled, drain, shutdown" });
    }
    if (target.level === "session")
      return reply(res, 400, {
        error: "target.level: sessions have no admin state; close the session instead",
      });
    const found = node.setAdmin(target, state as "enabled" | "drain" | "shutdown");
    if (!found) return reply(res, 404, { error: `no such ${target.level}` });
    // The admin state and a lockout are apart: an enabled destination may still be locked out.
    const lockedOutUntil =
      target.level === "destination" ? lockoutEnd(node, destinationKey(target.peer)) : undefined;
    return reply(res, 200, lockedOutUntil === undefined ? { ok: true } : { ok: true, lockedOutUntil });
  }

  const why = cause(
    "admin",
    typeof body.message === "string" ? body.message : `closed through the admin API`,
  );
  let found: boolean;
  switch (target.level) {
    case "system":
      void node.close(why);
      found = true;
      break;
    case "destination":
      found = node.closeDestination(target.peer, why);
      break;
    case "tunnel":
      found = node.closeTunnel(target.tunnelId, why);
      break;
    case "session":
      found = node.closeSession(target.tunnelId, target.sessionId, why);
      break;
  }
  return found ? reply(res, 200, { ok: true }) : reply(res, 404, { error: `no such ${target.level}` });
}

const MAX_DIAL = 65535;

async function dial(node: L2tpNode, body: Record<string, unknown>, res: ServerResponse): Promise<void> {
  const destination = typeof body.destination === "string" ? parsePeer(body.destination) : undefined;
  if (!destination)
    return reply(res, 400, { error: "destination: expected ADDRESS:PORT, e.g. 127.0.0.1:1701" });
  const count = body.count ?? 1;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > MAX_DIAL) {
    return reply(res, 400, { error: `count: expected a whole number from 1 to ${MAX_DIAL}` });
  }
  const outcomes = await Promise.all(Array.from({ length: count }, () => node.openSession({ destination })));
  const sessions = outcomes.flatMap((o) => (o.ok ? [{ tunnelId: o.tunnelId, sessionId: o.sessionId }] : []));
  const failures = outcomes.flatMap((o) => (o.ok ? [] : [o.cause]));
  return reply(res, 200, { established: sessions.length, sessions, failures });
}

type ParsedTarget =
  | { level: "system" }
  | { level: "destination"; peer: PeerAddress }
  | { level: "tunnel"; tunnelId: number }
  | { level: "session"; tunnelId: number; sessionId: number };

function parseTarget(value: unknown): ParsedTarget | string {
  if (!value || typeof value !== "object") return "target: expected an object with a level";
  const t = value as Record<string, unknown>;
  switch (t.level) {
    case "system":
      return { level: "system" };
    case "destination": {
      const peer = typeof t.peer === "string" ? parsePeer(t.peer) : undefined;
      return peer
        ? { level: "destination", peer }
        : "target.peer: expected ADDRESS:PORT, e.g. 127.0.0.1:1701 or [::1]:1701";
    }
    case "tunnel":
      return isId(t.tunnelId)
        ? { level: "tunnel", tunnelId: t.tunnelId }
        : "target.tunnelId: expected 1-65535";
    case "session":
      if (!isId(t.tunnelId)) return "target.tunnelId: expected 1-65535";
      if (!isId(t.sessionId)) return "target.sessionId: expected 1-65535";
      return { level: "session", tunnelId: t.tunnelId, sessionId: t.sessionId };
    default:
      return "target.level: expected one of system, destination, tunnel, session";
  }
}

/** When the lockout of the destination `key` ends, if it is locked out. */
function lockoutEnd(node: L2tpNode, key: string): number | undefined {
  return node.snapshot({ sessions: false }).destinations.find((d) => d.key === key)?.lockedOutUntil;
}

/** Reads "127.0.0.1:1701" or "[::1]:1701". */
export function parsePeer(text: string): PeerAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { address: m[1] ?? m[2], port };
}

function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** Reads a request's JSON object body (at most 64 KiB); a string says what is wrong with it. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | string> {
  let text = "";
  for await (const chunk of req) {
    text += chunk;
    if (text.length > MAX_BODY) return `body: larger than ${MAX_BODY} bytes`;
  }
  try {
    const value = JSON.parse(text || "{}");
    return value && typeof value === "object" && !Array.isArray(value)
      ? value
      : "body: expected a JSON object";
  } catch (err) {
    return `body: not JSON (${(err as Error).message})`;
  }
}

/** Writes a JSON answer. */
export function reply(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
