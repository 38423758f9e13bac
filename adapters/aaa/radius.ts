/**
 * The RADIUS client behind the `Aaa` port (RFC 2865, 2866, 2868, 2869, 3579), on our own codec
 * (protocol/radius). What it does about the network:
 * - Each server has two channels (auth, acct), each one UDP socket with its own 256 Identifiers
 *   (RFC 2865 §3: the Identifier is unique per source address and port); at most `maxInFlight` (≤ 256)
 *   requests wait for a reply on a channel, the rest wait in a FIFO queue for a free slot.
 * - A request is sent, then retransmitted `retries` times with the wait doubling (timeout, 2×, 4×…);
 *   an unanswered server is marked dead for `deadTimeSeconds` and the request fails over to the next
 *   live server in configuration order. A dead server is used again after its dead time (or when every
 *   server is dead: then the one that died first is tried).
 * - Access-Requests carry Message-Authenticator as their first attribute (RFC 3579 §3.2, BlastRADIUS
 *   CVE-2024-3596); replies must carry one only when `requireMessageAuthenticator` is set (FreeRADIUS
 *   3.2 sends none). Accounting-Requests carry one too (RFC 5080 §2.2.2 ordering).
 * - A retransmitted Accounting-Request has its Acct-Delay-Time updated (RFC 2866 §5.2), so it is a new
 *   packet with a new Identifier (RFC 5080 §2.2.1).
 * - Replies are checked (source, code, Identifier, Response Authenticator, Message-Authenticator);
 *   a bad one is counted in `stats().badReplies` by reason and dropped.
 *
 * Sockets come from the project's UDP adapters (`bindUdp`): their sends never throw and are counted,
 * they run on Bun and Deno, and a test can hand in the in-memory network and the simulated clock.
 */
import { isIPv6 } from "node:net";
import {
  type Aaa,
  type AaaStats,
  type AccountingRecord,
  type AccountingResult,
  type Authorization,
  type AuthRequest,
  type AuthResult,
  newAaaStats,
  type TunnelAssignment,
} from "../../actors/aaa.ts";
import type { Clock, PeerAddress, Random, Transport } from "../../actors/ports.ts";
import { copyBytes, writeU32 } from "../../protocol/bytes.ts";
import {
  attribute,
  decodePacket,
  decryptTunnelPassword,
  encodeRequest,
  hideUserPassword,
  RADIUS_ATTRIBUTES,
  type RadiusAttribute,
  RadiusCode,
  type RadiusPacket,
  readValue,
  verifyResponse,
} from "../../protocol/radius/index.ts";

/** One RADIUS server. */
export interface RadiusServer {
  address: string;
  authPort: number;
  acctPort: number;
  secret: string;
}

/** What the client needs to know (the `aaa.radius` section of the config, in milliseconds where timed). */
export interface RadiusClientOptions {
  servers: readonly RadiusServer[];
  /** NAS-Identifier (RFC 2865 §5.32): how the servers know this node. */
  nasIdentifier: string;
  /** The first wait for a reply; each retransmission doubles it. */
  timeoutMs: number;
  /** Retransmissions per server before it is declared dead and the next one is tried. */
  retries: number;
  /** Requests awaiting a reply per server and channel, 1-256. */
  maxInFlight: number;
  /** How long a dead server is skipped. */
  deadTimeMs: number;
  /** Drop replies without a valid Message-Authenticator (RFC 3579 §3.2); default off. */
  requireMessageAuthenticator: boolean;
}

/** The ports the client runs on. */
export interface RadiusClientDeps {
  clock: Clock;
  random: Random;
  /** Binds one UDP socket (bindUdp, or a MemoryNetwork's bind). */
  bind(local: PeerAddress): Promise<Transport>;
}

/** Why a reply was dropped: the keys of `stats().badReplies`. */
export type BadReplyReason =
  | "wrong-source"
  | "malformed"
  | "unknown-code"
  | "unknown-identifier"
  | "unexpected-code"
  | "authenticator"
  | "message-authenticator"
  | "bad-attribute";

const utf8 = new TextEncoder();

/** Each server's secret as octets, encoded once. */
const secretBytes = new WeakMap<RadiusServer, Uint8Array>();
function secretOf(server: RadiusServer): Uint8Array {
  let bytes = secretBytes.get(server);
  if (!bytes) {
    bytes = utf8.encode(server.secret);
    secretBytes.set(server, bytes);
  }
  return bytes;
}

/** RFC 2865 §5.6 Service-Type Framed, §5.7 Framed-Protocol PPP, §5.41 NAS-Port-Type Virtual. */
const SERVICE_TYPE_FRAMED = 2;
const FRAMED_PROTOCOL_PPP = 1;
const NAS_PORT_TYPE_VIRTUAL = 5;
/** RFC 2866 §5.1 Acct-Status-Type values. */
const ACCT_STATUS = { start: 1, stop: 2, interim: 3 } as const;
const GIGA = 2 ** 32;

type Kind = "auth" | "acct";

/** A request on its way: what to send, and how to finish it. */
interface Pending {
  kind: Kind;
  /** Builds the attributes for one transmission (the password is hidden per authenticator and secret). */
  build(server: RadiusServer, authenticator: Uint8Array, sentAt: number): RadiusAttribute[];
  /** Servers already given up on for this request. */
  tried: Set<number>;
  finish(outcome: Outcome): void;
}

type Outcome =
  | { kind: "reply"; packet: RadiusPacket; server: RadiusServer; requestAuthenticator: Uint8Array }
  | { kind: "unanswered"; message: string }
  /** The request could not be encoded (a value that does not fit): nothing was sent. */
  | { kind: "error"; message: string };

/** One request on a channel: its Identifier, bytes, and retransmission state. */
interface InFlight {
  pending: Pending;
  id: number;
  bytes: Uint8Array;
  authenticator: Uint8Array;
  attempt: number;
  timer: unknown;
}

/** One server's auth or acct socket and its Identifier space. */
interface Channel {
  serverIndex: number;
  kind: Kind;
  to: PeerAddress;
  transport: Transport | undefined;
  opening: Promise<Transport> | undefined;
  inFlight: Map<number, InFlight>;
  nextId: number;
}

/** A RADIUS client. Its options come checked from the config schema (adapters/config: `aaa.radius`). */
export class RadiusClient implements Aaa {
  private readonly channels: Channel[] = [];
  private readonly deadUntil: number[];
  /** Requests waiting for a free slot, one FIFO per kind (a kind's requests all go to the same channels). */
  private readonly queues: Record<Kind, Fifo<Pending>> = { auth: new Fifo(), acct: new Fifo() };
  private closed = false;
  private readonly counters: AaaStats = newAaaStats();

  constructor(
    private readonly options: RadiusClientOptions,
    private readonly deps: RadiusClientDeps,
  ) {
    this.deadUntil = options.servers.map(() => 0);
    options.servers.forEach((server, serverIndex) => {
      for (const kind of ["auth", "acct"] as const) {
        this.channels.push({
          serverIndex,
          kind,
          to: { address: server.address, port: kind === "auth" ? server.authPort : server.acctPort },
          transport: undefined,
          opening: undefined,
          inFlight: new Map(),
          nextId: deps.random.uint32() & 0xff,
        });
      }
    });
  }

  authenticate(request: AuthRequest): Promise<AuthResult> {
    if (this.closed)
      return Promise.resolve({ ok: false, reason: "error", message: "the RADIUS client is closed" });
    this.counters.accessRequests++;
    return new Promise((resolve) => {
      let fixed: RadiusAttribute[];
      try {
        fixed = this.accessAttributes(request);
      } catch (error) {
        resolve({ ok: false, reason: "error", message: `Access-Request: ${(error as Error).message}` });
        return;
      }
      const { credentials } = request;
      this.submit({
        kind: "auth",
        tried: new Set(),
        build: (server, authenticator) =>
          credentials.method === "pap"
            ? [
                fixed[0],
                attribute(
                  "User-Password",
                  hideUserPassword(credentials.password, secretOf(server), authenticator),
                ),
                ...fixed.slice(1),
              ]
            : fixed,
        finish: (outcome) => resolve(this.authResult(outcome)),
      });
    });
  }

  account(record: AccountingRecord): Promise<AccountingResult> {
    if (this.closed) return Promise.resolve({ ok: false, message: "the RADIUS client is closed" });
    this.counters.accountingRequests++;
    return new Promise((resolve) => {
      let fixed: RadiusAttribute[];
      try {
        fixed = this.accountingAttributes(record);
      } catch (error) {
        resolve({ ok: false, message: `Accounting-Request: ${(error as Error).message}` });
        return;
      }
      const createdAt = this.deps.clock.now();
      this.submit({
        kind: "acct",
        tried: new Set(),
        // RFC 2866 §5.2: how long the NAS has been trying to send this record, in seconds.
        build: (_server, _authenticator, sentAt) => [
          ...fixed,
          attribute("Acct-Delay-Time", Math.floor((sentAt - createdAt) / 1000)),
        ],
        finish: (outcome) => {
          if (outcome.kind === "error") {
            resolve({ ok: false, message: outcome.message });
          } else if (outcome.kind === "unanswered") {
            this.counters.accountingTimeouts++;
            resolve({ ok: false, message: outcome.message });
          } else {
            this.counters.accountingResponses++;
            resolve({ ok: true });
          }
        },
      });
    });
  }

  stats(): AaaStats {
    return { ...this.counters, badReplies: { ...this.counters.badReplies } };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const unanswered: Outcome = { kind: "unanswered", message: "the RADIUS client was closed" };
    for (const queue of Object.values(this.queues)) {
      for (let pending = queue.shift(); pending; pending = queue.shift()) pending.finish(unanswered);
    }
    for (const channel of this.channels) {
      for (const flight of channel.inFlight.values()) {
        this.deps.clock.clearTimeout(flight.timer);
        flight.pending.finish(unanswered);
      }
      channel.inFlight.clear();
    }
    await Promise.all(
      this.channels.map(async (channel) => {
        const transport = channel.transport ?? (await channel.opening?.catch(() => undefined));
        await transport?.close();
      }),
    );
  }

  // ---- building requests ----------------------------------------------------------------------

  /** The Access-Request's attributes but User-Password (hidden per transmission), User-Name first. */
  private accessAttributes(request: AuthRequest): RadiusAttribute[] {
    const { credentials } = request;
    const list: RadiusAttribute[] = [attribute("User-Name", credentials.user)];
    if (credentials.method === "chap") {
      // RFC 2865 §5.3, §5.40: the challenge goes in CHAP-Challenge, whatever its length.
      list.push(attribute("CHAP-Password", { id: credentials.id, response: credentials.response }));
      list.push(attribute("CHAP-Challenge", credentials.challenge));
    }
    list.push(...this.nasAttributes(request));
    return list;
  }

  /** What every request says about the NAS and the call. */
  private nasAttributes(call: {
    nasPort?: number;
    callingNumber?: string;
    calledNumber?: string;
    tunnelClientEndpoint?: string;
  }): RadiusAttribute[] {
    const list = [
      attribute("NAS-Identifier", this.options.nasIdentifier),
      attribute("NAS-Port-Type", NAS_PORT_TYPE_VIRTUAL),
      attribute("Service-Type", SERVICE_TYPE_FRAMED),
      attribute("Framed-Protocol", FRAMED_PROTOCOL_PPP),
    ];
    if (call.nasPort !== undefined) list.push(attribute("NAS-Port", call.nasPort));
    if (call.calledNumber) list.push(attribute("Called-Station-Id", call.calledNumber));
    if (call.callingNumber) list.push(attribute("Calling-Station-Id", call.callingNumber));
    if (call.tunnelClientEndpoint) {
      list.push(attribute("Tunnel-Client-Endpoint", { tag: 0, value: call.tunnelClientEndpoint }));
    }
    return list;
  }

  /** The Accounting-Request's attributes but Acct-Delay-Time (RFC 2866 §5, RFC 2869 §5.1, RFC 2867 §4). */
  private accountingAttributes(record: AccountingRecord): RadiusAttribute[] {
    const list = [
      attribute("Acct-Status-Type", ACCT_STATUS[record.status]),
      attribute("Acct-Session-Id", record.sessionId),
      attribute("User-Name", record.user),
      ...this.nasAttributes(record),
      attribute("Event-Timestamp", Math.floor(this.deps.clock.now() / 1000)),
    ];
    if (record.framedIpAddress) list.push(attribute("Framed-IP-Address", record.framedIpAddress));
    for (const c of record.class ?? []) list.push(attribute("Class", c));
    if (record.sessionTime !== undefined) list.push(attribute("Acct-Session-Time", record.sessionTime));
    const counters = record.counters;
    if (counters) {
      // RFC 2869 §5.1/§5.2: octets past 2^32 are carried as Gigawords.
      list.push(
        attribute("Acct-Input-Octets", counters.octetsIn % GIGA),
        attribute("Acct-Output-Octets", counters.octetsOut % GIGA),
        attribute("Acct-Input-Gigawords", Math.floor(counters.octetsIn / GIGA)),
        attribute("Acct-Output-Gigawords", Math.floor(counters.octetsOut / GIGA)),
        attribute("Acct-Input-Packets", counters.packetsIn % GIGA),
        attribute("Acct-Output-Packets", counters.packetsOut % GIGA),
      );
    }
    if (record.terminateCause !== undefined)
      list.push(attribute("Acct-Terminate-Cause", record.terminateCause));
    const tunnel = record.tunnel;
    if (tunnel) {
      const tag = tunnel.tag;
      if (tunnel.type !== undefined) list.push(attribute("Tunnel-Type", { tag, value: tunnel.type }));
      if (tunnel.mediumType !== undefined)
        list.push(attribute("Tunnel-Medium-Type", { tag, value: tunnel.mediumType }));
      if (tunnel.clientEndpoint)
        list.push(attribute("Tunnel-Client-Endpoint", { tag, value: tunnel.clientEndpoint }));
      if (tunnel.serverEndpoint)
        list.push(attribute("Tunnel-Server-Endpoint", { tag, value: tunnel.serverEndpoint }));
      if (tunnel.assignmentId)
        list.push(attribute("Tunnel-Assignment-ID", { tag, value: tunnel.assignmentId }));
    }
    if (record.tunnelConnection) list.push(attribute("Acct-Tunnel-Connection", record.tunnelConnection));
    return list;
  }

  // ---- reading replies ------------------------------------------------------------------------

  private authResult(outcome: Outcome): AuthResult {
    if (outcome.kind === "error") return { ok: false, reason: "error", message: outcome.message };
    if (outcome.kind === "unanswered") {
      this.counters.authTimeouts++;
      return { ok: false, reason: "unreachable", message: outcome.message };
    }
    const { packet } = outcome;
    const replyMessage = this.replyMessage(packet.attributes);
    if (packet.code === RadiusCode.accessAccept) {
      const authorization = this.authorization(outcome);
      if (!authorization.ok) {
        this.countBad("bad-attribute");
        this.counters.rejects++;
        return { ok: false, reason: "error", message: `Access-Accept ${authorization.message}` };
      }
      this.counters.accepts++;
      return { ok: true, authorization: authorization.value };
    }
    this.counters.rejects++;
    const message =
      packet.code === RadiusCode.accessReject
        ? "Access-Reject"
        : "Access-Challenge: a challenge cannot be relayed to a PPP peer (PAP and CHAP-MD5 have no second round)";
    return {
      ok: false,
      reason: "rejected",
      message,
      ...(replyMessage !== undefined ? { replyMessage } : {}),
    };
  }

  private replyMessage(attributes: readonly RadiusAttribute[]): string | undefined {
    // RFC 2865 §5.18: several Reply-Messages are one message, concatenated.
    const type = RADIUS_ATTRIBUTES["Reply-Message"].type;
    const parts = attributes.filter((a) => a.type === type).map((a) => new TextDecoder().decode(a.value));
    return parts.length ? parts.join("") : undefined;
  }

  /** The Access-Accept's attributes as an Authorization; a malformed value is an error naming it. */
  private authorization(
    reply: Extract<Outcome, { kind: "reply" }>,
  ): { ok: true; value: Authorization } | { ok: false; message: string } {
    const out: Authorization = {};
    const tunnels = new Map<number, TunnelAssignment>();
    const tunnel = (tag: number) => {
      const known = tunnels.get(tag);
      if (known) return known;
      const made: TunnelAssignment = { tag };
      tunnels.set(tag, made);
      return made;
    };
    const secret = secretOf(reply.server);
    for (const a of reply.packet.attributes) {
      const problem = this.readInto(a, out, tunnel, secret, reply.requestAuthenticator);
      if (problem) return { ok: false, message: problem };
    }
    const message = this.replyMessage(reply.packet.attributes);
    if (message !== undefined) out.replyMessage = message;
    if (tunnels.size) out.tunnels = [...tunnels.values()].sort((x, y) => x.tag - y.tag);
    return { ok: true, value: out };
  }

  /** Reads one reply attribute into the authorization; returns an error text or undefined. */
  private readInto(
    a: RadiusAttribute,
    out: Authorization,
    tunnel: (tag: number) => TunnelAssignment,
    secret: Uint8Array,
    requestAuthenticator: Uint8Array,
  ): string | undefined {
    const read = <N extends keyof typeof RADIUS_ATTRIBUTES>(name: N) => {
      const value = readValue(name, a.value);
      if (!value.ok) throw new ReplyAttributeError(`${value.error.field}: ${value.error.reason}`);
      return value.value;
    };
    try {
      switch (a.type) {
        case RADIUS_ATTRIBUTES["Framed-IP-Address"].type:
          out.framedIpAddress = read("Framed-IP-Address");
          break;
        case RADIUS_ATTRIBUTES["Framed-Pool"].type:
          out.framedPool = read("Framed-Pool");
          break;
        case RADIUS_ATTRIBUTES["Session-Timeout"].type:
          out.sessionTimeout = read("Session-Timeout");
          break;
        case RADIUS_ATTRIBUTES["Idle-Timeout"].type:
          out.idleTimeout = read("Idle-Timeout");
          break;
        case RADIUS_ATTRIBUTES["Acct-Interim-Interval"].type:
          out.acctInterimInterval = read("Acct-Interim-Interval");
          break;
        case RADIUS_ATTRIBUTES.Class.type:
          // Copied: the value is a view into the received datagram, and Class outlives it.
          out.class = [...(out.class ?? []), copyBytes(read("Class"))];
          break;
        case RADIUS_ATTRIBUTES["Tunnel-Type"].type: {
          const v = read("Tunnel-Type");
          tunnel(v.tag).type = v.value;
          break;
        }
        case RADIUS_ATTRIBUTES["Tunnel-Medium-Type"].type: {
          const v = read("Tunnel-Medium-Type");
          tunnel(v.tag).mediumType = v.value;
          break;
        }
        case RADIUS_ATTRIBUTES["Tunnel-Preference"].type: {
          const v = read("Tunnel-Preference");
          tunnel(v.tag).preference = v.value;
          break;
        }
        case RADIUS_ATTRIBUTES["Tunnel-Server-Endpoint"].type: {
          const v = read("Tunnel-Server-Endpoint");
          tunnel(v.tag).serverEndpoint = v.value;
          break;
        }
        case RADIUS_ATTRIBUTES["Tunnel-Client-Endpoint"].type: {
          const v = read("Tunnel-Client-Endpoint");
          tunnel(v.tag).clientEndpoint = v.value;
          break;
        }
        case RADIUS_ATTRIBUTES["Tunnel-Assignment-ID"].type: {
          const v = read("Tunnel-Assignment-ID");
          tunnel(v.tag).assignmentId = v.value;
          break;
        }
        case RADIUS_ATTRIBUTES["Tunnel-Client-Auth-ID"].type: {
          const v = read("Tunnel-Client-Auth-ID");
          tunnel(v.tag).clientAuthId = v.value;
          break;
        }
        case RADIUS_ATTRIBUTES["Tunnel-Server-Auth-ID"].type: {
          const v = read("Tunnel-Server-Auth-ID");
          tunnel(v.tag).serverAuthId = v.value;
          break;
        }
        case RADIUS_ATTRIBUTES["Tunnel-Password"].type: {
          const v = read("Tunnel-Password");
          const password = decryptTunnelPassword(v.encrypted, secret, requestAuthenticator, v.salt);
          if (!password.ok) return `${password.error.field}: ${password.error.reason}`;
          tunnel(v.tag).password = copyBytes(password.value);
          break;
        }
      }
    } catch (error) {
      if (error instanceof ReplyAttributeError) return error.message;
      throw error;
    }
    return undefined;
  }

  // ---- scheduling ------------------------------------------------------------------------------

  private submit(pending: Pending): void {
    this.queues[pending.kind].push(pending);
    this.pump(pending.kind);
  }

  /**
   * Sends queued requests of `kind` in order while the server each would go to has a free slot. The
   * head waits for its server (first in, first out): a request is never overtaken by a later one, and
   * a reply costs O(1), not a scan of the queue.
   */
  private pump(kind: Kind): void {
    const queue = this.queues[kind];
    const limit = Math.min(this.options.maxInFlight, 256);
    for (let pending = queue.peek(); pending; pending = queue.peek()) {
      const serverIndex = this.chooseServer(pending);
      if (serverIndex === undefined) {
        queue.shift();
        pending.finish({ kind: "unanswered", message: this.noServerMessage(pending) });
        continue;
      }
      const channel = this.channel(serverIndex, kind);
      if (channel.inFlight.size >= limit) return;
      queue.shift();
      this.start(channel, pending);
    }
  }

  private noServerMessage(pending: Pending): string {
    const what = pending.kind === "auth" ? "Access-Request" : "Accounting-Request";
    const servers = this.options.servers.map(
      (s) => `${s.address}:${pending.kind === "auth" ? s.authPort : s.acctPort}`,
    );
    return `${what}: no answer from ${servers.join(", ")} after ${this.options.retries + 1} tries each`;
  }

  /** The first live server not yet tried for this request; when all untried are dead, the one dead longest. */
  private chooseServer(pending: Pending): number | undefined {
    const now = this.deps.clock.now();
    let fallback: number | undefined;
    for (let i = 0; i < this.options.servers.length; i++) {
      if (pending.tried.has(i)) continue;
      if (this.deadUntil[i] <= now) return i;
      if (fallback === undefined || this.deadUntil[i] < this.deadUntil[fallback]) fallback = i;
    }
    return fallback;
  }

  private channel(serverIndex: number, kind: Kind): Channel {
    return this.channels[serverIndex * 2 + (kind === "auth" ? 0 : 1)];
  }

  /** A free Identifier of the channel (at most 256 are in flight, so one exists when a slot is free). */
  private takeId(channel: Channel): number {
    for (let n = 0; n < 256; n++) {
      const id = (channel.nextId + n) & 0xff;
      if (!channel.inFlight.has(id)) {
        channel.nextId = (id + 1) & 0xff;
        return id;
      }
    }
    throw new Error("no free RADIUS Identifier: the in-flight bound is above 256");
  }

  private start(channel: Channel, pending: Pending): void {
    const id = this.takeId(channel);
    const flight: InFlight = {
      pending,
      id,
      bytes: new Uint8Array(0),
      authenticator: new Uint8Array(16),
      attempt: 0,
      timer: undefined,
    };
    channel.inFlight.set(id, flight);
    if (this.encodes(channel, flight)) this.transmit(channel, flight);
  }

  /** encode(), or the request finished as an error (and its Identifier freed) when a value does not fit. */
  private encodes(channel: Channel, flight: InFlight): boolean {
    try {
      this.encode(channel, flight);
      return true;
    } catch (error) {
      channel.inFlight.delete(flight.id);
      const what = flight.pending.kind === "auth" ? "Access-Request" : "Accounting-Request";
      flight.pending.finish({ kind: "error", message: `${what}: ${(error as Error).message}` });
      return false;
    }
  }

  /** (Re)builds the packet of a flight: a fresh Request Authenticator and, for accounting, the delay. */
  private encode(channel: Channel, flight: InFlight): void {
    const server = this.options.servers[channel.serverIndex];
    const secret = secretOf(server);
    const now = this.deps.clock.now();
    if (flight.pending.kind === "auth") {
      // RFC 2865 §3: unpredictable, and unique over the secret's lifetime; four pooled random words.
      const authenticator = new Uint8Array(16);
      for (let i = 0; i < 16; i += 4) writeU32(authenticator, i, this.deps.random.uint32());
      flight.authenticator = authenticator;
      flight.bytes = encodeRequest(
        {
          code: RadiusCode.accessRequest,
          identifier: flight.id,
          authenticator: flight.authenticator,
          attributes: flight.pending.build(server, flight.authenticator, now),
          messageAuthenticator: true,
        },
        secret,
      );
    } else {
      flight.bytes = encodeRequest(
        {
          code: RadiusCode.accountingRequest,
          identifier: flight.id,
          attributes: flight.pending.build(server, flight.authenticator, now),
          messageAuthenticator: true,
        },
        secret,
      );
      flight.authenticator = flight.bytes.subarray(4, 20);
    }
  }

  private transmit(channel: Channel, flight: InFlight): void {
    const wait = this.options.timeoutMs * 2 ** flight.attempt;
    flight.timer = this.deps.clock.setTimeout(() => this.onTimeout(channel, flight), wait);
    const transport = channel.transport;
    if (transport) {
      transport.send(flight.bytes, channel.to);
      return;
    }
    this.open(channel).then(
      (t) => {
        if (channel.inFlight.get(flight.id) === flight) t.send(flight.bytes, channel.to);
      },
      // A socket that cannot be bound is a request that is never answered: the timer handles it.
      () => undefined,
    );
  }

  private open(channel: Channel): Promise<Transport> {
    channel.opening ??= this.deps
      .bind({ address: isIPv6(channel.to.address) ? "::" : "0.0.0.0", port: 0 })
      .then((transport) => {
        channel.transport = transport;
        transport.onReceive((bytes, from) => this.onReply(channel, bytes, from));
        if (this.closed) void transport.close();
        return transport;
      });
    channel.opening.catch(() => {
      channel.opening = undefined;
    });
    return channel.opening;
  }

  private onTimeout(channel: Channel, flight: InFlight): void {
    if (channel.inFlight.get(flight.id) !== flight) return;
    if (flight.attempt < this.options.retries) {
      flight.attempt++;
      this.counters.retransmissions++;
      if (flight.pending.kind === "acct") {
        // RFC 2866 §5.2 / RFC 5080 §2.2.1: a new Acct-Delay-Time makes a new packet, with a new Identifier.
        channel.inFlight.delete(flight.id);
        flight.id = this.takeId(channel);
        channel.inFlight.set(flight.id, flight);
        if (!this.encodes(channel, flight)) {
          this.pump(channel.kind);
          return;
        }
      }
      this.transmit(channel, flight);
      return;
    }
    // RFC 2865 §2.6: a server that answers nothing is skipped for a while.
    channel.inFlight.delete(flight.id);
    this.deadUntil[channel.serverIndex] = this.deps.clock.now() + this.options.deadTimeMs;
    flight.pending.tried.add(channel.serverIndex);
    if (flight.pending.tried.size >= this.options.servers.length) {
      flight.pending.finish({ kind: "unanswered", message: this.noServerMessage(flight.pending) });
    } else {
      this.queues[channel.kind].unshift(flight.pending);
    }
    this.pump(channel.kind);
  }

  private countBad(reason: BadReplyReason): void {
    this.counters.badReplies[reason] = (this.counters.badReplies[reason] ?? 0) + 1;
  }

  private onReply(channel: Channel, bytes: Uint8Array, from: PeerAddress): void {
    const checked = this.checkReply(channel, bytes, from);
    if (typeof checked === "string") {
      this.countBad(checked);
      return;
    }
    const { flight, server } = checked;
    this.deps.clock.clearTimeout(flight.timer);
    channel.inFlight.delete(flight.id);
    // An answer proves the server alive again.
    this.deadUntil[channel.serverIndex] = 0;
    // The reply's values are views into `bytes`: copy, since the socket may reuse its buffer.
    const own = decodePacket(copyBytes(bytes));
    if (own.ok) {
      flight.pending.finish({
        kind: "reply",
        packet: own.value,
        server,
        requestAuthenticator: flight.authenticator,
      });
    }
    this.pump(channel.kind);
  }

  /** The request a reply answers, or why the reply is bad. */
  private checkReply(
    channel: Channel,
    bytes: Uint8Array,
    from: PeerAddress,
  ): { flight: InFlight; server: RadiusServer } | BadReplyReason {
    if (from.port !== channel.to.port || from.address !== channel.to.address) return "wrong-source";
    const decoded = decodePacket(bytes);
    if (!decoded.ok) return decoded.error.field === "code" ? "unknown-code" : "malformed";
    const packet = decoded.value;
    const flight = channel.inFlight.get(packet.identifier);
    if (!flight) return "unknown-identifier";
    const expected =
      channel.kind === "auth"
        ? packet.code === RadiusCode.accessAccept ||
          packet.code === RadiusCode.accessReject ||
          packet.code === RadiusCode.accessChallenge
        : packet.code === RadiusCode.accountingResponse;
    if (!expected) return "unexpected-code";
    const server = this.options.servers[channel.serverIndex];
    const verified = verifyResponse(
      bytes,
      packet,
      flight.authenticator,
      secretOf(server),
      this.options.requireMessageAuthenticator,
    );
    if (!verified.ok) {
      return verified.error.field === "Message-Authenticator" ? "message-authenticator" : "authenticator";
    }
    return { flight, server };
  }
}

class ReplyAttributeError extends Error {}

/** A first-in first-out queue with O(1) push, shift and unshift (Array.shift is O(n) on large arrays). */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  push(item: T): void {
    this.items.push(item);
  }

  /** Puts an item back at the front (a request that failed over goes before later ones). */
  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    // Drop the consumed prefix once it is most of the array.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
