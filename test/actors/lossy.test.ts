import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { OpenSessionOutcome } from "../../actors/node.ts";
import { expectEmptyRegistries } from "../support/registries.ts";
import { LAC, Lab, LNS, lacConfig, lnsConfig } from "./lab.ts";

/**
 * Property: under 10% loss, reordering and some duplication, every call either establishes or fails
 * with a cause, and once both nodes are closed no actor, registry entry or timer is left.
 */
describe("node under a lossy network (property, fixed seed)", () => {
  test("every tunnel and session establishes or fails cleanly, and nothing is left after close", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 1, max: 1_000_000 }),
          sessions: fc.integer({ min: 1, max: 12 }),
          perTunnel: fc.integer({ min: 1, max: 5 }),
          closeEvery: fc.integer({ min: 0, max: 4 }),
        }),
        async ({ seed, sessions, perTunnel, closeEvery }) => {
          const lab = new Lab(seed);
          lab.net.setDefaultLink({ loss: 0.1, reorder: 0.1, reorderMaxMs: 300, duplicate: 0.02, delayMs: 5 });
          const lac = lab.node(LAC.address, lacConfig({ maxSessionsPerTunnel: perTunnel }), {
            seed: seed + 1,
          });
          const lns = lab.node(LNS.address, lnsConfig(), { seed: seed + 2 });
          const outcomes: OpenSessionOutcome[] = await lab.until(
            Promise.all(Array.from({ length: sessions }, () => lac.openSession({ destination: LNS }))),
            900_000,
            50,
          );
          for (const o of outcomes) {
            if (!o.ok) {
              expect(o.cause.reason).toBeTruthy();
              expect(o.cause.message.length).toBeGreaterThan(0);
            }
          }
          // Close some calls from the LAC while others stay up.
          outcomes.forEach((o, i) => {
            if (o.ok && closeEvery > 0 && i % closeEvery === 0) lac.closeSession(o.tunnelId, o.sessionId);
          });
          await lab.run(2_000, 50);
          await lab.until(Promise.all([lac.close(), lns.close()]), 900_000, 50);
          expect(lab.wiringErrors).toEqual([]);
          // Let the network deliver what is still in flight.
          await lab.run(2_000, 100);
          expectEmptyRegistries(lac.snapshot().registries, lns.snapshot().registries);
          expect(lab.clock.pending).toBe(0);
          for (const o of outcomes) if (o.ok) expect((await o.ended).reason).toBeTruthy();
        },
      ),
      { seed: 20240611, numRuns: 25 },
    );
  }, 120_000);
});
