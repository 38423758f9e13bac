/**
 * The PPP endpoint as pure functions: two endpoints (server and client) wired back to back, and a
 * scripted peer for the cases a well-behaved client never shows (unknown protocol and code, looped
 * link, silence, Naks).
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { PppDisconnectCode } from "../../../machines/ppp/disconnect.ts";
import {
  PPP_DEFAULTS,
  PPP_PHASE_EDGES,
  type PppContext,
  type PppEffect,
  type PppEvent,
  type PppInput,
  type PppSettings,
  phaseOf,
  pppStart,
  pppStep,
} from "../../../machines/ppp/endpoint.ts";
import { proxyAvpsOf } from "../../../machines/ppp/proxy-lcp.ts";
import { decodeChap } from "../../../protocol/ppp/chap.ts";
import { decodeIpcp } from "../../../protocol/ppp/ipcp.ts";
import { decodeIpv6cp, encodeIpv6cp, type Ipv6cpPacket } from "../../../protocol/ppp/ipv6cp.ts";
import { decodeLcp, encodeLcp, type LcpPacket } from "../../../protocol/ppp/lcp.ts";

const server: PppSettings = {
  ...PPP_DEFAULTS,
  role: "server",
  hostName: "lns",
  authProtocols: ["chap", "pap"],
  dns: ["10.0.0.53"],
};
const client: PppSettings = {
  ...PPP_DEFAULTS,
  role: "client",
  hostName: "c",
  user: "alice",
  password: "pw",
  dns: ["0.0.0.0"],
};
const path = { system: "t", ppp: true as const };

type Frame = { protocol: number; payload: Uint8Array };

/** Every change of phase the scenarios below made: "from event to". */
const moves = new Set<string>();

// The inspector draws a link's phases from PPP_PHASE_EDGES: every move made here must be drawn there.
afterAll(() => {
  const drawn = Object.entries(PPP_PHASE_EDGES).flatMap(([from, tos]) =>
    Object.entries(tos).flatMap(([to, events]) => (events ?? []).map((event) => `${from} ${event} ${to}`)),
  );
  expect([...moves].filter((move) => !drawn.includes(move))).toEqual([]);
  expect(moves.size).toBeGreaterThan(5);
});

/** One endpoint: its context, the effects not yet taken, and the links' ups and ends seen. */
class End {
  c: PppContext;
  readonly effects: PppEffect[] = [];
  /** Effects other than frames, taken from `effects` by `take`. */
  readonly others: PppEffect[] = [];
  /** `up` and `finished` effects seen. */
  readonly done: PppEffect[] = [];
  constructor(input: PppInput) {
    this.c = pppStart(input, this.effects);
  }
  step(event: PppEvent): void {
    const from = phaseOf(this.c);
    this.c = pppStep(this.c, event, this.effects);
    const to = phaseOf(this.c);
    if (from !== to) moves.add(`${from} ${event.type} ${to}`);
  }
  /** Hands a frame of the peer to this endpoint. */
  receive(f: Frame): void {
    this.step({ type: "frame", protocol: f.protocol, payload: f.payload });
  }
  /** Frames sent and not yet taken. */
  take(): Frame[] {
    const frames: Frame[] = [];
    for (const e of this.effects.splice(0)) {
      if (e.type === "send") frames.push({ protocol: e.protocol, payload: e.payload });
      else this.others.push(e);
    }
    return frames;
  }
}

/** Runs two endpoints until no frame is in flight; AAA says yes to `password`, addresses come from `address`. */
function converge(a: End, b: End, password = "pw", address = "10.1.0.7"): void {
  for (let rounds = 0; rounds < 50; rounds++) {
    let moved = false;
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      for (const f of from.take()) {
        moved = true;
        to.receive(f);
      }
      for (const e of from.others.splice(0)) {
        if (e.type === "authenticate") {
          const cred = e.credentials;
          const ok = cred.method === "pap" && new TextDecoder().decode(cred.password) === password;
          const chapOk = cred.method === "chap";
          from.step({ type: "authenticated", ok: ok || chapOk, message: ok || chapOk ? "welcome" : "no" });
          moved = true;
        } else if (e.type === "needAddress") {
          from.step({ type: "address", address });
          moved = true;
        }
        if (e.type === "up" || e.type === "ipv6Up" || e.type === "finished") from.done.push(e);
      }
    }
    if (!moved) return;
  }
  throw new Error("no convergence in 50 rounds");
}

function pair(s: Partial<PppSettings> = {}, c: Partial<PppSettings> = {}) {
  const a = new End({
    path,
    settings: { ...server, ...s },
    magic: 0x11111111,
    challenge: new Uint8Array(16).fill(9),
  });
  const b = new End({ path, settings: { ...client, ...c }, magic: 0x22222222 });
  return { a, b };
}

function lcp(frame: Frame | undefined): LcpPacket {
  const d = decodeLcp((frame as { payload: Uint8Array }).payload);
  if (!d.ok) throw new Error("not LCP");
  return d.value;
}

describe("two endpoints", () => {
  test("CHAP: Establish → Authenticate → Network → Opened; the client gets the address and the DNS", () => {
    const { a, b } = pair();
    converge(a, b);
    expect(a.c).toMatchObject({
      lcp: "opened",
      ipcp: "opened",
      auth: "passed",
      authProtocol: "chap",
      user: "alice",
      address: "10.1.0.7",
    });
    expect(b.c).toMatchObject({
      lcp: "opened",
      ipcp: "opened",
      auth: "passed",
      address: "10.1.0.7",
      peerAddress: "10.0.0.1",
      dnsLearnt: ["10.0.0.53"],
    });
    expect(a.done.some((e) => e.type === "up")).toBe(true);
    expect(b.c.peerMagic).toBe(0x11111111);
    expect(a.c.peerMagic).toBe(0x22222222);
  });

  test("PAP when the client Naks CHAP toward PAP", () => {
    const { a, b } = pair({}, { authProtocols: ["pap"] });
    converge(a, b);
    expect(a.c).toMatchObject({ authProtocol: "pap", auth: "passed", ipcp: "opened" });
  });

  test("no protocol in common: the link ends with RFC 3145 code 15", () => {
    const { a, b } = pair({ authProtocols: ["chap"] }, { authProtocols: ["pap"] });
    converge(a, b);
    expect(a.c.cause?.code).toBe(PppDisconnectCode.authProtocolRefused);
  });

  test("a wrong PAP password: Nak, then Terminate; code 16 on the server", () => {
    const { a, b } = pair({ authProtocols: ["pap"] }, { authProtocols: ["pap"], password: "bad" });
    converge(a, b);
    expect(a.c.cause?.code).toBe(PppDisconnectCode.authFailed);
    expect(b.c.cause?.code).toBe(PppDisconnectCode.authFailed);
  });

  test("an MRU above the path is Nak'd down to it", () => {
    const { a, b } = pair({}, { mru: 1500 + 100 });
    const request = b.take()[0];
    a.step({ type: "frame", protocol: 0xc021, payload: (request as { payload: Uint8Array }).payload });
    const frames = a.take().map(lcp);
    const nak = frames.find((p) => p.code === "Configure-Nak") as {
      options: { kind: string; value?: number }[];
    };
    expect(nak.options).toEqual([{ kind: "mru", value: 1460 }]);
  });
});

describe("a scripted peer", () => {
  function opened() {
    const { a, b } = pair();
    converge(a, b);
    return a;
  }

  test("an unknown protocol gets an LCP Protocol-Reject once LCP is open (RFC 1661 §5.7)", () => {
    const a = opened();
    a.step({ type: "frame", protocol: 0x8057, payload: Uint8Array.of(1, 1, 0, 4) });
    const p = lcp(a.take()[0]);
    expect(p).toMatchObject({ code: "Protocol-Reject", protocol: 0x8057 });
  });

  test("an unknown LCP code gets a Code-Reject (RFC 1661 §5.6) and the link stays up", () => {
    const a = opened();
    a.step({ type: "frame", protocol: 0xc021, payload: Uint8Array.of(42, 7, 0, 5, 0xee) });
    expect(lcp(a.take()[0])).toMatchObject({ code: "Code-Reject" });
    expect(a.c.lcp).toBe("opened");
  });

  test("an Echo-Request is answered with our magic number", () => {
    const a = opened();
    a.step({
      type: "frame",
      protocol: 0xc021,
      payload: encodeLcp({ code: "Echo-Request", id: 9, magic: 0x22222222, data: Uint8Array.of(1) }),
    });
    expect(lcp(a.take()[0])).toMatchObject({ code: "Echo-Reply", id: 9, magic: 0x11111111 });
  });

  test("a looped-back link (our own magic number, again and again) ends with code 7", () => {
    const a = new End({ path, settings: server, magic: 0x1234 });
    for (let i = 0; i < 10 && !a.c.cause; i++) {
      const ours = a
        .take()
        .map(lcp)
        .find((p) => p.code === "Configure-Request") as
        | { options: { kind: string; value?: number }[] }
        | undefined;
      const magic = ours?.options.find((o) => o.kind === "magicNumber")?.value ?? a.c.localMagic;
      a.step({
        type: "frame",
        protocol: 0xc021,
        payload: encodeLcp({
          code: "Configure-Request",
          id: i + 1,
          options: [{ kind: "magicNumber", value: magic }],
        }),
      });
    }
    expect(a.c.cause?.code).toBe(PppDisconnectCode.lcpMagicNumberError);
  });

  test("a silent peer: Max-Configure Configure-Requests, then code 6 (peer silent)", () => {
    const a = new End({ path, settings: server, magic: 1 });
    let requests = a.take().length;
    for (let i = 0; i < 20 && !a.c.ended; i++) {
      a.step({ type: "timer.lcp" });
      requests += a.take().length;
    }
    expect(requests).toBe(10);
    expect(a.c.cause?.code).toBe(PppDisconnectCode.lcpPeerSilent);
  });

  test("CHAP Challenges are resent on the restart timer, then the link ends with code 13", () => {
    const { a, b } = pair();
    // Let LCP open but drop the client's answers to the challenge.
    for (let i = 0; i < 10; i++) {
      for (const f of a.take()) b.receive(f);
      for (const f of b.take()) if (f.protocol !== 0xc223) a.receive(f);
    }
    expect(a.c.auth).toBe("challenged");
    let challenges = 0;
    for (let i = 0; i < 15 && !a.c.ended; i++) {
      a.step({ type: "timer.auth" });
      challenges += a.take().filter((f) => f.protocol === 0xc223 && decodeChap(f.payload).ok).length;
    }
    expect(challenges).toBeGreaterThan(5);
    expect(a.c.cause?.code).toBe(PppDisconnectCode.authTimeout);
  });

  test("the client's own address choice is Nak'd to the assigned one (RFC 1332 §3.3)", () => {
    const { a, b } = pair();
    converge(a, b);
    const req = Uint8Array.of(1, 5, 0, 10, 3, 6, 192, 168, 1, 1);
    a.step({ type: "frame", protocol: 0x8021, payload: req });
    const answers = a
      .take()
      .map((f) => decodeIpcp(f.payload))
      .filter((d) => d.ok)
      .map((d) => (d as { value: unknown }).value);
    expect(answers).toContainEqual({
      code: "Configure-Nak",
      id: 5,
      options: [{ kind: "ipAddress", address: "10.1.0.7" }],
    });
  });
});

describe("IPV6CP (RFC 5072) beside IPCP", () => {
  const SERVER_ID = "0a0000fffe000001";
  const CLIENT_ID = "0c0000fffe000002";
  const ZERO = "0000000000000000";

  function dualStack(serverId = SERVER_ID, clientId = CLIENT_ID, clientIpv6 = true) {
    const a = new End({
      path,
      settings: { ...server, ipv6: true },
      magic: 0x11111111,
      challenge: new Uint8Array(16).fill(9),
      interfaceId: serverId,
    });
    const b = new End({
      path,
      settings: { ...client, ipv6: clientIpv6 },
      magic: 0x22222222,
      interfaceId: clientId,
    });
    return { a, b };
  }

  function ipv6cp(frames: Frame[]): Ipv6cpPacket[] {
    return frames
      .filter((f) => f.protocol === 0x8057)
      .map((f) => decodeIpv6cp(f.payload))
      .flatMap((d) => (d.ok ? [d.value] : []));
  }

  test("both ends up: each learns the other's Interface-Identifier; IPCP still carries the address", () => {
    const { a, b } = dualStack();
    converge(a, b);
    expect(a.c).toMatchObject({
      ipcp: "opened",
      ipv6cp: "opened",
      peerInterfaceId: CLIENT_ID,
      address: "10.1.0.7",
    });
    expect(b.c).toMatchObject({ ipcp: "opened", ipv6cp: "opened", peerInterfaceId: SERVER_ID });
    expect(a.done).toContainEqual({
      type: "ipv6Up",
      localInterfaceId: SERVER_ID,
      peerInterfaceId: CLIENT_ID,
    });
    expect(b.done).toContainEqual({
      type: "ipv6Up",
      localInterfaceId: CLIENT_ID,
      peerInterfaceId: SERVER_ID,
    });
  });

  test("a client that asks with zero, or with our own identifier, is Nak'd a unique one and takes it", () => {
    for (const asked of [ZERO, SERVER_ID]) {
      const { a, b } = dualStack(SERVER_ID, asked);
      converge(a, b);
      const given = a.c.peerInterfaceId as string;
      expect(a.c.ipv6cp).toBe("opened");
      expect(given).toMatch(/^[0-9a-f]{16}$/);
      expect(given).not.toBe(ZERO);
      expect(given).not.toBe(SERVER_ID);
      expect(b.c.localInterfaceId).toBe(given);
    }
  });

  test("property: whatever identifiers both ends start with (zero, equal, any), both open with distinct non-zero ones", () => {
    const id = fc.oneof(
      fc.constantFrom(ZERO, SERVER_ID),
      fc
        .uint8Array({ minLength: 8, maxLength: 8 })
        .map((b) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("")),
    );
    fc.assert(
      fc.property(id, id, (serverId, clientId) => {
        const { a, b } = dualStack(serverId, clientId);
        converge(a, b);
        expect(a.c.ipv6cp).toBe("opened");
        expect(b.c.ipv6cp).toBe("opened");
        const [ours, theirs] = [a.c.localInterfaceId, b.c.localInterfaceId];
        expect(a.c.peerInterfaceId).toBe(theirs as string);
        expect(b.c.peerInterfaceId).toBe(ours as string);
        expect(ours).not.toBe(theirs);
        expect(ours).not.toBe(ZERO);
        expect(theirs).not.toBe(ZERO);
      }),
      { numRuns: 200 },
    );
  });

  test("a client without IPv6 rejects the protocol: IPV6CP stops, the link stays up on IPv4", () => {
    const { a, b } = dualStack(SERVER_ID, CLIENT_ID, false);
    converge(a, b);
    expect(a.c).toMatchObject({ ipcp: "opened", ipv6cp: "stopped", ended: false, cause: undefined });
    expect(b.c.ipcp).toBe("opened");
    expect(a.done.some((e) => e.type === "ipv6Up")).toBe(false);
  });

  test("a request without the option is Nak'd a suggestion once; left out again, it is accepted", () => {
    const { a, b } = dualStack();
    converge(a, b);
    const ask = (id: number) => {
      a.receive({ protocol: 0x8057, payload: encodeIpv6cp({ code: "Configure-Request", id, options: [] }) });
      return ipv6cp(a.take());
    };
    // The peer renegotiates IPV6CP (RFC 1661 §4.1: RCR in Opened), this time without its identifier.
    const first = ask(40);
    expect(first.find((p) => p.code === "Configure-Nak")).toMatchObject({
      id: 40,
      options: [{ kind: "interfaceIdentifier" }],
    });
    const second = ask(41);
    expect(second.find((p) => p.code === "Configure-Ack")).toMatchObject({ id: 41, options: [] });
  });

  test("compression and unknown options are rejected; our identifier, once rejected, is not sent again", () => {
    const a = new End({
      path,
      settings: { ...server, ipv6: true, authProtocols: [] },
      magic: 5,
      interfaceId: SERVER_ID,
    });
    const b = new End({ path, settings: { ...client, authProtocols: [] }, magic: 6 });
    for (let i = 0; i < 10; i++) {
      for (const f of a.take()) if (f.protocol !== 0x8057) b.receive(f);
      for (const f of b.take()) a.receive(f);
    }
    expect(a.c.lcp).toBe("opened");
    a.receive({
      protocol: 0x8057,
      payload: Uint8Array.of(1, 3, 0, 12, 2, 4, 0x00, 0x4f, 9, 4, 0xaa, 0xbb),
    });
    const reject = ipv6cp(a.take()).find((p) => p.code === "Configure-Reject") as {
      options: { type?: number; kind: string }[];
    };
    expect(reject.options.map((o) => o.kind)).toEqual(["ipv6Compression", "unknown"]);
    a.receive({
      protocol: 0x8057,
      payload: encodeIpv6cp({
        code: "Configure-Reject",
        id: a.c.ipv6cpNcp.id,
        options: [{ kind: "interfaceIdentifier", id: SERVER_ID }],
      }),
    });
    const next = ipv6cp(a.take()).find((p) => p.code === "Configure-Request") as { options: unknown[] };
    expect(next.options).toEqual([]);
    expect(a.c.localInterfaceId).toBeUndefined();
  });

  test("without settings.ipv6 an IPV6CP request gets a Protocol-Reject and nothing else changes", () => {
    const { a, b } = pair();
    converge(a, b);
    a.receive({
      protocol: 0x8057,
      payload: encodeIpv6cp({
        code: "Configure-Request",
        id: 1,
        options: [{ kind: "interfaceIdentifier", id: CLIENT_ID }],
      }),
    });
    expect(lcp(a.take()[0])).toMatchObject({ code: "Protocol-Reject", protocol: 0x8057 });
    expect(a.c.ipv6cp).toBe("initial");
  });
});

describe("our LCP request refused", () => {
  test("an MRU Nak'd to a value we can live with is asked for next; a rejected MRU is not asked for again", () => {
    const a = new End({ path, settings: server, magic: 7 });
    const first = lcp(a.take()[0]) as { id: number; options: { kind: string; value?: number }[] };
    expect(first.options).toContainEqual({ kind: "mru", value: 1460 });
    a.receive({
      protocol: 0xc021,
      payload: encodeLcp({ code: "Configure-Nak", id: first.id, options: [{ kind: "mru", value: 1400 }] }),
    });
    const second = lcp(a.take()[0]) as { id: number; options: { kind: string; value?: number }[] };
    expect(second.options).toContainEqual({ kind: "mru", value: 1400 });
    a.receive({
      protocol: 0xc021,
      payload: encodeLcp({
        code: "Configure-Reject",
        id: second.id,
        options: [{ kind: "mru", value: 1400 }],
      }),
    });
    const third = lcp(a.take()[0]) as { options: { kind: string }[] };
    expect(third.options.map((o) => o.kind)).not.toContain("mru");
  });
});

describe("a first Configure-Request lost", () => {
  /** The restart timer of LCP scheduled by the effects taken so far, the last one (undefined: none). */
  const lcpTimer = (e: End) =>
    e.others.filter((o) => o.type === "schedule" && o.timer === "timer.lcp").at(-1) as
      | { ms: number }
      | undefined;

  test("the peer's first request makes ours go again earlyResendMs later, not a restart period later; then LCP opens", () => {
    const { a, b } = pair();
    const lost = a.take(); // the LNS's first request, sent before the subscriber listened
    expect(lost.map(lcp).map((p) => p.code)).toEqual(["Configure-Request"]);
    for (const f of b.take()) a.receive(f); // the subscriber's request
    const ack = a.take();
    expect(ack.map(lcp).map((p) => p.code)).toEqual(["Configure-Ack"]);
    expect(lcpTimer(a)?.ms).toBe(PPP_DEFAULTS.earlyResendMs);
    for (const f of ack) b.receive(f);
    a.step({ type: "timer.lcp" });
    const again = a.take();
    expect(again.map(lcp).map((p) => p.code)).toEqual(["Configure-Request"]);
    expect(lcp(again[0]).id).not.toBe(lcp(lost[0]).id);
    expect(lcpTimer(a)?.ms).toBe(PPP_DEFAULTS.restartMs);
    for (const f of again) b.receive(f);
    converge(a, b);
    expect(a.c.lcp).toBe("opened");
    expect(a.c.ipcp).toBe("opened");
  });

  test("with earlyResendMs 0 ours goes again at once", () => {
    const { a, b } = pair({ earlyResendMs: 0 });
    a.take();
    for (const f of b.take()) a.receive(f);
    const answered = a.take();
    expect(answered.map(lcp).map((p) => p.code)).toEqual(["Configure-Ack", "Configure-Request"]);
    for (const f of answered) b.receive(f);
    converge(a, b);
    expect(a.c.lcp).toBe("opened");
  });

  test("requests that merely crossed: the peer's answer comes before the short timer, and ours is sent once", () => {
    // The client asks for an MRU the server Naks: the server's Ack comes back while it is in Req-Sent,
    // and the short timer gives way to a whole restart period (RFC 1661 §4.1, Ack-Rcvd).
    const { a, b } = pair({}, { mru: 4000 });
    const ours = a.take();
    const theirs = b.take();
    for (const f of ours) b.receive(f);
    for (const f of theirs) a.receive(f);
    const nak = a.take();
    expect(nak.map(lcp).map((p) => p.code)).toEqual(["Configure-Nak"]);
    expect(lcpTimer(a)?.ms).toBe(PPP_DEFAULTS.earlyResendMs);
    for (const f of b.take()) a.receive(f); // the client's Ack of ours
    expect(a.c.lcp).toBe("ack-rcvd");
    const sent = [...ours, ...nak, ...a.take()];
    expect(lcpTimer(a)?.ms).toBe(PPP_DEFAULTS.restartMs);
    for (const f of nak) b.receive(f);
    converge(a, b);
    expect(a.c.lcp).toBe("opened");
    const requests = sent.filter((f) => f.protocol === 0xc021 && lcp(f).code === "Configure-Request");
    expect(requests).toHaveLength(1);
  });
});

describe("a LAC's server endpoint (settings.lac): proxy LCP kept, the link handed on", () => {
  /** The options of an LCP Configure-Request frame (RFC 2661 §4.4.5: the body from the first option). */
  const optionsOf = (f: Frame) => f.payload.subarray(4);
  const isConfReq = (f: Frame) => f.protocol === 0xc021 && f.payload[0] === 1;

  test("the first and last Configure-Request received and the last sent are kept as on the wire; handOff ends it silently", () => {
    // Each side's first MRU is Nak'd by the other, so first and last requests differ both ways.
    const { a, b } = pair(
      { lac: true, authProtocols: ["pap"], mru: 1000 },
      { mru: 4000, minMru: 1200, maxMru: 4000 },
    );
    const fromClient: Frame[] = [];
    const fromServer: Frame[] = [];
    let credentials: PppEffect | undefined;
    // The server's first request is lost: the client's first request is answered by a second one.
    a.take();
    for (let round = 0; round < 20 && !credentials; round++) {
      for (const f of b.take()) {
        fromClient.push(f);
        a.receive(f);
      }
      for (const f of a.take()) {
        fromServer.push(f);
        b.receive(f);
      }
      credentials = a.others.find((e) => e.type === "authenticate");
      if (round === 0) a.step({ type: "timer.lcp" });
    }
    expect(credentials).toMatchObject({
      type: "authenticate",
      credentials: { method: "pap", user: "alice" },
    });
    const received = fromClient.filter(isConfReq);
    const sent = fromServer.filter(isConfReq);
    expect(received.length).toBeGreaterThanOrEqual(2);
    expect(optionsOf(received[0] as Frame)).not.toEqual(optionsOf(received.at(-1) as Frame));
    expect(optionsOf(sent[0] as Frame)).not.toEqual(optionsOf(sent.at(-1) as Frame));
    expect(a.c.lcpInitialReceived).toEqual(optionsOf(received[0] as Frame));
    expect(a.c.lcpLastReceived).toEqual(optionsOf(received.at(-1) as Frame));
    expect(a.c.lcpLastSent).toEqual(optionsOf(sent.at(-1) as Frame));
    expect(decodeLcp(concatHeader(a.c.lcpLastSent as Uint8Array)).ok).toBe(true);
    // Handed on: no PAP Ack from the LAC (the LNS answers), nothing sent, the link over.
    a.step({ type: "handOff", message: "tunnelled to 127.0.0.3:1701" });
    expect(a.take()).toEqual([]);
    expect(a.c.ended).toBe(true);
    expect(a.others.at(-1)).toMatchObject({
      type: "finished",
      cause: { message: "tunnelled to 127.0.0.3:1701" },
    });
  });

  test("its proxy AVPs are what our LNS takes over: LCP opened without a Configure-Request, the same credentials checked", () => {
    for (const method of ["pap", "chap"] as const) {
      const { a, b } = pair({ lac: true, authProtocols: [method] });
      let auth: (PppEffect & { type: "authenticate" }) | undefined;
      for (let round = 0; round < 20 && !auth; round++) {
        for (const f of b.take()) a.receive(f);
        for (const f of a.take()) b.receive(f);
        auth = a.others.find((e) => e.type === "authenticate") as typeof auth;
      }
      if (!auth) throw new Error("no authentication");
      const proxy = proxyAvpsOf(a.c, auth.credentials);
      expect(proxy.proxyAuthenType).toBe(method === "pap" ? 3 : 2);
      const lns = new End({ path, settings: server, magic: 0x33333333, challenge: new Uint8Array(16) });
      const withProxy = new End({ path, settings: server, magic: 0x33333333, proxy });
      expect(lns.take().some((f) => f.protocol === 0xc021)).toBe(true);
      expect(withProxy.take()).toEqual([]);
      expect(withProxy.c.proxied).toBe(true);
      expect(withProxy.others.find((e) => e.type === "authenticate")).toEqual(auth);
    }
  });

  test("without settings.lac nothing is kept and handOff is ignored", () => {
    const { a, b } = pair();
    converge(a, b);
    expect(a.c.lcpInitialReceived).toBeUndefined();
    expect(a.c.lcpLastSent).toBeUndefined();
    a.step({ type: "handOff", message: "x" });
    expect(a.c.ended).toBe(false);
  });
});

/** An LCP Configure-Request around these options (to check they decode as a request's body). */
function concatHeader(options: Uint8Array): Uint8Array {
  const out = new Uint8Array(options.length + 4);
  out.set([1, 1, (options.length + 4) >> 8, (options.length + 4) & 0xff]);
  out.set(options, 4);
  return out;
}
