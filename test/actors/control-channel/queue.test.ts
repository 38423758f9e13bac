import { describe, expect, test } from "bun:test";
import { SendQueue } from "../../../actors/control-channel/send-queue.ts";
import type { ControlMessage } from "../../../protocol/l2tp/index.ts";
import { fromPeer, numbered, numberOf, single } from "./harness.ts";

const stop: ControlMessage = { type: "StopCCN", avps: { assignedTunnelId: 9, resultCode: { result: 1 } } };

describe("the queue behind the window (RFC 2661 §5.8)", () => {
  test("messages of calls the peer knows leave before new calls; each kind keeps its order", () => {
    const { channel, drainSent } = single();
    channel.peerReceiveWindow = 1;
    channel.send(numbered(1), 0); // in flight (CWND 1)
    channel.send(numbered(2), 0); // new calls: ICRQs with header session id 0
    channel.send(numbered(3), 0);
    channel.send(numbered(4), 41); // the peer knows these calls (ICCN-like)
    channel.send(numbered(5), 42);
    const order: number[] = [];
    let acked = 0;
    while (channel.outstanding > 0) {
      for (const p of drainSent()) order.push(numberOf(p.message) as number);
      acked++;
      channel.receive(fromPeer({ nr: acked }, null));
    }
    for (const p of drainSent()) order.push(numberOf(p.message) as number);
    expect(order).toEqual([1, 4, 5, 2, 3]);
  });

  test("discardQueued drops what has no Ns yet, keeps what is in flight, and a drain waiter sees it", async () => {
    const { channel, drainSent } = single();
    for (let i = 0; i < 5; i++) channel.send(numbered(i), 0);
    expect(drainSent()).toHaveLength(1);
    const drained = channel.whenDrained();
    expect(channel.discardQueued()).toBe(4);
    expect(channel.outstanding).toBe(1);
    expect(channel.stats().discarded).toBe(4);
    channel.receive(fromPeer({ nr: 1 }, null));
    await drained;
    expect(channel.outstanding).toBe(0);
    expect(drainSent()).toHaveLength(0);
  });

  test("onTransmit is called when the message leaves, not when it is queued", () => {
    const { channel, drainSent } = single();
    const left: string[] = [];
    channel.send(numbered(1), 0);
    channel.send(stop, 0, () => left.push("stop"));
    expect(left).toEqual([]);
    expect(drainSent()).toHaveLength(1);
    channel.receive(fromPeer({ nr: 1 }, null));
    expect(left).toEqual(["stop"]);
    expect(drainSent().map((p) => p.message?.type)).toEqual(["StopCCN"]);
  });
});

describe("acknowledgements while our window is full (RFC 2661 §5.8)", () => {
  test("an ack owed while our own messages wait for the window goes as a ZLB after this turn, not after the ack delay", () => {
    const { channel, clock, drainSent } = single({ ackDelayMs: 100 });
    channel.peerTunnelId = 5;
    channel.send(numbered(1), 0); // CWND 1: in flight
    channel.send(numbered(2), 0); // queued behind the window
    drainSent();
    // The peer sends a message that does not ack ours: we owe an ack and cannot piggyback it.
    channel.receive(fromPeer({ ns: 0, nr: 0 }, numbered(9)));
    expect(drainSent()).toHaveLength(0);
    clock.advance(0);
    const out = drainSent();
    expect(out.map((p) => [p.message, p.header.nr])).toEqual([[null, 1]]);
    expect(channel.stats().zlbsSent).toBe(1);
  });

  test("with nothing of ours waiting, the ack waits for the ack delay (a reply may carry it)", () => {
    const { channel, clock, drainSent } = single({ ackDelayMs: 100 });
    channel.receive(fromPeer({ ns: 0, nr: 0 }, numbered(9)));
    clock.advance(99);
    expect(drainSent()).toHaveLength(0);
    clock.advance(1);
    expect(drainSent().map((p) => p.message)).toEqual([null]);
  });
});

describe("SendQueue", () => {
  test("FIFO across many pushes and shifts (the consumed prefix is dropped), clear counts what it dropped", () => {
    const q = new SendQueue<number>();
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) {
      q.push(i);
      if (i % 3 === 0) out.push(q.shift() as number);
    }
    while (q.length > 10) out.push(q.shift() as number);
    expect(out).toEqual(Array.from({ length: out.length }, (_, i) => i));
    expect(q.clear()).toBe(10);
    expect(q.shift()).toBeUndefined();
    expect(q.length).toBe(0);
  });
});
