import { describe, expect, test } from "bun:test";
import { ControlChannelClosedError } from "../../../actors/control-channel/index.ts";
import type { ControlMessage, ProtocolError } from "../../../protocol/l2tp/index.ts";
import { fromPeer, numbered, numberOf, single } from "./harness.ts";

const hdr = (p: { header: { tunnelId: number; sessionId: number; ns: number; nr: number } }) =>
  `${p.header.tunnelId}/${p.header.sessionId} ns=${p.header.ns} nr=${p.header.nr}`;

describe("sending (RFC 2661 §5.8, Appendix A)", () => {
  test("Ns counts from 0; CWND 1 keeps the second message queued until the first is acked", () => {
    const { channel, drainSent } = single();
    channel.peerTunnelId = 7;
    channel.send(numbered(1), 0);
    channel.send(numbered(2), 3);
    let out = drainSent();
    expect(out.map(hdr)).toEqual(["7/0 ns=0 nr=0"]);
    expect(numberOf(out[0].message)).toBe(1);
    expect(channel.outstanding).toBe(2);
    expect(channel.inFlight).toBe(1);
    channel.receive(fromPeer({ nr: 1 }, null)); // ZLB acks Ns 0
    out = drainSent();
    expect(out.map(hdr)).toEqual(["7/3 ns=1 nr=0"]);
    expect(numberOf(out[0].message)).toBe(2);
    expect(channel.outstanding).toBe(1);
  });

  test("slow start: the window grows by one per ack up to the peer's window, and never beyond it", () => {
    const { channel, drainSent } = single();
    channel.peerReceiveWindow = 3;
    for (let i = 0; i < 20; i++) channel.send(numbered(i), 0);
    const inFlightSeen: number[] = [];
    let acked = 0;
    while (channel.outstanding > 0) {
      const burst = drainSent();
      inFlightSeen.push(burst.length);
      acked += burst.length;
      channel.receive(fromPeer({ nr: acked }, null));
    }
    expect(inFlightSeen).toEqual([1, 2, 3, 3, 3, 3, 3, 2]);
    expect(channel.stats().maxInFlight).toBe(3);
  });

  test("a peer window of 1 allows one message in flight, ever", () => {
    const { channel, drainSent } = single();
    channel.peerReceiveWindow = 1;
    for (let i = 0; i < 10; i++) channel.send(numbered(i), 0);
    for (let i = 1; i <= 10; i++) {
      expect(drainSent().length).toBe(1);
      expect(channel.inFlight).toBe(1);
      channel.receive(fromPeer({ nr: i }, null));
    }
    expect(channel.outstanding).toBe(0);
    expect(channel.stats().maxInFlight).toBe(1);
  });

  test("a cumulative ack releases several messages at once; a stale Nr changes nothing; a future one is ignored", () => {
    const { channel, drainSent } = single();
    channel.peerReceiveWindow = 8;
    channel.send(numbered(0), 0);
    channel.receive(fromPeer({ nr: 1 }, null));
    for (let i = 1; i <= 3; i++) channel.send(numbered(i), 0);
    expect(drainSent().length).toBe(3); // Ns 0, then 1 and 2 (CWND 2)
    expect(channel.inFlight).toBe(2);
    channel.receive(fromPeer({ nr: 0 }, null)); // stale
    expect(channel.inFlight).toBe(2);
    channel.receive(fromPeer({ nr: 9 }, null)); // acknowledges what was never sent
    expect(channel.inFlight).toBe(2);
    expect(channel.stats().invalidAcks).toBe(1);
    channel.receive(fromPeer({ nr: 3 }, null));
    expect(channel.inFlight).toBe(1); // Ns 3 went out
    expect(drainSent().map(hdr)).toEqual(["0/0 ns=3 nr=0"]);
  });

  test("the peer's tunnel id in the header is the one current at each transmission", () => {
    const { clock, channel, drainSent } = single();
    channel.send({ type: "SCCRQ", avps: { hostName: "lac" } }, 0);
    expect(drainSent().map(hdr)).toEqual(["0/0 ns=0 nr=0"]);
    channel.receive(fromPeer({ ns: 0, nr: 1 }, { type: "SCCRP", avps: { assignedTunnelId: 42 } }));
    channel.peerTunnelId = 42;
    channel.send({ type: "SCCCN", avps: {} }, 0);
    expect(drainSent().map(hdr)).toEqual(["42/0 ns=1 nr=1"]);
    clock.advance(200);
    expect(drainSent()).toEqual([]); // the SCCCN carried the ack: no ZLB
  });
});

describe("retransmission (RFC 2661 §5.8)", () => {
  test("1, 2, 4, 8, 8 s with the same Ns and the current Nr; then onFailure with a cause; no timer left", async () => {
    const { clock, channel, drainSent, failures } = single();
    channel.send({ type: "SCCRQ", avps: {} }, 0);
    const drained = channel.whenDrained();
    drainSent();
    const times: number[] = [];
    const at = (ms: number) => {
      clock.advance(ms - clock.now());
      for (const p of drainSent()) {
        expect(p.header.ns).toBe(0);
        expect(p.message?.type).toBe("SCCRQ");
        times.push(clock.now());
      }
    };
    for (const t of [999, 1000, 2999, 3000, 7000, 15_000, 23_000]) at(t);
    expect(times).toEqual([1000, 3000, 7000, 15_000, 23_000]);
    expect(failures).toEqual([]);
    at(31_000);
    expect(failures.length).toBe(1);
    expect(failures[0]).toContain("SCCRQ (Ns=0");
    expect(failures[0]).toContain("5 retransmissions");
    expect(channel.closed).toBe(true);
    expect(clock.pending).toBe(0);
    await expect(drained).rejects.toBeInstanceOf(ControlChannelClosedError);
  });

  test("a retransmission carries the Nr current then (it acknowledges what arrived meanwhile)", () => {
    const { clock, channel, drainSent } = single();
    channel.send(numbered(1), 0);
    drainSent();
    channel.receive(fromPeer({ ns: 0, nr: 0 }, numbered(100))); // acks nothing of ours
    clock.advance(100); // ZLB for the peer's message
    expect(drainSent().map(hdr)).toEqual(["0/0 ns=1 nr=1"]);
    clock.advance(900);
    expect(drainSent().map(hdr)).toEqual(["0/0 ns=0 nr=1"]);
  });

  test("a timeout drops CWND to 1; a partial ack then resends the next missing message at once", () => {
    const { clock, channel, drainSent } = single();
    channel.peerReceiveWindow = 8;
    channel.send(numbered(0), 0);
    channel.receive(fromPeer({ nr: 1 }, null));
    channel.receive(fromPeer({ nr: 1 }, null));
    for (let i = 1; i <= 3; i++) channel.send(numbered(i), 0);
    channel.receive(fromPeer({ nr: 2 }, null)); // cwnd 3 now: Ns 2, 3 out
    drainSent();
    expect(channel.inFlight).toBe(2);
    clock.advance(1000); // timeout: Ns 2 resent, cwnd 1
    expect(drainSent().map((p) => p.header.ns)).toEqual([2]);
    expect(channel.stats().cwnd).toBe(1);
    channel.receive(fromPeer({ nr: 3 }, null)); // partial ack: Ns 3 still missing
    expect(drainSent().map((p) => p.header.ns)).toEqual([3]);
    expect(channel.stats().retransmitted).toBe(2);
    channel.receive(fromPeer({ nr: 4 }, null));
    expect(channel.outstanding).toBe(0);
    expect(channel.stats().timeouts).toBe(1);
  });

  test("progress resets the retry budget: each message gets maxRetransmits of its own", () => {
    const { clock, channel, drainSent, failures } = single({ maxRetransmits: 2 });
    channel.send(numbered(1), 0);
    channel.send(numbered(2), 0);
    clock.advance(1000 + 2000); // two retransmissions of Ns 0
    channel.receive(fromPeer({ nr: 1 }, null));
    clock.advance(1000 + 2000); // two of Ns 1
    expect(failures).toEqual([]);
    clock.advance(4000);
    expect(failures.length).toBe(1);
    expect(failures[0]).toContain("Ns=1");
    drainSent();
  });

  test("encodeOptions is asked at every transmission", () => {
    let asked = 0;
    const encodeOptions = () => {
      asked++;
      return {};
    };
    const { clock, channel } = single({}, { encodeOptions });
    channel.send(numbered(1), 0);
    clock.advance(1000);
    expect(asked).toBe(2);
  });
});

describe("receiving (RFC 2661 §5.8)", () => {
  test("in order: delivered at once; a ZLB after the ack delay, session id 0, Ns = next Ns, not consumed", () => {
    const { clock, channel, delivered, drainSent } = single();
    channel.peerTunnelId = 9;
    channel.receive(fromPeer({ ns: 0, nr: 0, sessionId: 5 }, numbered(1)));
    expect(delivered.map((d) => numberOf(d.message))).toEqual([1]);
    expect(delivered[0].header.sessionId).toBe(5);
    clock.advance(99);
    expect(drainSent()).toEqual([]);
    clock.advance(1);
    const [zlb] = drainSent();
    expect(zlb.message).toBeNull();
    expect(hdr(zlb)).toBe("9/0 ns=0 nr=1");
    channel.send(numbered(2), 0);
    expect(drainSent().map(hdr)).toEqual(["9/0 ns=0 nr=1"]); // same Ns as the ZLB
    expect(channel.stats().zlbsSent).toBe(1);
  });

  test("with half our window owed an ack and no reply, the ZLB goes at once (the peer may be stalled)", () => {
    const { channel, drainSent } = single({ receiveWindow: 8 });
    for (let ns = 0; ns < 3; ns++) channel.receive(fromPeer({ ns }, numbered(ns)));
    expect(drainSent()).toEqual([]);
    channel.receive(fromPeer({ ns: 3 }, numbered(3)));
    expect(drainSent().map(hdr)).toEqual(["0/0 ns=0 nr=4"]);
    // Held messages released together count together.
    channel.receive(fromPeer({ ns: 5 }, numbered(5)));
    channel.receive(fromPeer({ ns: 6 }, numbered(6)));
    channel.receive(fromPeer({ ns: 7 }, numbered(7)));
    expect(drainSent()).toEqual([]);
    channel.receive(fromPeer({ ns: 4 }, numbered(4)));
    expect(drainSent().map(hdr)).toEqual(["0/0 ns=0 nr=8"]);
  });

  test("a CDN is acknowledged at once by a ZLB naming the sender's call (xl2tpd frees the call only then)", () => {
    const ctx = single(
      {},
      {
        // Even when a reply carries the ack, the ZLB naming the cleared call still goes.
        deliver: (message) => {
          if (message.type === "CDN") ctx.channel.send(numbered(1), 0);
        },
      },
    );
    ctx.channel.peerTunnelId = 9;
    const cdn: ControlMessage = { type: "CDN", avps: { resultCode: { result: 1 }, assignedSessionId: 77 } };
    ctx.channel.receive(fromPeer({ ns: 0, nr: 0, sessionId: 5 }, cdn));
    expect(ctx.drainSent().map((p) => `${p.message?.type ?? "ZLB"} ${hdr(p)}`)).toEqual([
      "ICRQ 9/0 ns=0 nr=1",
      "ZLB 9/77 ns=1 nr=1",
    ]);
    // A retransmitted CDN is acknowledged like any duplicate, on session 0: the peer may have freed the call.
    ctx.channel.receive(fromPeer({ ns: 0, nr: 1, sessionId: 5 }, cdn));
    ctx.clock.advance(100);
    expect(ctx.drainSent().map(hdr)).toEqual(["9/0 ns=1 nr=1"]);
  });

  test("a reply sent from deliver carries the ack: no ZLB", () => {
    const ctx = single(
      {},
      {
        deliver: (message) => {
          if (message.type === "SCCRQ") ctx.channel.send({ type: "SCCRP", avps: {} }, 0);
        },
      },
    );
    ctx.channel.receive(fromPeer({ ns: 0, nr: 0 }, { type: "SCCRQ", avps: {} }));
    ctx.clock.advance(500);
    expect(ctx.drainSent().map(hdr)).toEqual(["0/0 ns=0 nr=1"]);
  });

  test("a duplicate is dropped and acknowledged again", () => {
    const { clock, channel, delivered, drainSent } = single();
    channel.receive(fromPeer({ ns: 0 }, numbered(1)));
    clock.advance(100);
    expect(drainSent().length).toBe(1);
    channel.receive(fromPeer({ ns: 0 }, numbered(1)));
    expect(delivered.length).toBe(1);
    clock.advance(100);
    expect(drainSent().map(hdr)).toEqual(["0/0 ns=0 nr=1"]);
    expect(channel.stats().duplicates).toBe(1);
  });

  test("early messages within our window are held and delivered in order; beyond it, dropped", () => {
    const { channel, delivered } = single({ receiveWindow: 4 });
    channel.receive(fromPeer({ ns: 2 }, numbered(2)));
    channel.receive(fromPeer({ ns: 4 }, numbered(4))); // window is Ns 0…3
    channel.receive(fromPeer({ ns: 1 }, numbered(1)));
    expect(delivered).toEqual([]);
    channel.receive(fromPeer({ ns: 0 }, numbered(0)));
    expect(delivered.map((d) => numberOf(d.message))).toEqual([0, 1, 2]);
    expect(channel.state().nr).toBe(3);
    expect(channel.stats()).toMatchObject({ heldOutOfOrder: 2, beyondWindow: 1, delivered: 3 });
  });

  test("HELLO from the peer is delivered and acknowledged like any message", () => {
    const { clock, channel, delivered, drainSent } = single();
    channel.receive(fromPeer({ ns: 0 }, { type: "HELLO", avps: {} }));
    expect(delivered.map((d) => d.message.type)).toEqual(["HELLO"]);
    clock.advance(100);
    expect(drainSent().map(hdr)).toEqual(["0/0 ns=0 nr=1"]);
  });

  test("a message that failed to decode after its header is acknowledged and reported in order", () => {
    const invalid: [string, number][] = [];
    const { clock, channel, delivered, drainSent } = single(
      {},
      { deliverInvalid: (error, header) => invalid.push([error.field, header.ns]) },
    );
    const error: ProtocolError = {
      field: "avp[1] (vendor 0, type 99).mandatory",
      reason: "unknown mandatory AVP",
      errorCode: 8,
      header: { tunnelId: 1, sessionId: 0, ns: 1, nr: 0 },
    };
    channel.receiveInvalid(error); // early: held
    expect(invalid).toEqual([]);
    channel.receive(fromPeer({ ns: 0 }, numbered(0)));
    expect(delivered.length).toBe(1);
    expect(invalid).toEqual([["avp[1] (vendor 0, type 99).mandatory", 1]]);
    clock.advance(100);
    expect(drainSent().map(hdr)).toEqual(["0/0 ns=0 nr=2"]);
    channel.receiveInvalid({ field: "header.version", reason: "not 2" }); // no header: ignored
    expect(channel.state().nr).toBe(2);
  });
});

describe("sequence numbers wrap at 2^16", () => {
  test("sending across 65535 → 0, acknowledged across the wrap", () => {
    const { channel, drainSent } = single({ initialNs: 65534 });
    channel.peerReceiveWindow = 4;
    for (let i = 0; i < 4; i++) channel.send(numbered(i), 0);
    const ns: number[] = [];
    let nr = 65534;
    while (channel.outstanding > 0) {
      for (const p of drainSent()) {
        ns.push(p.header.ns);
        nr = (p.header.ns + 1) & 0xffff;
      }
      channel.receive(fromPeer({ nr }, null));
    }
    expect(ns).toEqual([65534, 65535, 0, 1]);
    expect(channel.state().ns).toBe(2);
  });

  test("receiving across 65535 → 0, with early messages held across the wrap", () => {
    const { channel, delivered } = single({ initialNr: 65534 });
    channel.receive(fromPeer({ ns: 0 }, numbered(3)));
    channel.receive(fromPeer({ ns: 65535 }, numbered(2)));
    channel.receive(fromPeer({ ns: 65534 }, numbered(1)));
    channel.receive(fromPeer({ ns: 65533 }, numbered(0))); // "less than" Nr: a duplicate
    expect(delivered.map((d) => numberOf(d.message))).toEqual([1, 2, 3]);
    expect(channel.state().nr).toBe(1);
    expect(channel.stats().duplicates).toBe(1);
  });
});

describe("hello (RFC 2661 §6.5)", () => {
  test("after the hello interval without hearing the peer, a HELLO goes out reliably with session id 0", () => {
    const { clock, channel, drainSent } = single();
    channel.receive(fromPeer({ ns: 0 }, numbered(0)));
    clock.advance(30_000);
    channel.receive(fromPeer({ ns: 0, nr: 0 }, null)); // a ZLB counts as hearing the peer
    drainSent();
    clock.advance(59_999);
    expect(drainSent()).toEqual([]);
    clock.advance(1);
    const [hello] = drainSent();
    expect(hello.message?.type).toBe("HELLO");
    expect(hdr(hello)).toBe("0/0 ns=0 nr=1");
    expect(channel.outstanding).toBe(1);
    clock.advance(1000);
    expect(drainSent().map((p) => p.message?.type)).toEqual(["HELLO"]); // retransmitted like any message
    channel.receive(fromPeer({ ns: 1, nr: 1 }, null));
    expect(channel.outstanding).toBe(0);
  });

  test("data from the peer (peerHeard) also postpones the HELLO (RFC 2661 §5.5)", () => {
    const { clock, channel, drainSent } = single({ helloIntervalMs: 1000 });
    for (let i = 0; i < 5; i++) {
      clock.advance(900);
      channel.peerHeard();
    }
    expect(drainSent()).toEqual([]);
    clock.advance(1000);
    expect(drainSent().map((p) => p.message?.type)).toEqual(["HELLO"]);
  });

  test("no HELLO while messages are in flight (their retransmissions probe the peer)", () => {
    const { clock, channel, drainSent } = single({ helloIntervalMs: 500, maxRetransmits: 10 });
    channel.send(numbered(0), 0);
    clock.advance(2000);
    expect(drainSent().every((p) => p.message?.type === "ICRQ")).toBe(true);
    expect(channel.stats().hellos).toBe(0);
  });

  test("a dead peer is found: HELLO unanswered → onFailure", () => {
    const { clock, failures } = single({ helloIntervalMs: 60_000 });
    clock.advance(60_000 + 31_000);
    expect(failures.length).toBe(1);
    expect(failures[0]).toContain("HELLO");
  });
});

describe("draining, state and closing", () => {
  test("whenDrained resolves when everything sent is acknowledged (at once when nothing is)", async () => {
    const { channel } = single();
    await channel.whenDrained();
    channel.send({ type: "StopCCN", avps: { assignedTunnelId: 1, resultCode: { result: 1 } } }, 0);
    let drained = false;
    const p = channel.whenDrained().then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    channel.receive(fromPeer({ nr: 1 }, null));
    await p;
    expect(drained).toBe(true);
  });

  test("state() tells Ns, Nr and the peer's tunnel id for failover; a resumed channel continues from it", () => {
    const { channel } = single();
    channel.peerTunnelId = 77;
    channel.send(numbered(0), 0);
    channel.receive(fromPeer({ ns: 0, nr: 1 }, numbered(1)));
    const state = channel.state();
    expect(state).toEqual({ ns: 1, nr: 1, peerTunnelId: 77 });
    const resumed = single({ initialNs: state.ns, initialNr: state.nr });
    resumed.channel.peerTunnelId = state.peerTunnelId;
    resumed.channel.send(numbered(2), 0);
    expect(hdr(resumed.sent[0])).toBe("77/0 ns=1 nr=1");
  });

  test("close stops every timer (none left on the clock), is idempotent, and rejects drain waiters", async () => {
    const { clock, channel, drainSent } = single();
    channel.send(numbered(0), 0);
    channel.send(numbered(1), 0);
    channel.receive(fromPeer({ ns: 0 }, numbered(5))); // ack owed
    const drained = channel.whenDrained();
    expect(clock.pending).toBe(3); // retransmit, ack, hello
    channel.close();
    channel.close();
    expect(clock.pending).toBe(0);
    await expect(drained).rejects.toBeInstanceOf(ControlChannelClosedError);
    await expect(channel.whenDrained()).rejects.toThrow("closed");
    drainSent();
    channel.send(numbered(2), 0);
    channel.receive(fromPeer({ ns: 1 }, numbered(6)));
    clock.advance(100_000);
    expect(drainSent()).toEqual([]);
    expect(channel.outstanding).toBe(0);
  });

  test("closing from inside deliver stops delivery of the held messages that follow", () => {
    const seen: number[] = [];
    const ctx = single(
      {},
      {
        deliver: (m) => {
          seen.push(numberOf(m) ?? -1);
          ctx.channel.close();
        },
      },
    );
    ctx.channel.receive(fromPeer({ ns: 1 }, numbered(1)));
    ctx.channel.receive(fromPeer({ ns: 0 }, numbered(0)));
    expect(seen).toEqual([0]);
    expect(ctx.clock.pending).toBe(0);
  });
});
