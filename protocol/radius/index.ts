/**
 * The RADIUS wire codec (RFC 2865, 2866, 2868, 2869, 3579): packets and their authenticators
 * (packet.ts), the attribute dictionary and typed values (attributes.ts), and the hiding of
 * User-Password and Tunnel-Password (hiding.ts). Pure: no I/O, no clock, no randomness (the caller
 * gives Request Authenticators and salts). Decoders of untrusted bytes return `Decoded<T>` and never
 * throw; encoders throw RangeError naming the attribute for a value that does not fit. Every comparison
 * of an authenticator is constant-time (`equalConstantTime`).
 */
export type { Decoded, ProtocolError } from "../l2tp/result.ts";
export * from "./attributes.ts";
export * from "./hiding.ts";
export * from "./packet.ts";
