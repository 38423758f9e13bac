import { describe, expect, test } from "bun:test";
import type { OpenSessionOutcome } from "../../actors/node.ts";
import { LAC, Lab, LNS, lacConfig, lnsConfig } from "./lab.ts";

/**
 * Closing a destination right after its calls came up, while their ICCNs still wait behind the window
 * and some datagrams are lost: every tunnel must still send its StopCCN (the calls' queued messages are
 * dropped, and the hold counts from the StopCCN's transmission), and the LNS must end up empty.
 */
describe("node: closing a busy destination (RFC 2661 §5.7)", () => {
  test("every tunnel sends its StopCCN and the peer ends empty, with queued calls and 5% loss", async () => {
    for (const seed of [3, 4, 5]) {
      const lab = new Lab(seed);
      lab.net.setDefaultLink({ loss: 0.05, delayMs: 2 });
      const lac = lab.node(LAC.address, lacConfig({ maxSessionsPerTunnel: 60, stopHoldMs: 1000 }));
      const lns = lab.node(LNS.address, lnsConfig({ stopHoldMs: 1000 }));
      const outcomes: OpenSessionOutcome[] = await lab.until(
        Promise.all(Array.from({ length: 180 }, () => lac.openSession({ destination: LNS }))),
        600_000,
      );
      const up = outcomes.filter((o) => o.ok).length;
      expect(up).toBeGreaterThan(0);
      const tunnels = lns.snapshot({ sessions: false }).registries.tunnels;
      expect(lac.closeDestination(LNS)).toBe(true);
      await lab.run(40_000);
      const stops = new Set(lab.sent("StopCCN", LAC.address).map((w) => w.tunnelId));
      expect(stops.size).toBe(tunnels);
      expect(lns.snapshot({ sessions: false }).registries).toMatchObject({ sessions: 0, tunnels: 0 });
      await lab.closeAll();
    }
  });
});
