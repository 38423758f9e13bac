/**
 * A LAC's subscribers (the E-series sequence): a subscriber's line comes from the Access port; a PPP
 * actor in role "server" (the shared endpoint with settings.lac) negotiates LCP and takes its
 * authentication; the decision (machines/lac-decision.ts: RADIUS tunnel attributes, else the domain
 * map) says where it goes; a tunnelled subscriber's call is placed through tunnel selection with the
 * proxy LCP and authentication AVPs in its ICCN (RFC 2661 §4.4.5); once the session is established the
 * PPP actor hands the link on and frames are relayed both ways without an XState step per frame.
 *
 * Ends: the subscriber's LCP Terminate-Request after the hand-off gives a CDN with RFC 3145 code 3; a
 * CDN (or StopCCN) from the LNS gives the subscriber an LCP Terminate-Request, then the line goes down.
 * A subscriber refused (nothing found, RADIUS rejected, no tunnel) gets an authentication failure with
 * the cause (PAP Authenticate-Nak, CHAP Failure) and nothing is left behind. A domain mapped to
 * "terminate" is served here by the node's PPP (`PppService`, actors/ppp-link.ts), as an LNS serves its
 * calls: AAA's answer, an address from RADIUS or the node's pools, IPCP, IP to the node's data plane,
 * LCP Echo keepalive, RADIUS Session-Timeout and Idle-Timeout, accounting Start, Interim and Stop.
 * A tunnelled subscriber's accounting follows the same rules (actors/accounting.ts) with the relay's
 * counters and the tunnel it went into (RFC 2867).
 *
 * Each subscriber is an actor of the node's tree, supervised like every other: a `subscriber` actor
 * (machines/lac-subscriber.ts) under the system, its path `{ system, subscriber: line id }`, whose
 * transitions record the decision and the placement (and why), with its PPP link as its child (machine
 * "ppp" at the same path). The subscriber keeps that path for its whole life, wherever its call goes:
 * docs/LAC.md says why.
 */
import type { Actor, EventFromLogic } from "xstate";
import type { Access, AccessLine } from "../adapters/access/index.ts";
import { type Cause, cause, peerKey } from "../machines/common.ts";
import { decide, type LacPolicy, TUNNEL_MEDIUM_IPV4, TUNNEL_TYPE_L2TP } from "../machines/lac-decision.ts";
import { type LacSubscriberEvent, lacSubscriberLogic } from "../machines/lac-subscriber.ts";
import { type PppCause, PppDirection, PppDisconnectCode, pppCause } from "../machines/ppp/disconnect.ts";
import { PPP_DEFAULTS, type PppEffect, type PppSettings, pppFrame } from "../machines/ppp/endpoint.ts";
import { type PppLogic, pppLogic, sinkPppEffects } from "../machines/ppp/ppp-logic.ts";
import { proxyAvpsOf } from "../machines/ppp/proxy-lcp.ts";
import { shareScope } from "../machines/shared-scope.ts";
import type { TunnelSelected } from "../machines/system.ts";
import type { TunnelGroup } from "../machines/tunnel-selection.ts";
import { dataPayloadOffset } from "../protocol/l2tp/header.ts";
import { decodeFrame, frameHeader, frameProtocol, payloadAt } from "../protocol/ppp/frame.ts";
import { encodeLcp } from "../protocol/ppp/lcp.ts";
import { PppProtocol } from "../protocol/ppp/numbers.ts";
import {
  type Aaa,
  type AccountingRecord,
  AcctTerminateCause,
  type Authorization,
  type Credentials,
  type SessionCounters,
} from "./aaa.ts";
import { type AccountingSettings, interimPeriodMs, SessionAccounting } from "./accounting.ts";
import type { L2tpNode, OpenSessionOutcome } from "./node.ts";
import type { Clock, Random } from "./ports.ts";
import { PppLinkCore, type PppLinkPlace, type PppService } from "./ppp-link.ts";
import type { DataHandler } from "./runtime.ts";
import type { Ending, Supervised } from "./supervisor.ts";

/** What the LAC's subscriber side needs. */
export interface LacAccessDeps {
  node: L2tpNode;
  access: Access;
  policy: LacPolicy;
  clock: Clock;
  random: Random;
  /** RADIUS (or local) AAA asked for each subscriber: its tunnel attributes win over the domain map. */
  aaa?: Aaa;
  /** The LAC's PPP toward subscribers (MRU, auth protocols, timers); defaults as PPP_DEFAULTS. */
  ppp?: Partial<Omit<PppSettings, "role" | "lac">>;
  /**
   * RFC 2866 accounting of tunnelled subscribers through `aaa` (Start, Interim, Stop): over the node's
   * `accounting` settings (those of its PPP, `ppp.accounting`); on when there is AAA unless `enabled` is false.
   */
  accounting?: AccountingSettings;
}

/** Counters of the LAC's subscriber side. */
export interface LacAccessStats {
  lines: number;
  /** Subscribers whose call reached an established session (relayed from then on). */
  tunnelled: number;
  /** Subscribers refused with an authentication failure. */
  refused: number;
  /** Subscribers terminated on this node (the domain map's "terminate"), their IPCP up. */
  terminatedHere: number;
  /** Frames relayed, each way. */
  framesToLns: number;
  framesToSubscriber: number;
  /** Subscribers' LCP Terminate-Requests turned into CDNs (RFC 3145 code 3). */
  subscriberTerminates: number;
  /** CDNs (or StopCCNs) from the LNS turned into LCP Terminate-Requests. */
  lnsDisconnects: number;
  /** Accounting requests of tunnelled subscribers that got no answer after every retry. */
  accountingUnanswered: number;
}

/** The LAC's subscriber side: one `Subscriber` per line. */
export class LacAccess {
  readonly stats: LacAccessStats = {
    lines: 0,
    tunnelled: 0,
    refused: 0,
    terminatedHere: 0,
    framesToLns: 0,
    framesToSubscriber: 0,
    subscriberTerminates: 0,
    lnsDisconnects: 0,
    accountingUnanswered: 0,
  };
  /**
   * Relayed subscribers by `relayKey(tunnel id, session id)` (the node's data handler looks them up for
   * every frame: a number, not a string made per frame).
   */
  readonly relayed = new Map<number, Subscriber>();
  readonly deps: LacAccessDeps;
  readonly settings: PppSettings;

  constructor(deps: LacAccessDeps) {
    this.deps = deps;
    this.settings = { ...PPP_DEFAULTS, hostName: "lac", ...deps.ppp, role: "server", lac: true };
    deps.access.onLine((line) => {
      this.stats.lines++;
      try {
        new Subscriber(this, line);
      } catch (error) {
        // A line this node cannot take (an id already in use, the node closed): that line goes, not the node.
        this.stats.refused++;
        console.error(`l2tp ${deps.node.name}: subscriber line ${line.id} refused: ${String(error)}`);
        line.close();
      }
    });
  }

  /** The accounting settings of tunnelled subscribers: the node's, then this side's own. */
  get accounting(): AccountingSettings {
    return { ...this.deps.node.ppp?.accounting, ...this.deps.accounting };
  }

  /** The node's data handler (NodeDeps.onData): a relayed session's frames go to its subscriber. */
  readonly onData: DataHandler = (session, packet) => {
    const sub = this.relayed.get(relayKey(session.tunnel.id, session.id));
    if (!sub) return;
    const at = dataPayloadOffset(packet);
    if (at >= 0) sub.toSubscriber(packet.slice(at));
  };
}

/** One subscriber on the LAC: its PPP actor until the hand-off, then the relay (or, terminated here, IP). */
class Subscriber {
  readonly #lac: LacAccess;
  readonly #line: AccessLine;
  /** Its actor in the tree (machine "subscriber"), and its PPP link's (its child) until the link ends. */
  readonly #node: Supervised<typeof lacSubscriberLogic>;
  /**
   * Its PPP link's actor, until the hand-off ends it: then let go, so that a tunnelled subscriber does
   * not keep an ended actor, its context and the negotiation's bytes for the life of its call.
   */
  #ppp: Supervised<PppLogic> | undefined;
  /** The accounting of the tunnelled call, once its Start went out: the Stop is due at the end. */
  #accounting: SessionAccounting | undefined;
  /**
   * Frames and octets on the line since the hand-off (in = from the subscriber, RFC 2866 §5.3, §5.4):
   * the relayed ones, and the LCP Terminate-Request and its answer that end the link.
   */
  readonly #counters: SessionCounters = { octetsIn: 0, octetsOut: 0, packetsIn: 0, packetsOut: 0 };
  /** Set once the session is established: where the relay sends the subscriber's frames. */
  #session: { tunnelId: number; sessionId: number } | undefined;
  #done = false;
  #authorization: Authorization | undefined;
  /** Terminated here: its PPP link served by the node's PPP (its address, keepalive, timeouts, accounting). */
  #local: SubscriberLink | undefined;

  constructor(lac: LacAccess, line: AccessLine) {
    this.#lac = lac;
    this.#line = line;
    const { random, node } = lac.deps;
    const settings = lac.settings;
    const supervisor = node.supervisor;
    if (node.system.ending) throw new Error("the node is closed");
    const path = { system: node.name, subscriber: line.id };
    this.#node = supervisor.spawn({
      level: "subscriber",
      key: `subscriber ${line.id}`,
      path,
      machine: lacSubscriberLogic,
      input: { path, ...(line.callingNumber !== undefined ? { callingNumber: line.callingNumber } : {}) },
      parent: node.system,
      owner: this,
      onEnd: subscriberEnded,
      wire: shareScope,
    });
    const pppPath = { ...path, ppp: true as const };
    this.#ppp = supervisor.spawn({
      level: "ppp",
      key: "ppp",
      path: pppPath,
      machine: pppLogic,
      input: {
        path: pppPath,
        settings,
        magic: random.uint32() || 1,
        ...(settings.authProtocols.includes("chap") ? { challenge: random.bytes(16) } : {}),
      },
      parent: this.#node,
      owner: this,
      wire: wirePpp,
    });
    line.onFrame((frame) => this.fromSubscriber(frame));
    line.onDown(() => this.lineDown());
  }

  /**
   * The PPP link's actor, to tell it what happened (before the hand-off, or to a link terminated here):
   * once it ended XState drops what it is sent, and after the hand-off there is none to tell.
   */
  private tellPpp(event: EventFromLogic<PppLogic>): void {
    this.#ppp?.actor.send(event);
  }

  /** Tells the subscriber's actor what happened (a recorded transition). */
  private record(event: LacSubscriberEvent): void {
    if (!this.#node.ending) this.#node.actor.send(event);
  }

  /** The subscriber's actor was stopped from above (the node closing): the line goes with it. */
  stopped(ending: Ending): void {
    if (this.#done || ending.kind === "done") return;
    this.end(undefined, AcctTerminateCause.nasReboot, cause("parent", "the node closed"));
  }

  /** What the PPP actor asks (PppEffectSink). */
  pppEffect(effect: PppEffect): void {
    switch (effect.type) {
      case "send":
        this.#line.send(pppFrame(effect.protocol, effect.payload));
        return;
      case "authenticate":
        this.record({ type: "authenticated", user: effect.credentials.user });
        // A fault of ours in deciding ends this subscriber with the cause, never the process.
        this.decide(effect.credentials).catch((error: unknown) => {
          if (!this.#done) this.refuse(cause("internal", `LAC decision failed: ${String(error)}`));
        });
        return;
      case "finished":
        // Handed on: the relay carries the link now. Otherwise the link is over: down with the line.
        if (this.#session === undefined) {
          this.end(undefined, undefined, { ...cause("ppp", effect.cause.message), ppp: effect.cause });
        }
        return;
      default:
        return;
    }
  }

  /** A frame of the session (from the LNS) to the subscriber. */
  toSubscriber(frame: Uint8Array): void {
    this.#lac.stats.framesToSubscriber++;
    this.#counters.packetsOut++;
    this.#counters.octetsOut += frame.length;
    this.#line.send(frame);
  }

  /** After authentication: RADIUS (when there is AAA), then the decision, then the call. */
  private async decide(credentials: Credentials): Promise<void> {
    const { aaa, policy, node } = this.#lac.deps;
    let tunnels: Parameters<typeof decide>[1];
    if (aaa) {
      const answer = await aaa.authenticate({
        credentials,
        ...(this.#line.callingNumber !== undefined ? { callingNumber: this.#line.callingNumber } : {}),
      });
      if (this.#done) return;
      if (!answer.ok) {
        this.refuse(cause("auth", `AAA: ${answer.replyMessage ?? answer.message}`));
        return;
      }
      tunnels = answer.authorization.tunnels;
      this.#authorization = answer.authorization;
    }
    const decision = decide(credentials.user, tunnels, policy);
    if (decision.kind === "refuse") {
      this.refuse(decision.cause);
      return;
    }
    this.record(
      decision.kind === "terminate"
        ? { type: "terminate", reason: decision.reason }
        : { type: "tunnel", group: decision.group.name, reason: decision.reason },
    );
    if (decision.kind === "terminate") {
      // This node is the PPP server: authenticated by AAA above (none: nobody is); from here on the
      // node's PPP serves the link as an LNS serves a call's (address, keepalive, timeouts, accounting).
      const service = node.ppp;
      const authorization = this.#authorization;
      if (!aaa || !authorization || !service) {
        this.refuse(
          cause(
            "refused",
            `${decision.reason}, but this node has ${aaa ? "no PPP (ppp: in its config, with a pool)" : "no AAA"} for it`,
          ),
        );
        return;
      }
      const ppp = this.#ppp;
      if (!ppp) return; // Never: the link's actor lives until the hand-off, which is further down.
      const link = new SubscriberLink(service, this, this.#lac);
      this.#local = link;
      link.attachActor(ppp.actor, ppp);
      link.acceptAuthenticated(credentials.user, authorization);
      return;
    }
    const context = this.#ppp?.actor.getSnapshot().context;
    const proxy =
      decision.group.proxyAvps === false || !context ? undefined : proxyAvpsOf(context, credentials);
    const outcome = await node.openSession({
      group: decision.group,
      // Each choice of tunnel selection is this subscriber's event (its own cheap step, not the system's).
      onSelection: this.#recordSelection,
      ...(proxy ? { connectAvps: proxy } : {}),
      ...(this.#line.callingNumber !== undefined
        ? { requestAvps: { callingNumber: this.#line.callingNumber } }
        : {}),
    });
    if (this.#done) {
      if (outcome.ok)
        node.closeSession(outcome.tunnelId, outcome.sessionId, cause("ppp", "the subscriber left"));
      return;
    }
    if (!outcome.ok) {
      this.refuse(outcome.cause);
      return;
    }
    this.#session = { tunnelId: outcome.tunnelId, sessionId: outcome.sessionId };
    this.record({
      type: "placed",
      placed: {
        destination: outcome.path.destination ?? "",
        tunnel: outcome.tunnelId,
        session: outcome.sessionId,
      },
    });
    this.#lac.relayed.set(relayKey(outcome.tunnelId, outcome.sessionId), this);
    this.#lac.stats.tunnelled++;
    this.tellPpp({ type: "handOff", message: `tunnelled: ${decision.reason}` });
    // The relay carries the link now: its ended actor is let go (one still running is stopped by `end`).
    if (this.#ppp?.ending) this.#ppp = undefined;
    this.startAccounting(credentials.user, outcome, decision.group);
    void outcome.ended.then(this.#sessionEnded);
  }

  // The callbacks the call keeps for its life, made once here: a closure made in `decide` would keep
  // decide's whole scope alive with it (JSC keeps a function's scope for all its closures), the
  // subscriber's credentials (a PAP password) and the proxy AVPs among it.
  readonly #recordSelection = (selection: TunnelSelected): void =>
    this.record({ type: "selected", selection });
  readonly #sessionEnded = (why: Cause): void => this.sessionEnded(why);

  /** An authentication failure with the cause (PAP Nak, CHAP Failure); the endpoint ends the link. */
  private refuse(why: Cause): void {
    this.#lac.stats.refused++;
    this.record({ type: "refused", cause: why });
    this.tellPpp({ type: "authenticated", ok: false, message: why.message });
  }

  private fromSubscriber(frame: Uint8Array): void {
    if (this.#done) return;
    const session = this.#session;
    if (session === undefined) {
      // Terminated here: the link takes it (IP to the data plane, never through the actor).
      if (this.#local) {
        this.#local.receiveFrame(frame);
        return;
      }
      const header = frameHeader(frame);
      if (header < 0) return;
      const protocol = frameProtocol(header);
      if (protocol === PppProtocol.IPv4) return;
      this.tellPpp({ type: "frame", protocol, payload: frame.slice(payloadAt(0, header)) });
      return;
    }
    // RFC 3145 code 3: the subscriber hung up; the CDN says so (and the LNS's PPP sees it as such).
    this.#counters.packetsIn++;
    this.#counters.octetsIn += frame.length;
    if (isLcpTerminateRequest(frame)) {
      this.#lac.stats.subscriberTerminates++;
      const ppp = pppCause(
        PppDisconnectCode.normal,
        PppProtocol.LCP,
        PppDirection.peer,
        "the subscriber sent LCP Terminate-Request",
      );
      this.#lac.deps.node.closeSession(session.tunnelId, session.sessionId, {
        ...cause("ppp", ppp.message, { result: 2, error: 0, message: ppp.message }),
        ppp,
      });
      // RFC 1661 §5.5: acknowledged (once the call is closing, so that the line's end says nothing more).
      this.end(terminateAck(frame), AcctTerminateCause.userRequest, cause("ppp", ppp.message));
      return;
    }
    this.#lac.stats.framesToLns++;
    this.#lac.deps.node.sendData(session.tunnelId, session.sessionId, frame);
  }

  /** The session ended (a CDN from the LNS, its tunnel gone): tell the subscriber, then the line goes. */
  private sessionEnded(why: Cause): void {
    if (this.#done) return;
    this.#lac.stats.lnsDisconnects++;
    const admin = why.reason === "admin" || why.reason === "parent";
    this.end(
      terminateRequest(why.message),
      admin ? AcctTerminateCause.adminReset : AcctTerminateCause.lostService,
      why,
    );
  }

  private lineDown(): void {
    if (this.#done) return;
    const session = this.#session;
    if (session) {
      const ppp: PppCause = pppCause(
        PppDisconnectCode.noInformation,
        0,
        PppDirection.peer,
        "the subscriber's line went down",
      );
      this.#lac.deps.node.closeSession(session.tunnelId, session.sessionId, {
        ...cause("ppp", ppp.message),
        ppp,
      });
    }
    this.tellPpp({
      type: "lowerDown",
      cause: pppCause(PppDisconnectCode.noInformation, 0, PppDirection.peer, "line down"),
    });
    this.end(undefined, AcctTerminateCause.lostCarrier, cause("ppp", "the subscriber's line went down"));
  }

  /** Terminated here: its link's IPCP came up. */
  localUp(address: string): void {
    this.#lac.stats.terminatedHere++;
    this.record({ type: "up", address });
  }

  /** Sends a frame on the line (a link terminated here); false once the subscriber is done. */
  sendOnLine(frame: Uint8Array): boolean {
    if (this.#done) return false;
    this.#line.send(frame);
    return true;
  }

  get done(): boolean {
    return this.#done;
  }

  get callingNumber(): string | undefined {
    return this.#line.callingNumber;
  }

  /** A link terminated here ended (its PPP finished, or failed): the subscriber ends with it. */
  localEnded(why: Cause): void {
    this.end(undefined, undefined, why);
  }

  /**
   * RFC 2866 Start of a tunnelled call, with the tunnel it went into (RFC 2867 attributes), then the
   * Interim-Updates, as on the LNS: RADIUS Acct-Interim-Interval over the node's `interimMs`.
   */
  private startAccounting(
    user: string,
    outcome: Extract<OpenSessionOutcome, { ok: true }>,
    group: TunnelGroup,
  ): void {
    const lac = this.#lac;
    const { aaa, clock } = lac.deps;
    const settings = lac.accounting;
    if (!aaa || settings.enabled === false) return;
    const destination = outcome.path.destination ?? "";
    const chosen = group.tunnels.find((t) => peerKey(t.peer) === destination);
    const base: AccountingRecord = {
      status: "start",
      sessionId: `${outcome.tunnelId.toString(16).padStart(4, "0")}${outcome.sessionId.toString(16).padStart(4, "0")}-lac`,
      user,
      nasPort: outcome.sessionId,
      tunnel: {
        tag: 0,
        type: TUNNEL_TYPE_L2TP,
        mediumType: TUNNEL_MEDIUM_IPV4,
        clientEndpoint: outcome.local.address,
        serverEndpoint: chosen?.peer.address ?? destination,
        ...(chosen?.assignmentId !== undefined ? { assignmentId: chosen.assignmentId } : {}),
      },
      // Both ends' tunnel and session ids (RFC 2661 §3.1), 4 hex digits each: ours, then the LNS's.
      tunnelConnection: [outcome.tunnelId, outcome.sessionId, outcome.peerTunnelId, outcome.peerSessionId]
        .map((id) => id.toString(16).padStart(4, "0"))
        .join(""),
      ...(this.#line.callingNumber !== undefined ? { callingNumber: this.#line.callingNumber } : {}),
    };
    const run = new SessionAccounting({
      aaa,
      clock,
      record: (status) => ({ ...base, status }),
      counters: () => ({ ...this.#counters }),
      unanswered: () => lac.stats.accountingUnanswered++,
    });
    this.#accounting = run;
    run.start().then((answered) => {
      // An unanswered Start ends the subscriber only when accounting is required (as on the LNS).
      if (!answered && settings.required) this.accountingRequired();
    });
    run.interim(interimPeriodMs(this.#authorization, settings));
  }

  /** Accounting is required and its Start went unanswered: the call and the subscriber end. */
  private accountingRequired(): void {
    const session = this.#session;
    if (this.#done || !session) return;
    const ppp = pppCause(
      PppDisconnectCode.noInformation,
      0,
      PppDirection.local,
      "accounting required and not answered",
    );
    const why = { ...cause("ppp", ppp.message), ppp };
    this.#lac.deps.node.closeSession(session.tunnelId, session.sessionId, why);
    this.end(terminateRequest(ppp.message), AcctTerminateCause.nasError, why);
  }

  /**
   * The subscriber is done with: `last` (a Terminate-Request or -Ack) goes out, then the line closes;
   * its actor ends with `why` (its PPP link first, if it still runs).
   */
  private end(
    last: Uint8Array | undefined,
    terminateCause: number = AcctTerminateCause.nasRequest,
    why: Cause = cause("ppp", "the subscriber's link ended"),
  ): void {
    if (this.#done) return;
    this.#done = true;
    if (last && this.#session) {
      // The link's last frame is the service's too: the Stop counts it.
      this.#counters.packetsOut++;
      this.#counters.octetsOut += last.length;
    }
    this.#accounting?.stop(terminateCause);
    this.#accounting = undefined;
    // Terminated here: its address back, keepalive off, the accounting Stop (the node's PPP does it).
    this.#local?.lowerEnded(why);
    const s = this.#session;
    if (s) this.#lac.relayed.delete(relayKey(s.tunnelId, s.sessionId));
    const supervisor = this.#lac.deps.node.supervisor;
    if (this.#ppp) supervisor.stop(this.#ppp);
    this.record({ type: "ended", cause: why });
    if (!this.#node.ending) supervisor.stop(this.#node);
    if (last) this.#line.send(last);
    this.#line.close();
  }
}

/**
 * The PPP link of a subscriber terminated on this LAC: the node's PPP (`PppService`) serves it as an
 * LNS serves a call's link, carried on the subscriber's Access line instead of an L2TP session.
 */
class SubscriberLink extends PppLinkCore {
  readonly #subscriber: Subscriber;
  readonly #clock: Clock;
  readonly #aaa: Aaa | undefined;
  readonly #nasPort: number;
  readonly #counters: SessionCounters = { octetsIn: 0, octetsOut: 0, packetsIn: 0, packetsOut: 0 };

  constructor(service: PppService, subscriber: Subscriber, lac: LacAccess) {
    super(service);
    this.#subscriber = subscriber;
    this.#clock = lac.deps.clock;
    this.#aaa = lac.deps.aaa;
    this.#nasPort = lac.stats.lines;
  }

  protected sendFrame(protocol: number, payload: Uint8Array): boolean {
    if (this.#subscriber.done) return false;
    const frame = pppFrame(protocol, payload);
    // Counted before it goes: the line may end the subscriber within the send (its Terminate-Ack answered
    // at once, the line dropped), and the Stop made then must include the frame that ended it.
    this.#counters.packetsOut++;
    this.#counters.octetsOut += frame.length;
    return this.#subscriber.sendOnLine(frame);
  }

  override receiveFrame(frame: Uint8Array): void {
    this.#counters.packetsIn++;
    this.#counters.octetsIn += frame.length;
    super.receiveFrame(frame);
  }

  override pppEffect(effect: PppEffect): void {
    super.pppEffect(effect);
    if (effect.type === "up") this.#subscriber.localUp(effect.address);
  }

  protected get carrierEnding(): boolean {
    return this.#subscriber.done;
  }

  protected linkFinished(ppp: PppCause): void {
    this.#subscriber.localEnded({ ...cause("ppp", ppp.message), ppp });
  }

  protected linkFailed(): void {
    this.#subscriber.localEnded(cause("internal", "the PPP of a subscriber terminated here failed"));
  }

  protected get clock(): Clock {
    return this.#clock;
  }

  protected place(): PppLinkPlace {
    const callingNumber = this.#subscriber.callingNumber;
    return { nasPort: this.#nasPort, ...(callingNumber !== undefined ? { callingNumber } : {}) };
  }

  protected accountingSessionId(magic: string): string {
    return `${this.#nasPort.toString(16).padStart(8, "0")}-${magic}-local`;
  }

  protected counters(): SessionCounters {
    return { ...this.#counters };
  }

  protected get accounts(): boolean {
    return true;
  }

  /** The AAA that authenticated it (the LAC's) gets its accounting. */
  protected override get aaa(): Aaa | undefined {
    return this.#aaa;
  }
}

/** Our tunnel id and session id (16 bits each, RFC 2661 §3.1) as one number. */
function relayKey(tunnelId: number, sessionId: number): number {
  return tunnelId * 0x10000 + sessionId;
}

function wirePpp(actor: Actor<PppLogic>, self: Supervised<PppLogic>): void {
  sinkPppEffects(actor, self.owner as Subscriber);
}

function subscriberEnded(self: Supervised, ending: Ending): void {
  (self.owner as Subscriber).stopped(ending);
}

/**
 * Whether a relayed frame is an LCP Terminate-Request, read in place (every relayed frame is asked: no
 * decode, no allocation). RFC 1662 §3.1: Address and Control (FF 03) may be left out; LCP's Protocol
 * (0xC021) is never compressed (RFC 1661 §6.5: only values below 0x100).
 */
function isLcpTerminateRequest(frame: Uint8Array): boolean {
  const at = frame[0] === 0xff && frame[1] === 0x03 ? 2 : 0;
  return frame[at] === 0xc0 && frame[at + 1] === 0x21 && frame[at + 2] === 5;
}

/** The LAC's LCP Terminate-Request to the subscriber (RFC 1661 §5.5), its data saying why. */
function terminateRequest(message: string): Uint8Array {
  const data = new TextEncoder().encode(message.slice(0, 200));
  return pppFrame(PppProtocol.LCP, encodeLcp({ code: "Terminate-Request", id: 1, data }));
}

/** RFC 1661 §5.5: the Terminate-Ack to a Terminate-Request, same Identifier. */
function terminateAck(frame: Uint8Array): Uint8Array | undefined {
  const decoded = decodeFrame(frame);
  if (!decoded.ok) return undefined;
  const id = decoded.value.payload[1] ?? 0;
  return pppFrame(PppProtocol.LCP, encodeLcp({ code: "Terminate-Ack", id, data: new Uint8Array(0) }));
}

/**
 * The module's own hot code, which adapters/jit keeps out of JSC's top tier with what it exports (it
 * reaches nothing else: these are not exported to be used): functions, and classes with their methods.
 */
export const hotInternals: readonly unknown[] = [
  Subscriber,
  SubscriberLink,
  relayKey,
  wirePpp,
  subscriberEnded,
];
