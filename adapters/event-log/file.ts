/**
 * The embedded EventLog (the default): append-only segment files under a data directory, one directory
 * per node (`DIR/NODE/00000001.log`, rotated at a size), each record length-prefixed with a CRC-32 and
 * a JSON payload (segment.ts has the format).
 *
 * Writing: an append encodes its records at once, in call order, into a per-node queue; the queue goes
 * to the file in one write when the event loop's turn is over (setImmediate), or at the end of the
 * current job once 64 KiB are queued, so a busy node makes one write per turn however many actors it
 * recorded (one writeSync per call, 350 bytes each, was half the recording cost). An append resolves
 * once its bytes are written (and synced under `always`); reads, lastSeq, sync and close first wait
 * for what is queued. A failed write rejects its appends and every one queued behind it.
 *
 * Crash safety: writes go to the end of the current segment in call order; after a kill -9 or a power
 * loss the last record may be torn. Readers stop at the first record that is not good; the writer, when
 * it takes a node's log, cuts a torn tail off and resumes the sequence from the last good record.
 * Durability is the fsync policy: `always` (an append resolves after fsync, group commit), `interval`
 * (default: fsync every 100 ms when something was written: a power loss costs at most that much, a
 * process crash nothing), `never` (the OS decides).
 *
 * One writer per node: a LOCK file holds the writer's PID; a stale one (dead PID) is taken over.
 * Across nodes, a read merges the nodes' logs by time.
 */
import {
  closeSync,
  fstatSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { setImmediate } from "node:timers";
import { type Envelope, nodeNameProblem } from "../../events/envelope.ts";
import { type EventLog, EventLogError, type FollowOptions, type ReadOptions } from "../../events/port.ts";
import { envelopeToJson } from "../../events/schema.ts";
import {
  listSegments,
  MAX_RECORD_BYTES,
  RECORD_HEADER_BYTES,
  RecordChunk,
  recordBytes,
  type Segment,
  SegmentReader,
  scanSegment,
  segmentName,
} from "./segment.ts";
import { checkBatch, Wakeup } from "./shared.ts";

/** When appended records are forced to the disk. */
export type FsyncPolicy = "always" | "interval" | "never";

/** Options of the file log. */
export interface FileEventLogOptions {
  /** Default "interval". */
  fsync?: FsyncPolicy;
  /** The period of the `interval` policy, ms (default 100). */
  fsyncIntervalMs?: number;
  /** A segment is closed and a new one started past this size (default 64 MiB). */
  segmentBytes?: number;
  /** How often a follow looks for records written by another process, ms (default 200). */
  pollMs?: number;
}

/** A torn or corrupt tail cut off when a writer took a node's log. */
export interface Recovery {
  node: string;
  segment: string;
  /** Where the good records end (the new file size). */
  offset: number;
  /** Bytes removed. */
  cutBytes: number;
  reason: string;
}

/** One append (or a barrier) waiting for its records to be written, and synced under `always`. */
interface Ticket {
  /** Writers whose part of it is not done yet. */
  parts: number;
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
  /** The gap that cut the append: it rejects with this once the part before the gap is stored. */
  gap?: EventLogError;
}

/** Records queued for one writer, written with one call. */
interface Chunk {
  records: RecordChunk;
  /** The seq of its last record. */
  lastSeq: number;
  /** Set when the writer starts a new segment, beginning at this seq, before writing this chunk. */
  startsSegment?: number;
  /** Appends whose last record of this writer is in this chunk. */
  tickets: Ticket[];
}

/** The open segment and state of one node this log writes. */
interface Writer {
  node: string;
  dir: string;
  lockPath: string;
  segment: Segment;
  fd: number;
  /** Bytes written to the current segment. */
  size: number;
  /** The last seq accepted (queued or written): appends are checked against it. */
  lastSeq: number;
  /** The last seq written to the file. */
  storedSeq: number;
  /** What the segment being filled will hold once the queue is written (decides rotation). */
  planned: number;
  /** Records not written yet, in order. */
  queue: Chunk[];
  /** A written chunk kept for reuse. */
  spare?: RecordChunk;
  dirty: boolean;
  /** The fsync running now, and the one queued behind it (shared by every append that waits for it). */
  activeSync?: Promise<void>;
  queuedSync?: Promise<void>;
}

/** Lock files held by writers of this process (a second writer in the same process is refused too). */
const heldLocks = new Set<string>();

/** Room of a record chunk (a larger record gets a chunk of its own size). */
const CHUNK_BYTES = 64 * 1024;

/** Queued bytes past which the queue is written at the end of the current job, not of the turn. */
const FLUSH_BYTES = 64 * 1024;

/** Opens (creating it if needed) the file event log in `dir`. */
export function openFileEventLog(dir: string, options: FileEventLogOptions = {}): FileEventLog {
  return new FileEventLog(dir, options);
}

/** The file EventLog; see the module comment. */
export class FileEventLog implements EventLog {
  readonly description: string;
  /** Tails cut off at open, for the operator (and the tests). */
  readonly recoveries: Recovery[] = [];
  /** Writes made and bytes written by this log, for the operator (and the tests). */
  readonly stats = { writes: 0, bytes: 0 };
  private readonly dir: string;
  private readonly policy: FsyncPolicy;
  private readonly segmentBytes: number;
  private readonly pollMs: number;
  private readonly writers = new Map<string, Writer>();
  private readonly wakeup = new Wakeup();
  private readonly interval: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  /** Records are queued and a flush will write them. */
  private scheduled = false;
  /** A flush is due at the end of the current job (flushSoon). */
  private soon = false;
  /** Bytes of records queued since the last flush. */
  private queuedBytes = 0;

  /** Use openFileEventLog. */
  constructor(dir: string, options: FileEventLogOptions = {}) {
    this.dir = resolve(dir);
    this.description = `file:${this.dir}`;
    this.policy = options.fsync ?? "interval";
    if (!["always", "interval", "never"].includes(this.policy)) {
      throw new EventLogError(
        "config",
        `event log ${this.description}: fsync must be always, interval or never`,
      );
    }
    this.segmentBytes = Math.max(4096, options.segmentBytes ?? 64 * 1024 * 1024);
    this.pollMs = options.pollMs ?? 200;
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (error) {
      throw new EventLogError("io", `event log ${this.description}: cannot create the directory: ${error}`, {
        cause: error,
      });
    }
    if (this.policy === "interval") {
      this.interval = setInterval(() => this.syncDirty(), options.fsyncIntervalMs ?? 100);
      unrefTimer(this.interval);
    }
  }

  /**
   * Queues the batch at the end of each node's log and writes it once the current turn is over, with
   * every other record queued by then (see EventLog.append and the fsync policy).
   */
  append(envelopes: readonly Envelope[]): Promise<void> {
    // Everything up to the queueing happens now, synchronously, so appends land in call order.
    try {
      if (this.closed) throw new EventLogError("closed", `event log ${this.description}: is closed`);
      const { fresh, gap } = checkBatch(envelopes, (node) => this.writer(node).lastSeq);
      if (fresh.length === 0) return gap ? Promise.reject(gap) : Promise.resolve();
      // Encode everything first: a malformed envelope then rejects the batch before anything is queued.
      const texts = fresh.map((envelope) => {
        const text = envelopeToJson(envelope);
        if (
          text.length * 3 > MAX_RECORD_BYTES &&
          recordBytes(text) - RECORD_HEADER_BYTES > MAX_RECORD_BYTES
        ) {
          throw new EventLogError(
            "io",
            `event log: envelope ${envelope.node}/${envelope.seq} is over 16 MiB`,
          );
        }
        return text;
      });
      return new Promise((resolvePromise, reject) => {
        const ticket: Ticket = { parts: 0, settled: false, resolve: resolvePromise, reject, gap };
        this.enqueue(fresh, texts, ticket);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The last good seq of `node` (without taking its log: a reader never cuts anything). */
  async lastSeq(node: string): Promise<number> {
    const writer = this.writers.get(node);
    if (writer) {
      await this.whenWritten();
      return writer.storedSeq;
    }
    this.checkNode(node);
    const segments = listSegments(join(this.dir, node));
    const last = segments.at(-1);
    return last ? scanSegment(last, node).lastSeq : 0;
  }

  /** The stored envelopes (one node in seq order, several merged by time), to the end of the log. */
  async *read(options: ReadOptions = {}): AsyncIterable<Envelope> {
    // What this log was given before the read is part of it.
    await this.whenWritten();
    const nodes = options.node !== undefined ? [options.node] : this.nodes();
    if (options.node !== undefined) this.checkNode(options.node);
    const cursors = nodes.map((node) => new NodeCursor(join(this.dir, node), node, options.fromSeq ?? 1));
    const heads: (Envelope | undefined)[] = cursors.map((cursor) => cursor.next());
    try {
      for (;;) {
        // The earliest head next; ties keep node order. One node is simply its own order.
        let best = -1;
        for (let i = 0; i < heads.length; i++) {
          const head = heads[i];
          if (head && (best < 0 || head.time < (heads[best] as Envelope).time)) best = i;
        }
        if (best < 0) return;
        const envelope = heads[best] as Envelope;
        if (options.until !== undefined && envelope.time > options.until) {
          heads[best] = undefined; // times never decrease within a node: this node is done
          continue;
        }
        yield envelope;
        heads[best] = (cursors[best] as NodeCursor).next();
      }
    } finally {
      for (const cursor of cursors) cursor.close();
    }
  }

  /** The stored envelopes, then new ones (this process's at once, other processes' by polling). */
  async *follow(options: FollowOptions = {}): AsyncIterable<Envelope> {
    if (options.node !== undefined) this.checkNode(options.node);
    await this.whenWritten();
    const cursors = new Map<string, NodeCursor>();
    try {
      while (!this.closed && !options.signal?.aborted) {
        for (const node of options.node !== undefined ? [options.node] : this.nodes()) {
          let cursor = cursors.get(node);
          if (!cursor) {
            cursor = new NodeCursor(join(this.dir, node), node, options.fromSeq ?? 1);
            cursors.set(node, cursor);
          }
          for (let envelope = cursor.next(); envelope; envelope = cursor.next()) {
            yield envelope;
            if (options.signal?.aborted || this.closed) return;
          }
        }
        await this.wakeup.wait(options.signal, this.pollMs);
      }
    } finally {
      for (const cursor of cursors.values()) cursor.close();
    }
  }

  /** Forces everything written to the disk (whatever the policy). */
  async sync(): Promise<void> {
    await this.whenWritten();
    await Promise.all([...this.writers.values()].map((writer) => this.requestSync(writer)));
  }

  /** Syncs (unless the policy is `never`), closes the segments and releases the locks. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.interval !== undefined) clearInterval(this.interval);
    this.flush();
    await this.whenWritten();
    for (const writer of this.writers.values()) {
      await Promise.allSettled([writer.activeSync, writer.queuedSync]);
      if (this.policy !== "never") fsyncQuietly(writer.fd);
      closeSync(writer.fd);
      releaseLock(writer.lockPath);
    }
    this.writers.clear();
    this.wakeup.notify();
  }

  /** Node directories present under the data directory, by name. */
  private nodes(): string[] {
    try {
      return readdirSync(this.dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && nodeNameProblem(entry.name) === null)
        .map((entry) => entry.name)
        .sort();
    } catch {
      return [];
    }
  }

  private checkNode(node: string): void {
    const problem = nodeNameProblem(node);
    if (problem) throw new EventLogError("config", `event log ${this.description}: ${problem}`);
  }

  /** The writer of `node`: on first use, takes its lock, cuts a torn tail and opens the last segment. */
  private writer(node: string): Writer {
    const existing = this.writers.get(node);
    if (existing) return existing;
    this.checkNode(node);
    const dir = join(this.dir, node);
    mkdirSync(dir, { recursive: true });
    const lockPath = join(dir, "LOCK");
    takeLock(lockPath, this.description, node);
    try {
      let segment = listSegments(dir).at(-1);
      let lastSeq = 0;
      if (segment) {
        const scan = scanSegment(segment, node);
        lastSeq = scan.lastSeq;
        const size = statSync(segment.path).size;
        if (size > scan.goodEnd) {
          const fd = openSync(segment.path, "r+");
          try {
            ftruncateSync(fd, scan.goodEnd);
            fsyncQuietly(fd);
          } finally {
            closeSync(fd);
          }
          this.recoveries.push({
            node,
            segment: segment.path,
            offset: scan.goodEnd,
            cutBytes: size - scan.goodEnd,
            reason: scan.bad ?? "trailing bytes",
          });
        }
      } else {
        segment = { first: 1, path: join(dir, segmentName(1)) };
      }
      const fd = openSync(segment.path, "a");
      const writer: Writer = {
        node,
        dir,
        lockPath,
        segment,
        fd,
        size: 0,
        lastSeq,
        storedSeq: lastSeq,
        planned: 0,
        queue: [],
        dirty: false,
      };
      writer.size = writer.planned = fstatSync(fd).size;
      this.writers.set(node, writer);
      return writer;
    } catch (error) {
      releaseLock(lockPath);
      throw error instanceof EventLogError
        ? error
        : new EventLogError("io", `event log ${this.description}: cannot open node ${node}: ${error}`, {
            cause: error,
          });
    }
  }

  /** Queues the records of fresh envelopes (already checked and encoded) and schedules their write. */
  private enqueue(fresh: readonly Envelope[], texts: readonly string[], ticket: Ticket): void {
    let writer: Writer | undefined;
    for (let i = 0; i < fresh.length; i++) {
      const envelope = fresh[i] as Envelope;
      const text = texts[i] as string;
      if (writer?.node !== envelope.node) {
        if (writer) this.attach(writer, ticket);
        writer = this.writers.get(envelope.node) as Writer;
      }
      // A record that would take the segment past its size starts the next one (unless it is the first).
      let chunk = writer.queue.at(-1);
      if (
        writer.planned > 0 &&
        writer.planned + RECORD_HEADER_BYTES + text.length * 3 > this.segmentBytes &&
        writer.planned + recordBytes(text) > this.segmentBytes
      ) {
        chunk = this.newChunk(writer, text);
        chunk.startsSegment = envelope.seq;
        writer.planned = 0;
      } else if (!chunk?.records.fits(text)) {
        chunk = this.newChunk(writer, text);
      }
      const bytes = chunk.records.add(text);
      writer.planned += bytes;
      this.queuedBytes += bytes;
      chunk.lastSeq = envelope.seq;
      writer.lastSeq = envelope.seq;
    }
    if (writer) this.attach(writer, ticket);
    this.schedule();
  }

  /** A chunk at the end of the writer's queue with room for at least `text`. */
  private newChunk(writer: Writer, text: string): Chunk {
    const need = RECORD_HEADER_BYTES + text.length * 3;
    let records = writer.spare;
    writer.spare = undefined;
    if (!records || records.bytes.length < need) records = new RecordChunk(Math.max(CHUNK_BYTES, need));
    const chunk: Chunk = { records, lastSeq: 0, tickets: [] };
    writer.queue.push(chunk);
    return chunk;
  }

  /** Makes `ticket` wait for the writer's last queued chunk. */
  private attach(writer: Writer, ticket: Ticket): void {
    ticket.parts++;
    (writer.queue.at(-1) as Chunk).tickets.push(ticket);
  }

  /** Resolves once every record queued so far is written (or failed). */
  private whenWritten(): Promise<void> {
    return new Promise((resolvePromise) => {
      const barrier: Ticket = {
        parts: 0,
        settled: false,
        resolve: resolvePromise,
        reject: () => resolvePromise(),
      };
      for (const writer of this.writers.values()) if (writer.queue.length > 0) this.attach(writer, barrier);
      if (barrier.parts === 0) resolvePromise();
    });
  }

  /**
   * Writes the queues once this turn of the event loop is over (setImmediate: after the I/O callbacks
   * of this round), so that what all of them appended goes to the file in one write per node; or, once
   * FLUSH_BYTES are queued, right after the current job (a microtask): a burst (a tunnel's sessions all
   * ending, a recorder catching up with a long queue) then drains at once instead of waiting turns.
   */
  private schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      if (!this.soon) setImmediate(this.flushScheduled);
    }
    if (this.queuedBytes >= FLUSH_BYTES && !this.soon) {
      this.soon = true;
      queueMicrotask(this.flushSoon);
    }
  }

  private readonly flushScheduled = (): void => {
    if (this.scheduled) this.flush();
  };

  private readonly flushSoon = (): void => {
    this.soon = false;
    this.flushScheduled();
  };

  /** Writes every writer's queue now, synchronously. */
  private flush(): void {
    this.scheduled = false;
    this.queuedBytes = 0;
    let wrote = false;
    for (const writer of this.writers.values()) {
      if (writer.queue.length === 0) continue;
      const done: Ticket[] = [];
      for (const chunk of writer.queue) {
        try {
          if (chunk.startsSegment !== undefined) this.rotate(writer, chunk.startsSegment);
          this.writeAll(writer, chunk.records.bytes.subarray(0, chunk.records.length));
        } catch (error) {
          this.failQueue(writer, chunk, error);
          break;
        }
        this.written(writer, chunk);
        for (const ticket of chunk.tickets) done.push(ticket);
        wrote = true;
      }
      writer.queue.length = 0;
      this.finish(writer, done);
    }
    if (wrote) this.wakeup.notify();
  }

  /** Bookkeeping after a chunk reached the file. */
  private written(writer: Writer, chunk: Chunk): void {
    writer.storedSeq = chunk.lastSeq;
    writer.dirty = true;
    if (chunk.records.bytes.length === CHUNK_BYTES) {
      chunk.records.clear();
      writer.spare = chunk.records;
    }
  }

  /** The appends waiting for written chunks are done, after an fsync under `always`. */
  private finish(writer: Writer, tickets: Ticket[]): void {
    if (tickets.length === 0) return;
    if (this.policy !== "always") {
      for (const ticket of tickets) partDone(ticket);
      return;
    }
    this.requestSync(writer).then(
      () => {
        for (const ticket of tickets) partDone(ticket);
      },
      (error) => {
        for (const ticket of tickets) partFailed(ticket, error);
      },
    );
  }

  /** A write failed at `failed`: it and everything queued after it is dropped, their appends rejected. */
  private failQueue(writer: Writer, failed: Chunk, error: unknown): void {
    const at = writer.queue.indexOf(failed);
    for (const chunk of writer.queue.slice(at)) for (const ticket of chunk.tickets) partFailed(ticket, error);
    writer.queue.length = 0;
    // The appends are retried from the last record that reached the file.
    writer.lastSeq = writer.storedSeq;
    writer.planned = writer.size;
  }

  private writeError(writer: Writer, error: unknown): EventLogError {
    return error instanceof EventLogError
      ? error
      : new EventLogError(
          "io",
          `event log ${this.description}: write to ${writer.segment.path} failed: ${error}`,
          {
            cause: error,
          },
        );
  }

  /** Writes the bytes at the end of the segment; on failure cuts back to where it was and throws. */
  private writeAll(writer: Writer, bytes: Uint8Array): void {
    const before = writer.size;
    try {
      let done = 0;
      while (done < bytes.length) {
        done += writeSync(writer.fd, bytes, done, bytes.length - done);
        this.stats.writes++;
      }
      writer.size += bytes.length;
      this.stats.bytes += bytes.length;
    } catch (error) {
      try {
        ftruncateSync(writer.fd, before);
      } catch {
        // The next writer's recovery cuts the torn tail instead.
      }
      throw this.writeError(writer, error);
    }
  }

  /** Closes the current segment (synced unless `never`) and starts the one beginning at `firstSeq`. */
  private rotate(writer: Writer, firstSeq: number): void {
    const segment = { first: firstSeq, path: join(writer.dir, segmentName(firstSeq)) };
    // Opened first: when that fails, the writer stays on the old segment, whole.
    const fd = openSync(segment.path, "a");
    const old = writer.fd;
    const pending = [writer.activeSync, writer.queuedSync];
    if (this.policy !== "never") fsyncQuietly(old);
    // A sync still running on the old file must finish before its descriptor can be reused.
    void Promise.allSettled(pending).then(() => closeSync(old));
    writer.activeSync = undefined;
    writer.queuedSync = undefined;
    writer.segment = segment;
    writer.fd = fd;
    writer.size = 0;
    if (this.policy !== "never") syncDirectory(writer.dir);
  }

  /** An fsync that starts after this call (group commit: callers arriving together share one). */
  private requestSync(writer: Writer): Promise<void> {
    if (writer.queuedSync) return writer.queuedSync;
    const fd = writer.fd;
    const previous = writer.activeSync;
    let queued: Promise<void> | undefined;
    queued = (async () => {
      // Always yields once (even without a previous sync), so `queued` is set when this goes on.
      await previous?.catch(() => undefined);
      if (writer.queuedSync === queued) writer.queuedSync = undefined;
      writer.dirty = false;
      const active = fsyncAsync(fd);
      writer.activeSync = active;
      try {
        await active;
      } catch (error) {
        throw new EventLogError(
          "io",
          `event log ${this.description}: fsync of ${writer.segment.path} failed: ${error}`,
          {
            cause: error,
          },
        );
      } finally {
        if (writer.activeSync === active) writer.activeSync = undefined;
      }
    })();
    writer.queuedSync = queued;
    return queued;
  }

  /** The `interval` policy's tick. */
  private syncDirty(): void {
    for (const writer of this.writers.values()) {
      if (writer.dirty) this.requestSync(writer).catch(() => undefined);
    }
  }
}

/**
 * Reads one node's records in seq order across its segments, from `fromSeq`; `next()` returns
 * undefined at the current end and can be called again later (follow). A bad record in a segment that
 * is followed by another (sealed, so never completed) skips the rest of that segment; in the last
 * segment it is the end for now (a torn tail, or a record still being written).
 */
class NodeCursor {
  private reader: SegmentReader | undefined;
  private offset = 0;
  private expectedSeq = 0;

  constructor(
    private readonly dir: string,
    private readonly node: string,
    private readonly fromSeq: number,
  ) {}

  /** The next envelope, or undefined when there is none yet. */
  next(): Envelope | undefined {
    for (;;) {
      if (!this.reader && !this.openFirst()) return undefined;
      const reader = this.reader as SegmentReader;
      const read = reader.read(this.offset, this.expectedSeq);
      if (read.kind === "record") {
        this.offset = read.end;
        this.expectedSeq++;
        if (read.envelope.seq >= this.fromSeq) return read.envelope;
        continue;
      }
      reader.refresh();
      const later = listSegments(this.dir).find((segment) => segment.first > reader.segment.first);
      if (!later) return undefined;
      // The writer finished this segment before it created the next one: move on.
      this.open(later);
    }
  }

  /** Releases the open segment. */
  close(): void {
    this.reader?.close();
    this.reader = undefined;
  }

  private openFirst(): boolean {
    const segments = listSegments(this.dir);
    if (segments.length === 0) return false;
    // The last segment that starts at or before fromSeq (earlier ones hold only smaller seqs).
    let start = segments[0] as Segment;
    for (const segment of segments) if (segment.first <= this.fromSeq) start = segment;
    this.open(start);
    return true;
  }

  private open(segment: Segment): void {
    this.reader?.close();
    this.reader = new SegmentReader(segment, this.node);
    this.offset = 0;
    this.expectedSeq = segment.first;
  }
}

/** One part of an append is written (and synced): the append resolves when its last part is. */
function partDone(ticket: Ticket): void {
  if (ticket.settled || --ticket.parts > 0) return;
  ticket.settled = true;
  if (ticket.gap) ticket.reject(ticket.gap);
  else ticket.resolve();
}

function partFailed(ticket: Ticket, error: unknown): void {
  if (ticket.settled) return;
  ticket.settled = true;
  ticket.reject(error);
}

function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolvePromise, reject) =>
    fsync(fd, (error) => (error ? reject(error) : resolvePromise())),
  );
}

function fsyncQuietly(fd: number): void {
  try {
    fsyncSync(fd);
  } catch {
    // Best effort on close and rotation; the interval policy retries on the next tick.
  }
}

/** Makes a new segment's directory entry durable (POSIX: fsync the directory); not every runtime can. */
function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not supported here: the segment file is still synced.
  }
}

/** Takes the node's LOCK file (our PID), or refuses when a live process of another PID holds it. */
function takeLock(lockPath: string, description: string, node: string): void {
  if (heldLocks.has(lockPath)) {
    throw new EventLogError(
      "locked",
      `event log ${description}: node ${node} is already written by this process`,
    );
  }
  let holder: number | undefined;
  try {
    holder = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
  } catch {
    holder = undefined;
  }
  if (holder !== undefined && Number.isInteger(holder) && holder !== process.pid && processAlive(holder)) {
    throw new EventLogError(
      "locked",
      `event log ${description}: node ${node} is written by process ${holder}; stop it first (or delete ${lockPath} if that process is not an l2tp node)`,
    );
  }
  writeFileSync(lockPath, `${process.pid}\n`);
  heldLocks.add(lockPath);
}

function releaseLock(lockPath: string): void {
  if (!heldLocks.delete(lockPath)) return;
  try {
    unlinkSync(lockPath);
  } catch {
    // Already gone.
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/** Lets the process exit while the interval timer runs (Bun and Node: unref; Deno: Deno.unrefTimer). */
function unrefTimer(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    (timer as { unref(): void }).unref();
    return;
  }
  const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno;
  if (typeof timer === "number") deno?.unrefTimer?.(timer);
}
