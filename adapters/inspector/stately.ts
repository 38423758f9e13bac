/**
 * The Stately bridge (issue 10, item 4; for development, off by default): the inspection events of ONE
 * actor of a running node, in the protocol of Stately's inspector, sent over a WebSocket to a Stately
 * inspector the operator runs. Started and stopped while the node runs, through the admin API:
 *
 *   GET  /v1/stately                        what it follows, if anything, and what it sent
 *   POST /v1/stately/follow {url, actor}    follow `actor` (named as the inspector page and its stream
 *                                           name it: "lns/127.0.0.1:1701/3/7", ".../7/ppp",
 *                                           "lac/subscriber:LINE") to the inspector at `url` (ws:// or wss://)
 *   POST /v1/stately/stop                   stop following and close the WebSocket
 *
 * (`l2tp stately` is the command for them.) The protocol is three JSON messages, one text frame each,
 * as @statelyai/inspect 0.7 sends them: `@xstate.actor` (the actor, its definition and first snapshot),
 * then `@xstate.event` (an event the actor is sent) and `@xstate.snapshot` (its snapshot after one).
 *
 * Written on the runtime's own WebSocket rather than with @statelyai/inspect: its client copies every
 * inspection event of every actor through JSON on a timer of its own (100,000 events: 2.35 s against
 * 0.54 s without, measured), where the bridge needs three message shapes for one actor; Bun and Deno
 * both have the WebSocket client built in, so nothing is added to the node.
 *
 * Cost: while it follows nothing, none: the node's inspect callback (`withStately`) calls `hook` only when
 * it is set, and it is set only while following. While following, one comparison of actor references per
 * inspection event of any other actor; the followed actor's events are redacted and sent as they come.
 *
 * Secrets: snapshots carry the context as the inspector page shows it (toEventJson, events/schema.ts:
 * secrets redacted by key and type); events too, and a PPP frame of PAP, CHAP or EAP (a password in
 * clear, a response made from a secret; RFC 1334 §2.2.1, RFC 1994 §4.1) is sent without its payload.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AnyActorRef, InspectionEvent } from "xstate";
import { inspectRelayedEvents } from "../../actors/actor-system.ts";
import type { L2tpNode } from "../../actors/node.ts";
import { type EnvelopePath, type MachineKind, machineOfPath } from "../../events/envelope.ts";
import { contextFields } from "../../events/recorder.ts";
import { isSecretKey, type JsonValue, REDACTED, toEventJson } from "../../events/schema.ts";
import { PppProtocol } from "../../protocol/ppp/numbers.ts";
import { readJson, reply } from "../admin/server.ts";
import { ANY_STATE, machineGraph } from "./graphs.ts";
import { actorText } from "./stream.ts";

/** The protocol version the messages say they are (`_version`): the client release whose shapes they follow. */
export const STATELY_PROTOCOL_VERSION = "0.7.2";
/** How long `follow` waits for the inspector to accept the WebSocket. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Messages kept while the WebSocket opens; more are counted as dropped. */
const MAX_QUEUED = 10_000;
/** Bytes the WebSocket may hold unsent before messages are dropped (a slow inspector costs the node no memory beyond it). */
const MAX_BUFFERED = 8 * 1024 * 1024;

/** What the bridge needs of a node: its name, its live actors (to find the one named) and their paths. */
export type StatelyNode = Pick<L2tpNode, "name" | "liveActors" | "pathOf">;

/** What the bridge does now, as GET /v1/stately answers it. */
export interface StatelyStatus {
  following: boolean;
  url?: string;
  actor?: string;
  /** The WebSocket is open (false while it opens). */
  connected: boolean;
  /** Messages sent, and dropped (the WebSocket full or still opening), since the follow started. */
  sent: number;
  dropped: number;
  /** Why the last follow ended, once it has. */
  ended?: string;
}

/** A request the bridge refuses: `field` names what is wrong ("url", "actor"), `status` its HTTP status. */
export class StatelyError extends Error {
  override name = "StatelyError";
  constructor(
    readonly field: string,
    message: string,
    readonly status = 400,
  ) {
    super(`${field}: ${message}`);
  }
}

/**
 * Reads a Stately inspector's WebSocket URL; the error names `field` (the CLI's `--url`, the API's `url`).
 * Only ws: and wss: are taken: an http:// URL is the inspector's page, not its socket.
 */
export function parseStatelyUrl(text: unknown, field = "url"): URL {
  const hint = "expected the WebSocket URL of a Stately inspector, ws://HOST:PORT or wss://HOST:PORT";
  if (typeof text !== "string" || text.trim() === "") throw new StatelyError(field, hint);
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new StatelyError(field, `${hint}; got '${text}'`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new StatelyError(field, `${hint}; got '${text}' (${url.protocol.replace(/:$/, "")})`);
  }
  return url;
}

/** One follow: the actor, its WebSocket, and what was sent. */
interface Following {
  url: string;
  actor: string;
  ref: AnyActorRef;
  socket: WebSocket;
  /** Messages made while the socket opens. */
  queue: string[];
  open: boolean;
  sent: number;
  dropped: number;
  /** Messages made (each one's `id`). */
  made: number;
}

/** The bridge of one node: follows at most one actor at a time. */
export class StatelyBridge {
  /**
   * The inspection hook while following, undefined otherwise: the node's inspect callback calls it only
   * when set (`withStately`), so a bridge that follows nothing costs the node nothing per event.
   */
  hook: ((event: InspectionEvent) => void) | undefined;
  /** Inspection events the hook was called with (a test shows it is never called while off). */
  calls = 0;
  #node: StatelyNode | undefined;
  readonly #onEnd: ((why: string) => void) | undefined;
  #following: Following | undefined;
  #ended: string | undefined;
  #last: { sent: number; dropped: number } = { sent: 0, dropped: 0 };

  /**
   * `onEnd` hears why a follow ended by itself (the inspector went away, the actor ended). The bridge
   * exists before its node (the node's inspect callback holds it): `attach` gives it the node.
   */
  constructor(options: { onEnd?: (why: string) => void } = {}) {
    this.#onEnd = options.onEnd;
  }

  /** The node whose actors it follows. */
  attach(node: StatelyNode): void {
    this.#node = node;
  }

  status(): StatelyStatus {
    const f = this.#following;
    if (!f) {
      return {
        following: false,
        connected: false,
        ...this.#last,
        ...(this.#ended === undefined ? {} : { ended: this.#ended }),
      };
    }
    return {
      following: true,
      url: f.url,
      actor: f.actor,
      connected: f.open,
      sent: f.sent,
      dropped: f.dropped,
    };
  }

  /**
   * Follows `actor` (its name as the inspector page gives it) to the Stately inspector at `url`, in place
   * of what it followed before; resolves once the WebSocket is open and the actor announced. A bad URL or
   * an unknown actor is a StatelyError before anything is opened; an inspector that cannot be reached
   * rejects (and the bridge is off again).
   */
  async follow(url: string, actor: string): Promise<StatelyStatus> {
    const target = parseStatelyUrl(url);
    if (typeof actor !== "string" || actor === "") {
      throw new StatelyError(
        "actor",
        "expected an actor's name, e.g. lns/127.0.0.1:1701/3/7 (see l2tp show)",
      );
    }
    const node = this.#node;
    if (!node) throw new StatelyError("actor", "the node is not running yet", 503);
    const found = this.#find(node, actor);
    if (!found) {
      throw new StatelyError(
        "actor",
        `no live actor '${actor}' on node ${node.name}; name it as the inspector page does: NODE[/ADDR:PORT[/TUNNEL[/SESSION[/ppp]]]] or NODE/subscriber:LINE[/ppp]`,
        404,
      );
    }
    this.stop();
    const socket = new WebSocket(target.href);
    const f: Following = {
      url: target.href,
      actor,
      ref: found.ref,
      socket,
      queue: [],
      open: false,
      sent: 0,
      dropped: 0,
      made: 0,
    };
    this.#following = f;
    // The node's system leaves out the events it relays unless asked (actors/actor-system.ts quietRelay).
    inspectRelayedEvents(f.ref, true);
    this.#ended = undefined;
    try {
      this.#send(f, this.#actorMessage(node, f, found.kind));
    } catch (err) {
      this.#end(f, "its definition or snapshot could not be written", false);
      throw new StatelyError("actor", `cannot describe ${actor}: ${(err as Error).message}`, 500);
    }
    this.hook = (event) => {
      this.calls++;
      if (event.actorRef !== f.ref) return;
      try {
        this.#inspect(node, f, event);
      } catch {
        // A message that cannot be made is dropped: the node's own work never sees the bridge fail.
        f.dropped++;
      }
    };
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.#end(
          f,
          `the Stately inspector at ${f.url} did not answer within ${CONNECT_TIMEOUT_MS / 1000} s`,
        );
        reject(new StatelyError("url", `no Stately inspector answers at ${f.url}`, 502));
      }, CONNECT_TIMEOUT_MS);
      socket.addEventListener("open", () => {
        f.open = true;
        for (const text of f.queue) this.#write(f, text);
        f.queue = [];
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          resolve(this.status());
        }
      });
      socket.addEventListener("close", (e) => {
        const why = f.open
          ? `the Stately inspector at ${f.url} closed the connection (code ${e.code})`
          : `cannot connect to a Stately inspector at ${f.url}`;
        this.#end(f, why);
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(new StatelyError("url", why, 502));
        }
      });
      // An error is followed by close, which says what happened.
      socket.addEventListener("error", () => {});
    });
  }

  /** Stops following (nothing if it follows nothing) and closes the WebSocket. */
  stop(why = "stopped"): void {
    const f = this.#following;
    if (f) this.#end(f, why, false);
  }

  /** The live actor named `actor`, and its kind. */
  #find(node: StatelyNode, actor: string): { ref: AnyActorRef; kind: MachineKind } | undefined {
    for (const live of node.liveActors()) {
      const { system: _, ...path } = live.path;
      const kind = machineOfPath(path);
      if (actorText(node.name, path as EnvelopePath, kind) === actor)
        return { ref: live.ref as AnyActorRef, kind };
    }
    return undefined;
  }

  #end(f: Following, why: string, tell = true): void {
    if (this.#following !== f) return;
    this.#following = undefined;
    this.hook = undefined;
    inspectRelayedEvents(f.ref, false);
    this.#ended = why;
    this.#last = { sent: f.sent, dropped: f.dropped + f.queue.length };
    f.queue = [];
    // close() still sends what send() queued before it (WHATWG WebSocket: the closing handshake follows the data).
    if (f.socket.readyState === WebSocket.OPEN || f.socket.readyState === WebSocket.CONNECTING)
      f.socket.close();
    if (tell) this.#onEnd?.(why);
  }

  #inspect(node: StatelyNode, f: Following, event: InspectionEvent): void {
    if (event.type === "@xstate.event") {
      const source = event.sourceRef ? nameOf(node, event.sourceRef as AnyActorRef) : undefined;
      this.#send(f, {
        type: "@xstate.event",
        ...base(node, f),
        event: redactEvent(event.event),
        ...(source === undefined ? {} : { sourceId: source }),
      });
      return;
    }
    if (event.type !== "@xstate.snapshot") return;
    this.#send(f, {
      type: "@xstate.snapshot",
      ...base(node, f),
      event: redactEvent(event.event),
      snapshot: snapshotJson(event.snapshot),
    });
    const status = (event.snapshot as { status?: string }).status;
    // Its last snapshot sent, the actor has nothing more to say: the follow ends.
    if (status !== undefined && status !== "active") this.#end(f, `${f.actor} ended (${status})`);
  }

  /**
   * `@xstate.actor`: the actor, its definition and its snapshot now. No parent is named: the inspector
   * is told of this actor alone, and a parent it never heard of would be a dangling link.
   */
  #actorMessage(node: StatelyNode, f: Following, kind: MachineKind): Record<string, JsonValue> {
    return {
      type: "@xstate.actor",
      ...base(node, f),
      name: f.actor,
      definition: definitionOf(f.ref, kind),
      snapshot: snapshotJson(f.ref.getSnapshot()),
    };
  }

  #send(f: Following, message: Record<string, JsonValue>): void {
    const text = JSON.stringify(message);
    if (f.open) this.#write(f, text);
    else if (f.queue.length < MAX_QUEUED) f.queue.push(text);
    else f.dropped++;
  }

  #write(f: Following, text: string): void {
    if (f.socket.readyState !== WebSocket.OPEN || f.socket.bufferedAmount > MAX_BUFFERED) {
      f.dropped++;
      return;
    }
    f.socket.send(text);
    f.sent++;
  }
}

/** An event's source as the page names actors (one of the node's tree), else XState's session id. */
function nameOf(node: StatelyNode, ref: AnyActorRef): string {
  const path = node.pathOf(ref);
  if (!path) return ref.sessionId;
  const { system: _, ...rest } = path;
  return actorText(node.name, rest as EnvelopePath, machineOfPath(rest));
}

/**
 * The fields every message carries. The actor's session id is its name as the page gives it (the
 * inspector shows it), the root's the node's name; every message's id is the actor's name and a count.
 */
function base(node: StatelyNode, f: Following): Record<string, JsonValue> {
  return {
    sessionId: f.actor,
    rootId: node.name,
    createdAt: String(Date.now()),
    id: `${f.actor}#${++f.made}`,
    _version: STATELY_PROTOCOL_VERSION,
  };
}

/**
 * The node's inspect callback with the bridge's hook after `inspect`: one read of `bridge.hook` per
 * event, the hook called only while the bridge follows an actor.
 */
export function withStately(
  bridge: StatelyBridge,
  inspect: (event: InspectionEvent) => void,
): (event: InspectionEvent) => void {
  return (event) => {
    inspect(event);
    const hook = bridge.hook;
    if (hook !== undefined) hook(event);
  };
}

/** A snapshot as the protocol carries it: status, value, and the context as the page shows it (redacted). */
function snapshotJson(snapshot: unknown): JsonValue {
  const s = snapshot as {
    status?: unknown;
    value?: unknown;
    context?: unknown;
    output?: unknown;
    error?: unknown;
  };
  return toEventJson({
    status: s.status,
    value: s.value,
    context: contextFields(s.context),
    output: s.output,
    ...(s.error === undefined ? {} : { error: String(s.error) }),
  });
}

/** PPP authentication protocols, whose frames carry a password or a response made from a secret. */
const AUTH_PROTOCOLS = new Set<number>([PppProtocol.PAP, PppProtocol.CHAP, PppProtocol.EAP]);

/** An event, redacted; a PAP, CHAP or EAP frame without its payload (it carries a password or a response). */
function redactEvent(event: unknown): JsonValue {
  const e = event as { type?: unknown; protocol?: unknown };
  if (e?.type === "frame" && AUTH_PROTOCOLS.has(e.protocol as number)) {
    return { type: "frame", protocol: e.protocol as number, payload: REDACTED };
  }
  return toEventJson(event);
}

/**
 * The actor's definition as JSON text. The XState machines' own config (system, destination, tunnel),
 * its functions named `{ type }` as Stately's inspector reads them; the kinds that run on tables of their
 * own (a session's SESSION_STATES, a PPP link's phases, a subscriber's steps) have no XState config, so
 * theirs is the statechart the inspector page draws from those tables (graphs.ts), as a flat machine.
 */
function definitionOf(ref: AnyActorRef, kind: MachineKind): string {
  if (kind === "system" || kind === "destination" || kind === "tunnel") {
    const config = (ref as { logic?: { config?: unknown } }).logic?.config;
    return JSON.stringify(config, (key, value) => {
      if (typeof value === "function") return { type: value.name || "anonymous" };
      return key !== "" && isSecretKey(key) ? REDACTED : value;
    });
  }
  const graph = machineGraph(kind);
  const states: Record<string, { type?: "final"; on: Record<string, string>; always?: string }> = {};
  const anyState: Record<string, string> = {};
  let initial: string | undefined;
  for (const s of graph.states) {
    if (s.id === ANY_STATE) continue;
    states[s.id] = { ...(s.final ? { type: "final" as const } : {}), on: {} };
    if (s.initial) initial = s.id;
  }
  for (const edge of graph.edges) {
    const state = states[edge.source];
    for (const event of edge.events) {
      // graphs.ts names an eventless transition "always"; a machine config says it with `always`.
      if (event === "always" && state) state.always = edge.target;
      else if (edge.source === ANY_STATE) anyState[event] = edge.target;
      else if (state) state.on[event] = edge.target;
    }
  }
  return JSON.stringify({ id: kind, initial, on: anyState, states });
}

/** The admin API's routes of the bridge (mutating ones need the admin token, as every POST: access.ts). */
export function statelyRoutes(
  bridge: StatelyBridge,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const path = new URL(req.url ?? "/", "http://admin").pathname;
    if (req.method === "GET" && path === "/v1/stately") {
      reply(res, 200, bridge.status());
      return true;
    }
    if (req.method === "POST" && path === "/v1/stately/stop") {
      req.resume();
      bridge.stop();
      reply(res, 200, bridge.status());
      return true;
    }
    if (req.method !== "POST" || path !== "/v1/stately/follow") return false;
    const body = await readJson(req);
    if (typeof body === "string") {
      reply(res, 400, { error: body });
      return true;
    }
    try {
      reply(res, 200, await bridge.follow(body.url as string, body.actor as string));
    } catch (err) {
      const e = err as StatelyError;
      reply(res, e instanceof StatelyError ? e.status : 500, { error: e.message, field: e.field });
    }
    return true;
  };
}
