/**
 * The reliable control channel of one tunnel (RFC 2661 §5.8, Appendix A). It numbers outgoing control
 * messages (Ns), keeps them until the peer's Nr acknowledges them, retransmits the oldest on timeout,
 * never has more in flight than the congestion window (and so the peer's Receive Window Size) allows,
 * and queues the rest. On the receiving side it delivers messages in Ns order exactly once, holds early
 * ones within our receive window, drops and re-acknowledges duplicates, and acknowledges with the next
 * outgoing message or, failing one within the ack delay, a ZLB. A HELLO goes out after the hello
 * interval without hearing from the peer (RFC 2661 §6.5).
 *
 * The channel knows nothing of tunnels or sessions: the tunnel actor feeds it decoded packets and hands
 * it messages to send; the transport and the tunnel's current peer address hide behind `transmit`.
 */
import type {
  ControlHeader,
  ControlMessage,
  ControlPacket,
  EncodeOptions,
  ProtocolError,
} from "../../protocol/l2tp/index.ts";
import { encodeControl, encodeZlb } from "../../protocol/l2tp/index.ts";
import type { Clock } from "../ports.ts";
import { AckTimer } from "./ack-timer.ts";
import { type CongestionControl, clampWindow, SlowStartCongestion } from "./congestion.ts";
import { HelloTimer } from "./hello.ts";
import { ReceiveWindow } from "./receive-window.ts";
import { type RetransmitSchedule, RetransmitTimer } from "./retransmit.ts";
import { SendQueue } from "./send-queue.ts";
import { seqAdd, seqDistance, seqLess } from "./sequence.ts";

/** Tunables of the control channel; RFC 2661 §5.8 recommends the defaults. */
export interface ControlChannelOptions {
  /** Our receive window, as advertised in the Receive Window Size AVP (default 16). */
  receiveWindow: number;
  /** First retransmission interval (default 1000 ms). */
  retransmitInitialMs: number;
  /** Ceiling of the doubling retransmission interval (default 8000 ms; the RFC asks for at least 8 s). */
  retransmitCapMs: number;
  /** Retransmissions of one message before the channel fails (default 5). */
  maxRetransmits: number;
  /** Delay before a ZLB carries an ack that no outgoing message carried (default 100 ms). */
  ackDelayMs: number;
  /** Idle time without hearing the peer before a HELLO is sent (default 60000 ms; 0 disables). */
  helloIntervalMs: number;
  /**
   * Acknowledge at once (ZLB) when this many received messages are owed an ack and no reply carried it:
   * a peer that has filled our window would otherwise stall for the ack delay (default: half the
   * receive window, at least 1).
   */
  ackEveryMessages?: number;
  /** Next Ns to send, when resuming a channel (failover); default 0. */
  initialNs?: number;
  /** Next Ns expected from the peer, when resuming a channel (failover); default 0. */
  initialNr?: number;
}

/** The defaults of every option. */
export const DEFAULT_CONTROL_CHANNEL_OPTIONS: Readonly<ControlChannelOptions> = Object.freeze({
  receiveWindow: 16,
  retransmitInitialMs: 1000,
  retransmitCapMs: 8000,
  maxRetransmits: 5,
  ackDelayMs: 100,
  helloIntervalMs: 60_000,
});

/** What the channel needs from its tunnel. */
export interface ControlChannelDeps {
  clock: Clock;
  /** Sends one encoded control packet to the peer's current address. */
  transmit(packet: Uint8Array): void;
  /** A message from the peer, in Ns order, exactly once (HELLO included: the tunnel may ignore it). */
  deliver(message: ControlMessage, header: ControlHeader): void;
  /** Retransmissions are exhausted: the peer is gone. Called once; the channel is closed by then. */
  onFailure(cause: string): void;
  /** Secret and hidden AVPs for encoding this message; asked at every (re)transmission. */
  encodeOptions?: (message: ControlMessage) => EncodeOptions | undefined;
  /**
   * A message that failed to decode after its header was read, in Ns order: it was acknowledged (RFC
   * 2661 §4.1) and the tunnel decides what else to do (StopCCN, CDN, or nothing).
   */
  deliverInvalid?(error: ProtocolError, header: ControlHeader): void;
}

/** Counters of the channel, for statistics and tests. */
export interface ControlChannelStats {
  /** Messages given to `send`. */
  sent: number;
  /** Retransmissions (after a timeout, or of a message a partial ack showed missing). */
  retransmitted: number;
  /** Retransmission timeouts. */
  timeouts: number;
  /** ZLB acknowledgements sent. */
  zlbsSent: number;
  /** ZLB acknowledgements received. */
  zlbsReceived: number;
  /** Messages delivered in order (invalid ones included). */
  delivered: number;
  /** Duplicates received (dropped, acknowledged again). */
  duplicates: number;
  /** Messages received ahead of Nr and held for in-order delivery. */
  heldOutOfOrder: number;
  /** Messages received beyond our receive window (dropped). */
  beyondWindow: number;
  /** Nr values past our next Ns, acknowledging what was never sent (ignored). */
  invalidAcks: number;
  /** HELLOs sent. */
  hellos: number;
  /** The largest number of messages ever in flight at once. */
  maxInFlight: number;
  /** Queued messages dropped by `discardQueued` (the tunnel closed before they got an Ns). */
  discarded: number;
}

/** Every counter at zero: a new channel's statistics. */
export function newChannelStats(): ControlChannelStats {
  return {
    sent: 0,
    retransmitted: 0,
    timeouts: 0,
    zlbsSent: 0,
    zlbsReceived: 0,
    delivered: 0,
    duplicates: 0,
    heldOutOfOrder: 0,
    beyondWindow: 0,
    invalidAcks: 0,
    hellos: 0,
    maxInFlight: 0,
    discarded: 0,
  };
}

/** Why `whenDrained` gave up: the channel failed or was closed before every message was acknowledged. */
export class ControlChannelClosedError extends Error {
  override name = "ControlChannelClosedError";
}

interface Outgoing {
  message: ControlMessage;
  sessionId: number;
  /** Given when the window lets the message out (-1 while queued). */
  ns: number;
  /** Transmitted before the last retransmission timeout: resent at once when a partial ack shows it missing. */
  beforeLoss: boolean;
  /** Called once, when the message first leaves (the window may hold it in the queue for a while). */
  onTransmit?: (() => void) | undefined;
}

type Incoming =
  | { kind: "message"; message: ControlMessage; header: ControlHeader }
  | { kind: "invalid"; error: ProtocolError; header: ControlHeader };

/** The reliable delivery of one tunnel's control messages (RFC 2661 §5.8). */
export class ControlChannel {
  /** The peer's Assigned Tunnel ID, put in every header we send (0 until SCCRQ/SCCRP told it). */
  peerTunnelId = 0;
  readonly #options: ControlChannelOptions;
  readonly #deps: ControlChannelDeps;
  readonly #congestion: CongestionControl;
  readonly #receiveWindow: ReceiveWindow<Incoming>;
  readonly #retransmit: RetransmitTimer;
  /** The retransmission schedule the timer reads at each expiry (its limit can be tightened). */
  readonly #schedule: RetransmitSchedule;
  readonly #ack: AckTimer;
  readonly #ackEvery: number;
  readonly #hello: HelloTimer;
  /** Sent and not yet acknowledged, oldest first; inFlight[0].ns is the oldest unacknowledged Ns. */
  #inFlight: Outgoing[] = [];
  /**
   * Waiting for the window to open (no Ns yet). Messages of calls the peer knows (a session id in the
   * header: ICRP, ICCN, OCRP, OCCN, CDN, …) go before new calls and tunnel messages: a call that is
   * nearly up is finished before the next one starts, so that an ICCN does not wait behind thousands of
   * queued ICRQs. Within one call the order is kept: a call's header names the peer's session only once
   * the peer answered its first message, which was therefore sent already.
   */
  readonly #known = new SendQueue<Outgoing>();
  readonly #fresh = new SendQueue<Outgoing>();
  /** The Ns the next new message gets (also the Ns of a ZLB, which does not consume it). */
  #nextNs: number;
  #peerReceiveWindow = 4;
  #closed = false;
  #drainWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  #closeCause = "";
  readonly #stats: ControlChannelStats = newChannelStats();

  /** A channel starting at Ns = Nr = 0 (or the resumed `initialNs`/`initialNr`); its hello timer runs. */
  constructor(options: Partial<ControlChannelOptions>, deps: ControlChannelDeps) {
    this.#options = { ...DEFAULT_CONTROL_CHANNEL_OPTIONS, ...options };
    this.#deps = deps;
    const o = this.#options;
    this.#nextNs = (o.initialNs ?? 0) & 0xffff;
    this.#congestion = new SlowStartCongestion(this.#peerReceiveWindow);
    this.#receiveWindow = new ReceiveWindow(clampWindow(o.receiveWindow), o.initialNr ?? 0);
    this.#schedule = {
      initialMs: o.retransmitInitialMs,
      capMs: o.retransmitCapMs,
      maxRetransmits: o.maxRetransmits,
    };
    this.#retransmit = new RetransmitTimer(deps.clock, this.#schedule, {
      onRetransmit: () => this.#onRetransmitTimeout(),
      onExhausted: (n, ms) => this.#onExhausted(n, ms),
    });
    this.#ack = new AckTimer(deps.clock, o.ackDelayMs, () => this.sendZlb());
    this.#ackEvery = Math.max(1, o.ackEveryMessages ?? Math.floor(clampWindow(o.receiveWindow) / 2));
    this.#hello = new HelloTimer(deps.clock, o.helloIntervalMs, () => this.onIdle());
  }

  /** The peer's Receive Window Size (RFC 2661 §4.4.3; 4 until told): never more in flight than this. */
  get peerReceiveWindow(): number {
    return this.#peerReceiveWindow;
  }

  set peerReceiveWindow(size: number) {
    this.#peerReceiveWindow = clampWindow(size);
    this.#congestion.setPeerWindow(this.#peerReceiveWindow);
    this.pump();
  }

  /** Messages not yet acknowledged: in flight plus queued behind the window. */
  get outstanding(): number {
    return this.#inFlight.length + this.#known.length + this.#fresh.length;
  }

  /** Messages sent and not yet acknowledged. */
  get inFlight(): number {
    return this.#inFlight.length;
  }

  /** Whether the channel was closed (by `close` or by failure). */
  /**
   * Retransmissions before the channel is given up, from now on: `max` (at most the configured number),
   * or the configured number again when undefined. A responder sends fewer SCCRPs toward a peer that
   * has not authenticated yet (its address may be forged: every retransmission amplifies the SCCRQ).
   */
  limitRetransmits(max: number | undefined): void {
    const configured = this.#options.maxRetransmits;
    this.#schedule.maxRetransmits = max === undefined ? configured : Math.min(max, configured);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Counters so far, with the congestion variables. */
  stats(): ControlChannelStats & { cwnd: number; ssthresh: number; inFlight: number; queued: number } {
    const { cwnd, ssthresh } = this.#congestion.state;
    return {
      ...this.#stats,
      cwnd,
      ssthresh,
      inFlight: this.#inFlight.length,
      queued: this.outstanding - this.#inFlight.length,
    };
  }

  /**
   * Sends a control message reliably: it gets the next Ns when the window lets it out (until then it is
   * queued), carries the current Nr, and is retransmitted until acknowledged. Ignored once closed.
   * `onTransmit` is called when it first leaves.
   */
  send(message: ControlMessage, sessionId: number, onTransmit?: () => void): void {
    if (this.#closed) return;
    this.#stats.sent++;
    const out: Outgoing = { message, sessionId, ns: -1, beforeLoss: false };
    if (onTransmit) out.onTransmit = onTransmit;
    if (sessionId !== 0) this.#known.push(out);
    else this.#fresh.push(out);
    this.pump();
  }

  /**
   * Forgets the messages still waiting for the window (they have no Ns yet, so the peer never knew of
   * them); returns how many. A StopCCN ends every session of the tunnel (RFC 2661 §5.7), so the calls'
   * messages queued behind it are moot: the tunnel drops them so that its StopCCN is not stuck behind
   * thousands of them while the StopCCN hold runs out. Messages in flight keep their Ns and are still
   * retransmitted until acknowledged (the peer delivers in order, so the StopCCN needs them).
   */
  discardQueued(): number {
    const dropped = this.#known.clear() + this.#fresh.clear();
    if (dropped === 0) return 0;
    this.#stats.discarded += dropped;
    if (this.outstanding === 0) this.#resolveDrained();
    return dropped;
  }

  /**
   * A decoded control packet from the peer: its Nr acknowledges what we sent; its message (none for a
   * ZLB) is delivered in Ns order, held if early, dropped and re-acknowledged if a duplicate.
   */
  receive(packet: ControlPacket): void {
    if (this.#closed) return;
    this.#hello.heard();
    this.acknowledge(packet.header.nr);
    if (packet.message === null) {
      this.#stats.zlbsReceived++;
    } else {
      this.accept(packet.header, { kind: "message", message: packet.message, header: packet.header });
    }
    this.pump();
    this.ackIfBlocked();
  }

  /**
   * An ack is owed and our next message cannot carry it soon: the window is full, so it waits for the
   * peer's ack, while the peer, its own window full of what we owe an ack for, may wait for ours. The
   * ZLB then goes once this turn's datagrams are handled rather than after the ack delay (RFC 2661 §5.8
   * leaves the delay to the implementation; a ZLB may be sent at any time).
   */
  private ackIfBlocked(): void {
    if (this.#ack.owed && this.#known.length + this.#fresh.length > 0) this.#ack.expedite();
  }

  /**
   * A control packet whose header decoded but whose message did not (the error carries the header):
   * RFC 2661 §4.1 still wants it acknowledged, so it takes its place in the sequence and reaches
   * `deps.deliverInvalid` in order. Errors without a header cannot be sequenced and are ignored.
   */
  receiveInvalid(error: ProtocolError): void {
    if (this.#closed || !error.header) return;
    const header = error.header;
    this.#hello.heard();
    this.acknowledge(header.nr);
    this.accept(header, { kind: "invalid", error, header });
    this.pump();
  }

  /**
   * The peer was heard from outside this channel (a data message of one of the tunnel's sessions): RFC
   * 2661 §5.5 counts data as well as control messages as signs of life, so the HELLO waits. Costs a clock read.
   */
  peerHeard(): void {
    if (!this.#closed) this.#hello.heard();
  }

  /**
   * Resolves when every message sent so far is acknowledged (the StopCCN hold of RFC 2661 §5.7); rejects
   * with a ControlChannelClosedError when the channel fails or is closed first.
   */
  whenDrained(): Promise<void> {
    if (this.#closed) return Promise.reject(new ControlChannelClosedError(this.#closeCause));
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  /** The sequence state, for a standby to resume the channel (failover). */
  state(): { ns: number; nr: number; peerTunnelId: number } {
    return { ns: this.#nextNs, nr: this.#receiveWindow.nr, peerTunnelId: this.peerTunnelId };
  }

  /** Stops every timer and forgets every message; idempotent. Pending `whenDrained` promises reject. */
  close(): void {
    this.#shutdown("control channel closed");
  }

  // --- sending -------------------------------------------------------------------------------------

  /** Lets queued messages out while the window has room, and times the oldest in flight. */
  private pump(): void {
    if (this.#closed) return;
    const window = this.#congestion.window;
    while (this.#inFlight.length < window) {
      const out = this.#known.shift() ?? this.#fresh.shift();
      if (!out) break;
      out.ns = this.#nextNs;
      this.#nextNs = seqAdd(this.#nextNs, 1);
      this.#inFlight.push(out);
      if (this.#inFlight.length > this.#stats.maxInFlight) this.#stats.maxInFlight = this.#inFlight.length;
      this.transmit(out);
      if (this.#closed) return;
      const transmitted = out.onTransmit;
      if (transmitted) {
        out.onTransmit = undefined;
        transmitted();
        if (this.#closed) return;
      }
    }
    if (this.#inFlight.length > 0) this.#retransmit.ensureRunning();
  }

  /** Encodes with the current Nr (so every transmission acknowledges all we have) and sends. */
  private transmit(out: Outgoing): void {
    const header: ControlHeader = {
      tunnelId: this.peerTunnelId,
      sessionId: out.sessionId,
      ns: out.ns,
      nr: this.#receiveWindow.nr,
    };
    let packet: Uint8Array;
    try {
      packet = encodeControl(header, out.message, this.#deps.encodeOptions?.(out.message));
    } catch (err) {
      this.#fail(
        `cannot encode ${out.message.type} (Ns=${out.ns}): ${err instanceof Error ? err.message : String(err)}`,
      );
      return;
    }
    this.#ack.paid();
    this.#deps.transmit(packet);
  }

  /**
   * RFC 2661 §5.8: a ZLB is a header alone carrying the ack. Its Ns is the next Ns, not consumed. Its
   * session id is 0 unless it acknowledges a CDN: xl2tpd advances its expected Ns on a ZLB naming a
   * session it does not know and then drops our next real message (docs/INTEROP.md), but it frees a call it
   * cleared with a CDN only on a ZLB naming that call, and keeps it "closing" forever otherwise.
   */
  private sendZlb(sessionId = 0): void {
    if (this.#closed) return;
    this.#stats.zlbsSent++;
    this.#deps.transmit(
      encodeZlb({ tunnelId: this.peerTunnelId, sessionId, ns: this.#nextNs, nr: this.#receiveWindow.nr }),
    );
  }

  /** RFC 2661 §6.5: the peer has been silent for the hello interval: probe it through the reliable path. */
  private onIdle(): void {
    // Messages already in flight probe the peer by their retransmissions.
    if (this.outstanding > 0) return;
    this.#stats.hellos++;
    this.send({ type: "HELLO", avps: {} }, 0);
  }

  // --- acknowledgements ----------------------------------------------------------------------------

  /** Nr acknowledges every message with a smaller Ns (RFC 2661 §5.8): release them and open the window. */
  private acknowledge(nr: number): void {
    const base = this.#inFlight.length > 0 ? this.#inFlight[0].ns : this.#nextNs;
    const acked = seqDistance(base, nr);
    if (acked === 0) return;
    if (acked > this.#inFlight.length) {
      // An Nr before our oldest unacknowledged Ns is stale (a retransmitted or reordered packet); one
      // past our next Ns acknowledges something never sent and is not to be trusted.
      if (!seqLess(nr, base)) this.#stats.invalidAcks++;
      return;
    }
    this.#inFlight.splice(0, acked);
    this.#congestion.onAck(acked);
    this.#retransmit.progress(this.#inFlight.length > 0);
    const oldest = this.#inFlight[0];
    if (oldest?.beforeLoss) {
      // A partial ack after a timeout: the peer has everything before `oldest` but not `oldest` itself
      // (it would have acknowledged past it, holding what followed), so resend it now, not a second later.
      oldest.beforeLoss = false;
      this.#stats.retransmitted++;
      this.transmit(oldest);
    }
    if (this.outstanding === 0) this.#resolveDrained();
  }

  #onRetransmitTimeout(): void {
    if (this.#closed || this.#inFlight.length === 0) return;
    this.#stats.timeouts++;
    this.#congestion.onTimeout();
    for (const out of this.#inFlight) out.beforeLoss = true;
    const oldest = this.#inFlight[0];
    oldest.beforeLoss = false;
    this.#stats.retransmitted++;
    this.transmit(oldest);
  }

  #onExhausted(retransmits: number, elapsedMs: number): void {
    const oldest = this.#inFlight[0];
    const what = oldest
      ? `${oldest.message.type} (Ns=${oldest.ns}, session ${oldest.sessionId})`
      : "a message";
    this.#fail(
      `peer did not acknowledge ${what} after ${retransmits} retransmissions over ${elapsedMs} ms ` +
        `(RFC 2661 §5.8: the control connection is given up)`,
    );
  }

  // --- receiving -----------------------------------------------------------------------------------

  private accept(header: ControlHeader, incoming: Incoming): void {
    const { verdict, ready } = this.#receiveWindow.offer(header.ns, incoming);
    switch (verdict) {
      case "duplicate":
        // RFC 2661 §5.8: a duplicate still gets acknowledged (our ack may be what was lost).
        this.#stats.duplicates++;
        this.#ack.owe();
        return;
      case "held":
        this.#stats.heldOutOfOrder++;
        return;
      case "beyond-window":
        this.#stats.beyondWindow++;
        return;
      case "accepted": {
        this.#ack.owe(ready.length);
        // The senders' sessions of the CDNs delivered now (RFC 2661 §6.14: a CDN names its sender's session).
        let clearedCalls: number[] | undefined;
        let stopReceived = false;
        for (const item of ready) {
          if (this.#closed) return;
          this.#stats.delivered++;
          if (item.kind === "message") {
            const type = item.message.type;
            if (type === "CDN" && item.message.avps.assignedSessionId) {
              clearedCalls ??= [];
              clearedCalls.push(item.message.avps.assignedSessionId);
            } else if (type === "StopCCN") stopReceived = true;
            this.#deps.deliver(item.message, item.header);
          } else this.#deps.deliverInvalid?.(item.error, item.header);
        }
        if (this.#closed) return;
        if (clearedCalls) {
          // A ZLB naming each cleared call, even if a reply carried the ack (see #sendZlb).
          this.#ack.paid();
          for (const sessionId of clearedCalls) this.sendZlb(sessionId);
        } else if (stopReceived) {
          // RFC 2661 §5.7: nothing will carry the StopCCN's ack but a ZLB; sent now, not after the ack
          // delay, so that the peer's hold ends without a retransmission.
          this.#ack.paid();
          this.sendZlb();
        } else if (this.#ack.owedMessages >= this.#ackEvery) {
          // No reply carried the ack and the peer may be stalled on our window: acknowledge now.
          this.#ack.paid();
          this.sendZlb();
        }
      }
    }
  }

  // --- ending --------------------------------------------------------------------------------------

  #resolveDrained(): void {
    if (this.#drainWaiters.length === 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.resolve();
  }

  #fail(cause: string): void {
    if (this.#closed) return;
    this.#shutdown(cause);
    this.#deps.onFailure(cause);
  }

  #shutdown(cause: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeCause = cause;
    this.#retransmit.stop();
    this.#ack.stop();
    this.#hello.stop();
    this.#inFlight = [];
    this.#known.clear();
    this.#fresh.clear();
    this.#receiveWindow.clear();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.reject(new ControlChannelClosedError(cause));
  }
}
