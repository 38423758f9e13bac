/**
 * The receiving side of the control channel (RFC 2661 §5.8): Nr is the next Ns expected. A message with
 * that Ns is accepted along with any held ones that follow it; one within our receive window ahead of it
 * is held until the gap is filled; one "less than" Nr is a duplicate (acknowledged again, dropped); one
 * beyond the window is dropped (the peer broke our window, or it is stale beyond recognition).
 */
import { seqAdd, seqDistance, seqLess } from "./sequence.ts";

/** What became of a received Ns. */
export type ReceiveVerdict = "accepted" | "held" | "duplicate" | "beyond-window";

/** Orders received messages by Ns; `T` is whatever the owner delivers. */
export class ReceiveWindow<T> {
  #nr: number;
  readonly #size: number;
  readonly #held = new Map<number, T>();

  /** Expects `initialNr` first and holds at most `size - 1` messages ahead of it. */
  constructor(size: number, initialNr = 0) {
    this.#size = size;
    this.#nr = initialNr & 0xffff;
  }

  /** The next Ns expected: the Nr we send. */
  get nr(): number {
    return this.#nr;
  }

  /** Messages held out of order, waiting for a gap to fill. */
  get heldCount(): number {
    return this.#held.size;
  }

  /**
   * Offers a received message. When accepted, `ready` lists it and every held message that now follows
   * in order, and Nr has moved past them all; otherwise `ready` is empty.
   */
  offer(ns: number, item: T): { verdict: ReceiveVerdict; ready: T[] } {
    const ahead = seqDistance(this.#nr, ns);
    if (ahead === 0) {
      const ready = [item];
      this.#nr = seqAdd(this.#nr, 1);
      for (let next = this.#held.get(this.#nr); next !== undefined; next = this.#held.get(this.#nr)) {
        this.#held.delete(this.#nr);
        ready.push(next);
        this.#nr = seqAdd(this.#nr, 1);
      }
      return { verdict: "accepted", ready };
    }
    if (seqLess(ns, this.#nr)) return { verdict: "duplicate", ready: [] };
    if (ahead < this.#size) {
      // A second copy of a held message changes nothing.
      if (!this.#held.has(ns)) this.#held.set(ns, item);
      return { verdict: "held", ready: [] };
    }
    return { verdict: "beyond-window", ready: [] };
  }

  /** Forgets every held message (the channel is closing). */
  clear(): void {
    this.#held.clear();
  }
}
