/**
 * The delayed acknowledgement (RFC 2661 §5.8): a received message is acknowledged by the Nr of the next
 * message we send; if none goes out within a short delay, a ZLB (header only) carries the ack alone.
 */
import type { Clock } from "../ports.ts";
import { OneShotTimer } from "./timer.ts";

/** Owes the peer an ack; pays it with a ZLB when no outgoing message paid it within `delayMs`. */
export class AckTimer {
  readonly #timer: OneShotTimer;
  readonly #delayMs: number;
  #owedMessages = 0;
  #expedited = false;

  /** `sendZlb` is called when the delay passes with the ack still owed. */
  constructor(clock: Clock, delayMs: number, sendZlb: () => void) {
    this.#delayMs = delayMs;
    this.#timer = new OneShotTimer(clock, () => {
      this.#owedMessages = 0;
      this.#expedited = false;
      sendZlb();
    });
  }

  /** Whether an ack is owed. */
  get owed(): boolean {
    return this.#timer.armed;
  }

  /** How many received messages the owed ack covers. */
  get owedMessages(): number {
    return this.#owedMessages;
  }

  /** `messages` more are owed an ack: start the delay unless it runs already (the first owed ack sets the deadline). */
  owe(messages = 1): void {
    this.#owedMessages += messages;
    if (!this.#timer.armed) this.#timer.start(this.#delayMs);
  }

  /**
   * The ack cannot wait for a reply to carry it (our own messages are held by the window): pay it with
   * a ZLB as soon as the datagrams received in this turn are handled (a 0 ms timer fires after them).
   */
  expedite(): void {
    if (!this.#timer.armed || this.#expedited) return;
    this.#expedited = true;
    this.#timer.start(0);
  }

  /** A message carrying the current Nr went out: nothing is owed any more. */
  paid(): void {
    this.#owedMessages = 0;
    this.#expedited = false;
    this.#timer.stop();
  }
}
