/**
 * The retransmission timer of the control channel (RFC 2661 §5.8): the oldest unacknowledged message
 * is retransmitted after 1 s, then after doubling intervals capped at a maximum (the RFC asks for a cap
 * of at least 8 s), until a number of retransmissions is exhausted and the control connection is given up.
 * Any progress (a new ack) starts the schedule again from the initial interval.
 */
import type { Clock } from "../ports.ts";
import { OneShotTimer } from "./timer.ts";

/** The retransmission schedule. */
export interface RetransmitSchedule {
  initialMs: number;
  capMs: number;
  maxRetransmits: number;
}

/** What the timer tells its owner. */
export interface RetransmitObserver {
  /** Retransmit now; `attempt` counts from 1 since the last progress. */
  onRetransmit(attempt: number): void;
  /** `maxRetransmits` retransmissions went unanswered over `elapsedMs` since the first transmission. */
  onExhausted(retransmits: number, elapsedMs: number): void;
}

/** Timer of the oldest message in flight: backs off on every expiry, resets on progress. */
export class RetransmitTimer {
  readonly #clock: Clock;
  readonly #schedule: RetransmitSchedule;
  readonly #observer: RetransmitObserver;
  readonly #timer: OneShotTimer;
  #attempts = 0;
  #intervalMs: number;
  #since = 0;
  /** Whether a message is being timed (the timer may be armed a little late after progress). */
  #active = false;
  /** When the oldest message in flight is due for retransmission. */
  #dueAt = 0;

  /** A stopped timer. */
  constructor(clock: Clock, schedule: RetransmitSchedule, observer: RetransmitObserver) {
    this.#clock = clock;
    this.#schedule = schedule;
    this.#observer = observer;
    this.#intervalMs = schedule.initialMs;
    this.#timer = new OneShotTimer(clock, () => this.expire());
  }

  /** Whether a message is being timed. */
  get running(): boolean {
    return this.#active;
  }

  /** Retransmissions since the last progress. */
  get attempts(): number {
    return this.#attempts;
  }

  /** The interval the timer is waiting now (or will wait next). */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Starts timing a newly sent oldest message, unless one is already timed. */
  ensureRunning(): void {
    if (this.#active) return;
    this.restart();
  }

  /**
   * An ack made progress: back to the initial interval; keep timing when messages remain in flight.
   * Under load every ack makes progress: the pending timer is then left in place when it is due later
   * anyway (it re-arms itself for the remainder when it fires early), so an ack costs no timer churn.
   */
  progress(stillInFlight: boolean): void {
    this.#attempts = 0;
    this.#intervalMs = this.#schedule.initialMs;
    if (!stillInFlight) {
      this.#active = false;
      this.#timer.stop();
      return;
    }
    this.restart();
  }

  private restart(): void {
    this.#active = true;
    const now = this.#clock.now();
    this.#since = now;
    this.#dueAt = now + this.#intervalMs;
    if (!this.#timer.armed || this.#timer.dueAt > this.#dueAt) this.#timer.start(this.#intervalMs);
  }

  /** Stops timing (nothing in flight, or the channel is closed). */
  stop(): void {
    this.#active = false;
    this.#timer.stop();
    this.#attempts = 0;
    this.#intervalMs = this.#schedule.initialMs;
  }

  private expire(): void {
    if (!this.#active) return;
    const early = this.#dueAt - this.#clock.now();
    if (early > 0) {
      // Progress moved the deadline after this timer was set: wait for the rest.
      this.#timer.start(early);
      return;
    }
    if (this.#attempts >= this.#schedule.maxRetransmits) {
      this.#observer.onExhausted(this.#attempts, this.#clock.now() - this.#since);
      return;
    }
    this.#attempts++;
    this.#intervalMs = Math.min(this.#intervalMs * 2, this.#schedule.capMs);
    // Arm before telling the observer, which may stop or close everything.
    this.#dueAt = this.#clock.now() + this.#intervalMs;
    this.#timer.start(this.#intervalMs);
    this.#observer.onRetransmit(this.#attempts);
  }
}
