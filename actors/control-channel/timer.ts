/** A one-shot timer on a Clock that knows whether it is armed: the brick of every control-channel timer. */
import type { Clock } from "../ports.ts";

/** One pending callback at most; `start` while armed re-arms it. */
export class OneShotTimer {
  readonly #clock: Clock;
  readonly #onFire: () => void;
  #handle: unknown;
  #armed = false;
  #dueAt = 0;

  /** A disarmed timer that calls `onFire` when it fires. */
  constructor(clock: Clock, onFire: () => void) {
    this.#clock = clock;
    this.#onFire = onFire;
  }

  /** Whether a firing is pending. */
  get armed(): boolean {
    return this.#armed;
  }

  /** Clock time of the pending firing (meaningless when disarmed). */
  get dueAt(): number {
    return this.#dueAt;
  }

  /** Arms the timer `ms` from now, replacing any pending firing. */
  start(ms: number): void {
    if (this.#armed) this.#clock.clearTimeout(this.#handle);
    this.#armed = true;
    this.#dueAt = this.#clock.now() + ms;
    this.#handle = this.#clock.setTimeout(this.#fire, ms);
  }

  /** Cancels the pending firing, if any. */
  stop(): void {
    if (!this.#armed) return;
    this.#armed = false;
    this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  readonly #fire = (): void => {
    this.#armed = false;
    this.#handle = undefined;
    this.#onFire();
  };
}
