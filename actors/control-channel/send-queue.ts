/**
 * The messages of a control channel waiting for the window (RFC 2661 §5.8, Appendix A): they have no Ns
 * yet, so the order in which they leave is ours to choose. A FIFO read from a head index, so that taking
 * the next one is O(1) however long the queue (a LAC may queue thousands of calls on one tunnel).
 */
export class SendQueue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** Messages waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds a message at the end. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** Takes the oldest message, or undefined when none waits. */
  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      // Drop the consumed prefix once it is most of the array.
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Forgets every message; returns how many there were. */
  clear(): number {
    const n = this.length;
    this.#items = [];
    this.#head = 0;
    return n;
  }
}
