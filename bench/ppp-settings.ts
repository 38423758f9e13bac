/**
 * What bench/ppp and its LNS child (bench/lns-child.ts --ppp) agree on: the subscribers' names and
 * passwords, the LNS's own PPP address and the pool every call takes its address from.
 */
import type { AddressPoolConfig } from "../actors/address-pool.ts";

/** The LNS's address on every PPP link (IPCP, RFC 1332). */
export const LNS_PPP_ADDRESS = "10.0.0.1";

/** A pool of 2^20 - 1 addresses (the largest AddressPool takes): every call of the largest case gets one. */
export const BENCH_POOL: AddressPoolConfig = { name: "bench", start: "10.64.0.1", end: "10.79.255.255" };

/** N subscribers of the AAA database; the benchmark's calls all present the first. */
export function benchUsers(n: number): { name: string; password: string }[] {
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`bench/ppp: --users: expected a whole number ≥ 1, got ${n}`);
  return Array.from({ length: n }, (_, i) => ({ name: `user${i}`, password: `pw-${i}-secret` }));
}
