/**
 * PPP protocol numbers (RFC 1661 §2, IANA "PPP DLL Protocol Numbers") and their names, for code that
 * dispatches on them and for readable output.
 */

/** Protocol field values this product uses or shows by name. */
export const PppProtocol = {
  IPv4: 0x0021,
  VjCompressed: 0x002d,
  VjUncompressed: 0x002f,
  Multilink: 0x003d,
  IPv6: 0x0057,
  CompressedDatagram: 0x00fd,
  IPCP: 0x8021,
  IPv6CP: 0x8057,
  CCP: 0x80fd,
  LCP: 0xc021,
  PAP: 0xc023,
  LQR: 0xc025,
  CHAP: 0xc223,
  EAP: 0xc227,
} as const;

const protocolNames = new Map<number, string>([
  [0x0021, "IPv4"],
  [0x002d, "VJ-Compressed-TCP/IP"],
  [0x002f, "VJ-Uncompressed-TCP/IP"],
  [0x003d, "Multilink"],
  [0x0057, "IPv6"],
  [0x00fd, "Compressed-Datagram"],
  [0x8021, "IPCP"],
  [0x802d, "VJ-TCP/IP-Control"],
  [0x803d, "MLCP"],
  [0x8057, "IPv6CP"],
  [0x80fd, "CCP"],
  [0x8281, "MPLSCP"],
  [0xc021, "LCP"],
  [0xc023, "PAP"],
  [0xc025, "LQR"],
  [0xc223, "CHAP"],
  [0xc227, "EAP"],
]);

/** Whether a protocol number has the shape RFC 1661 §2 requires: low octet odd, high octet even. */
export function isValidProtocol(protocol: number): boolean {
  return Number.isInteger(protocol) && protocol >= 0 && protocol <= 0xffff && (protocol & 0x0101) === 0x0001;
}

/** The name of a protocol number ("LCP", "IPv4"), or its hex form ("0x8207") when it has none here. */
export function protocolName(protocol: number): string {
  return protocolNames.get(protocol) ?? hex16(protocol);
}

/** CHAP algorithm numbers carried in the LCP Authentication-Protocol option (RFC 1994 §3, RFC 2433, RFC 2759). */
export const ChapAlgorithm = { MD5: 5, MSCHAP: 0x80, MSCHAPv2: 0x81 } as const;

const chapAlgorithmNames = new Map<number, string>([
  [5, "CHAP-MD5"],
  [0x80, "MS-CHAP"],
  [0x81, "MS-CHAPv2"],
]);

/** A readable name of an authentication protocol and, for CHAP, its algorithm ("PAP", "CHAP-MD5"). */
export function authProtocolName(protocol: number, algorithm?: number): string {
  if (protocol === PppProtocol.CHAP && algorithm !== undefined) {
    return chapAlgorithmNames.get(algorithm) ?? `CHAP-alg${algorithm}`;
  }
  return protocolName(protocol);
}

/** `0x` and four hex digits. */
export function hex16(n: number): string {
  return `0x${n.toString(16).padStart(4, "0")}`;
}

/** `0x` and eight hex digits. */
export function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, "0")}`;
}
