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
