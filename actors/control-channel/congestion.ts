/**
 * Congestion control of the control channel: RFC 2661 Appendix A slow start and congestion avoidance.
 * The sender may have at most `window` unacknowledged messages in flight. Behind an interface so that
 * another policy (a fixed window, as some peers want) can be swapped in.
 */

/** A congestion policy: how many unacknowledged messages may be in flight now. */
export interface CongestionControl {
  /** Messages allowed in flight now (at least 1, at most the peer's receive window). */
  readonly window: number;
  /** `count` messages were newly acknowledged. */
  onAck(count: number): void;
  /** The retransmission timer expired (a loss, by Appendix A's reading). */
  onTimeout(): void;
  /** The peer told its Receive Window Size (RFC 2661 §4.4.3), the ceiling of every window. */
  setPeerWindow(size: number): void;
  /** The variables, for statistics and tests. */
  readonly state: { cwnd: number; ssthresh: number; peerWindow: number };
}

/**
 * RFC 2661 Appendix A: CWND starts at 1 and SSTHRESH at the peer's receive window. Each ack adds 1 to
 * CWND while CWND < SSTHRESH (slow start: doubling per round trip), else 1/CWND (congestion
 * avoidance: +1 per round trip). A retransmission timeout sets SSTHRESH to max(CWND/2, 1) and CWND to 1.
 * CWND never exceeds the peer's window (Appendix A: the window is never larger than the peer's).
 */
export class SlowStartCongestion implements CongestionControl {
  #cwnd = 1;
  #ssthresh: number;
  #peerWindow: number;
  /** Until the first loss, SSTHRESH follows the peer's window as it becomes known. */
  #lossSeen = false;

  /** Starts in slow start with SSTHRESH at the peer's window (RFC 2661 §4.4.3 default: 4). */
  constructor(peerWindow = 4) {
    this.#peerWindow = clampWindow(peerWindow);
    this.#ssthresh = this.#peerWindow;
  }

  get window(): number {
    return Math.max(1, Math.min(Math.floor(this.#cwnd), this.#peerWindow));
  }

  get state(): { cwnd: number; ssthresh: number; peerWindow: number } {
    return { cwnd: this.#cwnd, ssthresh: this.#ssthresh, peerWindow: this.#peerWindow };
  }

  onAck(count: number): void {
    for (let i = 0; i < count && this.#cwnd < this.#peerWindow; i++) {
      this.#cwnd += this.#cwnd < this.#ssthresh ? 1 : 1 / this.#cwnd;
    }
    if (this.#cwnd > this.#peerWindow) this.#cwnd = this.#peerWindow;
  }

  onTimeout(): void {
    this.#lossSeen = true;
    this.#ssthresh = Math.max(this.#cwnd / 2, 1);
    this.#cwnd = 1;
  }

  setPeerWindow(size: number): void {
    this.#peerWindow = clampWindow(size);
    if (!this.#lossSeen) this.#ssthresh = this.#peerWindow;
    if (this.#cwnd > this.#peerWindow) this.#cwnd = this.#peerWindow;
  }
}

/** A Receive Window Size is 1 … 65535 (RFC 2661 §4.4.3: 0 is not a valid value). */
export function clampWindow(size: number): number {
  if (!Number.isFinite(size)) return 1;
  return Math.min(0xffff, Math.max(1, Math.floor(size)));
}
