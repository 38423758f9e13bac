/** What every EventLog adapter does the same way: seq checks of a batch, read filters, follow wake-ups. */
import type { Envelope } from "../../events/envelope.ts";
import { EventLogError, type ReadOptions } from "../../events/port.ts";

/** The part of a batch to store: envelopes not stored yet, in order, and the gap error that cut it, if any. */
export interface CheckedBatch {
  fresh: Envelope[];
  gap?: EventLogError;
}

/**
 * Walks a batch in order against each node's last stored seq: envelopes at or below it are already
 * stored (skipped, a retry), the next one is fresh, anything further is a gap that ends the batch.
 */
export function checkBatch(
  envelopes: readonly Envelope[],
  lastSeqOf: (node: string) => number,
): CheckedBatch {
  const fresh: Envelope[] = [];
  // A batch is nearly always one node's: its last seq is kept at hand, the map is for the others.
  let node: string | undefined;
  let stored = 0;
  let last: Map<string, number> | undefined;
  for (const envelope of envelopes) {
    if (envelope.node !== node) {
      if (node !== undefined) {
        last ??= new Map();
        last.set(node, stored);
      }
      node = envelope.node;
      stored = last?.get(node) ?? lastSeqOf(node);
    }
    if (envelope.seq <= stored) continue;
    if (envelope.seq !== stored + 1) {
      return {
        fresh,
        gap: new EventLogError(
          "gap",
          `event log: node ${envelope.node} seq ${envelope.seq} does not follow its last stored seq ${stored}`,
        ),
      };
    }
    stored = envelope.seq;
    fresh.push(envelope);
  }
  return { fresh };
}

/** Whether a stored envelope is one a read with these options yields (`until` is checked by the caller). */
export function selected(envelope: Envelope, options: ReadOptions): boolean {
  if (options.node !== undefined && envelope.node !== options.node) return false;
  return options.fromSeq === undefined || envelope.seq >= options.fromSeq;
}

/** Wakes followers when something was appended (or the log closed). */
export class Wakeup {
  private waiters = new Set<() => void>();

  /** Wakes every waiting follower. */
  notify(): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves at the next notify(), when `signal` aborts, or after `pollMs` when given. */
  wait(signal?: AbortSignal, pollMs?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      if (signal?.aborted) return resolve();
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
      if (pollMs !== undefined) timer = setTimeout(done, pollMs);
    });
  }
}
