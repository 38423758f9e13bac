/**
 * The reliable control channel of a tunnel (RFC 2661 §5.8 and Appendix A), one file per concern:
 * `channel.ts` (Ns/Nr, ordering, window, queue), `congestion.ts` (slow start, congestion avoidance),
 * `retransmit.ts`, `ack-timer.ts` (ZLB), `hello.ts` (keepalive), `receive-window.ts` (in-order delivery),
 * `sequence.ts` (modulo 2^16 arithmetic) and `timer.ts` (the one-shot timer they share).
 */
export { AckTimer } from "./ack-timer.ts";
export {
  ControlChannel,
  ControlChannelClosedError,
  type ControlChannelDeps,
  type ControlChannelOptions,
  type ControlChannelStats,
  DEFAULT_CONTROL_CHANNEL_OPTIONS,
  newChannelStats,
} from "./channel.ts";
export { type CongestionControl, clampWindow, SlowStartCongestion } from "./congestion.ts";
export { HelloTimer } from "./hello.ts";
export { type ReceiveVerdict, ReceiveWindow } from "./receive-window.ts";
export { type RetransmitObserver, type RetransmitSchedule, RetransmitTimer } from "./retransmit.ts";
export { SEQUENCE_MODULUS, seqAdd, seqDistance, seqLess } from "./sequence.ts";
export { OneShotTimer } from "./timer.ts";
