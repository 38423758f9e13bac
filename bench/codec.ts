/**
 * bench/codec: decode and encode throughput of the L2TP control codec (issue 2).
 *
 * Two representative messages: an ICRQ of about ten AVPs (what an LNS decodes per new session) and an
 * SCCRQ with hidden AVPs (MD5 chaining on every hidden value). The "fresh buffer" cases decode a new copy
 * per call, as a socket hands them over: on Bun a small Uint8Array gets its ArrayBuffer only when `.buffer`
 * is first read, which a decode of the same array every time never pays again; "copy only" is the copy's
 * own cost, to subtract. "encode ZLB" and "encode data header" are the smallest packets the engine sends,
 * where the packet's allocation is most of the cost. Runs on Bun and Deno:
 *   node_modules/.bin/bun bench/codec.ts
 *   node_modules/.bin/deno run -A bench/codec.ts
 * Prints a human line per case, then one JSON line with every figure.
 */
import {
  type ControlHeader,
  type ControlMessage,
  decodeControl,
  encodeControl,
  encodeDataHeader,
} from "../protocol/l2tp/index.ts";
import { measure, runtimeName } from "./measure.ts";

const secret = new TextEncoder().encode("s3cret");
const header: ControlHeader = { tunnelId: 4242, sessionId: 0, ns: 17, nr: 9 };

const icrq: ControlMessage = {
  type: "ICRQ",
  avps: {
    assignedSessionId: 77,
    callSerialNumber: 123456,
    bearerType: { digital: false, analog: true },
    physicalChannelId: 12,
    callingNumber: "5551234",
    calledNumber: "5559876",
    subAddress: "12",
    minimumBps: 64000,
    maximumBps: 100000000,
  },
} as ControlMessage;

const sccrq: ControlMessage = {
  type: "SCCRQ",
  avps: {
    protocolVersion: { version: 1, revision: 0 },
    hostName: "lac.example.net",
    framingCapabilities: { sync: true, async: true },
    bearerCapabilities: { digital: true, analog: true },
    firmwareRevision: 0x0100,
    vendorName: "l2tp-engine",
    assignedTunnelId: 4242,
    receiveWindowSize: 16,
    challenge: new Uint8Array(16).fill(7),
  },
} as ControlMessage;
const hiddenOptions = {
  secret,
  hide: ["assignedTunnelId", "vendorName", "challenge"] as const,
  randomVector: new Uint8Array(16).fill(3),
};

const dataHeader = { tunnelId: 4242, sessionId: 77 };
const pppFrame = new Uint8Array(100).fill(0x21);

const icrqBytes = encodeControl(header, icrq);
const sccrqBytes = encodeControl(header, sccrq, hiddenOptions);
for (const [name, bytes] of [
  ["ICRQ", icrqBytes],
  ["SCCRQ hidden", sccrqBytes],
] as const) {
  const r = decodeControl(bytes, { secret });
  if (!r.ok) throw new Error(`bench/codec: ${name} does not decode: ${r.error.field}: ${r.error.reason}`);
}

const results = [
  measure("decode ICRQ", () => decodeControl(icrqBytes)),
  measure("copy only (ICRQ)", () => icrqBytes.slice()),
  measure("decode ICRQ (fresh buffer)", () => decodeControl(icrqBytes.slice())),
  measure("encode ICRQ", () => encodeControl(header, icrq)),
  measure("decode SCCRQ (3 hidden AVPs)", () => decodeControl(sccrqBytes, { secret })),
  measure("decode SCCRQ hidden (fresh buffer)", () => decodeControl(sccrqBytes.slice(), { secret })),
  measure("encode SCCRQ (3 hidden AVPs)", () => encodeControl(header, sccrq, hiddenOptions)),
  measure("encode ZLB", () => encodeControl(header, null)),
  measure("encode data header (PPP 100 bytes)", () => encodeDataHeader(dataHeader, pppFrame)),
];
console.log(
  `ICRQ ${icrqBytes.length} bytes, ${Object.keys(icrq.avps).length} AVPs; SCCRQ ${sccrqBytes.length} bytes`,
);
for (const r of results) {
  console.log(
    `${runtimeName().padEnd(5)} ${r.name.padEnd(34)} ${Math.round(r.perSecond).toLocaleString("en-US").padStart(11)} /s  (${r.nsPerOp.toFixed(0)} ns/op)`,
  );
}
console.log(JSON.stringify({ bench: "codec", runtime: runtimeName(), results }));
