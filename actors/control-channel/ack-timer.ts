/**
 * The delayed acknowledgement (RFC 2661 §5.8): a received message is acknowledged by the Nr of the next
 * message we send; if none goes out within a short delay, a ZLB (header only) carries the ack alone.
 *
 * Under load nearly every received message is owed an ack that the next reply pays at once, so the
 * timer is not stopped when an ack is paid: it stays pending, and when it fires with nothing owed it
 * does nothing; an ack owed meanwhile re-arms it for the rest of its own delay. Stopping and starting
 * a runtime timer per received message cost a setTimeout and a clearTimeout per message.
 */
import type { Clock } from "../ports.ts";
import { OneShotTimer } from "./timer.ts";

/** Owes the peer an ack; pays it with a ZLB when no outgoing message paid it within `delayMs`. */
export class AckTimer {
  readonly #clock: Clock;
  readonly #timer: OneShotTimer;
  readonly #delayMs: number;
  readonly #sendZlb: () => void;
  #owed = false;
  /** When the owed ack is due (its first owed message's arrival plus the delay). */
  #dueAt = 0;
  #owedMessages = 0;
  #expedited = false;

  /** `sendZlb` is called when the delay passes with the ack still owed. */
  constructor(clock: Clock, delayMs: number, sendZlb: () => void) {
    this.#clock = clock;
    this.#delayMs = delayMs;
    this.#sendZlb = sendZlb;
    this.#timer = new OneShotTimer(clock, () => this.fire());
  }

  /** Whether an ack is owed. */
  get owed(): boolean {
    return this.#owed;
  }

  /** How many received messages the owed ack covers. */
  get owedMessages(): number {
    return this.#owedMessages;
  }

  /** `messages` more are owed an ack: the first owed ack sets the deadline. */
  owe(messages = 1): void {
    this.#owedMessages += messages;
    if (this.#owed) return;
    this.#owed = true;
    this.#dueAt = this.#clock.now() + this.#delayMs;
    // A timer left pending by a paid ack fires no later than this one would: it re-arms for the rest.
    if (!this.#timer.armed || this.#timer.dueAt > this.#dueAt) this.#timer.start(this.#delayMs);
  }

  /**
   * The ack cannot wait for a reply to carry it (our own messages are held by the window): pay it with
   * a ZLB as soon as the datagrams received in this turn are handled (a 0 ms timer fires after them).
   */
  expedite(): void {
    if (!this.#owed || this.#expedited) return;
    this.#expedited = true;
    this.#dueAt = this.#clock.now();
    this.#timer.start(0);
  }

  /** A message carrying the current Nr went out: nothing is owed any more (the timer may stay pending). */
  paid(): void {
    this.#owed = false;
    this.#owedMessages = 0;
    this.#expedited = false;
  }

  /** Nothing is owed and no timer is left pending (the channel is closing). */
  stop(): void {
    this.paid();
    this.#timer.stop();
  }

  private fire(): void {
    if (!this.#owed) return;
    const early = this.#dueAt - this.#clock.now();
    if (early > 0) {
      // Armed for an earlier ack that was paid: wait for the rest of this one's delay.
      this.#timer.start(early);
      return;
    }
    this.paid();
    this.#sendZlb();
  }
}
