/**
 * PPP wire formats (RFC 1661, 1662, 1332, 1334, 1570, 1877, 1994): the frame, LCP, PAP, CHAP, IPCP, async
 * HDLC framing with FCS-16, protocol names, and one-line descriptions. Pure: no I/O, no clocks. Decoders
 * of untrusted bytes return `Decoded<T>` and never throw; encoders throw RangeError on values that do
 * not fit. Decoded byte fields are views into the input, not copies.
 */
export * from "./chap.ts";
export * from "./control-packet.ts";
export * from "./describe.ts";
export * from "./fcs.ts";
export * from "./frame.ts";
export * from "./hdlc.ts";
export * from "./ipcp.ts";
export * from "./lcp.ts";
export * from "./numbers.ts";
export * from "./options.ts";
export * from "./pap.ts";
export * from "./result.ts";
