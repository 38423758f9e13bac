/**
 * PPP over the node's sessions: a `PppService` per node (settings, AAA, address pools, data plane,
 * keepalive, counters) and a `PppLink` per established session, the wiring of one PPP actor
 * (machines/ppp/) under its session in the supervisor.
 *
 * On an LNS, every incoming call gets a server link (the E-series "dynamic PPP interface"): proxy LCP
 * taken over when acceptable, authentication through AAA, an address from RADIUS or a pool, IPCP, IP to
 * the data plane. On a LAC, a configured `subscriber` puts a simulated subscriber (a client link) on
 * each of its calls: the lab's and the benchmarks' stand-in for a real PPP client.
 *
 * The data path never enters XState for IP: the router hands a session's datagram to `receive`, which
 * peels the L2TP and PPP headers and gives IP to the data plane; only control protocols (LCP, PAP, CHAP,
 * IPCP, unknown ones to reject) become events of the PPP actor. Keepalive (RFC 1661 §5.8 Echo) runs in a
 * node-wide sweep, not a timer per link: a link heard from since the last sweep is left alone.
 */
import type { Actor } from "xstate";
import { type Cause, cause } from "../machines/common.ts";
import {
  acctTerminateCause,
  type PppCause,
  PppDirection,
  PppDisconnectCode,
  pppCause,
} from "../machines/ppp/disconnect.ts";
import {
  PPP_DEFAULTS,
  type PppEffect,
  type PppInput,
  type PppSettings,
  PROXY_AVPS,
  type ProxyInfo,
  settingsOf,
} from "../machines/ppp/endpoint.ts";
import { type PppLogic, pppLogic, sinkPppEffects } from "../machines/ppp/ppp-logic.ts";
import { copyBytes } from "../protocol/bytes.ts";
import type { Avps } from "../protocol/l2tp/avps.ts";
import { dataPayloadOffset } from "../protocol/l2tp/header.ts";
import { CdnResult } from "../protocol/l2tp/result-codes.ts";
import { frameHeader, frameProtocol, payloadAt } from "../protocol/ppp/frame.ts";
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
import { AddressPool, type AddressPoolConfig } from "./address-pool.ts";
import type { DataPlane, PppLinkPort } from "./data-plane.ts";
import type { Clock } from "./ports.ts";
import { pppSnapshot, type RestoredSession } from "./restore.ts";
import type { NodeRuntime } from "./runtime.ts";
import type { Ending, Supervised, Supervisor } from "./supervisor.ts";
import type { SessionHandle } from "./tunnel-actor.ts";

/** PPP settings of a node (NodeConfig.ppp). */
export interface PppNodeConfig {
  /** The LNS's PPP on every incoming call; absent: the LNS carries calls without terminating PPP. */
  lns?: Partial<Omit<PppSettings, "role">>;
  /** A simulated subscriber on every LAC incoming call (lab, benchmarks); needs `user`. */
  subscriber?: Partial<Omit<PppSettings, "role">>;
  /** LCP Echo keepalive (RFC 1661 §5.8): after this much silence an Echo-Request; 0 turns it off. */
  keepaliveMs?: number;
  /** Unanswered Echo-Requests before the link is declared dead (RFC 3145 code 8). */
  keepaliveMisses?: number;
  /** Address pools for IPCP. */
  pools?: readonly AddressPoolConfig[];
  /** The pool used when AAA names none (default: the first). */
  defaultPool?: string;
  /** RADIUS accounting (RFC 2866) of PPP links, and of a LAC's tunnelled subscribers. */
  accounting?: AccountingSettings;
}

/** Counters of a node's PPP, for `show`, metrics and tests. */
export interface PppStats {
  /** PPP links created. */
  links: number;
  /** Links whose IPCP came up (a subscriber set up). */
  up: number;
  /** Links whose IPV6CP came up (dual stack). */
  ipv6Up: number;
  /** Links that took over the LAC's proxy LCP. */
  proxyLcp: number;
  /** Links that renegotiated LCP although a proxy LCP was present. */
  lcpRenegotiated: number;
  authAccepted: number;
  authRejected: number;
  /** No address could be assigned (a pool exhausted, a Framed-IP-Address taken). */
  noAddress: number;
  keepaliveFailures: number;
  echoRequestsSent: number;
  /** Data messages that were not a PPP frame. */
  malformedFrames: number;
  /** IP packets that came before IPCP (IPv6: IPV6CP) was up. */
  ipBeforeUp: number;
  /** Accounting requests that got no answer after every retry. */
  accountingUnanswered: number;
  /** Frames that came before their session's PPP link (data overtaking the ICCN), kept for it. */
  earlyFrames: number;
  /** Early frames dropped: more than EARLY_FRAMES_KEPT before the link. */
  earlyFramesDropped: number;
}

function zeroStats(): PppStats {
  return {
    links: 0,
    up: 0,
    ipv6Up: 0,
    proxyLcp: 0,
    lcpRenegotiated: 0,
    authAccepted: 0,
    authRejected: 0,
    noAddress: 0,
    keepaliveFailures: 0,
    echoRequestsSent: 0,
    malformedFrames: 0,
    ipBeforeUp: 0,
    accountingUnanswered: 0,
    earlyFrames: 0,
    earlyFramesDropped: 0,
  };
}

/** A node's PPP as `snapshot` shows it: the counters, the links up, and each pool's use. */
export type PppSnapshot = PppStats & {
  linksUp: number;
  pools: { name: string; size: number; inUse: number; exhausted: number }[];
};

/**
 * Frames kept per session that arrive before its PPP link exists. A LAC starts forwarding the
 * subscriber's PPP once it has sent its ICCN (RFC 2661 §7.2), but the ICCN may wait in the control
 * channel's window (slow start, §5.8) while data messages go out at once: the subscriber's first LCP
 * Configure-Request then reaches the LNS before the call is connected. Dropped, it costs the restart
 * period (3 s, RFC 1661 §4.6) before the subscriber sends it again; measured in bench/ppp, 1,000 calls
 * over 10 tunnels set up at 188/s with the drops. A handful is enough: the subscriber sends one
 * Configure-Request per restart period.
 */
export const EARLY_FRAMES_KEPT = 4;

/** RFC 1661 §5.8 keepalive defaults: an Echo-Request after 30 s of silence, 3 unanswered end the link. */
export const KEEPALIVE_DEFAULTS = { intervalMs: 30_000, misses: 3 } as const;

/** The CDN result for a PPP cause (RFC 2661 §4.4.2). */
function cdnResultFor(ppp: PppCause): { result: number; error?: number; message: string } {
  const message = ppp.message.slice(0, 200);
  if (ppp.code === PppDisconnectCode.adminDisconnect) return { result: CdnResult.administrative, message };
  // No address: a temporary lack of facilities.
  if (ppp.code === PppDisconnectCode.noNcps) return { result: 4, message };
  return { result: CdnResult.generalError, error: 0, message };
}

/** The PPP of one node: settings, AAA, pools, data plane, keepalive and counters. */
export class PppService {
  readonly stats: PppStats = zeroStats();
  readonly pools = new Map<string, AddressPool>();
  readonly #rt: NodeRuntime;
  readonly #config: PppNodeConfig;
  readonly #server: PppSettings | undefined;
  readonly #client: PppSettings | undefined;
  readonly aaa: Aaa | undefined;
  readonly dataPlane: DataPlane | undefined;
  readonly #defaultPool: AddressPool | undefined;
  /** Links whose IPCP is up (the keepalive sweep's list): sessions' links and a LAC's local subscribers'. */
  readonly #upLinks = new Set<PppLinkCore>();
  readonly #keepaliveMs: number;
  readonly #keepaliveMisses: number;
  #sweep: unknown;
  readonly #sweepNow = () => this.keepaliveSweep();

  constructor(
    rt: NodeRuntime,
    config: PppNodeConfig,
    aaa: Aaa | undefined,
    dataPlane: DataPlane | undefined,
  ) {
    this.#rt = rt;
    this.#config = config;
    this.aaa = aaa;
    this.dataPlane = dataPlane;
    const hostName = rt.config.hostName;
    if (config.lns) this.#server = { ...PPP_DEFAULTS, hostName, ...config.lns, role: "server" };
    if (config.subscriber) {
      this.#client = {
        ...PPP_DEFAULTS,
        hostName,
        authProtocols: ["chap", "pap"],
        ...config.subscriber,
        role: "client",
      };
    }
    for (const pool of config.pools ?? []) this.pools.set(pool.name, new AddressPool(pool));
    this.#defaultPool =
      config.defaultPool !== undefined
        ? this.pools.get(config.defaultPool)
        : this.pools.values().next().value;
    this.#keepaliveMs = config.keepaliveMs ?? KEEPALIVE_DEFAULTS.intervalMs;
    this.#keepaliveMisses = config.keepaliveMisses ?? KEEPALIVE_DEFAULTS.misses;
  }

  /** The node's supervisor (a link whose wiring throws is stopped through it). */
  get supervisor(): Supervisor {
    return this.#rt.supervisor;
  }

  /** Links whose IPCP is up now. */
  get linksUp(): number {
    return this.#upLinks.size;
  }

  /** The counters, links up and pools, for `snapshot`. */
  snapshot(): PppSnapshot {
    const pools = [...this.pools.values()].map((p) => ({
      name: p.name,
      size: p.size,
      inUse: p.inUse,
      exhausted: p.exhausted,
    }));
    return { ...this.stats, linksUp: this.#upLinks.size, pools };
  }

  get accounting(): PppNodeConfig["accounting"] {
    return this.#config.accounting;
  }

  /** The settings of the links of a session of this kind; undefined: this node runs no PPP on it. */
  private settingsFor(session: SessionHandle): PppSettings | undefined {
    return session.kind === "lns-incoming"
      ? this.#server
      : session.kind === "lac-incoming"
        ? this.#client
        : undefined;
  }

  /**
   * A data message for a session that has no PPP link yet: kept (copied: the datagram's buffer is the
   * socket's) until the link is attached, when this node runs PPP on the session. False: not ours.
   */
  keepEarly(session: SessionHandle, packet: Uint8Array): boolean {
    if (!this.settingsFor(session)) return false;
    session.earlyFrames ??= [];
    if (session.earlyFrames.length >= EARLY_FRAMES_KEPT) this.stats.earlyFramesDropped++;
    else {
      session.earlyFrames.push(copyBytes(packet));
      this.stats.earlyFrames++;
    }
    return true;
  }

  /** Puts a PPP link on a session that just became established, when this node runs PPP for its kind. */
  attach(session: SessionHandle): void {
    const settings = this.settingsFor(session);
    if (!settings) return;
    const rt = this.#rt;
    const proxy = settings.role === "server" ? proxyOf(session.connectAvps) : undefined;
    session.connectAvps = undefined;
    const path = { ...session.node.path, ppp: true as const };
    const input: PppInput = { path, settings, magic: rt.random.uint32() || 1 };
    if (settings.ipv6) input.interfaceId = randomInterfaceId(rt.random.uint32(), rt.random.uint32());
    if (settings.role === "server" && settings.authProtocols.includes("chap"))
      input.challenge = rt.random.bytes(16);
    if (proxy) input.proxy = proxy;
    const link = new PppLink(this, session);
    session.ppp = link;
    this.stats.links++;
    rt.supervisor.spawn({
      level: "ppp",
      key: "ppp",
      path,
      machine: pppLogic,
      input,
      parent: session.node,
      owner: link,
      wire: wireLink,
      onEnd: endLink,
    });
    const snapshot = link.node.actor.getSnapshot();
    if (proxy?.lastSentLcpConfReq !== undefined) {
      if (snapshot.context.proxied) this.stats.proxyLcp++;
      else this.stats.lcpRenegotiated++;
    }
    // XState keeps the input as long as the actor (its options); the started link has what it needs of
    // the challenge and the proxy AVPs in its context, so the input lets go of them.
    delete input.challenge;
    delete input.proxy;
    const early = session.earlyFrames;
    if (early) {
      session.earlyFrames = undefined;
      for (const packet of early) link.receive(packet);
    }
  }

  /**
   * Resumes a recorded opened link on a restored session (a standby taking over): the same magic
   * numbers, user and address (taken from its pool again), IPCP up, keepalive on. Accounting goes on
   * from the takeover (the primary's Start stands; this node sends the Stop).
   */
  restore(session: SessionHandle, recorded: RestoredSession): void {
    const settings = this.settingsFor(session);
    if (!settings) return;
    const path = { ...session.node.path, ppp: true as const };
    const input: PppInput = { path, settings, magic: 1 };
    const link = new PppLink(this, session);
    session.ppp = link;
    this.stats.links++;
    this.#rt.supervisor.spawn({
      level: "ppp",
      key: "ppp",
      path,
      machine: pppLogic,
      input,
      snapshot: pppSnapshot(recorded, input),
      parent: session.node,
      owner: link,
      wire: wireLink,
      onEnd: endLink,
    });
    const c = link.node.actor.getSnapshot().context;
    link.user = c.user;
    if (c.address !== undefined) {
      link.address = c.address;
      for (const pool of this.pools.values()) {
        if (pool.contains(c.address)) {
          if (pool.reserve(c.address)) link.adoptPool(pool);
          break;
        }
      }
    }
    link.up = true;
    this.linkUp(link);
    link.resumeAccounting();
  }

  /** The address for a link: RADIUS Framed-IP-Address, else its Framed-Pool, else the default pool. */
  assignAddress(authorization: Authorization | undefined): {
    address?: string;
    pool?: AddressPool;
    failure?: string;
  } {
    const framed = authorization?.framedIpAddress;
    if (framed !== undefined) {
      for (const pool of this.pools.values()) {
        if (!pool.contains(framed)) continue;
        if (!pool.reserve(framed)) {
          this.stats.noAddress++;
          return { failure: `Framed-IP-Address ${framed} is in use` };
        }
        return { address: framed, pool };
      }
      return { address: framed };
    }
    const named = authorization?.framedPool;
    const pool = named !== undefined ? this.pools.get(named) : this.#defaultPool;
    if (!pool) {
      this.stats.noAddress++;
      return { failure: named !== undefined ? `no pool named ${named}` : "no address pool configured" };
    }
    const address = pool.allocate();
    if (address === undefined) {
      this.stats.noAddress++;
      return { failure: `pool ${pool.name} is exhausted` };
    }
    return { address, pool };
  }

  linkUp(link: PppLinkCore): void {
    this.stats.up++;
    if (this.#keepaliveMs <= 0) return;
    this.#upLinks.add(link);
    if (this.#sweep === undefined) this.#sweep = this.#rt.clock.setTimeout(this.#sweepNow, this.#keepaliveMs);
  }

  linkDown(link: PppLinkCore): void {
    this.#upLinks.delete(link);
  }

  /** RFC 1661 §5.8: an Echo-Request to each link silent for a whole period; too many unanswered end it. */
  private keepaliveSweep(): void {
    this.#sweep = undefined;
    for (const link of this.#upLinks) {
      if (link.heard) {
        link.heard = false;
        continue;
      }
      if (link.echoMisses >= this.#keepaliveMisses) {
        this.stats.keepaliveFailures++;
        this.#upLinks.delete(link);
        link.keepaliveFailed();
      } else if (link.sendEcho()) {
        this.stats.echoRequestsSent++;
      }
    }
    if (this.#upLinks.size > 0) this.#sweep = this.#rt.clock.setTimeout(this.#sweepNow, this.#keepaliveMs);
  }

  /** Stops the sweep (the node is closing). */
  close(): void {
    if (this.#sweep !== undefined) this.#rt.clock.clearTimeout(this.#sweep);
    this.#sweep = undefined;
  }
}

/** An Interface-Identifier from two random words: never all zeros, the Universal/Local bit clear (RFC 4291). */
function randomInterfaceId(high: number, low: number): string {
  const h = (high & 0xfdffffff) >>> 0;
  const l = h === 0 && low === 0 ? 1 : low >>> 0;
  return h.toString(16).padStart(8, "0") + l.toString(16).padStart(8, "0");
}

/** The proxy AVPs of an ICCN (RFC 2661 §4.4.5), or undefined when it has none. */
function proxyOf(avps: Avps | undefined): ProxyInfo | undefined {
  if (!avps) return undefined;
  if (avps.lastSentLcpConfReq === undefined && avps.proxyAuthenType === undefined) return undefined;
  const proxy: Record<string, unknown> = {};
  for (const key of PROXY_AVPS) if (avps[key] !== undefined) proxy[key] = avps[key];
  return proxy as ProxyInfo;
}

/** What a PPP link's RADIUS requests say of where it is (RFC 2865 NAS-Port, RFC 2868, Calling-Station-Id). */
export interface PppLinkPlace {
  nasPort: number;
  tunnelClientEndpoint?: string;
  callingNumber?: string;
}

/**
 * One PPP link terminated on this node, whatever carries its frames: its actor's wiring, AAA, address,
 * RADIUS Session-Timeout and Idle-Timeout, accounting and keepalive state. `PppLink` carries it in an
 * L2TP session (an LNS); a LAC's subscriber terminated here carries it on its Access line
 * (actors/lac-access.ts). The carrier says how frames go out, where the link is, and what its end does.
 */
export abstract class PppLinkCore implements PppLinkPort {
  readonly service: PppService;
  node!: Supervised<PppLogic>;
  /** Heard from since the last keepalive sweep. */
  heard = true;
  echoMisses = 0;
  #echoId = 0;
  up = false;
  user: string | undefined;
  address: string | undefined;
  /** The link's IPV6CP came up once (counted once, renegotiations aside). */
  #ipv6Counted = false;
  #pool: AddressPool | undefined;
  #authorization: Authorization | undefined;
  /** Accounting runs for this link (a Start went out, or the primary's did): a Stop is due at the end. */
  #accounting: SessionAccounting | undefined;
  #released = false;
  /** RADIUS Session-Timeout and Idle-Timeout timers (RFC 2865 §5.27, §5.28). */
  #sessionTimer: unknown;
  #idleTimer: unknown;
  /** IP went either way since the last idle check. */
  #ipSeen = false;
  /** The Acct-Terminate-Cause when this link ended it for a reason of its own (a timeout). */
  #terminateCause: number | undefined;

  constructor(service: PppService) {
    this.service = service;
  }

  /**
   * Sends a PPP packet of `protocol` as one frame (Address and Control kept, RFC 1662 §3.1); false when
   * the carrier cannot now. The carrier frames it as it writes it (an L2TP data message is written once,
   * PPP header and all).
   */
  protected abstract sendFrame(protocol: number, payload: Uint8Array): boolean;
  /** Whether the carrier is ending (the link's actor is told nothing more then). */
  protected abstract get carrierEnding(): boolean;
  /** The link finished (its PPP ended, `ppp` says why): the carrier goes too. */
  protected abstract linkFinished(ppp: PppCause): void;
  /** The link's actor failed or was stopped without finishing: the carrier goes with an internal cause. */
  protected abstract linkFailed(): void;
  /** The clock of the link's timers. */
  protected abstract get clock(): Clock;
  /** Where the link is, for its RADIUS requests. */
  protected abstract place(): PppLinkPlace;
  /** Acct-Session-Id: unique per link (`magic` is our LCP magic number, hex). */
  protected abstract accountingSessionId(magic: string): string;
  /** Its octets and packets each way (from the subscriber's point of view). */
  protected abstract counters(): SessionCounters;
  /** Whether this link sends accounting (when the service has AAA and accounting on). */
  protected abstract get accounts(): boolean;
  /** Whether this node is the client of the link (a simulated subscriber: its address is the peer's gift). */
  protected get clientSide(): boolean {
    return false;
  }
  /** The AAA its accounting goes to (the service's). */
  protected get aaa(): Aaa | undefined {
    return this.service.aaa;
  }

  /** The pool the link's address was taken from (a restored link reserves it again). */
  adoptPool(pool: AddressPool): void {
    this.#pool = pool;
  }

  /** A restored link: accounting goes on from now (the primary sent the Start; this node sends the Stop). */
  resumeAccounting(): void {
    this.#accounting = this.newAccounting();
  }

  /** The link's accounting when it has any (AAA, accounting on, a link that accounts), not started yet. */
  private newAccounting(): SessionAccounting | undefined {
    const aaa = this.aaa;
    if (!aaa || !this.service.accounting?.enabled || !this.accounts) return undefined;
    const stats = this.service.stats;
    return new SessionAccounting({
      aaa,
      clock: this.clock,
      record: (status) => this.record(status),
      counters: () => this.counters(),
      unanswered: () => stats.accountingUnanswered++,
    });
  }

  get localAddress(): string {
    return settingsOf(this.node.actor.getSnapshot().context).localAddress;
  }

  /** A PPP frame from the peer (from `start` in `bytes`): PPP control to the actor, IP to the data plane. */
  receiveFrame(bytes: Uint8Array, start = 0): void {
    this.heard = true;
    this.echoMisses = 0;
    // The header read in place, the payload copied (frame.ts says why): no decoded frame made per frame.
    const header = frameHeader(bytes, start);
    if (header < 0) {
      this.service.stats.malformedFrames++;
      return;
    }
    const protocol = frameProtocol(header);
    const payload = bytes.slice(payloadAt(start, header));
    if (protocol === PppProtocol.IPv4) {
      if (this.up) {
        this.#ipSeen = true;
        this.service.dataPlane?.receive(this, payload);
      } else this.service.stats.ipBeforeUp++;
      return;
    }
    if (protocol === PppProtocol.IPv6) {
      const c = this.node.actor.getSnapshot().context;
      if (c.ipv6cp === "opened") {
        this.#ipSeen = true;
        this.service.dataPlane?.receiveIpv6(this, payload);
        return;
      }
      // IPv6 while IPV6CP is not up is dropped (RFC 5072 §3); without IPv6 at all the actor rejects the protocol.
      if (settingsOf(c).ipv6) {
        this.service.stats.ipBeforeUp++;
        return;
      }
    }
    if (!this.node.ending) this.node.actor.send({ type: "frame", protocol, payload });
  }

  /** Sends an IPv4 packet to the subscriber (PortLinkPort). */
  sendIp(packet: Uint8Array): boolean {
    if (!this.up) return false;
    this.#ipSeen = true;
    return this.sendFrame(PppProtocol.IPv4, packet);
  }

  /**
   * IPV6CP is Opened, so IPv6 may flow (RFC 5072 §3): read from the automaton, so that it follows a
   * renegotiation or a Terminate of IPV6CP alone, and a link a standby restored.
   */
  get ipv6Up(): boolean {
    return this.node.actor.getSnapshot().context.ipv6cp === "opened";
  }

  /** Our Interface-Identifier while IPV6CP is up (PppLinkPort: our link-local address is fe80:: + it). */
  get interfaceId(): string | undefined {
    const c = this.node.actor.getSnapshot().context;
    return c.ipv6cp === "opened" ? c.localInterfaceId : undefined;
  }

  /** The subscriber's Interface-Identifier while IPV6CP is up. */
  get peerInterfaceId(): string | undefined {
    const c = this.node.actor.getSnapshot().context;
    return c.ipv6cp === "opened" ? c.peerInterfaceId : undefined;
  }

  /** Sends an IPv6 packet to the subscriber (PortLinkPort). */
  sendIpv6(packet: Uint8Array): boolean {
    if (!this.ipv6Up) return false;
    this.#ipSeen = true;
    return this.sendFrame(PppProtocol.IPv6, packet);
  }

  /** Sends an LCP Echo-Request (keepalive); false when the link cannot. */
  sendEcho(): boolean {
    if (this.node.ending) return false;
    this.echoMisses++;
    this.#echoId = (this.#echoId + 1) & 0xff;
    const magic = this.node.actor.getSnapshot().context.localMagic;
    const payload = encodeLcp({ code: "Echo-Request", id: this.#echoId, magic, data: new Uint8Array(0) });
    return this.sendFrame(PppProtocol.LCP, payload);
  }

  keepaliveFailed(): void {
    if (!this.node.ending) this.node.actor.send({ type: "keepaliveFailed", misses: this.echoMisses });
  }

  /**
   * The server's LCP Terminate-Request (RFC 1661 §3.7; the packet, without the PPP header) when its link
   * is open, else undefined.
   */
  terminateRequest(): Uint8Array | undefined {
    if (this.node.ending) return undefined;
    const c = this.node.actor.getSnapshot().context;
    if (c.role !== "server" || c.lcp !== "opened" || c.cause) return undefined;
    return encodeLcp({
      code: "Terminate-Request",
      id: (c.lcpNcp.id + 1) & 0xff,
      data: new Uint8Array(0),
    });
  }

  /** What carries the link ended: the link goes down with it, sending nothing. */
  lowerEnded(why: Cause): void {
    if (!this.node.ending) {
      const admin = why.reason === "admin" || why.reason === "parent";
      const code = admin ? PppDisconnectCode.adminDisconnect : PppDisconnectCode.noInformation;
      this.node.actor.send({
        type: "lowerDown",
        cause: pppCause(
          code,
          0,
          admin ? PppDirection.local : PppDirection.global,
          `the session ended: ${why.message}`,
        ),
      });
    }
    this.release(why);
  }

  /** The link's PPP actor was wired to it (a session's spawn, or a subscriber taken over to be terminated here). */
  attachActor(actor: Actor<PppLogic>, self: Supervised<PppLogic>): void {
    this.node = self;
    sinkPppEffects(actor, this);
  }

  /**
   * Authenticated already (a LAC asked its AAA before deciding to terminate here): the link takes the
   * authorization (address, timeouts, Class) and tells its actor yes.
   */
  acceptAuthenticated(user: string, authorization: Authorization): void {
    this.user = user;
    this.#authorization = authorization;
    this.service.stats.authAccepted++;
    this.node.actor.send({ type: "authenticated", ok: true, message: authorization.replyMessage ?? "" });
  }

  /** What the PPP actor asks (PppEffectSink); a failure here stops only this link's carrier. */
  pppEffect(effect: PppEffect): void {
    try {
      this.effect(effect);
    } catch (error) {
      this.service.supervisor.fail(this.node, error);
    }
  }

  private effect(effect: PppEffect): void {
    switch (effect.type) {
      case "send":
        this.sendFrame(effect.protocol, effect.payload);
        return;
      case "authenticate":
        this.authenticate(effect.credentials);
        return;
      case "needAddress": {
        const { address, pool, failure } = this.service.assignAddress(this.#authorization);
        this.address = address;
        this.#pool = pool;
        this.node.actor.send(
          address !== undefined
            ? { type: "address", address }
            : { type: "address", failure: failure ?? "no address" },
        );
        return;
      }
      case "up":
        // IPCP opened again (the peer renegotiated, RFC 1661 §3.6): the subscriber was set up already,
        // so nothing is counted, started or accounted twice.
        if (this.up) {
          if (this.clientSide) this.address = effect.address;
          return;
        }
        this.up = true;
        this.user = effect.user;
        if (this.clientSide) this.address = effect.address;
        this.service.linkUp(this);
        this.startTimeouts();
        this.startAccounting();
        return;
      case "ipv6Up":
        if (!this.#ipv6Counted) this.service.stats.ipv6Up++;
        this.#ipv6Counted = true;
        return;
      case "finished":
        if (!this.carrierEnding) this.linkFinished(effect.cause);
        return;
      default:
        return;
    }
  }

  private authenticate(credentials: Credentials): void {
    const service = this.service;
    const aaa = service.aaa;
    if (!aaa) {
      service.stats.authRejected++;
      this.node.actor.send({ type: "authenticated", ok: false, message: "no AAA configured" });
      return;
    }
    this.user = credentials.user;
    const request = { credentials, ...this.place() };
    aaa.authenticate(request).then(
      (result) => {
        if (this.node.ending) return;
        if (result.ok) {
          service.stats.authAccepted++;
          this.#authorization = result.authorization;
          this.node.actor.send({
            type: "authenticated",
            ok: true,
            message: result.authorization.replyMessage ?? "",
          });
        } else {
          service.stats.authRejected++;
          this.node.actor.send({
            type: "authenticated",
            ok: false,
            message: result.replyMessage ?? result.message,
          });
        }
      },
      (error: unknown) => {
        if (!this.node.ending)
          this.node.actor.send({ type: "authenticated", ok: false, message: String(error) });
      },
    );
  }

  /** RFC 2865 §5.27 Session-Timeout and §5.28 Idle-Timeout from AAA: the link ends (code 3, local). */
  private startTimeouts(): void {
    const authorization = this.#authorization;
    if (!authorization) return;
    const clock = this.clock;
    const end = (acct: number, message: string): void => {
      if (this.node.ending || this.#released) return;
      this.#terminateCause = acct;
      this.node.actor.send({
        type: "close",
        cause: pppCause(PppDisconnectCode.normal, PppProtocol.LCP, PppDirection.local, message),
      });
    };
    const session = authorization.sessionTimeout ?? 0;
    if (session > 0) {
      this.#sessionTimer = clock.setTimeout(
        () => end(AcctTerminateCause.sessionTimeout, `Session-Timeout of ${session} s`),
        session * 1000,
      );
    }
    const idle = authorization.idleTimeout ?? 0;
    if (idle > 0) {
      const check = (): void => {
        if (!this.#ipSeen) {
          end(AcctTerminateCause.idleTimeout, `no IP for the Idle-Timeout of ${idle} s`);
          return;
        }
        this.#ipSeen = false;
        this.#idleTimer = clock.setTimeout(check, idle * 1000);
      };
      this.#ipSeen = false;
      this.#idleTimer = clock.setTimeout(check, idle * 1000);
    }
  }

  private record(status: AccountingRecord["status"]): AccountingRecord {
    const magic = this.node.actor.getSnapshot().context.localMagic.toString(16).padStart(8, "0");
    const record: AccountingRecord = {
      status,
      sessionId: this.accountingSessionId(magic),
      user: this.user ?? "",
      ...this.place(),
    };
    if (this.address !== undefined) record.framedIpAddress = this.address;
    const klass = this.#authorization?.class;
    if (klass) record.class = klass;
    return record;
  }

  private startAccounting(): void {
    const run = this.#released ? undefined : this.newAccounting();
    if (!run) return;
    const accounting = this.service.accounting;
    this.#accounting = run;
    run.start().then((answered) => {
      // An unanswered Start ends the session only when accounting is required.
      if (!answered && accounting?.required && !this.node.ending) {
        this.node.actor.send({
          type: "close",
          cause: pppCause(
            PppDisconnectCode.noInformation,
            0,
            PppDirection.local,
            "accounting required and not answered",
          ),
        });
      }
    });
    run.interim(interimPeriodMs(this.#authorization, accounting));
  }

  /** Once, when the link or its session ends: the address back to its pool, keepalive off, accounting Stop. */
  private release(why: Cause | undefined): void {
    if (this.#released) return;
    this.#released = true;
    this.service.linkDown(this);
    if (this.#pool && this.address !== undefined) this.#pool.release(this.address);
    this.#pool = undefined;
    const clock = this.clock;
    for (const timer of [this.#sessionTimer, this.#idleTimer]) {
      if (timer !== undefined) clock.clearTimeout(timer);
    }
    const run = this.#accounting;
    if (run) {
      const ppp = this.node?.actor.getSnapshot().context.cause;
      run.stop(
        this.#terminateCause ??
          (ppp && ppp.code !== PppDisconnectCode.noInformation
            ? acctTerminateCause(ppp)
            : why?.reason === "admin" || why?.reason === "parent"
              ? AcctTerminateCause.adminReset
              : AcctTerminateCause.lostCarrier),
      );
    }
  }

  /** The PPP actor ended (its link finished, or it was stopped). */
  ended(ending: Ending): void {
    if (ending.kind !== "done" && !this.carrierEnding) this.linkFailed();
    this.release(undefined);
  }
}

/** The PPP link of one session (an LNS's server link, or a simulated subscriber on a LAC call). */
export class PppLink extends PppLinkCore {
  readonly session: SessionHandle;

  constructor(service: PppService, session: SessionHandle) {
    super(service);
    this.session = session;
  }

  protected sendFrame(protocol: number, payload: Uint8Array): boolean {
    return this.session.tunnel.sendPpp(this.session, protocol, payload);
  }

  protected get carrierEnding(): boolean {
    return this.session.node.ending !== undefined;
  }

  protected linkFinished(ppp: PppCause): void {
    this.session.send({ type: "close", cause: { ...cause("ppp", ppp.message, cdnResultFor(ppp)), ppp } });
  }

  protected linkFailed(): void {
    this.session.send({
      type: "close",
      cause: cause("internal", `PPP of session ${this.session.id} failed`),
    });
  }

  protected get clock(): Clock {
    return this.session.tunnel.runtime.clock;
  }

  protected place(): PppLinkPlace {
    const s = this.session;
    const place: PppLinkPlace = { nasPort: s.id, tunnelClientEndpoint: s.tunnel.peer.address };
    if (s.callingNumber !== undefined) place.callingNumber = s.callingNumber;
    return place;
  }

  protected accountingSessionId(magic: string): string {
    // Unique per link and the same on a standby that takes it over: our ids and our magic number.
    const s = this.session;
    return `${s.tunnel.id.toString(16).padStart(4, "0")}${s.id.toString(16).padStart(4, "0")}-${magic}`;
  }

  protected counters(): SessionCounters {
    const s = this.session;
    return { octetsIn: s.bytesIn, octetsOut: s.bytesOut, packetsIn: s.packetsIn, packetsOut: s.packetsOut };
  }

  protected get accounts(): boolean {
    return this.session.kind === "lns-incoming";
  }

  protected override get clientSide(): boolean {
    return this.session.kind === "lac-incoming";
  }

  /** A data message of the session (the whole datagram): its PPP frame to the link. */
  receive(packet: Uint8Array): void {
    const at = dataPayloadOffset(packet);
    if (at < 0) {
      this.heard = true;
      this.service.stats.malformedFrames++;
      return;
    }
    this.receiveFrame(packet, at);
  }

  /**
   * The session is sending its CDN (a local close): tell the subscriber first (RFC 1661 §3.7), best
   * effort. Only the network side says goodbye into the tunnel: a simulated subscriber on a LAC call
   * just loses its line (a LAC's real subscribers are told on their own access side).
   */
  sessionClosing(): void {
    const request = this.terminateRequest();
    if (request) this.sendFrame(PppProtocol.LCP, request);
  }

  /** The session ended: the link goes down with it, sending nothing. */
  sessionEnded(why: Cause): void {
    this.lowerEnded(why);
  }
}

function wireLink(actor: Actor<PppLogic>, self: Supervised<PppLogic>): void {
  (self.owner as PppLink).attachActor(actor, self);
}

function endLink(self: Supervised<PppLogic>, ending: Ending): void {
  (self.owner as PppLink).ended(ending);
}

/**
 * The module's own hot code, which adapters/jit keeps out of JSC's top tier with what it exports (it
 * reaches nothing else: these are not exported to be used).
 */
export const hotInternals: readonly unknown[] = [zeroStats, cdnResultFor, proxyOf, wireLink, endLink];
