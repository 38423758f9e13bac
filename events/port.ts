/**
 * The EventLog port: where the recorder appends envelopes and where replay reads them. Adapters live in
 * `adapters/event-log/` (memory for tests, file as the embedded default, NATS JetStream in production);
 * `openEventLog(url)` there picks one.
 *
 * Order: within a node, envelopes are stored and read in seq order, 1, 2, 3 … without gaps. Across
 * nodes, each adapter documents its order (the memory and JetStream logs keep arrival order, the file
 * log merges nodes by time).
 */
import type { Envelope } from "./envelope.ts";

/** Which envelopes a read or a follow yields. */
export interface ReadOptions {
  /** Only this node's envelopes (default: every node in the log). */
  node?: string;
  /** Skip envelopes whose seq is below this (per node; default 1). */
  fromSeq?: number;
  /** Stop after the last envelope whose time is ≤ this (ms). Only for read: a follow never ends by time. */
  until?: number;
}

/** A live tail: what was stored (from `fromSeq`), then what arrives, until aborted or the log closes. */
export interface FollowOptions extends Omit<ReadOptions, "until"> {
  /** Ends the follow (the iteration returns normally). Breaking out of the loop ends it too. */
  signal?: AbortSignal;
}

/** The event log of one or more nodes. */
export interface EventLog {
  /** What this log is, for people: "file:/var/lib/l2tp/events", "memory:", "nats://127.0.0.1:4222/L2TP". */
  readonly description: string;
  /**
   * Stores the envelopes in the order given (after everything appended before) and resolves when the
   * adapter considers them stored (its durability policy). Idempotent per (node, seq): an envelope whose
   * seq is already stored is skipped, so a retry never duplicates. A gap (seq > last + 1) rejects with
   * an EventLogError "gap" and stores nothing of that envelope or after it.
   */
  append(envelopes: readonly Envelope[]): Promise<void>;
  /** The last seq stored for `node`, 0 when it has none (a recorder resumes at lastSeq + 1). */
  lastSeq(node: string): Promise<number>;
  /** The stored envelopes (as stored: secrets redacted, bytes as hex), ending at the end of the log. */
  read(options?: ReadOptions): AsyncIterable<Envelope>;
  /** The stored envelopes, then the new ones as they are appended, until aborted or closed. */
  follow(options?: FollowOptions): AsyncIterable<Envelope>;
  /** Finishes pending appends and releases the log (files, connections); idempotent. */
  close(): Promise<void>;
}

/** Why an EventLog operation failed, in a word a caller can match on. */
export type EventLogErrorCode =
  /** An envelope's seq skips ahead of the node's last stored seq. */
  | "gap"
  /** The log is closed. */
  | "closed"
  /** The `openEventLog` address or an option is not valid. */
  | "config"
  /** Another process writes this node's log. */
  | "locked"
  /** Storage or network failure. */
  | "io";

/** An EventLog failure with a code and a message that names the thing and the fix. */
export class EventLogError extends Error {
  /** The kind of failure. */
  readonly code: EventLogErrorCode;

  /** Makes an error of `code` saying `message`. */
  constructor(code: EventLogErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EventLogError";
    this.code = code;
  }
}
