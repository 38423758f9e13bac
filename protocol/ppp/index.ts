/**
 * PPP wire formats (RFC 1661, 1662, 1332, 1334, 1570, 1877, 1994, 5072): the frame, LCP, PAP, CHAP, IPCP, async
 * HDLC framing with FCS-16, protocol names, and one-line descriptions. Pure: no I/O, no clocks. Decoders
 * of untrusted bytes return `Decoded<T>` and never throw; encoders throw RangeError on values that do
 * not fit. Decoded byte fields are views into the input, not copies.
 *
 * How the pieces fit: `frame.ts` peels the Address/Control/Protocol header; `control-packet.ts` reads the
 * Code/Identifier/Length packet that LCP and every NCP share, with `options.ts` reading the option list
 * through a per-protocol catalog; `lcp.ts`, `ipcp.ts` and `ipv6cp.ts` are such catalogs plus their codes; `pap.ts` and
 * `chap.ts` are the authentication protocols; `hdlc.ts` and `fcs.ts` frame PPP for a serial line or pty.
 */
export { hexBytes } from "../bytes.ts";
export * from "./chap.ts";
export {
  type CodeRejectPacket,
  type ConfigureCode,
  type ConfigurePacket,
  ControlCode,
  type ControlCodeName,
  controlCodeName,
  decodeCommonPacket,
  describeCommonPacket,
  encodeCommonPacket,
  type NcpCodec,
  type NcpPacket,
  ncpCodec,
  type PacketHeader,
  readPacketHeader,
  type TerminatePacket,
  type UnknownCodePacket,
  writePacket,
} from "./control-packet.ts";
export * from "./describe.ts";
export * from "./fcs.ts";
export * from "./frame.ts";
export * from "./hdlc.ts";
export * from "./ipcp.ts";
export * from "./ipv6cp.ts";
export * from "./lcp.ts";
export * from "./numbers.ts";
export {
  decodeOptions,
  describeOptions,
  encodeOptions,
  type OptionCatalog,
  type OptionSpec,
  type OptionSpecs,
  OptionValueError,
  type OptionValueResult,
  optionCatalog,
  optionLabel,
  type UnknownOption,
} from "./options.ts";
export * from "./pap.ts";
export * from "./result.ts";
