/**
 * The page's side of the inspector API (adapters/inspector/routes.ts): plain fetches to the server that
 * served the page, and the shapes they answer. Never another origin.
 */

import type { Envelope, MachineKind } from "../../../events/envelope.ts";
import type { MachineGraph } from "../graphs.ts";
import type { Span } from "../recorded.ts";
import type { ActorAddress, ActorRow } from "../view.ts";

// The answers' shapes are the server's own types (type-only imports: nothing of the server is bundled).
export type { Envelope, MachineGraph, Span };
export type Level = MachineKind;
export type Row = ActorRow;
export type Address = ActorAddress;
export const LEVELS: Level[] = ["system", "destination", "tunnel", "session", "ppp", "subscriber"];

export interface Info {
  mode: "live" | "replay";
  nodes?: string[];
  actions: boolean;
  source?: string;
  envelopes?: number;
  checkpoints?: number;
  start?: number;
  end?: number;
}

export interface TreeAnswer {
  at: number;
  time: number | null;
  counts: Record<Level, Record<string, number>>;
  rows: Row[];
  total: number;
}

export interface Detail extends Row {
  at: number;
  previous: string | null;
  context: Record<string, unknown>;
  counters?: Record<string, unknown>;
  lastCause: { reason?: string; message?: string } | null;
  recent: Envelope[];
}

export interface Density {
  start: number;
  end: number;
  events: number[];
  failures: number[];
}

const BASE = new URL("./api/", location.href);

/**
 * How long this page has had requests in flight (ms of wall time, overlapping requests counted once;
 * read and reset by `answeringSince`): the time it kept the node busy, which a live page paces itself by.
 */
let answering = 0;
let inFlight = 0;
let busySince = 0;

/** The time the node spent answering since the last call. */
export function answeringSince(): number {
  const ms = answering;
  answering = 0;
  return ms;
}

/** GETs an API path with parameters (undefined ones left out). */
export async function get<T>(path: string, params: Record<string, unknown> = {}): Promise<T> {
  const url = new URL(path, BASE);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
  }
  if (inFlight++ === 0) busySince = performance.now();
  let res: Response;
  let body: unknown;
  try {
    res = await fetch(url);
    body = await res.json();
  } finally {
    if (--inFlight === 0) answering += performance.now() - busySince;
  }
  if (!res.ok) throw new Error((body as { error?: string }).error ?? `${res.status}`);
  return body as T;
}

/** POSTs an admin action; the server answers 403 unless the node allows actions. */
export async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  // The admin token, when the page's URL carries it in its fragment (never sent by the browser itself).
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  const res = await fetch(new URL(path, BASE), {
    method: "POST",
    body: JSON.stringify(body),
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const answer = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(String(answer.error ?? res.status));
  return answer;
}

/** The URL of the event stream with its filters. */
export function streamUrl(filters: Record<string, string>): string {
  const url = new URL("events", BASE);
  for (const [key, value] of Object.entries(filters)) if (value) url.searchParams.set(key, value);
  return url.href;
}

/** The address's query parameters. */
export function addressParams(a: Address): Record<string, unknown> {
  return {
    node: a.node,
    destination: a.destination,
    tunnel: a.tunnel,
    session: a.session,
    subscriber: a.subscriber,
    ppp: a.ppp ? 1 : undefined,
  };
}

/** "lac/127.0.0.1:1701/3/7" */
export function addressText(a: Address): string {
  return [
    a.node,
    a.destination,
    a.tunnel,
    a.session,
    a.subscriber !== undefined ? `subscriber:${a.subscriber}` : undefined,
    a.ppp ? "ppp" : undefined,
  ]
    .filter((x) => x !== undefined)
    .join("/");
}

/** The level an address names. */
export function levelOf(a: Address): Level {
  if (a.ppp) return "ppp";
  if (a.subscriber !== undefined) return "subscriber";
  if (a.session !== undefined) return "session";
  if (a.tunnel !== undefined) return "tunnel";
  if (a.destination !== undefined) return "destination";
  return "system";
}

/** A time as "12:00:00.123" (UTC). */
export function clock(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "-";
  return new Date(ms).toISOString().slice(11, 23);
}
