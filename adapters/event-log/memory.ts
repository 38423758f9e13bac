/**
 * The in-memory EventLog, for tests: it stores each envelope as the schema encodes it (secrets
 * redacted, bytes as hex), so what a test reads back is what a real log would hold. Arrival order
 * across nodes.
 */
import type { Envelope } from "../../events/envelope.ts";
import { type EventLog, EventLogError, type FollowOptions, type ReadOptions } from "../../events/port.ts";
import { decodeEnvelope, encodeEnvelope } from "../../events/schema.ts";
import { checkBatch, selected, Wakeup } from "./shared.ts";

/** An EventLog held in an array. */
export class MemoryEventLog implements EventLog {
  readonly description = "memory:";
  private readonly stored: Envelope[] = [];
  private readonly last = new Map<string, number>();
  private readonly wakeup = new Wakeup();
  private closed = false;

  /** Every stored envelope, in arrival order (as stored: redacted, bytes as hex). */
  get envelopes(): readonly Envelope[] {
    return this.stored;
  }

  /** Stores the batch (see EventLog.append). */
  async append(envelopes: readonly Envelope[]): Promise<void> {
    if (this.closed) throw new EventLogError("closed", "event log memory: is closed");
    const { fresh, gap } = checkBatch(envelopes, (node) => this.last.get(node) ?? 0);
    for (const envelope of fresh) {
      const decoded = decodeEnvelope(encodeEnvelope(envelope));
      if (!decoded.ok)
        throw new EventLogError("io", `event log memory: ${decoded.error.field}: ${decoded.error.reason}`);
      this.stored.push(decoded.value);
      this.last.set(envelope.node, envelope.seq);
    }
    if (fresh.length > 0) this.wakeup.notify();
    if (gap) throw gap;
  }

  /** The last stored seq of `node`, 0 when none. */
  async lastSeq(node: string): Promise<number> {
    return this.last.get(node) ?? 0;
  }

  /** The stored envelopes that match `options`. */
  async *read(options: ReadOptions = {}): AsyncIterable<Envelope> {
    const end = this.stored.length;
    for (let i = 0; i < end; i++) {
      const envelope = this.stored[i] as Envelope;
      if (options.until !== undefined && envelope.time > options.until) {
        // Times never decrease within a node; with one node the rest is later still.
        if (options.node !== undefined && envelope.node === options.node) return;
        continue;
      }
      if (selected(envelope, options)) yield envelope;
    }
  }

  /** The stored envelopes, then new ones, until aborted or closed. */
  async *follow(options: FollowOptions = {}): AsyncIterable<Envelope> {
    let next = 0;
    while (!this.closed && !options.signal?.aborted) {
      while (next < this.stored.length) {
        const envelope = this.stored[next++] as Envelope;
        if (selected(envelope, options)) yield envelope;
        if (options.signal?.aborted) return;
      }
      await this.wakeup.wait(options.signal);
    }
  }

  /** Closes the log; followers end. */
  async close(): Promise<void> {
    this.closed = true;
    this.wakeup.notify();
  }
}
