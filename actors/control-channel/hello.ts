/**
 * The keepalive (RFC 2661 §6.5, §5.5): when no control message has been received from the peer for the
 * hello interval, a HELLO is sent through the reliable path, so that a dead peer is found by the
 * retransmission limit. The timer is not re-armed per packet: it records when the peer was last heard
 * and, when it fires early, sleeps for the remainder (no timer churn at high message rates).
 */
import type { Clock } from "../ports.ts";
import { OneShotTimer } from "./timer.ts";

/** Calls `onIdle` each time `intervalMs` passes without `heard()`; an interval of 0 disables it. */
export class HelloTimer {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #onIdle: () => void;
  readonly #timer: OneShotTimer;
  #lastHeard: number;

  /** Starts counting the idle time now. */
  constructor(clock: Clock, intervalMs: number, onIdle: () => void) {
    this.#clock = clock;
    this.#intervalMs = intervalMs;
    this.#onIdle = onIdle;
    this.#lastHeard = clock.now();
    this.#timer = new OneShotTimer(clock, () => this.#check());
    if (intervalMs > 0) this.#timer.start(intervalMs);
  }

  /** Whether the timer is pending. */
  get armed(): boolean {
    return this.#timer.armed;
  }

  /** The peer was heard from now (any control packet, ZLBs included). */
  heard(): void {
    this.#lastHeard = this.#clock.now();
  }

  /** Stops the keepalive for good. */
  stop(): void {
    this.#timer.stop();
  }

  #check(): void {
    const idle = this.#clock.now() - this.#lastHeard;
    if (idle < this.#intervalMs) {
      this.#timer.start(this.#intervalMs - idle);
      return;
    }
    this.#lastHeard = this.#clock.now();
    this.#timer.start(this.#intervalMs);
    this.#onIdle();
  }
}
