/**
 * The L2TPv2 wire codec (RFC 2661): header, AVP catalog, control messages, hidden AVPs, tunnel
 * authentication and per-message validation. Pure functions over bytes: no I/O, no clock, no randomness.
 */
export * from "./header.ts";
export * from "./messages.ts";
export * from "./result.ts";
