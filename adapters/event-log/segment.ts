/**
 * The on-disk format of the file event log. Each node has a directory of segment files named by the
 * seq of their first record (`00000001.log`, `00052001.log` …); a segment is a run of records:
 *
 *   u32 LE  payload length (1 … MAX_RECORD_BYTES)
 *   u32 LE  CRC-32 of the payload
 *   payload the envelope as JSON (UTF-8), as events/schema.ts encodes it
 *
 * A record is good when its length is in bounds, it is complete, its CRC matches, its JSON decodes to
 * an envelope of this node, and its seq follows the previous one. The first record that is not good
 * ends what a reader takes from a segment: after a crash that is the torn tail the writer cuts off.
 */
import { closeSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";
import type { Envelope } from "../../events/envelope.ts";
import { parseEnvelope } from "../../events/schema.ts";
import { crc32, crc32Utf8 } from "./crc32.ts";

/** Bytes before each payload: length and CRC. */
export const RECORD_HEADER_BYTES = 8;

/** The largest payload accepted; a larger length field is corruption (and never allocated). */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** One segment file of a node. */
export interface Segment {
  /** The seq of its first record (from its name). */
  first: number;
  path: string;
}

const SEGMENT_NAME = /^(\d{8,16})\.log$/;

/** The file name of the segment whose first record has `seq`. */
export function segmentName(seq: number): string {
  return `${String(seq).padStart(8, "0")}.log`;
}

/** The segments of a node directory, in seq order (none when the directory does not exist). */
export function listSegments(nodeDir: string): Segment[] {
  let names: string[];
  try {
    names = readdirSync(nodeDir);
  } catch {
    return [];
  }
  const segments: Segment[] = [];
  for (const name of names) {
    const match = SEGMENT_NAME.exec(name);
    if (match) segments.push({ first: Number(match[1]), path: join(nodeDir, name) });
  }
  return segments.sort((a, b) => a.first - b.first);
}

const encoder = new TextEncoder();

/**
 * Records framed back to back in one buffer, to be written with one call: each payload is encoded
 * straight into place (no intermediate array per record) and its header filled in behind it.
 */
export class RecordChunk {
  /** The buffer; bytes [0, length) hold whole records. */
  readonly bytes: Uint8Array;
  /** Bytes used. */
  length = 0;
  private readonly view: DataView;

  /** A chunk with room for `capacity` bytes of records. */
  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Whether a record of `text` surely fits (UTF-8 takes at most 3 bytes per UTF-16 unit). */
  fits(text: string): boolean {
    return this.length + RECORD_HEADER_BYTES + text.length * 3 <= this.bytes.length;
  }

  /** Frames `text` (UTF-8) as the next record; the caller checked `fits`. Returns the record's size. */
  add(text: string): number {
    const start = this.length + RECORD_HEADER_BYTES;
    const { written } = encoder.encodeInto(text, this.bytes.subarray(start));
    this.view.setUint32(this.length, written, true);
    this.view.setUint32(this.length + 4, crc32Utf8(text), true);
    this.length = start + written;
    return RECORD_HEADER_BYTES + written;
  }

  /** Empties the chunk for reuse (after its bytes were written). */
  clear(): void {
    this.length = 0;
  }
}

/** The size of the record that frames `text`. */
export function recordBytes(text: string): number {
  return RECORD_HEADER_BYTES + encoder.encode(text).length;
}

/** What reading at an offset found. */
export type RecordRead =
  | { kind: "record"; envelope: Envelope; end: number }
  /** The file ends exactly here. */
  | { kind: "end" }
  /** Bytes here that are not a good record (torn tail, corruption, or a record still being written). */
  | { kind: "bad"; reason: string };

const decoder = new TextDecoder("utf-8", { fatal: true });
const CHUNK_BYTES = 1 << 20;

/**
 * Reads records of one segment file by offset, through a read-ahead buffer. Never throws on bad bytes;
 * I/O errors of the file itself (permissions) do throw.
 */
export class SegmentReader {
  private fd: number | undefined;
  private chunk = new Uint8Array(CHUNK_BYTES);
  private chunkStart = 0;
  private chunkLength = 0;

  /** Opens `segment` for reading; `node` is the node whose records it must hold. */
  constructor(
    readonly segment: Segment,
    private readonly node: string,
  ) {
    this.fd = openSync(segment.path, "r");
  }

  /** Reads the record at `offset`; `expectedSeq` is the seq it must have. */
  read(offset: number, expectedSeq: number): RecordRead {
    if (!this.ensure(offset, RECORD_HEADER_BYTES)) {
      return this.available(offset) === 0
        ? { kind: "end" }
        : { kind: "bad", reason: "incomplete record header" };
    }
    const view = new DataView(this.chunk.buffer, this.chunk.byteOffset + (offset - this.chunkStart));
    const length = view.getUint32(0, true);
    const sum = view.getUint32(4, true);
    if (length === 0 || length > MAX_RECORD_BYTES)
      return { kind: "bad", reason: `record length ${length} out of bounds` };
    if (!this.ensure(offset, RECORD_HEADER_BYTES + length))
      return { kind: "bad", reason: "incomplete record" };
    const start = offset - this.chunkStart + RECORD_HEADER_BYTES;
    if (crc32(this.chunk, start, start + length) !== sum) return { kind: "bad", reason: "CRC mismatch" };
    let text: string;
    try {
      text = decoder.decode(this.chunk.subarray(start, start + length));
    } catch {
      return { kind: "bad", reason: "payload is not UTF-8" };
    }
    const decoded = parseEnvelope(text);
    if (!decoded.ok) return { kind: "bad", reason: `${decoded.error.field}: ${decoded.error.reason}` };
    const envelope = decoded.value;
    if (envelope.node !== this.node) return { kind: "bad", reason: `record of node ${envelope.node}` };
    if (envelope.seq !== expectedSeq)
      return { kind: "bad", reason: `seq ${envelope.seq} where ${expectedSeq} was due` };
    return { kind: "record", envelope, end: offset + RECORD_HEADER_BYTES + length };
  }

  /** Forgets what was read ahead (the file may have grown). */
  refresh(): void {
    this.chunkLength = 0;
  }

  /** Closes the file. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Bytes buffered from `offset` on. */
  private available(offset: number): number {
    return Math.max(0, this.chunkStart + this.chunkLength - offset);
  }

  /** Makes `n` bytes from `offset` available in the buffer; false at end of file. */
  private ensure(offset: number, n: number): boolean {
    if (offset >= this.chunkStart && offset + n <= this.chunkStart + this.chunkLength) return true;
    if (this.fd === undefined) return false;
    if (this.chunk.length < n) this.chunk = new Uint8Array(Math.max(n, CHUNK_BYTES));
    let filled = 0;
    for (;;) {
      const got = readSync(this.fd, this.chunk, filled, this.chunk.length - filled, offset + filled);
      if (got <= 0) break;
      filled += got;
      if (filled === this.chunk.length) break;
    }
    this.chunkStart = offset;
    this.chunkLength = filled;
    return filled >= n;
  }
}

/** The good records of one segment from its start: how far they reach, the last seq, and what stopped it. */
export interface SegmentScan {
  /** Offset just after the last good record. */
  goodEnd: number;
  /** Seq of the last good record (segment.first - 1 when none). */
  lastSeq: number;
  /** Time of the last good record (undefined when none). */
  lastTime: number | undefined;
  /** Why reading stopped before the end of the file, if it did. */
  bad?: string;
}

/** Reads a whole segment to find where its good records end. */
export function scanSegment(segment: Segment, node: string): SegmentScan {
  const reader = new SegmentReader(segment, node);
  try {
    let offset = 0;
    let seq = segment.first;
    let lastTime: number | undefined;
    for (;;) {
      const read = reader.read(offset, seq);
      if (read.kind === "end") return { goodEnd: offset, lastSeq: seq - 1, lastTime };
      if (read.kind === "bad") return { goodEnd: offset, lastSeq: seq - 1, lastTime, bad: read.reason };
      offset = read.end;
      lastTime = read.envelope.time;
      seq++;
    }
  } finally {
    reader.close();
  }
}
