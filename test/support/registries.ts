/**
 * What every ending of a node test checks: once a node is closed, its registries hold nothing (no
 * live actor, tunnel, destination, session or pending request is left behind).
 */
import { expect } from "bun:test";
import type { NodeSnapshot } from "../../actors/node.ts";

/** The registries of a node with nothing left in them. */
export const EMPTY_REGISTRIES: NodeSnapshot["registries"] = {
  liveActors: 0,
  tunnels: 0,
  tunnelsByPeer: 0,
  destinations: 0,
  sessions: 0,
  pendingRequests: 0,
  halfOpenTunnels: 0,
  halfOpenAddresses: 0,
  waitingSccrqs: 0,
};

/** Expects each of these registries (one per node) to be empty. */
export function expectEmptyRegistries(...registries: NodeSnapshot["registries"][]): void {
  for (const r of registries) expect(r).toEqual(EMPTY_REGISTRIES);
}
