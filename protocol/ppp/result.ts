/**
 * The decode result of `protocol/ppp`: the same `Decoded<T>` as `protocol/l2tp`, so that one error shape
 * ({ field, reason }) runs through the whole product. PPP errors use only `field` and `reason`.
 */
export type { Decoded, ProtocolError } from "../l2tp/result.ts";
export { fail } from "../l2tp/result.ts";
