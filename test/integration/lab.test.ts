/**
 * `l2tp lab` over real loopback UDP (issue 3): 10 tunnels × 100 sessions opened, then the destination
 * closed on the LAC: exactly 10 StopCCNs and no CDN, every actor ended, every registry empty on both sides.
 */
import { expect, test } from "bun:test";
import { runLab } from "../../bin/commands/lab.ts";
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
