/**
 * The inspector's event stream over Server-Sent Events: envelopes in batches, each batch's `id` the
 * event log's sequence numbers reached ("lac:1200,lns:1187"), so that a page that reconnects sends them
 * back as Last-Event-ID and resumes where it left off. Batched (one write per BATCH_MS) because a node
 * setting up thousands of calls a second writes tens of thousands of envelopes: a page cannot read them
 * one by one, and one write per envelope would cost the node its set-up rate. A batch larger than
 * MAX_BATCH is cut and says how many it skipped (the event log keeps them all).
 */
import type { ServerResponse } from "node:http";
import type { Envelope, EnvelopePath, MachineKind } from "../../events/envelope.ts";
import { MACHINE_KINDS } from "../../events/envelope.ts";
import { toEventJson } from "../../events/schema.ts";

/**
 * How often a subscriber's queued envelopes are written: once a second, one write and one render of
 * the page's lines per second, whatever the node's rate (bench/inspector: the page's browser shares the
 * node's cores, and each batch costs it a parse and a render).
 */
export const BATCH_MS = 1000;
/**
 * Most envelopes one batch carries; the rest are counted as skipped (the page says how many). At a
 * node's full rate nobody reads even 50 lines a second: the stream shows a sample of the flow, a
 * filter (an actor, a cause) narrows it to lines one reads, and the event log keeps them all. Lines
 * are what a watching page's browser spends most of its CPU on (bench/inspector: three quarters of it
 * went to 200 lines a second, the browser sharing the node's cores), so the page's last 200 lines
 * (page/app.ts MAX_STREAM_LINES) are four seconds of the flow, not one.
 */
export const MAX_BATCH = 50;

/** The sequence reached per node: what a stream's event id carries. */
export type SeqVector = Record<string, number>;

/** "lac:12,lns:9" (node names cannot hold ':' or ',', events/envelope.ts NODE_NAME_PATTERN). */
export function seqVectorText(vector: SeqVector): string {
  return Object.entries(vector)
    .map(([node, seq]) => `${node}:${seq}`)
    .join(",");
}

/** Reads a Last-Event-ID; anything unreadable reads as "from the start of what is kept". */
export function parseSeqVector(text: string | undefined | null): SeqVector {
  const vector: SeqVector = {};
  for (const part of (text ?? "").split(",")) {
    const m = /^([A-Za-z0-9_-]{1,64}):(\d{1,15})$/.exec(part.trim());
    if (m) vector[m[1] as string] = Number(m[2]);
  }
  return vector;
}

/** Which envelopes a stream carries; every given field must match. */
export interface StreamFilter {
  level?: MachineKind;
  /** The actor and everything below it: "node", "node/destination", "node/destination/tunnel[/session]". */
  actor?: string;
  /** The XState event type, exact or a prefix ending in '*' ("rx.*"). */
  cause?: string;
  /** new (an actor's first snapshot), change (a state change) or data (a context change only). */
  type?: "new" | "change" | "data";
}

/** Reads a stream filter from URL parameters; a string names the bad parameter. */
export function parseStreamFilter(params: URLSearchParams): StreamFilter | string {
  const filter: StreamFilter = {};
  const level = params.get("level");
  if (level) {
    if (!(MACHINE_KINDS as readonly string[]).includes(level)) {
      return `level: expected one of ${MACHINE_KINDS.join(", ")}`;
    }
    filter.level = level as MachineKind;
  }
  const actor = params.get("actor");
  if (actor) filter.actor = actor;
  const cause = params.get("cause");
  if (cause) filter.cause = cause;
  const type = params.get("type");
  if (type) {
    if (type !== "new" && type !== "change" && type !== "data") return "type: expected new, change or data";
    filter.type = type;
  }
  return filter;
}

/**
 * An actor as the stream's `actor` filter names it: "lac/127.0.0.1:1701/3/7", its PPP link ".../7/ppp",
 * a LAC's subscriber "lac/subscriber:sim:7" (and ".../ppp").
 */
export function actorText(node: string, p: EnvelopePath, machine?: MachineKind): string {
  let text = node;
  if (p.subscriber !== undefined) text += `/subscriber:${p.subscriber}`;
  if (p.destination !== undefined) text += `/${p.destination}`;
  if (p.tunnel !== undefined) text += `/${p.tunnel}`;
  if (p.session !== undefined) text += `/${p.session}`;
  if (machine === "ppp") text += "/ppp";
  return text;
}

/** Whether an envelope passes a stream filter. */
export function passes(envelope: Envelope, filter: StreamFilter): boolean {
  if (filter.level !== undefined && envelope.machine !== filter.level) return false;
  if (filter.actor !== undefined) {
    const actor = actorText(envelope.node, envelope.path, envelope.machine);
    if (actor !== filter.actor && !actor.startsWith(`${filter.actor}/`)) return false;
  }
  if (filter.cause !== undefined) {
    const ok = filter.cause.endsWith("*")
      ? envelope.cause.startsWith(filter.cause.slice(0, -1))
      : envelope.cause === filter.cause;
    if (!ok) return false;
  }
  if (filter.type !== undefined) {
    const type = envelope.from === null ? "new" : envelope.from === envelope.to ? "data" : "change";
    if (type !== filter.type) return false;
  }
  return true;
}

/** One open page's stream. */
export class StreamSubscriber {
  readonly #res: ServerResponse;
  readonly #filter: StreamFilter;
  readonly #seq: SeqVector;
  #queue: Envelope[] = [];
  #skipped = 0;
  #changed = false;
  #closed = false;

  constructor(res: ServerResponse, filter: StreamFilter, from: SeqVector) {
    this.#res = res;
    this.#filter = filter;
    this.#seq = { ...from };
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    // Tells the browser how long to wait before it reconnects (it then sends Last-Event-ID).
    res.write("retry: 1000\n\n");
    res.on("close", () => {
      this.#closed = true;
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The sequence this subscriber has been sent up to, for `node`. */
  sentUpTo(node: string): number {
    return this.#seq[node] ?? 0;
  }

  /** Queues an envelope (one the page has not had: its seq is above what it was sent). */
  push(envelope: Envelope): void {
    if (envelope.seq <= (this.#seq[envelope.node] ?? 0)) return;
    this.#seq[envelope.node] = envelope.seq;
    this.#changed = true;
    if (!passes(envelope, this.#filter)) return;
    if (this.#queue.length < MAX_BATCH) this.#queue.push(envelope);
    else this.#skipped++;
  }

  /** Writes what was queued since the last flush as one SSE event. */
  flush(): void {
    if (this.#closed || !this.#changed) return;
    // Envelopes as the log stores them (secrets redacted, bytes as hex): the live feed hands them as recorded.
    const batch = { envelopes: this.#queue.map(toEventJson), skipped: this.#skipped };
    this.#queue = [];
    this.#skipped = 0;
    this.#changed = false;
    this.#res.write(`id: ${seqVectorText(this.#seq)}\nevent: envelopes\ndata: ${JSON.stringify(batch)}\n\n`);
  }

  /** Ends the stream. */
  end(): void {
    if (!this.#closed) this.#res.end();
    this.#closed = true;
  }
}
