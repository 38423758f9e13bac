/**
 * Tunnel and session id allocation (RFC 2661 §4.4.3, §4.4.4): random, non-zero, 16-bit, unused in its
 * scope (tunnel ids in the node, session ids in their tunnel). Random ids make a stale packet from an
 * earlier tunnel or session unlikely to hit a new one.
 */
import type { Random } from "./ports.ts";

/** The largest 16-bit id; 0 is reserved ("not assigned yet"). */
export const MAX_ID = 0xffff;

/** Random probes before falling back to a scan (keeps allocation O(1) until the space is nearly full). */
const PROBES = 16;

/**
 * Picks a random non-zero 16-bit id that `inUse` does not have (the registry of its scope itself, a Map
 * or a Set: no closure per allocation), or undefined when all 65,535 are taken. A few random probes,
 * then a scan from a random start, so a nearly full space still answers.
 */
export function allocateId(random: Random, inUse: { has(id: number): boolean }): number | undefined {
  for (let i = 0; i < PROBES; i++) {
    const id = random.uint32() & MAX_ID;
    if (id !== 0 && !inUse.has(id)) return id;
  }
  const start = (random.uint32() % MAX_ID) + 1;
  for (let i = 0; i < MAX_ID; i++) {
    const id = ((start - 1 + i) % MAX_ID) + 1;
    if (!inUse.has(id)) return id;
  }
  return undefined;
}
