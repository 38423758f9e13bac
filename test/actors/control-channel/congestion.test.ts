import { describe, expect, test } from "bun:test";
import { clampWindow, SlowStartCongestion } from "../../../actors/control-channel/congestion.ts";

describe("SlowStartCongestion (RFC 2661 Appendix A)", () => {
  test("starts at CWND 1 with SSTHRESH = peer window; slow start doubles per round trip", () => {
    const cc = new SlowStartCongestion(16);
    expect(cc.state).toEqual({ cwnd: 1, ssthresh: 16, peerWindow: 16 });
    expect(cc.window).toBe(1);
    // One round trip: every message of the window acked.
    const windows = [cc.window];
    for (let rtt = 0; rtt < 4; rtt++) {
      cc.onAck(cc.window);
      windows.push(cc.window);
    }
    expect(windows).toEqual([1, 2, 4, 8, 16]);
  });

  test("congestion avoidance above SSTHRESH: +1 per window's worth of acks", () => {
    const cc = new SlowStartCongestion(64);
    cc.onAck(3); // 4
    cc.onTimeout(); // ssthresh 2, cwnd 1
    expect(cc.state.ssthresh).toBe(2);
    expect(cc.state.cwnd).toBe(1);
    cc.onAck(1); // slow start: 2
    expect(cc.state.cwnd).toBe(2);
    cc.onAck(1); // avoidance: 2 + 1/2
    expect(cc.state.cwnd).toBeCloseTo(2.5);
    expect(cc.window).toBe(2);
    cc.onAck(1); // 2.5 + 1/2.5 = 2.9
    expect(cc.state.cwnd).toBeCloseTo(2.9);
    cc.onAck(1); // ≈ 3.245
    expect(cc.window).toBe(3);
  });

  test("timeout: SSTHRESH = max(CWND/2, 1), CWND = 1", () => {
    const cc = new SlowStartCongestion(8);
    cc.onAck(7);
    expect(cc.state.cwnd).toBe(8);
    cc.onTimeout();
    expect(cc.state).toEqual({ cwnd: 1, ssthresh: 4, peerWindow: 8 });
    cc.onTimeout();
    expect(cc.state.ssthresh).toBe(1);
    expect(cc.window).toBe(1);
  });

  test("never more than the peer's window, however many acks", () => {
    const cc = new SlowStartCongestion(4);
    cc.onAck(1000);
    expect(cc.window).toBe(4);
    expect(cc.state.cwnd).toBe(4);
    const one = new SlowStartCongestion(1);
    one.onAck(50);
    expect(one.window).toBe(1);
  });

  test("a peer window learnt later moves SSTHRESH until the first loss, and caps CWND", () => {
    const cc = new SlowStartCongestion();
    expect(cc.state.peerWindow).toBe(4);
    cc.setPeerWindow(32);
    expect(cc.state.ssthresh).toBe(32);
    cc.onAck(10);
    cc.setPeerWindow(2);
    expect(cc.window).toBe(2);
    cc.onTimeout();
    cc.setPeerWindow(100);
    expect(cc.state.ssthresh).toBe(1);
  });

  test("clampWindow keeps 1 … 65535", () => {
    expect(clampWindow(0)).toBe(1);
    expect(clampWindow(-3)).toBe(1);
    expect(clampWindow(Number.NaN)).toBe(1);
    expect(clampWindow(70_000)).toBe(65535);
    expect(clampWindow(4.7)).toBe(4);
  });
});
