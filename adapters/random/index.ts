/** Random adapters: Web Crypto for running nodes, a seeded generator for deterministic tests. */
export { cryptoRandom } from "./crypto.ts";
export { SeededRandom } from "./seeded.ts";
