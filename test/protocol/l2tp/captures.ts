/** Reads the xl2tpd captures of test/fixtures/captures into their L2TP control packets. */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readCapture } from "../../../adapters/capture/pcap.ts";

/** The directory of the captures. */
export const captureDir = fileURLToPath(new URL("../../fixtures/captures/", import.meta.url));

/** The tunnel secret every capture was made with. */
export const captureSecret = new TextEncoder().encode("s3cret");

/** One L2TP control datagram of a capture (T bit set). */
export interface CapturedControl {
  file: string;
  frame: number;
  payload: Uint8Array;
}

/** Capture file names (pcapng). */
export function captureFiles(): string[] {
  return readdirSync(captureDir)
    .filter((f) => f.endsWith(".pcapng"))
    .sort();
}

/** The L2TP datagrams of one capture (control when `control`, else data), in capture order. */
function packets(file: string, control: boolean): CapturedControl[] {
  const r = readCapture(new Uint8Array(readFileSync(captureDir + file)));
  if (!r.ok) throw new Error(`${file}: ${r.error}`);
  return r.datagrams
    .filter((d) => d.payload.length > 0 && ((d.payload[0] & 0x80) !== 0) === control)
    .map((d) => ({ file, frame: d.frame, payload: d.payload }));
}

/** The control datagrams of one capture, in capture order. */
export function controlPackets(file: string): CapturedControl[] {
  return packets(file, true);
}

/** The data datagrams (T bit clear) of one capture, in capture order. */
export function dataPackets(file: string): CapturedControl[] {
  return packets(file, false);
}
