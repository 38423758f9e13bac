/**
 * A simulated clock for deterministic tests: time moves only when the test says so (`advance`,
 * `runUntilIdle`, `step`), and due timers fire in time order, ties in the order they were set.
 * Timers that timers set are honoured within the same advance when they fall due inside it.
 */
import type { Clock } from "../../actors/ports.ts";

interface Timer {
  id: number;
  due: number;
  /** Order of creation: breaks ties between timers due at the same moment (first set, first fired). */
  seq: number;
  fn: () => void;
}

/** A `Clock` whose time only moves when told to; also usable as XState's `clock` option. */
export class SimulatedClock implements Clock {
  #now: number;
  #nextId = 1;
  #seq = 0;
  /** Binary min-heap on (due, seq); cancelled timers stay until they reach the top (lazy deletion). */
  #heap: Timer[] = [];
  #live = new Map<number, Timer>();
  #fired = 0;

  /** Starts the time line at `start` milliseconds (default 0). */
  constructor(start = 0) {
    this.#now = start;
  }

  /** Current simulated time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at now + ms (negative or non-finite delays count as 0); returns a numeric handle. */
  setTimeout(fn: () => void, ms: number): number {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: Timer = { id: this.#nextId++, due: this.#now + delay, seq: this.#seq++, fn };
    this.#live.set(timer.id, timer);
    this.#push(timer);
    return timer.id;
  }

  /** Cancels a pending timer; unknown, fired or already cleared handles are ignored. */
  clearTimeout(handle: unknown): void {
    if (typeof handle !== "number" || !this.#live.delete(handle)) return;
    // Cancelled timers wait in the heap until they reach its top; rebuild it when they dominate, so that
    // a timer re-armed on every packet does not grow memory without bound.
    if (this.#heap.length > 1024 && this.#heap.length > 4 * this.#live.size) this.#rebuild();
  }

  /** Number of timers set and neither fired nor cleared. */
  get pending(): number {
    return this.#live.size;
  }

  /** Number of timers fired since the clock was made. */
  get fired(): number {
    return this.#fired;
  }

  /** Due time of the next pending timer, or undefined when none is pending. */
  nextDue(): number | undefined {
    this.#dropCancelled();
    return this.#heap[0]?.due;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in time order. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`SimulatedClock.advance: expected ms >= 0, got ${ms}`);
    const target = this.#now + ms;
    for (;;) {
      const next = this.nextDue();
      if (next === undefined || next > target) break;
      this.#fireNext();
    }
    this.#now = target;
  }

  /** Jumps to the next pending timer and fires it (and any others due at the same moment); false if none. */
  step(): boolean {
    const next = this.nextDue();
    if (next === undefined) return false;
    this.advance(next - this.#now);
    return true;
  }

  /**
   * Fires timers in order until none is pending or the next one lies more than `limitMs` after the
   * start of the call; returns true when idle (no pending timer). Time stays at the last fired timer.
   */
  runUntilIdle(limitMs = 3_600_000): boolean {
    const end = this.#now + limitMs;
    for (;;) {
      const next = this.nextDue();
      if (next === undefined) return true;
      if (next > end) return false;
      this.#fireNext();
    }
  }

  #fireNext(): void {
    const timer = this.#pop();
    if (!timer) return;
    this.#live.delete(timer.id);
    this.#now = timer.due;
    this.#fired++;
    timer.fn();
  }

  #dropCancelled(): void {
    while (this.#heap.length > 0 && !this.#live.has(this.#heap[0].id)) this.#pop();
  }

  #rebuild(): void {
    const live = this.#heap.filter((t) => this.#live.has(t.id));
    this.#heap = [];
    for (const t of live) this.#push(t);
  }

  #before(a: Timer, b: Timer): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  #push(timer: Timer): void {
    const heap = this.#heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  #pop(): Timer | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.#before(heap[l], heap[m])) m = l;
        if (r < heap.length && this.#before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
}
