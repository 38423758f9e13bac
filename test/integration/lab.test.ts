/**
 * `l2tp lab` over real loopback UDP (issue 3): 10 tunnels × 100 sessions opened, then the destination
 * closed on the LAC: exactly 10 StopCCNs and no CDN, every actor ended, every registry empty on both sides.
 */
import { expect, test } from "bun:test";
import type { SimulatedSubscriber } from "../../adapters/access/simulator.ts";
import { LAB_LNS_ADDRESS, pingAll, runLab } from "../../bin/commands/lab.ts";
import { icmpEchoReply, ipv4ToNumber } from "../../protocol/ipv4.ts";
import { expectEmptyRegistries } from "../support/registries.ts";

test("closing a destination of 10 tunnels × 100 sessions sends exactly 10 StopCCNs and leaves nothing", async () => {
  const report = await runLab({ sessions: 1000, tunnels: 10, holdMs: 0, window: 500 });
  expect(report.problems).toEqual([]);
  expect(report.established).toBe(1000);
  expect(report.tunnelsSeenOnLns).toBe(10);
  expect(report.sentByLac.StopCCN).toBe(10);
  expect(report.sentByLac.CDN).toBeUndefined();
  expect(report.sentByLns?.CDN).toBeUndefined();
  expect(report.sentByLac.ICRQ).toBe(1000);
  expectEmptyRegistries(report.leftover.lac, report.leftover.lns);
}, 30_000);

test("with PPP: 200 simulated subscribers through our LAC (domain map, proxy LCP) to our LNS: addresses, one ping each, closed by the destination", async () => {
  const report = await runLab({
    sessions: 200,
    tunnels: 2,
    holdMs: 0,
    window: 100,
    ppp: true,
    throughLac: true,
  });
  expect(report.problems).toEqual([]);
  expect(report.established).toBe(200);
  expect(report.ppp?.up).toBe(200);
  expect(report.ppp?.echoes).toBe(200);
  // One LCP negotiation per subscriber, on the LAC: the LNS took every proxy LCP over.
  expect(report.ppp?.lns?.proxyLcp).toBe(200);
  expect(report.ppp?.lns?.lcpRenegotiated).toBe(0);
  expect(report.ppp?.lac?.tunnelled).toBe(200);
  expect(report.ppp?.lac?.lnsDisconnects).toBe(200);
  expect(report.sentByLac.StopCCN).toBe(2);
  expect(report.sentByLac.CDN).toBeUndefined();
}, 60_000);

test("the lab's pings go out a window at a time, each window answered before the next (20,000 at once overflowed the LNS's socket)", async () => {
  const lns = ipv4ToNumber(LAB_LNS_ADDRESS) as number;
  let outstanding = 0;
  let most = 0;
  // Stand-ins for subscribers: each ping is answered on a later turn, as over UDP; the last one never is.
  const subscribers = Array.from({ length: 25 }, (_, i) => {
    const sub = {
      received: [] as Uint8Array[],
      context: () => ({ address: `10.64.0.${i + 1}` }),
      sendIp(packet: Uint8Array) {
        outstanding++;
        most = Math.max(most, outstanding);
        if (i === 24) return true;
        setTimeout(() => {
          outstanding--;
          sub.received.push(icmpEchoReply(packet, lns) as Uint8Array);
        }, 1);
        return true;
      },
    };
    return sub;
  });
  const answered = await pingAll(subscribers as unknown as SimulatedSubscriber[], 10, 200);
  expect(answered).toBe(24);
  expect(most).toBe(10);
}, 10_000);
