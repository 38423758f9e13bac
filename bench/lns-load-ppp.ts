/**
 * bench/lns-load's subscriber side (issue 13.6): after a call's ICCN the generator is the subscriber's
 * PPP, relayed by a LAC that sends no proxy LCP (as xl2tpd does), so the LNS negotiates everything:
 * LCP (RFC 1661), PAP (RFC 1334) or CHAP-MD5 (RFC 1994), then IPCP (RFC 1332) for an address it gives.
 * Frames travel in L2TP data messages (RFC 2661 §3.1: no Length, no sequencing) with the HDLC Address
 * and Control fields (FF 03) in front, as our LAC sends them.
 *
 * A minimal client, correct as far as it goes: it asks MRU and Magic-Number; it Acks what the LNS asks
 * when it can live with it, Naks an authentication protocol other than the one it was told to use and
 * a Magic-Number equal to its own, Rejects what it does not know; it answers Terminate-Request and
 * Echo-Request, and Protocol-Rejects what it does not run. A Configure-Request (or PAP's
 * Authenticate-Request) unanswered for 3 s is sent again (RFC 1661 §4.6's restart timer; Max-Configure
 * 10, then the call fails with "timeout"). A set-up counts when IPCP is Opened both ways.
 *
 * The frames sent on every call (LCP and IPCP Configure-Requests, PAP's request, CHAP's response) are
 * datagrams encoded once with protocol/ppp's codecs and copied per call with the ids, the identifier and
 * the magic number written in: the generator's work per frame stays small, so that its CPU per set-up
 * is a reference beside the LNS's and not what bounds the rate.
 */
import type { PeerAddress } from "../actors/ports.ts";
import { u32, writeU16, writeU32 } from "../protocol/bytes.ts";
import { encodeDataHeader } from "../protocol/l2tp/header.ts";
import {
  ChapAlgorithm,
  chapMd5Response,
  decodeIpcp,
  decodeLcp,
  encodeChap,
  encodeFrame,
  encodeIpcp,
  encodeLcp,
  encodePap,
  type IpcpOption,
  type LcpOption,
  PppProtocol,
  writePacket,
} from "../protocol/ppp/index.ts";

export type PppAuth = "pap" | "chap";

export interface PppClientOptions {
  auth: PppAuth;
  user: string;
  password: string;
}

/** Where a link is in its set-up (RFC 1661 §3.2's phases, as the client sees them). */
export type PppPhase = "lcp" | "auth" | "ipcp" | "up" | "failed";

/** One subscriber's PPP over one call. */
export interface PppLink {
  peer: PeerAddress;
  /** The LNS's Tunnel ID and Session ID: the header of every data message of the call. */
  tunnelId: number;
  sessionId: number;
  phase: PppPhase;
  magic: number;
  /** Whether our LCP request still carries MRU and Magic-Number (a Reject drops them). */
  askMru: boolean;
  askMagic: boolean;
  mru: number;
  /** Identifier of our last Configure-Request of the phase's protocol (LCP, then IPCP). */
  requestId: number;
  /** Our request was Acked; we Acked the LNS's (RFC 1661's Ack-Rcvd and Ack-Sent, one flag each). */
  ourAcked: boolean;
  theirAcked: boolean;
  /** Naks and Rejects of our requests in this phase (Max-Failure's count, RFC 1661 §4.6). */
  refusals: number;
  /** The address IPCP asks for (0 until the LNS's Nak names one). */
  address: number;
  /** The request waiting for an answer, as sent, its generation (an answer or a new request bumps it) and tries. */
  request: Uint8Array | undefined;
  generation: number;
  tries: number;
  failure?: string;
  /** Counted, up or failed: a link is one set-up, whatever it does later (a renegotiation, a Terminate). */
  settled: boolean;
}

/** RFC 1661 §4.6: the restart timer and Max-Configure (the defaults it suggests). */
export const RESTART_MS = 3000;
const MAX_CONFIGURE = 10;
const MAX_FAILURE = 5;

/** A data message's header without the L, S and O bits (RFC 2661 §3.1): Tunnel ID at 2, Session ID at 4. */
const DATA_TUNNEL_ID = 2;
const DATA_SESSION_ID = 4;
/** Where the PPP packet starts in a datagram this sends: the 6-octet header, FF 03 and the Protocol. */
const PACKET = 10;
const ID = PACKET + 1;

const CODE = {
  confReq: 1,
  confAck: 2,
  confNak: 3,
  confRej: 4,
  termReq: 5,
  termAck: 6,
  echoReq: 9,
} as const;

/** A datagram: a data message of no call yet (ids written per call) carrying `packet` of `protocol`. */
function datagram(protocol: number, packet: Uint8Array): Uint8Array {
  return encodeDataHeader({ tunnelId: 0, sessionId: 0 }, encodeFrame({ protocol, payload: packet })).slice();
}

/** A small PRNG for magic numbers (xorshift32): RFC 1661 §6.4 asks them unlikely to match, not secret. */
function magicSource(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x || 1;
  };
}

export class PppSubscribers {
  readonly counts = { up: 0, failed: 0, resends: 0, discarded: 0, echoReplies: 0, protocolRejects: 0 };
  readonly failures: Record<string, number> = {};
  /** Requests waiting for their restart time, in the order sent (each time is its send + RESTART_MS). */
  #timers: { link: PppLink; generation: number; at: number }[] = [];
  #timersHead = 0;
  #closing = false;
  readonly #lcpRequest: Uint8Array;
  readonly #papRequest: Uint8Array;
  readonly #ipcpRequest: Uint8Array;
  readonly #chapResponse: Uint8Array;
  readonly #secret: Uint8Array;
  readonly #magic: () => number;
  readonly #authOption: LcpOption;

  constructor(
    readonly options: PppClientOptions,
    private readonly send: (packet: Uint8Array, to: PeerAddress) => void,
    /** A link became up or failed (`now`: when). */
    private readonly settled: (link: PppLink, now: number) => void,
    /** A link moved to its next phase: the run is making progress. */
    private readonly progress: (now: number) => void,
  ) {
    const text = new TextEncoder();
    const user = text.encode(options.user);
    this.#secret = text.encode(options.password);
    this.#magic = magicSource(crypto.getRandomValues(new Uint32Array(1))[0]);
    // LCP: MRU 1500 at PACKET+4, Magic-Number at PACKET+8 (its value at PACKET+10).
    this.#lcpRequest = datagram(
      PppProtocol.LCP,
      encodeLcp({
        code: "Configure-Request",
        id: 1,
        options: [
          { kind: "mru", value: 1500 },
          { kind: "magicNumber", value: 1 },
        ],
      }),
    );
    this.#papRequest = datagram(
      PppProtocol.PAP,
      encodePap({ code: "Authenticate-Request", id: 1, peerId: user, password: this.#secret }),
    );
    // IPCP: IP-Address, its value at PACKET+6.
    this.#ipcpRequest = datagram(
      PppProtocol.IPCP,
      encodeIpcp({ code: "Configure-Request", id: 1, options: [{ kind: "ipAddress", address: "0.0.0.0" }] }),
    );
    // CHAP Response: Value-Size 16 at PACKET+4, the MD5 value at PACKET+5, then the name.
    this.#chapResponse = datagram(
      PppProtocol.CHAP,
      encodeChap({ code: "Response", id: 1, value: new Uint8Array(16), name: user }),
    );
    this.#authOption =
      options.auth === "pap"
        ? { kind: "authProtocol", protocol: PppProtocol.PAP }
        : { kind: "authProtocol", protocol: PppProtocol.CHAP, algorithm: ChapAlgorithm.MD5 };
  }

  /** The call's ICCN has left: the subscriber starts LCP (RFC 1661 §3.5: Establish phase). */
  start(peer: PeerAddress, tunnelId: number, sessionId: number, now: number): PppLink {
    const link: PppLink = {
      peer,
      tunnelId,
      sessionId,
      phase: "lcp",
      magic: this.#magic(),
      askMru: true,
      askMagic: true,
      mru: 1500,
      requestId: 1,
      ourAcked: false,
      theirAcked: false,
      refusals: 0,
      address: 0,
      request: undefined,
      generation: 0,
      tries: 0,
      settled: false,
    };
    this.#sendLcpRequest(link, now);
    return link;
  }

  /** No more frames are answered (the round is closing its tunnels). */
  close(): void {
    this.#closing = true;
  }

  /**
   * A data message of the link's call; its PPP frame starts at `frameAt`. The frame is read in place
   * (RFC 1661 §2, RFC 1662 §3.1): on Bun the first view of a received datagram is its dearest part
   * (JSC gives the datagram an ArrayBuffer of its own; decodeFrame's view was 6% of the generator's
   * samples), so views are made only of the packets whose options or values are read.
   */
  receive(link: PppLink, packet: Uint8Array, frameAt: number, now: number): void {
    if (this.#closing) return;
    let at = frameAt;
    // Address and Control, FF 03 (absent when ACFC was Acked).
    const addressControl = packet[at] === 0xff;
    if (addressControl) at += 2;
    // An odd first octet is a one-octet (compressed) Protocol field (RFC 1661 §6.5).
    const short = (packet[at] & 1) === 1;
    const protocol = short ? packet[at] : (packet[at] << 8) | packet[at + 1];
    at += short ? 1 : 2;
    // Then the packet's Code, Identifier and Length (RFC 1661 §5), all within the datagram.
    const length = (packet[at + 2] << 8) | packet[at + 3];
    if (
      (addressControl && packet[frameAt + 1] !== 0x03) ||
      at + 4 > packet.length ||
      length < 4 ||
      at + length > packet.length
    ) {
      this.counts.discarded++;
      return;
    }
    switch (protocol) {
      case PppProtocol.LCP:
        this.#onLcp(link, packet, frameAt, at, now);
        return;
      case PppProtocol.PAP:
      case PppProtocol.CHAP:
        this.#onAuth(link, protocol, packet, at, now);
        return;
      case PppProtocol.IPCP:
        this.#onIpcp(link, packet, frameAt, at, now);
        return;
      case PppProtocol.IPv4:
        return;
      default: {
        // RFC 1661 §5.7: a protocol we do not run is rejected, once LCP is Opened.
        if (link.phase === "lcp" || link.phase === "failed") return;
        this.counts.protocolRejects++;
        const rejected = packet.subarray(at);
        this.#sendPacket(
          link,
          PppProtocol.LCP,
          encodeLcp({ code: "Protocol-Reject", id: packet[at + 1], protocol, rejected }),
        );
      }
    }
  }

  /** Sends again what is unanswered RESTART_MS after it left; past Max-Configure, the link fails. */
  restart(now: number): void {
    const timers = this.#timers;
    while (this.#timersHead < timers.length && timers[this.#timersHead].at <= now) {
      const { link, generation } = timers[this.#timersHead++];
      if (generation !== link.generation || !link.request) continue;
      if (++link.tries >= MAX_CONFIGURE) {
        this.#fail(link, `timeout in ${link.phase}`, now);
        continue;
      }
      this.counts.resends++;
      this.send(link.request, link.peer);
      timers.push({ link, generation, at: now + RESTART_MS });
    }
    if (this.#timersHead > 1024 && this.#timersHead * 2 > timers.length) {
      this.#timers = timers.slice(this.#timersHead);
      this.#timersHead = 0;
    }
  }

  /** Every link not up or failed by now fails with a timeout in its phase (the run stalled). */
  abandon(links: Iterable<PppLink | undefined>, now: number): void {
    for (const link of links) if (link && !link.settled) this.#fail(link, `timeout in ${link.phase}`, now);
  }

  /** The LNS cleared the call (CDN): a link not up yet fails with that reason. */
  cleared(link: PppLink, reason: string, now: number): void {
    if (!link.settled) this.#fail(link, reason, now);
  }

  // ---- LCP ----

  #onLcp(link: PppLink, packet: Uint8Array, frameAt: number, at: number, now: number): void {
    const code = packet[at];
    const id = packet[at + 1];
    switch (code) {
      case CODE.confReq: {
        if (link.phase === "failed") return;
        if (link.phase !== "lcp") {
          // RFC 1661 §4.3 (Opened, RCR): the LNS renegotiates; the link goes back to Establish.
          link.phase = "lcp";
          link.ourAcked = false;
          link.refusals = 0;
          link.address = 0;
          this.#sendLcpRequest(link, now);
        }
        const refusal = this.#judgeLcp(link, packet.subarray(at));
        this.#answer(link, PppProtocol.LCP, refusal && encodeLcp(refusal), packet, frameAt, at, now);
        return;
      }
      case CODE.confAck:
        this.#ourAcked(link, "lcp", id, now);
        return;
      case CODE.confNak:
      case CODE.confRej: {
        if (!this.#refused(link, "lcp", id, now)) return;
        const refusal = decodeLcp(packet.subarray(at));
        if (!refusal.ok || !("options" in refusal.value)) return;
        for (const o of refusal.value.options) {
          if (o.kind === "mru") {
            if (code === CODE.confRej) link.askMru = false;
            else link.mru = o.value;
          } else if (o.kind === "magicNumber") {
            if (code === CODE.confRej) link.askMagic = false;
            else link.magic = this.#magic();
          }
        }
        this.#sendLcpRequest(link, now);
        return;
      }
      case CODE.termReq:
        this.#terminated(link, PppProtocol.LCP, id, now);
        return;
      case CODE.echoReq:
        // RFC 1661 §5.8: answered in Opened only, with our own magic number.
        if (link.phase === "lcp" || link.phase === "failed") return;
        this.counts.echoReplies++;
        this.#sendPacket(
          link,
          PppProtocol.LCP,
          encodeLcp({
            code: "Echo-Reply",
            id,
            magic: link.askMagic ? link.magic : 0,
            data: packet.subarray(at + 8, at + ((packet[at + 2] << 8) | packet[at + 3])),
          }),
        );
        return;
      default:
        return; // Terminate-Ack, Code-Reject, Protocol-Reject, Echo-Reply, Discard-Request: nothing to do
    }
  }

  /**
   * The LNS's LCP Configure-Request: undefined when every option is acceptable (Ack it), else the
   * Reject of what we do not know, or the Nak of what we want otherwise (RFC 1661 §5.2-5.4).
   */
  #judgeLcp(link: PppLink, payload: Uint8Array): Parameters<typeof encodeLcp>[0] | undefined {
    const decoded = decodeLcp(payload);
    if (!decoded.ok || !("options" in decoded.value)) return undefined;
    const reject: LcpOption[] = [];
    const nak: LcpOption[] = [];
    for (const o of decoded.value.options) {
      switch (o.kind) {
        case "mru": // What we send stays far below any MRU, so any is fine.
        case "accm": // Synchronous framing on L2TP: the map is moot (RFC 1662 §7.1).
        case "pfc": // We read compressed frames, and may still send full ones (RFC 1661 §6.5, §6.6).
        case "acfc":
          break;
        case "magicNumber":
          // RFC 1661 §6.4: our own number back means a looped link, or a rare match: Nak another.
          if (link.askMagic && o.value === link.magic) {
            link.magic = this.#magic();
            nak.push({ kind: "magicNumber", value: this.#magic() });
          }
          break;
        case "authProtocol":
          // RFC 1661 §6.3: another protocol is Nak'd with the one we were told to use.
          if (o.protocol !== (this.#authOption as { protocol: number }).protocol) nak.push(this.#authOption);
          else if (o.protocol === PppProtocol.CHAP && o.algorithm !== ChapAlgorithm.MD5)
            nak.push(this.#authOption);
          break;
        default:
          reject.push(o);
      }
    }
    const id = payload[1];
    if (reject.length) return { code: "Configure-Reject", id, options: reject };
    if (nak.length) return { code: "Configure-Nak", id, options: nak };
    return undefined;
  }

  #sendLcpRequest(link: PppLink, now: number): void {
    let request: Uint8Array;
    if (link.askMru && link.askMagic && link.mru === 1500) {
      request = this.#fromTemplate(link, this.#lcpRequest);
      writeU32(request, PACKET + 10, link.magic);
    } else {
      // After a Nak or a Reject (rare): encoded as it now is.
      const options: LcpOption[] = [];
      if (link.askMru) options.push({ kind: "mru", value: link.mru });
      if (link.askMagic) options.push({ kind: "magicNumber", value: link.magic });
      request = this.#packetDatagram(
        link,
        PppProtocol.LCP,
        encodeLcp({ code: "Configure-Request", id: link.requestId, options }),
      );
    }
    request[ID] = link.requestId;
    this.#request(link, request, now);
  }

  #lcpOpened(link: PppLink, now: number): void {
    // RFC 1661 §3.5: Authenticate phase. PAP: the peer sends its request; CHAP: it waits for the Challenge.
    link.phase = "auth";
    link.generation++;
    link.request = undefined;
    this.progress(now);
    if (this.options.auth === "pap") {
      const request = this.#fromTemplate(link, this.#papRequest);
      this.#request(link, request, now);
    }
  }

  // ---- PAP, CHAP ----

  #onAuth(link: PppLink, protocol: number, packet: Uint8Array, at: number, now: number): void {
    // RFC 1661 §3.5: authentication packets outside the Authenticate phase are discarded.
    if (link.phase !== "auth") {
      this.counts.discarded++;
      return;
    }
    const code = packet[at];
    const id = packet[at + 1];
    if (protocol === PppProtocol.PAP && this.options.auth === "pap") {
      // RFC 1334 §2.2.2: Authenticate-Ack (2) or -Nak (3), with our request's identifier.
      if (id !== 1) return;
      if (code === 2) this.#authPassed(link, now);
      else if (code === 3) this.#fail(link, "auth failed", now);
      return;
    }
    if (protocol === PppProtocol.CHAP && this.options.auth === "chap") {
      if (code === 1) {
        // RFC 1994 §4.1: Challenge (Value-Size, Value, Name); the response hashes its identifier and value.
        const size = packet[at + 4];
        if (size < 1 || at + 5 + size > packet.length) return;
        const response = this.#fromTemplate(link, this.#chapResponse);
        response[ID] = id;
        const challenge = packet.subarray(at + 5, at + 5 + size);
        response.set(chapMd5Response(id, this.#secret, challenge), PACKET + 5);
        this.send(response, link.peer);
      } else if (code === 3) this.#authPassed(link, now);
      else if (code === 4) this.#fail(link, "auth failed", now);
      return;
    }
    this.counts.discarded++;
  }

  #authPassed(link: PppLink, now: number): void {
    // RFC 1661 §3.6: Network phase; IPCP asks for an address with 0.0.0.0 (RFC 1332 §3.3).
    link.phase = "ipcp";
    link.generation++;
    link.ourAcked = false;
    link.theirAcked = false;
    link.refusals = 0;
    link.requestId = 1;
    this.progress(now);
    this.#sendIpcpRequest(link, now);
  }

  // ---- IPCP ----

  #onIpcp(link: PppLink, packet: Uint8Array, frameAt: number, at: number, now: number): void {
    // RFC 1661 §3.6: NCP packets before the Network phase are discarded.
    if (link.phase !== "ipcp" && link.phase !== "up") {
      this.counts.discarded++;
      return;
    }
    const code = packet[at];
    const id = packet[at + 1];
    switch (code) {
      case CODE.confReq: {
        // The LNS's own address is all we accept (RFC 1332 §3.3); anything else is rejected.
        const decoded = decodeIpcp(packet.subarray(at));
        if (!decoded.ok || !("options" in decoded.value)) return;
        const reject: IpcpOption[] = decoded.value.options.filter((o) => o.kind !== "ipAddress");
        const refusal = reject.length
          ? encodeIpcp({ code: "Configure-Reject", id, options: reject })
          : undefined;
        this.#answer(link, PppProtocol.IPCP, refusal, packet, frameAt, at, now);
        return;
      }
      case CODE.confAck:
        this.#ourAcked(link, "ipcp", id, now);
        return;
      case CODE.confNak: {
        if (!this.#refused(link, "ipcp", id, now)) return;
        // RFC 1332 §3.3: the Nak names the address to use (type 3, length 6, at the options' start or later).
        const end = at + ((packet[at + 2] << 8) | packet[at + 3]);
        for (let o = at + 4; o + 2 <= end && packet[o + 1] >= 2; o += packet[o + 1]) {
          if (packet[o] === 3 && packet[o + 1] === 6 && o + 6 <= end) link.address = u32(packet, o + 2);
        }
        this.#sendIpcpRequest(link, now);
        return;
      }
      case CODE.confRej:
        if (link.phase === "ipcp" && id === link.requestId) this.#fail(link, "IPCP address rejected", now);
        return;
      case CODE.termReq:
        this.#terminated(link, PppProtocol.IPCP, id, now);
        return;
      default:
        return;
    }
  }

  #sendIpcpRequest(link: PppLink, now: number): void {
    const request = this.#fromTemplate(link, this.#ipcpRequest);
    request[ID] = link.requestId;
    writeU32(request, PACKET + 6, link.address);
    this.#request(link, request, now);
  }

  #up(link: PppLink, now: number): void {
    link.phase = "up";
    link.generation++;
    link.request = undefined;
    if (link.settled) return;
    link.settled = true;
    this.counts.up++;
    this.progress(now);
    this.settled(link, now);
  }

  // ---- RFC 1661 §4's automaton, shared by LCP and IPCP: Opened once both requests are Acked ----

  /** The phase's protocol is Opened: LCP moves on to authentication, IPCP makes the set-up. */
  #opened(link: PppLink, now: number): void {
    if (link.phase === "lcp") this.#lcpOpened(link, now);
    else this.#up(link, now);
  }

  /** The LNS's Configure-Request answered: the refusal (a Nak or a Reject) given, else an Ack. */
  #answer(
    link: PppLink,
    protocol: number,
    refusal: Uint8Array | undefined,
    packet: Uint8Array,
    frameAt: number,
    at: number,
    now: number,
  ): void {
    link.theirAcked = refusal === undefined;
    if (refusal) {
      this.#sendPacket(link, protocol, refusal);
      return;
    }
    this.#ack(link, packet, frameAt, at);
    if (link.ourAcked) this.#opened(link, now);
  }

  /** A Configure-Ack of our request in `phase`: only one with our last request's identifier counts (§5.2). */
  #ourAcked(link: PppLink, phase: "lcp" | "ipcp", id: number, now: number): void {
    if (link.phase !== phase || id !== link.requestId || link.ourAcked) return;
    link.ourAcked = true;
    link.generation++;
    if (link.theirAcked) this.#opened(link, now);
  }

  /**
   * A Nak or Reject of our request in `phase`: true when the next request is to be sent (with a new
   * identifier, §5.1), false when it is not ours or Max-Failure is past (the set-up failed: a Nak loop).
   */
  #refused(link: PppLink, phase: "lcp" | "ipcp", id: number, now: number): boolean {
    if (link.phase !== phase || id !== link.requestId) return false;
    if (++link.refusals > MAX_FAILURE) {
      this.#fail(link, `${phase.toUpperCase()} Nak loop`, now);
      return false;
    }
    link.requestId = (link.requestId + 1) & 0xff;
    return true;
  }

  /** A Terminate-Request of LCP or IPCP: Acked (RFC 1661 §5.5); a set-up not made by then failed. */
  #terminated(link: PppLink, protocol: number, id: number, now: number): void {
    this.#sendPacket(link, protocol, writePacket(CODE.termAck, id));
    const by = protocol === PppProtocol.LCP ? "LCP" : "IPCP";
    this.#fail(link, `${by} terminated by the LNS in ${link.phase}`, now);
  }

  // ---- sending ----

  /** A copy of a datagram template addressed to the link's call. */
  #fromTemplate(link: PppLink, template: Uint8Array): Uint8Array {
    const out = template.slice();
    writeU16(out, DATA_TUNNEL_ID, link.tunnelId);
    writeU16(out, DATA_SESSION_ID, link.sessionId);
    return out;
  }

  #packetDatagram(link: PppLink, protocol: number, packet: Uint8Array): Uint8Array {
    return encodeDataHeader(
      { tunnelId: link.tunnelId, sessionId: link.sessionId },
      encodeFrame({ protocol, payload: packet }),
    );
  }

  #sendPacket(link: PppLink, protocol: number, packet: Uint8Array): void {
    this.send(this.#packetDatagram(link, protocol, packet), link.peer);
  }

  /** Configure-Ack: the request's own frame sent back with its code changed (RFC 1661 §5.2). */
  #ack(link: PppLink, packet: Uint8Array, frameAt: number, at: number): void {
    const ids = { tunnelId: link.tunnelId, sessionId: link.sessionId };
    const out = encodeDataHeader(ids, packet.subarray(frameAt));
    out[6 + at - frameAt] = CODE.confAck;
    this.send(out, link.peer);
  }

  /** Sends a request that waits for its answer, with its restart time. */
  #request(link: PppLink, request: Uint8Array, now: number): void {
    link.request = request;
    link.tries = 0;
    const generation = ++link.generation;
    this.#timers.push({ link, generation, at: now + RESTART_MS });
    this.send(request, link.peer);
  }

  #fail(link: PppLink, reason: string, now: number): void {
    if (link.phase === "failed") return;
    link.phase = "failed";
    link.failure = reason;
    link.generation++;
    link.request = undefined;
    if (link.settled) return; // a link that was up and went down later is not a failed set-up
    link.settled = true;
    this.counts.failed++;
    this.failures[reason] = (this.failures[reason] ?? 0) + 1;
    this.progress(now);
    this.settled(link, now);
  }
}
