/**
 * The living tunnel and its sessions: a tunnel actor (machines/tunnel.ts) with its control channel
 * (RFC 2661 §5.8), and one session actor (machines/session.ts) per call. Sessions are children of the
 * tunnel in the supervisor, not in XState, and sit in a Map by our session id that the router reads.
 *
 * The channel delivers messages in order: tunnel messages (session id 0) go to the tunnel machine,
 * ICRQ/OCRQ create a session, every other message goes to the session its header names. A StopCCN,
 * sent or received, ends every session without a CDN (RFC 2661 §5.7).
 */
import type { Actor } from "xstate";
import { type Cause, cause } from "../machines/common.ts";
import type { TunnelLoad } from "../machines/destination.ts";
import type { SessionEmitted, SessionInput, SessionKind, SessionOutput } from "../machines/session.ts";
import {
  type SessionEffectSink,
  type SessionLogic,
  sessionLogic,
  sinkSessionEffects,
} from "../machines/session-logic.ts";
import type {
  TunnelChannelState,
  TunnelEmitted,
  TunnelInput,
  TunnelOutput,
  TunnelRole,
  tunnelMachine,
} from "../machines/tunnel.ts";
import type { AvpName, Avps } from "../protocol/l2tp/avps.ts";
import type { ControlHeader } from "../protocol/l2tp/header.ts";
import { encodeDataHeader, encodePppData } from "../protocol/l2tp/header.ts";
import { HIDDEN_MINIMUM } from "../protocol/l2tp/hidden.ts";
import {
  type ControlMessage,
  type ControlPacket,
  decodeControl,
  type EncodeOptions,
  validateMessage,
} from "../protocol/l2tp/messages.ts";
import { GeneralError, type ProtocolError } from "../protocol/l2tp/result.ts";
import { CdnResult } from "../protocol/l2tp/result-codes.ts";
import { PPP_HEADER_LENGTH } from "../protocol/ppp/frame.ts";
import type { ResolvedProfile } from "./config.ts";
import { ControlChannel } from "./control-channel/channel.ts";
import { allocateId } from "./ids.ts";
import type { PeerAddress, Random, Transport } from "./ports.ts";
import type { PppLink } from "./ppp-link.ts";
import { addChannelStats, type NodeRuntime, type SessionRequest } from "./runtime.ts";
import type { Ending, Supervised, Supervisor } from "./supervisor.ts";

/** Where a tunnel is in its life, as placement and the router see it. */
export type TunnelPhase = "opening" | "established" | "closing" | "closed";

/** The destination side of a tunnel: what the tunnel tells its parent and asks of it. */
export interface TunnelOwner {
  readonly key: string;
  readonly node: Supervised;
  readonly tunnels: Map<number, TunnelHandle>;
  tunnelEstablished(tunnel: TunnelHandle): void;
  tunnelEnded(tunnel: TunnelHandle, output: TunnelOutput): void;
  /** Null when a new incoming call may be accepted on `tunnel` (admin state of every level), else why not. */
  refusesCalls(tunnel: TunnelHandle): Cause | null;
}

/** How to create a tunnel. */
export interface TunnelSpec {
  role: TunnelRole;
  peer: PeerAddress;
  transport: Transport;
  profile: ResolvedProfile | undefined;
  test: boolean;
  /** Resume a recorded tunnel (a standby taking over) instead of creating a new one. */
  restore?: TunnelRestore;
}

/** What a standby resumes a tunnel from (actors/restore.ts builds it from the event log). */
export interface TunnelRestore {
  /** Our tunnel id, as the peer knows it. */
  id: number;
  /** The tunnel machine's persisted snapshot (state and context). */
  snapshot: unknown;
  /** The control channel's next Ns to send and next Ns expected (RFC 2661 §5.8). */
  ns: number;
  nr: number;
  peerTunnelId: number;
  peerReceiveWindow: number;
}

/** RFC 2661 §3.2: the message types of the control connection itself. */
const TUNNEL_MESSAGES: ReadonlySet<string> = new Set(["SCCRQ", "SCCRP", "SCCCN", "StopCCN", "HELLO"]);

/** RFC 2661 §4.4.2 CDN result 4: the call failed for lack of facilities (temporary). */
const CDN_NO_FACILITIES = 4;

/** RFC 2661 §4.4.2 CDN result 5 (no facilities, permanent): a node without a dialer refuses an OCRQ (§5.2). */
const NO_OUTGOING_CALLS = cause("refused", "this node places no outgoing calls (LNS only)", {
  result: CdnResult.noFacilitiesPermanent,
  message: "this node places no outgoing calls (LNS only)",
});

const EMPTY: Uint8Array = new Uint8Array(0);

/** Length of the Random Vectors we send (RFC 2661 §4.3 leaves it to us; 16 bytes, an MD5 block's worth). */
const RANDOM_VECTOR_BYTES = 16;

/**
 * Random Vectors drawn from the node's Random 64 at a time: every message with hidden AVPs needs a
 * fresh one (and fresh padding), and asking for 16 bytes at a time cost a typed array, a subarray and
 * a getRandomValues call each (2-3% of the LAC's CPU at 20,000 calls/s). Each block is a new array,
 * never refilled in place, so a vector handed out is never overwritten (the encoder only copies it
 * into the packet).
 */
class RandomVectors {
  readonly #random: Random;
  #block: Uint8Array = EMPTY;
  #at = 0;

  constructor(random: Random) {
    this.#random = random;
  }

  /** The next unused vector. */
  next(): Uint8Array {
    if (this.#at + RANDOM_VECTOR_BYTES > this.#block.length) {
      this.#block = this.#random.bytes(RANDOM_VECTOR_BYTES * 64);
      this.#at = 0;
    }
    const vector = this.#block.subarray(this.#at, this.#at + RANDOM_VECTOR_BYTES);
    this.#at += RANDOM_VECTOR_BYTES;
    return vector;
  }
}

const vectorPools = new WeakMap<Random, RandomVectors>();

/** The Random Vector pool of a node's Random (shared by its tunnels). */
function randomVectors(random: Random): RandomVectors {
  let pool = vectorPools.get(random);
  if (!pool) {
    pool = new RandomVectors(random);
    vectorPools.set(random, pool);
  }
  return pool;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One live tunnel: its actor, control channel, peer, and sessions. */
export class TunnelHandle {
  readonly id: number;
  readonly role: TunnelRole;
  readonly test: boolean;
  readonly owner: TunnelOwner;
  readonly transport: Transport;
  /** The peer's current address (updated from the source of every valid packet, RFC 2661 §8.1). */
  peer: PeerAddress;
  readonly channel: ControlChannel;
  /** Sessions by our session id. */
  readonly sessions = new Map<number, SessionHandle>();
  readonly tieBreaker: Uint8Array | undefined;
  /** When it was created (clock ms): the operator's uptime. */
  readonly createdAt: number;
  phase: TunnelPhase = "opening";
  /** Its key in `runtime.tunnelsByPeer`, once the peer's tunnel id is known. */
  peerKey: string | undefined;
  node!: Supervised<typeof tunnelMachine>;
  readonly #rt: NodeRuntime;
  readonly #secret: Uint8Array | undefined;
  #wasEstablished = false;
  #load: TunnelLoad | undefined;
  /** A channel report is queued for the end of this turn. */
  #channelPending = false;
  #lastChannel: TunnelChannelState | undefined;
  readonly #reportChannel: () => void;

  private constructor(rt: NodeRuntime, owner: TunnelOwner, id: number, spec: TunnelSpec) {
    this.#rt = rt;
    this.owner = owner;
    this.id = id;
    this.role = spec.role;
    this.test = spec.test;
    this.transport = spec.transport;
    this.peer = spec.peer;
    this.createdAt = rt.clock.now();
    this.#secret = spec.profile?.secretBytes;
    this.tieBreaker =
      spec.role === "initiator" && rt.config.tieBreaker !== false ? rt.random.bytes(8) : undefined;
    const secret = this.#secret;
    const hide = spec.profile?.hide;
    let encodeOptions: ((message: ControlMessage) => EncodeOptions | undefined) | undefined;
    if (secret) {
      // One options object per tunnel, a fresh Random Vector (RFC 2661 §4.3) in it per transmission.
      // A proxied PAP password (Proxy Authen Response, an ICCN's) is hidden whenever there is a secret;
      // with no hide list, the other messages go without a Random Vector, as before.
      const vectors = randomVectors(rt.random);
      const listed = hide !== undefined && hide.length > 0;
      // Each hidden value padded with random bytes to HIDDEN_MINIMUM (protocol/l2tp/hidden.ts says why).
      const options: EncodeOptions = {
        secret,
        hide: withProxyResponse(hide),
        randomVector: EMPTY,
        hiddenMinimum: HIDDEN_MINIMUM,
        hiddenPaddingBytes: EMPTY,
      };
      encodeOptions = (message) => {
        if (!listed && message.avps.proxyAuthenResponse === undefined) return undefined;
        options.randomVector = vectors.next();
        options.hiddenPaddingBytes = vectors.next();
        return options;
      };
    }
    const restore = spec.restore;
    const channelOptions = restore
      ? { ...rt.config.channel, initialNs: restore.ns, initialNr: restore.nr }
      : (rt.config.channel ?? {});
    this.#reportChannel = () => this.recordChannel();
    this.channel = new ControlChannel(channelOptions, {
      clock: rt.clock,
      transmit: (packet) => {
        this.transport.send(packet, this.peer);
        this.channelTouched();
      },
      deliver: (message, header) => this.deliver(message, header),
      deliverInvalid: (error, header) => this.#deliverInvalid(error, header),
      onFailure: (why) => this.#send({ type: "channelFailed", cause: cause("retries", why) }),
      ...(encodeOptions ? { encodeOptions } : {}),
    });
  }

  /**
   * Creates a tunnel under `owner` with a fresh random tunnel id, registers it with the router, and
   * starts its actor; undefined when all 65,535 tunnel ids are in use.
   */
  static spawn(rt: NodeRuntime, owner: TunnelOwner, spec: TunnelSpec): TunnelHandle | undefined {
    const restoreId = spec.restore?.id;
    if (restoreId !== undefined && rt.tunnels.has(restoreId)) return undefined;
    const id = restoreId ?? allocateId(rt.random, rt.tunnels);
    if (id === undefined) return undefined;
    const t = new TunnelHandle(rt, owner, id, spec);
    const secret = t.#secret;
    const input: TunnelInput = {
      path: { system: rt.config.name, destination: owner.key, tunnel: id },
      role: spec.role,
      localTunnelId: id,
      hostName: spec.profile?.hostName ?? rt.config.hostName,
      receiveWindow: rt.config.channel?.receiveWindow ?? 16,
      ...(rt.config.vendorName ? { vendorName: rt.config.vendorName } : {}),
      ...(secret ? { secret, challenge: rt.random.bytes(16) } : {}),
      ...(t.tieBreaker ? { tieBreaker: t.tieBreaker } : {}),
      ...(spec.profile?.peerHostName !== undefined ? { peerHostName: spec.profile.peerHostName } : {}),
      ...(rt.config.stopHoldMs !== undefined ? { stopHoldMs: rt.config.stopHoldMs } : {}),
      ...(rt.config.handshakeTimeoutMs !== undefined
        ? { handshakeTimeoutMs: rt.config.handshakeTimeoutMs }
        : {}),
      test: spec.test,
    };
    rt.tunnels.set(id, t);
    owner.tunnels.set(id, t);
    rt.supervisor.spawn({
      level: "tunnel",
      key: id,
      path: input.path,
      machine: rt.machines.tunnel,
      input,
      ...(spec.restore ? { snapshot: spec.restore.snapshot } : {}),
      parent: owner.node,
      wire: (actor, self) => t.wire(actor, self),
      onEnd: (_self, ending) => t.#ended(ending),
    });
    if (spec.restore) t.resume(spec.restore);
    return t;
  }

  /** A restored tunnel: the channel and the registries as the recorded tunnel had them (failover). */
  private resume(r: TunnelRestore): void {
    this.channel.peerTunnelId = r.peerTunnelId;
    this.channel.peerReceiveWindow = r.peerReceiveWindow;
    this.peerKey = `${this.owner.key}/${r.peerTunnelId}`;
    this.#rt.tunnelsByPeer.set(this.peerKey, this);
    this.phase = "established";
    this.#wasEstablished = true;
  }

  /**
   * Resumes a recorded session of this tunnel (failover): our id, the persisted snapshot of its
   * established call, and the peer's session id. Undefined if the id is taken.
   */
  restoreSession(
    id: number,
    kind: SessionKind,
    snapshot: unknown,
    peerSessionId: number,
  ): SessionHandle | undefined {
    if (this.sessions.has(id)) return undefined;
    const rt = this.#rt;
    const s = new SessionHandle(this, id, kind, undefined, rt.clock.now());
    const path = { system: rt.config.name, destination: this.owner.key, tunnel: this.id, session: id };
    this.sessions.set(id, s);
    rt.supervisor.spawn({
      level: "session",
      key: id,
      path,
      machine: rt.machines.session as SessionLogic,
      input: { path, kind, localSessionId: id },
      snapshot,
      parent: this.node,
      owner: s,
      wire: wireSession,
      onEnd: endSession,
    });
    s.established = true;
    s.peerSessionId = peerSessionId;
    return s;
  }

  /**
   * A packet went out or came in: the channel's Ns/Nr may have moved; report it once this turn of the
   * event loop is over. A 0 ms timer, not a microtask: the runtimes run microtasks after every single
   * datagram, so a microtask made a tunnel step (and a recorded event) per datagram, 15-20 µs of CPU per
   * call on each side (20,000 calls/s fell to 15,000); the timer fires once after the turn's datagrams.
   */
  private channelTouched(): void {
    if (this.#channelPending || !this.#rt.recordsChannel) return;
    this.#channelPending = true;
    this.#rt.clock.setTimeout(this.#reportChannel, 0);
  }

  /** Tells the tunnel actor the channel's state when it changed, so that it is recorded (failover). */
  private recordChannel(): void {
    this.#channelPending = false;
    if (!this.node || this.node.ending || this.channel.closed) return;
    const { ns, nr, peerTunnelId } = this.channel.state();
    const last = this.#lastChannel;
    const peer = this.peer;
    if (
      last &&
      last.ns === ns &&
      last.nr === nr &&
      last.peerTunnelId === peerTunnelId &&
      last.peerReceiveWindow === this.channel.peerReceiveWindow &&
      last.peerAddress === peer.address &&
      last.peerPort === peer.port
    ) {
      return;
    }
    const channel: TunnelChannelState = {
      ns,
      nr,
      peerTunnelId,
      peerReceiveWindow: this.channel.peerReceiveWindow,
      peerAddress: peer.address,
      peerPort: peer.port,
      localAddress: this.transport.local.address,
      localPort: this.transport.local.port,
    };
    this.#lastChannel = channel;
    this.node.actor.send({ type: "channel", channel });
  }

  /** The supervisor of the node the tunnel belongs to. */
  get supervisor(): Supervisor {
    return this.#rt.supervisor;
  }

  /** What the node's wiring shares (clock, random, PPP service …). */
  get runtime(): NodeRuntime {
    return this.#rt;
  }

  /** How placement sees this tunnel (machines/destination.ts): a live view, made once. */
  get load(): TunnelLoad {
    this.#load ??= tunnelLoadView(this);
    return this.#load;
  }

  /** The tunnel machine's state value, for placement and snapshots. */
  get state(): string {
    return stateName(this.node.actor.getSnapshot().value);
  }

  /** Whether its actor has ended. */
  get ended(): boolean {
    return this.node.ending !== undefined;
  }

  /** Initiator: sends SCCRQ (RFC 2661 §7.2 Local Open request). */
  open(): void {
    this.#send({ type: "open" });
  }

  /** A control packet from the peer, still encoded (the router's path for tunnel id ≠ 0). */
  receive(packet: Uint8Array, from: PeerAddress): void {
    const decoded = decodeControl(packet, this.#secret ? { secret: this.#secret } : undefined);
    if (decoded.ok) {
      this.receiveDecoded(decoded.value, from);
    } else if (decoded.error.header) {
      this.peer = from;
      this.channel.receiveInvalid(decoded.error);
      this.channelTouched();
    } else {
      this.#rt.stats.undecodable++;
    }
  }

  /** A decoded control packet from the peer. */
  receiveDecoded(packet: ControlPacket, from: PeerAddress): void {
    this.peer = from;
    this.channel.receive(packet);
    this.channelTouched();
  }

  /**
   * Creates a session on this tunnel; undefined when its 65,535 session ids are all in use. `message`
   * is the ICRQ/OCRQ that made an incoming call: the session starts by handling it (RFC 2661 §7.3, §7.4).
   */
  createSession(
    kind: SessionKind,
    request?: SessionRequest,
    message?: ControlMessage,
  ): SessionHandle | undefined {
    const id = allocateId(this.#rt.random, this.sessions);
    if (id === undefined) return undefined;
    const rt = this.#rt;
    const s = new SessionHandle(this, id, kind, request, rt.clock.now());
    // Built field by field: this runs once per call, and conditional spreads each cost an object.
    const input: SessionInput = {
      path: { system: rt.config.name, destination: this.owner.key, tunnel: this.id, session: id },
      kind,
      localSessionId: id,
    };
    if (request?.requestAvps) input.requestAvps = request.requestAvps;
    if (request?.connectAvps) input.connectAvps = request.connectAvps;
    if (rt.config.sessionSetupTimeoutMs !== undefined) input.setupTimeoutMs = rt.config.sessionSetupTimeoutMs;
    // RFC 2661 §7.2 "tunnel-open" already happened: the call starts at once.
    if (this.phase === "established" && (kind === "lac-incoming" || kind === "lns-outgoing")) {
      input.tunnelUp = true;
    }
    if (message) input.request = message;
    this.sessions.set(id, s);
    rt.supervisor.spawn({
      level: "session",
      key: id,
      path: input.path,
      // A sessionMachine given instead (tests) has the same snapshots where the wiring reads them.
      machine: rt.machines.session as SessionLogic,
      input,
      parent: this.node,
      owner: s,
      wire: wireSession,
      onEnd: endSession,
    });
    // XState keeps an actor's input for its whole life: the request message is not needed after the start.
    if (message) input.request = undefined;
    return s;
  }

  /** Sends a data message (T=0) of an established session to the peer; false when it cannot. */
  sendData(session: SessionHandle, payload: Uint8Array): boolean {
    if (!this.carries(session)) return false;
    const ids = { tunnelId: this.channel.peerTunnelId, sessionId: session.peerSessionId };
    this.sendCounted(session, encodeDataHeader(ids, payload), payload.length);
    return true;
  }

  /**
   * Sends a PPP packet of `protocol` to the peer as one data message (RFC 2661 §3.1; the PPP frame with
   * its Address and Control, RFC 1662 §3.1), written once; false when the session cannot carry it.
   */
  sendPpp(session: SessionHandle, protocol: number, payload: Uint8Array): boolean {
    if (!this.carries(session)) return false;
    const packet = encodePppData(this.channel.peerTunnelId, session.peerSessionId, protocol, payload);
    this.sendCounted(session, packet, PPP_HEADER_LENGTH + payload.length);
    return true;
  }

  /** Whether `session` can send data messages now (this tunnel and the session established). */
  private carries(session: SessionHandle): boolean {
    return this.phase === "established" && session.established;
  }

  /** Sends a data message of `session` carrying a PPP frame of `frameBytes` octets, counted. */
  private sendCounted(session: SessionHandle, packet: Uint8Array, frameBytes: number): void {
    session.packetsOut++;
    session.bytesOut += frameBytes;
    this.transport.send(packet, this.peer);
  }

  /** Sends an event to the tunnel actor, unless it has ended. */
  #send(event: Parameters<Actor<typeof tunnelMachine>["send"]>[0]): void {
    if (this.node && !this.node.ending) this.node.actor.send(event);
  }

  /** Sends an event to the tunnel actor (for the node: close, admin, tie-breaker). */
  send(event: Parameters<Actor<typeof tunnelMachine>["send"]>[0]): void {
    this.#send(event);
  }

  private wire(actor: Actor<typeof tunnelMachine>, self: Supervised<typeof tunnelMachine>): void {
    this.node = self;
    const sup = this.#rt.supervisor;
    actor.on(
      "send",
      sup.listener(self, (e: TunnelEmitted & { type: "send" }) => {
        if (e.message.type !== "StopCCN") {
          this.channel.send(e.message, 0);
          return;
        }
        // RFC 2661 §5.7: the StopCCN speaks for every session; their queued messages go unsent. The
        // machine's hold starts when the StopCCN leaves (it may wait for the window).
        this.channel.discardQueued();
        // Each subscriber hears an LCP Terminate-Request first (RFC 1661 §3.7), a data message that
        // leaves before the StopCCN does: the graceful stop of the whole tree.
        if (this.#rt.ppp) for (const s of this.sessions.values()) s.ppp?.sessionClosing();
        this.channel.send(e.message, 0, () => this.#send({ type: "stopTransmitted" }));
      }),
    );
    actor.on(
      "peer",
      sup.listener(self, (e: TunnelEmitted & { type: "peer" }) => {
        this.channel.peerTunnelId = e.tunnelId;
        this.channel.peerReceiveWindow = e.receiveWindow;
        const key = `${this.owner.key}/${e.tunnelId}`;
        if (this.peerKey && this.#rt.tunnelsByPeer.get(this.peerKey) === this)
          this.#rt.tunnelsByPeer.delete(this.peerKey);
        this.peerKey = key;
        this.#rt.tunnelsByPeer.set(key, this);
      }),
    );
    actor.on(
      "established",
      sup.listener(self, () => {
        this.phase = "established";
        this.#wasEstablished = true;
        // RFC 2661 §7.2 "Send tunnel-open event to waiting sessions".
        for (const s of this.sessions.values()) {
          if (s.kind === "lac-incoming" || s.kind === "lns-outgoing") s.send({ type: "tunnelUp" });
        }
        this.owner.tunnelEstablished(this);
      }),
    );
    actor.on(
      "closing",
      sup.listener(self, (e: TunnelEmitted & { type: "closing" }) => {
        this.phase = "closing";
        // Our refusal during the handshake (challenge response, host name, version) is a refused tunnel.
        const reason = e.cause.reason;
        if (e.stopSent && !this.#wasEstablished && (reason === "auth" || reason === "refused"))
          this.#rt.stats.refusedTunnels++;
        // A StopCCN received: what we had queued for the peer is moot (RFC 2661 §5.7); only acks matter now.
        if (!e.stopSent) this.channel.discardQueued();
        // RFC 2661 §5.7: the StopCCN ends every session; no CDN is sent for them. They end once this
        // turn's datagrams are out: our StopCCN leaves (its retransmission timer already runs), or the
        // peer's is acknowledged, before thousands of sessions are torn down and recorded (60,000 of
        // them took longer than the 1 s retransmission timeout with an event log, and every StopCCN went twice).
        const why = e.cause;
        this.#rt.clock.setTimeout(() => this.endSessions(why), 0);
        if (e.stopSent) {
          this.channel.whenDrained().then(
            () => this.#send({ type: "drained" }),
            () => {},
          );
        }
      }),
    );
  }

  /** Ends every session without a CDN; the cause says why (the tunnel's own cause if it never came up). */
  private endSessions(why: Cause): void {
    if (this.sessions.size === 0) return;
    const sessionCause =
      this.#wasEstablished || why.reason === "admin" || why.reason === "parent"
        ? cause(
            why.reason === "tie-breaker" ? "tie-breaker" : "tunnel-gone",
            `tunnel ${this.id} ended: ${why.message}`,
            why.resultCode,
          )
        : why;
    const event = { type: "tunnelGone" as const, cause: sessionCause };
    for (const s of this.sessions.values()) s.send(event);
  }

  #ended(ending: Ending): void {
    this.phase = "closed";
    addChannelStats(this.#rt.endedChannels, this.channel.stats());
    this.channel.close();
    if (this.#rt.tunnels.get(this.id) === this) this.#rt.tunnels.delete(this.id);
    if (this.owner.tunnels.get(this.id) === this) this.owner.tunnels.delete(this.id);
    if (this.peerKey && this.#rt.tunnelsByPeer.get(this.peerKey) === this)
      this.#rt.tunnelsByPeer.delete(this.peerKey);
    const output: TunnelOutput =
      ending.kind === "done"
        ? (ending.output as TunnelOutput)
        : {
            cause:
              ending.kind === "error"
                ? cause("internal", `tunnel ${this.id} failed: ${describe(ending.error)}`)
                : cause("internal", `tunnel ${this.id} was stopped`),
            wasEstablished: this.#wasEstablished,
          };
    // Paths that skip `closing` (lost tie-breaker, retries exhausted, a failure) still end the sessions.
    this.endSessions(output.cause);
    // A session that could not take the event (it failed meanwhile) is stopped: nothing outlives its tunnel.
    for (const s of [...this.sessions.values()]) this.#rt.supervisor.stop(s.node);
    this.sessions.clear();
    this.#rt.ended.tunnel(this, output.cause);
    this.owner.tunnelEnded(this, output);
  }

  /** One of its sessions ended: the operator still sees it for the destruct timeout. */
  sessionEnded(s: SessionHandle, why: Cause): void {
    this.#rt.ended.session(s, why);
  }

  private deliver(message: ControlMessage, header: ControlHeader): void {
    const problem = validateMessage(message);
    if (problem) {
      problem.avps = message.avps;
      this.#deliverInvalid(problem, header);
      return;
    }
    if (TUNNEL_MESSAGES.has(message.type)) {
      this.#send({ type: `rx.${message.type}` as "rx.SCCRQ", message });
      return;
    }
    if (header.sessionId !== 0) {
      const s = this.sessions.get(header.sessionId);
      // RFC 2661 §4.4.5: the ICCN's proxy LCP and authentication are for the session's PPP.
      if (s && message.type === "ICCN" && this.#rt.ppp) s.connectAvps = message.avps;
      if (s) s.send({ type: `rx.${message.type}` as "rx.ICRP", message });
      else this.#rt.stats.unknownSession++;
      return;
    }
    switch (message.type) {
      case "ICRQ":
        this.incomingCall("lns-incoming", message);
        return;
      case "OCRQ":
        this.incomingCall("lac-outgoing", message);
        return;
      case "CDN": {
        // RFC 2661 §4.4.4: a CDN sent before the peer learnt our id names its own session in the AVP.
        const peerId = message.avps.assignedSessionId;
        for (const s of this.sessions.values()) {
          if (peerId && s.node.actor.getSnapshot().context.peerSessionId === peerId) {
            s.send({ type: "rx.CDN", message });
            return;
          }
        }
        this.#rt.stats.unknownSession++;
        return;
      }
      default:
        this.#rt.stats.unknownSession++;
    }
  }

  /** RFC 2661 §5.0, §7.3, §7.4: a new call from the peer (ICRQ on the LNS, OCRQ on the LAC). */
  private incomingCall(kind: "lns-incoming" | "lac-outgoing", message: ControlMessage): void {
    // After a StopCCN (ours or the peer's) it speaks for every call, this one included: no CDN (§5.7).
    if (this.phase === "closing" || this.phase === "closed") return;
    const peerSessionId = message.avps.assignedSessionId ?? 0;
    const refusal =
      kind === "lac-outgoing" && !this.#rt.config.outgoingCalls
        ? NO_OUTGOING_CALLS
        : this.phase !== "established"
          ? cause("refused", `tunnel ${this.id} is not established`, {
              result: CdnResult.generalError,
              error: GeneralError.noControlConnection,
            })
          : this.owner.refusesCalls(this);
    if (refusal) {
      this.refuseCall(peerSessionId, refusal);
      return;
    }
    const s = this.createSession(kind, undefined, message);
    if (!s) {
      this.refuseCall(
        peerSessionId,
        cause("refused", `tunnel ${this.id} has no session id left`, { result: 2, error: 4 }),
      );
      return;
    }
    // LAC outgoing call (RFC 2661 §7.4): no bearer to dial here yet, so the call is answered at once.
    if (kind === "lac-outgoing" && !s.node.ending) s.send({ type: "answered" });
  }

  /** A CDN for a call we never created a session for (RFC 2661 §6.14: Assigned Session ID 0). */
  private refuseCall(peerSessionId: number, why: Cause): void {
    const resultCode = why.resultCode ?? { result: CDN_NO_FACILITIES, message: why.message };
    this.channel.send({ type: "CDN", avps: { resultCode, assignedSessionId: 0 } }, peerSessionId);
  }

  /** RFC 2661 §4.1: a message that failed to decode or validate, already acknowledged by the channel. */
  #deliverInvalid(error: ProtocolError, header: ControlHeader): void {
    if (error.scope === "ignore") return;
    const resultCode = {
      result: error.resultCode ?? 2,
      ...(error.errorCode !== undefined ? { error: error.errorCode } : {}),
      message: `${error.field}: ${error.reason}`.slice(0, 200),
    };
    const why = cause(
      "protocol",
      `invalid ${error.messageType ?? "message"}: ${error.field}: ${error.reason}`,
      resultCode,
    );
    if (error.scope !== "session") {
      this.#send({ type: "close", cause: why });
      return;
    }
    const stats = this.#rt.stats;
    if (header.sessionId !== 0) {
      const s = this.sessions.get(header.sessionId);
      if (s) s.send({ type: "close", cause: why });
      else stats.unknownSession++;
      return;
    }
    // A call request (ICRQ, OCRQ) names no session of ours yet: the CDN goes to the peer's Assigned
    // Session ID when it could be read (RFC 2661 §4.1, §5.4); without one nobody can be answered.
    const peerSessionId = error.avps?.assignedSessionId;
    const request = error.messageType === "ICRQ" || error.messageType === "OCRQ";
    if (!request || !peerSessionId) {
      stats.invalidUnanswerable++;
      return;
    }
    // After a StopCCN (ours or the peer's) it speaks for every call, this one included (§5.7).
    if (this.phase === "closing" || this.phase === "closed") return;
    stats.invalidCallsRefused++;
    this.refuseCall(peerSessionId, why);
  }
}

/** One live session: its actor, ids, data counters, and the request that asked for it. */
export class SessionHandle implements SessionEffectSink {
  readonly id: number;
  readonly tunnel: TunnelHandle;
  readonly kind: SessionKind;
  readonly request: SessionRequest | undefined;
  node!: Supervised<SessionLogic>;
  established = false;
  /** The peer's session id, once the call is up (data messages carry it). */
  peerSessionId = 0;
  packetsIn = 0;
  bytesIn = 0;
  packetsOut = 0;
  bytesOut = 0;
  /** The PPP link on this session, once it is established and the node runs PPP for its kind. */
  ppp: PppLink | undefined;
  /** The ICCN's AVPs (proxy LCP and authentication) until the PPP link takes them. */
  connectAvps: Avps | undefined;
  /** PPP frames that came before the PPP link, until it takes them (PppService.keepEarly). */
  earlyFrames: Uint8Array[] | undefined;
  /** When it was created (clock ms): the operator's uptime. */
  readonly createdAt: number;

  /** Made by TunnelHandle.createSession. */
  constructor(
    tunnel: TunnelHandle,
    id: number,
    kind: SessionKind,
    request: SessionRequest | undefined,
    createdAt: number,
  ) {
    this.tunnel = tunnel;
    this.id = id;
    this.kind = kind;
    this.request = request;
    this.createdAt = createdAt;
  }

  /**
   * The Calling Number of the call (RFC 2661 §4.4.5), for AAA and accounting: kept in one place, the
   * session's context (ours on a LAC, from the call request; the ICRQ's on an LNS), where show, the
   * events and the inspector read it too.
   */
  get callingNumber(): string | undefined {
    return this.node.actor.getSnapshot().context.callingNumber;
  }

  /** The session machine's state value. */
  get state(): string {
    return stateName(this.node.actor.getSnapshot().value);
  }

  /** Sends an event to the session actor, unless it has ended. */
  send(event: Parameters<Actor<SessionLogic>["send"]>[0]): void {
    if (this.node && !this.node.ending) this.node.actor.send(event);
  }

  /** Connects the actor's emitted events to the tunnel's control channel (the handle is their sink). */
  wire(actor: Actor<SessionLogic>, self: Supervised<SessionLogic>): void {
    this.node = self;
    if (actor.logic === sessionLogic) sinkSessionEffects(actor, this);
    // A sessionMachine given instead (tests) emits through XState's listeners only.
    else actor.on("*", (e: SessionEmitted) => this.sessionEmitted(e));
  }

  /** An event the session actor emitted (SessionEffectSink); a failure here stops only this session. */
  sessionEmitted(e: SessionEmitted): void {
    try {
      this.onEmitted(e);
    } catch (error) {
      this.tunnel.supervisor.fail(this.node, error);
    }
  }

  private onEmitted(e: SessionEmitted): void {
    if (e.type === "send") {
      // Once the tunnel is closing its StopCCN speaks for every session (RFC 2661 §5.7).
      if (this.tunnel.phase === "closing" || this.tunnel.phase === "closed") return;
      // A local close: PPP says goodbye to the subscriber before the CDN (RFC 1661 §3.7).
      if (e.message.type === "CDN") this.ppp?.sessionClosing();
      this.tunnel.channel.send(e.message, e.sessionId);
    } else if (e.type === "established") {
      this.established = true;
      this.peerSessionId = this.node.actor.getSnapshot().context.peerSessionId;
      this.tunnel.runtime.ppp?.attach(this);
      this.request?.onEstablished(this);
    }
  }

  /** The actor ended: leave the tunnel's registry and tell the requester. */
  ended(ending: Ending): void {
    if (this.tunnel.sessions.get(this.id) === this) this.tunnel.sessions.delete(this.id);
    const why =
      ending.kind === "done"
        ? (ending.output as SessionOutput).cause
        : ending.kind === "error"
          ? cause("internal", `session ${this.id} failed: ${describe(ending.error)}`)
          : cause("internal", `session ${this.id} was stopped`);
    this.ppp?.sessionEnded(why);
    this.tunnel.sessionEnded(this, why);
    this.request?.onEnded(this, why);
  }
}

/** Wires a session actor to its SessionHandle (the spawn's owner); shared by every session. */
function wireSession(actor: Actor<SessionLogic>, self: Supervised<SessionLogic>): void {
  (self.owner as SessionHandle).wire(actor, self);
}

/** Tells a session's SessionHandle that its actor ended; shared by every session. */
function endSession(self: Supervised<SessionLogic>, ending: Ending): void {
  (self.owner as SessionHandle).ended(ending);
}

/** A live TunnelLoad of a tunnel: its phase, sessions and admin state as they are when read. */
function tunnelLoadView(t: TunnelHandle): TunnelLoad {
  return {
    tunnelId: t.id,
    get phase() {
      return t.phase === "closed" ? "closing" : t.phase;
    },
    get sessions() {
      return t.sessions.size;
    },
    get admin() {
      return t.node.actor.getSnapshot().context.admin;
    },
    // A test tunnel takes no sessions until it is established.
    get test() {
      return t.test && t.phase !== "established";
    },
  };
}

/** A state value as a dotted string ("closing.stop-sent"). */
export function stateName(value: unknown): string {
  if (typeof value === "string") return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "";
  const [k, v] = entries[0];
  const inner = stateName(v);
  return inner ? `${k}.${inner}` : k;
}

/** The AVPs to hide with Proxy Authen Response among them (the list itself when it already is). */
function withProxyResponse(hide: readonly AvpName[] | undefined): readonly AvpName[] {
  if (hide?.includes("proxyAuthenResponse")) return hide;
  return [...(hide ?? []), "proxyAuthenResponse"];
}

/**
 * The module's own hot code, which adapters/jit keeps out of JSC's top tier with what it exports (it
 * reaches nothing else: these are not exported to be used): functions, and classes with their methods.
 */
export const hotInternals: readonly unknown[] = [RandomVectors, wireSession, endSession, withProxyResponse];
