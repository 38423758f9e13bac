/**
 * The EventLog on NATS JetStream (production): one stream (default `L2TP`, subjects `l2tp.>`), each
 * envelope published on `l2tp.<node>.<machine>` with `Nats-Msg-Id: <node>-<seq>`, so that the stream's
 * duplicate window turns every retry into a no-op. Works with nats-server 2.9 (no 2.10-only features).
 *
 * Publishing is pipelined: up to `window` messages wait for their acks at once, all acks arrive on one
 * reply subscription (`js.publish` makes a request with its own timer per message, which halves the
 * rate). Order is kept through outages: the client reconnects by itself (unlimited attempts); on a
 * disconnect, an error ack or an ack timeout the publisher stops, forgets what is in flight, and, once
 * connected, re-publishes from the first unacknowledged envelope, first alone (a probe that waits until
 * JetStream answers again) and then pipelined. A server stores what one connection sends in order, so a
 * lost message is always followed only by lost ones, and the re-publish restores the order; what was
 * stored already comes back as a duplicate ack. Nothing is published while disconnected, so nothing can
 * overtake the re-publish from the client's reconnect buffer.
 *
 * Reading uses an ordered consumer filtered to the node (`l2tp.<node>.*`) or the whole stream, in
 * stream order (arrival order across nodes).
 */
import {
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import {
  connect,
  createInbox,
  headers,
  type Msg,
  type NatsConnection,
  nanos,
  type Subscription,
} from "@nats-io/transport-node";
import { type Envelope, nodeNameProblem } from "../../events/envelope.ts";
import { type EventLog, EventLogError, type FollowOptions, type ReadOptions } from "../../events/port.ts";
import { envelopeToJson, parseEnvelope } from "../../events/schema.ts";
import { checkBatch, selected } from "./shared.ts";

/** Options of the JetStream event log. */
export interface JetStreamEventLogOptions {
  /** One or more `nats://host:port` URLs. */
  servers: string | string[];
  /** The stream (default "L2TP"); created when absent. */
  stream?: string;
  /** The first subject token (default "l2tp"): subjects are `<prefix>.<node>.<machine>`. */
  subjectPrefix?: string;
  /** Retention of a stream this log creates: age in ms (default 7 days; 0 keeps forever). */
  maxAgeMs?: number;
  /** Retention of a stream this log creates: bytes (default -1, no limit); the oldest go first. */
  maxBytes?: number;
  /** The stream's dedup window for `Nats-Msg-Id`, ms (default 2 minutes): longer than any outage retry. */
  duplicateWindowMs?: number;
  /**
   * Replicas of a stream this log creates (default 1): 3 on a JetStream cluster of three servers keeps
   * every stored envelope through the loss of any one of them.
   */
  replicas?: number;
  /** Where a created stream keeps messages (default "file"). */
  storage?: "file" | "memory";
  /** Publishes awaiting their ack at once (default 256). */
  window?: number;
  /** An ack not seen after this long stops the pipeline and re-publishes, ms (default 2000). */
  ackTimeoutMs?: number;
  /** Wait between reconnect attempts, ms (default 250; attempts are unlimited). */
  reconnectWaitMs?: number;
  /** The first connection must succeed within this, ms (default 5000). */
  connectTimeoutMs?: number;
  /** How long close() waits for unacknowledged envelopes before giving up on them, ms (default 5000). */
  closeTimeoutMs?: number;
  /** Connection name shown by the server (default "l2tp-event-log"). */
  name?: string;
}

/** Counters of the publisher. */
export interface JetStreamStats {
  /** Messages published (re-publishes included). */
  published: number;
  /** Envelopes confirmed by the stream. */
  acked: number;
  /** Confirmations that were duplicates (a re-publish of something already stored). */
  duplicates: number;
  /** Times the pipeline stopped and restarted from the first unacknowledged envelope. */
  recoveries: number;
  /** Acks whose stream sequence went backwards for the same node (0 unless the order was broken). */
  misordered: number;
  /** Messages read that were not valid envelopes (skipped). */
  badMessages: number;
  /** Why the pipeline last stopped. */
  lastError?: string;
}

/** One envelope on its way to the stream. */
interface Outgoing {
  node: string;
  subject: string;
  msgId: string;
  payload: Uint8Array;
  /** The reply token of its latest publish (0 before the first). */
  token: number;
  sentAt: number;
  acked: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Connects, makes sure the stream exists, and returns the log. */
export async function openJetStreamEventLog(options: JetStreamEventLogOptions): Promise<JetStreamEventLog> {
  const servers = Array.isArray(options.servers) ? options.servers : [options.servers];
  const stream = options.stream ?? "L2TP";
  const prefix = options.subjectPrefix ?? "l2tp";
  // For people and logs: a password in a server URL is never shown.
  const where = `${servers.map((url) => url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")).join(",")}/${stream}`;
  if (!/^[A-Za-z0-9_-]+$/.test(stream)) {
    throw new EventLogError(
      "config",
      `event log nats ${where}: stream name must be letters, digits, '-' or '_'`,
    );
  }
  if (!/^[A-Za-z0-9_-]+$/.test(prefix)) {
    throw new EventLogError("config", `event log nats ${where}: subject prefix must be one token`);
  }
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: options.name ?? "l2tp-event-log",
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectWaitMs ?? 250,
      reconnectJitter: 50,
      timeout: options.connectTimeoutMs ?? 5000,
    });
  } catch (error) {
    throw new EventLogError(
      "io",
      `event log nats ${where}: cannot connect (is nats-server running?): ${error}`,
      {
        cause: error,
      },
    );
  }
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, stream, prefix, options, where);
    return new JetStreamEventLog(nc, jsm, jetstream(nc), stream, prefix, where, options);
  } catch (error) {
    await nc.close().catch(() => undefined);
    if (error instanceof EventLogError) throw error;
    const text = String(error);
    const hint = /not enabled|no responders/i.test(text) ? " (start nats-server with -js)" : "";
    throw new EventLogError("io", `event log nats ${where}: JetStream unavailable${hint}: ${text}`, {
      cause: error,
    });
  }
}

/** Creates the stream when absent; refuses one whose subjects do not cover ours. */
async function ensureStream(
  jsm: JetStreamManager,
  stream: string,
  prefix: string,
  options: JetStreamEventLogOptions,
  where: string,
): Promise<void> {
  try {
    const info = await jsm.streams.info(stream);
    const subjects = info.config.subjects ?? [];
    if (!subjects.includes(`${prefix}.>`)) {
      throw new EventLogError(
        "config",
        `event log nats ${where}: stream ${stream} exists with subjects ${JSON.stringify(subjects)}, not "${prefix}.>"`,
      );
    }
    return;
  } catch (error) {
    if ((error as { code?: number }).code !== JetStreamApiCodes.StreamNotFound) throw error;
  }
  const maxAgeMs = options.maxAgeMs ?? 7 * 24 * 3600 * 1000;
  const duplicateWindowMs = options.duplicateWindowMs ?? 120_000;
  await jsm.streams.add({
    name: stream,
    subjects: [`${prefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: options.storage === "memory" ? StorageType.Memory : StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(maxAgeMs),
    max_bytes: options.maxBytes ?? -1,
    // The dedup window may not exceed the age limit.
    duplicate_window: nanos(maxAgeMs > 0 ? Math.min(duplicateWindowMs, maxAgeMs) : duplicateWindowMs),
    num_replicas: options.replicas ?? 1,
  });
}

/** The JetStream EventLog; see the module comment. */
export class JetStreamEventLog implements EventLog {
  readonly description: string;
  /** Publisher counters. */
  readonly stats: JetStreamStats = {
    published: 0,
    acked: 0,
    duplicates: 0,
    recoveries: 0,
    misordered: 0,
    badMessages: 0,
  };
  private readonly window: number;
  private readonly ackTimeoutMs: number;
  private readonly closeTimeoutMs: number;
  private readonly inbox: string;
  private readonly replies: Subscription;
  // The queue: out[0] is the absolute position `base`; positions below `firstUnacked` are confirmed.
  private out: Outgoing[] = [];
  private base = 0;
  private firstUnacked = 0;
  private nextToSend = 0;
  private readonly inFlight = new Map<number, Outgoing>();
  private token = 0;
  private mode: "open" | "probing" | "waiting" = "open";
  private retryDelay = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly ackTimer: ReturnType<typeof setInterval>;
  private connected = true;
  private readonly waiters: { position: number; resolve: () => void; reject: (error: unknown) => void }[] =
    [];
  /** The last seq queued per node (stored or on its way). */
  private readonly queuedSeq = new Map<string, number>();
  private readonly lastStreamSeq = new Map<string, number>();
  private chain: Promise<unknown> = Promise.resolve();
  private readonly followers = new Set<{ stop(): void }>();
  private closed = false;

  /** Use openJetStreamEventLog. */
  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly stream: string,
    private readonly prefix: string,
    private readonly where: string,
    private readonly options: JetStreamEventLogOptions,
  ) {
    this.description = `nats ${where}`;
    this.window = Math.max(1, options.window ?? 256);
    this.ackTimeoutMs = options.ackTimeoutMs ?? 2000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5000;
    this.inbox = createInbox();
    this.replies = nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => {
        if (!error) this.onAck(msg);
      },
    });
    this.ackTimer = setInterval(
      () => this.checkAckTimeout(),
      Math.max(10, Math.floor(this.ackTimeoutMs / 4)),
    );
    void this.watchStatus();
  }

  /** Queues the batch for the stream; resolves when the stream has confirmed all of it. */
  append(envelopes: readonly Envelope[]): Promise<void> {
    if (this.closed)
      return Promise.reject(new EventLogError("closed", `event log ${this.description}: is closed`));
    // Queue in call order; a node seen for the first time asks the stream for its last seq first.
    const queued = this.chain.then(() => this.enqueue(envelopes));
    this.chain = queued.catch(() => undefined);
    return queued.then(async ({ position, gap }) => {
      if (position > this.firstUnacked) {
        await new Promise<void>((resolve, reject) => this.waiters.push({ position, resolve, reject }));
      }
      // What came before a gap is stored first, as the port says.
      if (gap) throw gap;
    });
  }

  /** The last seq the stream holds for `node` (or this log has had confirmed), 0 when none. */
  async lastSeq(node: string): Promise<number> {
    this.checkNode(node);
    const last = await this.lastStored(node);
    return Math.max(last?.seq ?? 0, this.confirmedSeq(node));
  }

  /** The stored envelopes, to the end of the stream as it is when the read starts. */
  async *read(options: ReadOptions = {}): AsyncIterable<Envelope> {
    const filter = this.filterOf(options.node);
    const end = await this.lastStreamSeqOf(filter);
    if (end === 0) return;
    const start = await this.startSeq(options);
    if (start > end) return;
    const consumer = await this.js.consumers.get(this.stream, {
      filter_subjects: filter,
      ...(start > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start } : {}),
    });
    const messages = await consumer.consume({ max_messages: 1024 });
    try {
      for await (const msg of messages) {
        const envelope = this.decode(msg);
        if (envelope && selected(envelope, options)) {
          if (options.until !== undefined && envelope.time > options.until) {
            if (options.node !== undefined) return; // times never decrease within a node
          } else {
            yield envelope;
          }
        }
        if (msg.seq >= end) return;
      }
    } finally {
      messages.stop();
    }
  }

  /** The stored envelopes, then new ones, until aborted or closed. */
  async *follow(options: FollowOptions = {}): AsyncIterable<Envelope> {
    if (this.closed || options.signal?.aborted) return;
    const start = await this.startSeq(options);
    const consumer = await this.js.consumers.get(this.stream, {
      filter_subjects: this.filterOf(options.node),
      ...(start > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start } : {}),
    });
    const messages = await consumer.consume({ max_messages: 1024 });
    const stop = () => messages.stop();
    this.followers.add(messages);
    options.signal?.addEventListener("abort", stop, { once: true });
    try {
      for await (const msg of messages) {
        if (options.signal?.aborted || this.closed) return;
        const envelope = this.decode(msg);
        if (envelope && selected(envelope, options)) yield envelope;
      }
    } finally {
      options.signal?.removeEventListener("abort", stop);
      this.followers.delete(messages);
      messages.stop();
    }
  }

  /** Waits (up to closeTimeoutMs) for unacknowledged envelopes, then closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    if (this.firstUnacked < this.base + this.out.length) {
      const last = this.base + this.out.length;
      const drained = new Promise<void>((resolve, reject) =>
        this.waiters.push({ position: last, resolve, reject }),
      );
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.closeTimeoutMs);
      });
      await Promise.race([drained.catch(() => undefined), timeout]);
      clearTimeout(timer);
    }
    clearInterval(this.ackTimer);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    const unconfirmed = new EventLogError(
      "closed",
      `event log ${this.description}: closed before the stream confirmed`,
    );
    for (const waiter of this.waiters.splice(0)) waiter.reject(unconfirmed);
    for (const follower of this.followers) follower.stop();
    this.replies.unsubscribe();
    await this.nc.close().catch(() => undefined);
  }

  /** Checks and queues a batch; returns the absolute position after its last envelope, and a gap if any. */
  private async enqueue(envelopes: readonly Envelope[]): Promise<{ position: number; gap?: EventLogError }> {
    for (const node of new Set(envelopes.map((envelope) => envelope.node))) {
      if (this.queuedSeq.has(node)) continue;
      this.checkNode(node);
      this.queuedSeq.set(node, (await this.lastStored(node))?.seq ?? 0);
    }
    const { fresh, gap } = checkBatch(envelopes, (node) => this.queuedSeq.get(node) ?? 0);
    const outgoing = fresh.map(
      (envelope): Outgoing => ({
        node: envelope.node,
        subject: `${this.prefix}.${envelope.node}.${envelope.machine}`,
        msgId: `${envelope.node}-${envelope.seq}`,
        payload: encoder.encode(envelopeToJson(envelope)),
        token: 0,
        sentAt: 0,
        acked: false,
      }),
    );
    for (let i = 0; i < fresh.length; i++) {
      this.out.push(outgoing[i] as Outgoing);
      this.queuedSeq.set((fresh[i] as Envelope).node, (fresh[i] as Envelope).seq);
    }
    this.pump();
    return { position: this.base + this.out.length, gap };
  }

  /** Publishes queued envelopes while the window (1 while probing) has room and the connection is up. */
  private pump(): void {
    if (this.mode === "waiting" || !this.isConnected()) return;
    const limit = this.mode === "probing" ? 1 : this.window;
    const end = this.base + this.out.length;
    while (this.inFlight.size < limit && this.nextToSend < end) {
      const item = this.out[this.nextToSend - this.base] as Outgoing;
      this.nextToSend++;
      if (item.acked) continue;
      const token = ++this.token;
      const h = headers();
      h.set("Nats-Msg-Id", item.msgId);
      try {
        this.nc.publish(item.subject, item.payload, { reply: `${this.inbox}.${token}`, headers: h });
      } catch (error) {
        this.recover(`publish failed: ${error}`);
        return;
      }
      item.token = token;
      item.sentAt = Date.now();
      this.inFlight.set(token, item);
      this.stats.published++;
    }
  }

  /** One ack (or error) from the stream. */
  private onAck(msg: Msg): void {
    const token = Number(msg.subject.slice(this.inbox.length + 1));
    const item = this.inFlight.get(token);
    if (!item) return; // from before a recovery: that envelope is being re-published
    this.inFlight.delete(token);
    if (msg.data.length === 0) {
      // A 503 status: no JetStream behind the subject yet (a restarting server).
      this.recover(`no JetStream responder (${msg.headers?.code ?? "?"} ${msg.headers?.description ?? ""})`);
      return;
    }
    let ack: { seq?: number; duplicate?: boolean; error?: { code?: number; description?: string } };
    try {
      ack = JSON.parse(decoder.decode(msg.data));
    } catch {
      this.recover("unreadable ack");
      return;
    }
    if (ack.error || typeof ack.seq !== "number") {
      this.recover(
        `stream refused: ${ack.error?.description ?? "no sequence in ack"} (${ack.error?.code ?? "?"})`,
      );
      return;
    }
    item.acked = true;
    this.stats.acked++;
    if (ack.duplicate) {
      this.stats.duplicates++;
    } else {
      const previous = this.lastStreamSeq.get(item.node) ?? 0;
      if (ack.seq < previous) this.stats.misordered++;
      this.lastStreamSeq.set(item.node, ack.seq);
    }
    if (this.mode === "probing") this.mode = "open";
    this.retryDelay = 0;
    this.advance();
    this.pump();
  }

  /** Moves past confirmed envelopes and resolves the appends they complete. */
  private advance(): void {
    const end = this.base + this.out.length;
    while (this.firstUnacked < end && (this.out[this.firstUnacked - this.base] as Outgoing).acked)
      this.firstUnacked++;
    while (
      this.waiters.length > 0 &&
      (this.waiters[0] as { position: number }).position <= this.firstUnacked
    ) {
      (this.waiters.shift() as { resolve: () => void }).resolve();
    }
    const done = this.firstUnacked - this.base;
    if (done > 4096 && done * 2 > this.out.length) {
      this.out = this.out.slice(done);
      this.base = this.firstUnacked;
    }
  }

  /**
   * Stops the pipeline: forgets what is in flight and, after a delay, re-publishes from the first
   * unacknowledged envelope, alone until the stream answers.
   */
  private recover(reason: string): void {
    this.stats.lastError = reason;
    if (this.mode === "waiting") return;
    this.stats.recoveries++;
    this.mode = "waiting";
    this.inFlight.clear();
    this.nextToSend = this.firstUnacked;
    this.retryDelay = this.retryDelay === 0 ? 50 : Math.min(2000, this.retryDelay * 2);
    // No responder on a live connection can mean the stream is gone (deleted, or a server that came
    // back on an empty store): make it again, as open does, before the probe.
    const streamMissing = reason.startsWith("no JetStream responder");
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const probe = () => {
        this.mode = "probing";
        this.pump();
      };
      if (!streamMissing || !this.isConnected()) return probe();
      ensureStream(this.jsm, this.stream, this.prefix, this.options, this.where).then(probe, probe);
    }, this.retryDelay);
  }

  private checkAckTimeout(): void {
    if (this.inFlight.size === 0) return;
    const oldest = this.out[this.firstUnacked - this.base];
    if (
      oldest &&
      !oldest.acked &&
      this.inFlight.has(oldest.token) &&
      Date.now() - oldest.sentAt > this.ackTimeoutMs
    ) {
      this.recover(`no ack within ${this.ackTimeoutMs} ms`);
    }
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === "disconnect") {
        this.connected = false;
        this.recover("disconnected");
      } else if (status.type === "reconnect") {
        this.connected = true;
        this.pump();
      }
    }
  }

  /**
   * Whether a publish now goes out on a live connection. The client's own flag (set false the moment
   * the socket closes) is read when present: a publish made after that would wait in the reconnect
   * buffer and could overtake the re-publish.
   */
  private isConnected(): boolean {
    const protocol = (this.nc as unknown as { protocol?: { connected?: unknown } }).protocol;
    const live = typeof protocol?.connected === "boolean" ? protocol.connected : true;
    return this.connected && live && !this.nc.isClosed();
  }

  /** The highest seq of `node` confirmed through this log. */
  private confirmedSeq(node: string): number {
    let seq = 0;
    for (let p = this.base; p < this.firstUnacked; p++) {
      const item = this.out[p - this.base] as Outgoing;
      if (item.node === node) seq = Number(item.msgId.slice(node.length + 1));
    }
    return seq;
  }

  private filterOf(node: string | undefined): string {
    if (node === undefined) return `${this.prefix}.>`;
    this.checkNode(node);
    return `${this.prefix}.${node}.*`;
  }

  /** The stream sequence of the last message matching `filter` (0 when none). */
  private async lastStreamSeqOf(filter: string): Promise<number> {
    const msg = await this.jsm.streams.getMessage(this.stream, { last_by_subj: filter });
    return msg?.seq ?? 0;
  }

  /** The node's last stored envelope and its stream sequence. */
  private async lastStored(node: string): Promise<{ seq: number; streamSeq: number } | undefined> {
    const msg = await this.jsm.streams.getMessage(this.stream, { last_by_subj: `${this.prefix}.${node}.*` });
    if (!msg) return undefined;
    const decoded = parseEnvelope(decoder.decode(msg.data));
    if (!decoded.ok) {
      throw new EventLogError(
        "io",
        `event log ${this.description}: last message of ${node} is not an envelope`,
      );
    }
    return { seq: decoded.value.seq, streamSeq: msg.seq };
  }

  /**
   * Where a read of one node from `fromSeq` can start in the stream: after the node's last message when
   * fromSeq is beyond it (a follow "from now"), else at the start (earlier envelopes are skipped).
   */
  private async startSeq(options: ReadOptions): Promise<number> {
    if (options.node === undefined || (options.fromSeq ?? 1) <= 1) return 1;
    const last = await this.lastStored(options.node);
    return last && last.seq < (options.fromSeq as number) ? last.streamSeq + 1 : 1;
  }

  private decode(msg: JsMsg): Envelope | undefined {
    const decoded = parseEnvelope(decoder.decode(msg.data));
    if (decoded.ok) return decoded.value;
    this.stats.badMessages++;
    return undefined;
  }

  private checkNode(node: string): void {
    const problem = nodeNameProblem(node);
    if (problem) throw new EventLogError("config", `event log ${this.description}: ${problem}`);
  }
}
