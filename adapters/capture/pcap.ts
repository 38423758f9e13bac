/**
 * Capture files: reads pcap and pcapng (as tcpdump, tshark and dumpcap write them) down to the UDP
 * datagrams they carry, and writes pcap files of UDP datagrams so that an independent dissector
 * (tshark) can judge what our encoders produce. Pure functions over bytes; the caller reads the file.
 *
 * Formats: pcap (libpcap, both byte orders, micro- or nanosecond stamps) and pcapng (Section Header,
 * Interface Description, Enhanced and Simple Packet blocks; per-interface link type and if_tsresol).
 * Link types: 0 BSD loopback, 1 Ethernet (with 802.1Q tags), 101/228/229 raw IP, 113 Linux SLL, 276 SLL2.
 */

/** One UDP datagram found in a capture. */
export interface CapturedDatagram {
  /** Position of the packet in the capture, from 1 (as tshark numbers frames). */
  frame: number;
  /** Capture time in microseconds since the Unix epoch (fractional when the capture has ns). */
  timeMicros: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  payload: Uint8Array;
}

export type CaptureResult =
  | { ok: true; datagrams: CapturedDatagram[]; frames: number }
  | { ok: false; error: string };

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Reads a pcap or pcapng file's bytes into the UDP datagrams it holds; other frames are counted, not returned. */
export function readCapture(input: Uint8Array): CaptureResult {
  // A plain view, so that payloads are plain Uint8Arrays even when the caller passes a Node Buffer
  // (whose slice() shares memory instead of copying).
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (bytes.length < 4)
    return { ok: false, error: "capture: file is shorter than any capture header (4 bytes)" };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = view.getUint32(0, false);
  if (first === PCAPNG_SHB) return readPcapng(bytes, view);
  for (const littleEndian of [true, false]) {
    const magic = view.getUint32(0, littleEndian);
    if (magic === PCAP_MAGIC_US || magic === PCAP_MAGIC_NS) {
      return readPcap(bytes, view, littleEndian, magic === PCAP_MAGIC_NS ? 1000 : 1);
    }
  }
  return { ok: false, error: `capture: magic number 0x${first.toString(16)} is neither pcap nor pcapng` };
}

function readPcap(bytes: Uint8Array, view: DataView, le: boolean, unitsPerMicro: number): CaptureResult {
  if (bytes.length < 24)
    return { ok: false, error: "capture: pcap global header is truncated (needs 24 bytes)" };
  const linkType = view.getUint32(20, le) & 0x0fffffff;
  const datagrams: CapturedDatagram[] = [];
  let offset = 24;
  let frame = 0;
  while (offset + 16 <= bytes.length) {
    const seconds = view.getUint32(offset, le);
    const fraction = view.getUint32(offset + 4, le);
    const captured = view.getUint32(offset + 8, le);
    const start = offset + 16;
    if (start + captured > bytes.length) break; // torn last record: keep what came before
    frame++;
    const d = udpFromLinkLayer(bytes.subarray(start, start + captured), linkType);
    if (d) datagrams.push({ frame, timeMicros: seconds * 1e6 + fraction / unitsPerMicro, ...d });
    offset = start + captured;
  }
  return { ok: true, datagrams, frames: frame };
}

interface PcapngInterface {
  linkType: number;
  /** Timestamp units per second (if_tsresol; default 10^6). */
  unitsPerSecond: number;
}

function readPcapng(bytes: Uint8Array, view: DataView): CaptureResult {
  const datagrams: CapturedDatagram[] = [];
  let interfaces: PcapngInterface[] = [];
  let le = true;
  let offset = 0;
  let frame = 0;
  while (offset + 12 <= bytes.length) {
    const blockType = view.getUint32(offset, le);
    if (blockType === PCAPNG_SHB) {
      // The byte-order magic decides how this section (this block included) is read.
      const bom = view.getUint32(offset + 8, true);
      if (bom === BYTE_ORDER_MAGIC) le = true;
      else if (view.getUint32(offset + 8, false) === BYTE_ORDER_MAGIC) le = false;
      else
        return { ok: false, error: `capture: pcapng section at byte ${offset} has a bad byte-order magic` };
      interfaces = [];
    }
    const length = view.getUint32(offset + 4, le);
    if (length < 12 || length % 4 !== 0 || offset + length > bytes.length) break; // torn or corrupt tail
    const body = offset + 8;
    const bodyEnd = offset + length - 4;
    if (blockType === 1) {
      interfaces.push({
        linkType: view.getUint16(body, le),
        unitsPerSecond: readTsresol(bytes, view, body + 8, bodyEnd, le),
      });
    } else if (blockType === 6 || blockType === 3) {
      frame++;
      let iface: PcapngInterface | undefined;
      let data: Uint8Array;
      let timeMicros = 0;
      if (blockType === 6) {
        iface = interfaces[view.getUint32(body, le)];
        const ts = view.getUint32(body + 4, le) * 2 ** 32 + view.getUint32(body + 8, le);
        const captured = view.getUint32(body + 12, le);
        data = bytes.subarray(body + 20, Math.min(body + 20 + captured, bodyEnd));
        if (iface) timeMicros = (ts / iface.unitsPerSecond) * 1e6;
      } else {
        iface = interfaces[0];
        const original = view.getUint32(body, le);
        data = bytes.subarray(body + 4, Math.min(body + 4 + original, bodyEnd));
      }
      const d = iface ? udpFromLinkLayer(data, iface.linkType) : undefined;
      if (d) datagrams.push({ frame, timeMicros, ...d });
    }
    offset += length;
  }
  return { ok: true, datagrams, frames: frame };
}

/** Reads option if_tsresol (9) of an Interface Description Block: 10^-n or 2^-n seconds. */
function readTsresol(bytes: Uint8Array, view: DataView, offset: number, end: number, le: boolean): number {
  while (offset + 4 <= end) {
    const code = view.getUint16(offset, le);
    const length = view.getUint16(offset + 2, le);
    if (code === 0) break;
    if (code === 9 && length >= 1) {
      const v = bytes[offset + 4];
      return v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
    }
    offset += 4 + ((length + 3) & ~3);
  }
  return 1e6;
}

type UdpPart = Omit<CapturedDatagram, "frame" | "timeMicros">;

function udpFromLinkLayer(frame: Uint8Array, linkType: number): UdpPart | undefined {
  switch (linkType) {
    case 0: // BSD loopback: 4-byte address family in host order
      return udpFromIp(frame.subarray(4));
    case 1: {
      let offset = 12;
      let etherType = (frame[offset] << 8) | frame[offset + 1];
      while (etherType === 0x8100 || etherType === 0x88a8) {
        offset += 4;
        etherType = (frame[offset] << 8) | frame[offset + 1];
      }
      return etherType === 0x0800 || etherType === 0x86dd ? udpFromIp(frame.subarray(offset + 2)) : undefined;
    }
    case 101:
    case 228:
    case 229:
      return udpFromIp(frame);
    case 113:
      return udpFromIp(frame.subarray(16));
    case 276:
      return udpFromIp(frame.subarray(20));
    default:
      return undefined;
  }
}

function udpFromIp(packet: Uint8Array): UdpPart | undefined {
  if (packet.length < 1) return undefined;
  const version = packet[0] >> 4;
  let udp: Uint8Array;
  let src: string;
  let dst: string;
  if (version === 4) {
    const headerLength = (packet[0] & 0x0f) * 4;
    if (packet.length < headerLength + 8 || packet[9] !== 17) return undefined;
    if (((packet[6] & 0x1f) << 8) | packet[7]) return undefined; // a later IP fragment
    const total = (packet[2] << 8) | packet[3];
    src = packet.subarray(12, 16).join(".");
    dst = packet.subarray(16, 20).join(".");
    udp = packet.subarray(headerLength, Math.min(total || packet.length, packet.length));
  } else if (version === 6) {
    if (packet.length < 48 || packet[6] !== 17) return undefined; // extension headers are not followed
    src = ipv6Text(packet.subarray(8, 24));
    dst = ipv6Text(packet.subarray(24, 40));
    udp = packet.subarray(40);
  } else {
    return undefined;
  }
  if (udp.length < 8) return undefined;
  const udpLength = (udp[4] << 8) | udp[5];
  const end = udpLength >= 8 && udpLength <= udp.length ? udpLength : udp.length;
  return {
    src,
    srcPort: (udp[0] << 8) | udp[1],
    dst,
    dstPort: (udp[2] << 8) | udp[3],
    payload: udp.subarray(8, end),
  };
}

function ipv6Text(a: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((a[i] << 8) | a[i + 1]).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

/** A datagram to write into a pcap file: a captured one without its frame number, the time optional. */
export type DatagramToWrite = Omit<CapturedDatagram, "frame" | "timeMicros"> & { timeMicros?: number };

/**
 * Writes UDP-over-IPv4 datagrams as a pcap file with link type 101 (raw IP), valid IP and UDP
 * checksums included, so that tshark judges only what is in the payload.
 */
export function writePcap(datagrams: DatagramToWrite[]): Uint8Array {
  const total = 24 + datagrams.reduce((sum, d) => sum + 16 + 28 + d.payload.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, PCAP_MAGIC_US, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, 65535, true);
  view.setUint32(20, 101, true);
  let offset = 24;
  datagrams.forEach((d, i) => {
    const time = d.timeMicros ?? 1_700_000_000_000_000 + i * 1000;
    const length = 28 + d.payload.length;
    view.setUint32(offset, Math.floor(time / 1e6), true);
    view.setUint32(offset + 4, Math.floor(time % 1e6), true);
    view.setUint32(offset + 8, length, true);
    view.setUint32(offset + 12, length, true);
    offset += 16;
    const ip = out.subarray(offset, offset + length);
    const ipView = new DataView(ip.buffer, ip.byteOffset, ip.byteLength);
    ip[0] = 0x45;
    ipView.setUint16(2, length);
    ipView.setUint16(4, i & 0xffff);
    ip[6] = 0x40; // don't fragment
    ip[8] = 64;
    ip[9] = 17;
    ip.set(ipv4Bytes(d.src), 12);
    ip.set(ipv4Bytes(d.dst), 16);
    ipView.setUint16(10, internetChecksum(ip.subarray(0, 20), 0));
    ipView.setUint16(20, d.srcPort);
    ipView.setUint16(22, d.dstPort);
    ipView.setUint16(24, 8 + d.payload.length);
    ip.set(d.payload, 28);
    // UDP checksum over the IPv4 pseudo-header (RFC 768).
    const pseudo = sumWords(ip.subarray(12, 20), 0) + 17 + 8 + d.payload.length;
    const udpSum = internetChecksum(ip.subarray(20), pseudo);
    ipView.setUint16(26, udpSum === 0 ? 0xffff : udpSum);
    offset += length;
  });
  return out;
}

function ipv4Bytes(text: string): Uint8Array {
  const parts = text.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`capture: '${text}' is not an IPv4 address`);
  }
  return Uint8Array.from(parts);
}

function sumWords(bytes: Uint8Array, initial: number): number {
  let sum = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.length % 2) sum += bytes[bytes.length - 1] << 8;
  return sum;
}

function internetChecksum(bytes: Uint8Array, initial: number): number {
  let sum = sumWords(bytes, initial);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
