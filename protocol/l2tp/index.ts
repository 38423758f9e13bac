/**
 * The L2TPv2 wire codec (RFC 2661): header, AVP catalog, control messages, hidden AVPs, tunnel
 * authentication and per-message validation. Pure functions over bytes: no I/O, no clock, no
 * randomness (random vectors and challenges are passed in).
 *
 * - header.ts: the §3.1 header, `peekIds` for the router, data-message headers.
 * - avps.ts: the AVP catalog (§4.4, RFC 3145, RFC 4951) and the typed `Avps`.
 * - messages.ts: `encodeControl` / `decodeControl` (hidden AVPs via hidden.ts, §4.3).
 * - validate.ts: `validateMessage`, the required AVPs of §6 and their result/error codes.
 * - auth.ts: `challengeResponse` (§4.2, §5.1.1).
 */
export * from "./auth.ts";
export * from "./avps.ts";
export * from "./header.ts";
export { HIDDEN_MINIMUM } from "./hidden.ts";
export * from "./message-types.ts";
export * from "./messages.ts";
export * from "./result.ts";
