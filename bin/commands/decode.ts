/**
 * `l2tp decode`: the first tool after an incident. Decodes L2TP packets given as hex or found in a
 * pcap/pcapng file, one readable line per message with its AVPs (or PPP inside data messages), hidden
 * AVPs revealed with --secret, JSON lines with --json.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { type CapturedDatagram, readCapture } from "../../adapters/capture/pcap.ts";
import { describePacket, type PacketDescription } from "../../protocol/describe.ts";
import { L2TP, parseCommandArgs, UsageError } from "./cli.ts";
import type { Command } from "./index.ts";

const HELP = `usage: ${L2TP} decode (--hex HEX … | --pcap FILE [--port N]) [--secret S] [--json]

  --hex HEX      an L2TP packet (UDP payload) in hex; spaces and colons are ignored; repeatable
  --pcap FILE    every L2TP packet of a pcap or pcapng file
  --port N       only UDP datagrams from or to port N (default: every datagram that parses as L2TPv2)
  --secret S     the tunnel secret: reveals hidden AVPs (RFC 2661 §4.3)
  --json         one JSON object per packet, for machines
`;

export const decode: Command = {
  summary: "decode L2TP packets from hex or a pcap/pcapng file (--secret reveals hidden AVPs)",
  async run(argv) {
    const { values } = parseCommandArgs("decode", {
      args: argv,
      options: {
        hex: { type: "string", multiple: true },
        pcap: { type: "string" },
        port: { type: "string" },
        secret: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    });
    if (values.help || (!values.hex && !values.pcap)) {
      process.stdout.write(HELP);
      return values.help ? 0 : 2;
    }
    if (values.hex && values.pcap) {
      throw new UsageError(
        "give --hex or --pcap, not both: packets in hex and a capture are decoded separately",
      );
    }
    if (values.port !== undefined && !values.pcap) {
      throw new UsageError("--port picks the datagrams of a capture: give it with --pcap");
    }
    const secret = values.secret === undefined ? undefined : new TextEncoder().encode(values.secret);
    const port = values.port === undefined ? undefined : parsePort(values.port);

    const datagrams: Array<Partial<CapturedDatagram> & { payload: Uint8Array }> = [];
    for (const [i, hex] of (values.hex ?? []).entries())
      datagrams.push({ frame: i + 1, payload: parseHex(hex) });
    if (values.pcap) {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(values.pcap);
      } catch (err) {
        const code = (err as { code?: string }).code;
        const why =
          code === "ENOENT"
            ? "no such file"
            : code === "EISDIR"
              ? "is a directory"
              : code === "EACCES"
                ? "permission denied"
                : String(err);
        throw new Error(`--pcap ${values.pcap}: ${why}; give the path of a pcap or pcapng capture`);
      }
      const capture = readCapture(bytes);
      if (!capture.ok) throw new Error(`${values.pcap}: ${capture.error}`);
      for (const d of capture.datagrams) {
        if (port === undefined || d.srcPort === port || d.dstPort === port) datagrams.push(d);
      }
    }

    const out: string[] = [];
    const tally = { control: 0, zlb: 0, data: 0, malformed: 0, skipped: 0 };
    const firstTime = datagrams.find((d) => d.timeMicros !== undefined)?.timeMicros;
    const frameWidth = String(datagrams.at(-1)?.frame ?? 1).length;
    if (values.pcap && !values.json && firstTime !== undefined) {
      const at = new Date(firstTime / 1000).toISOString().replace("T", " ").replace("Z", " UTC");
      out.push(`${values.pcap}: first packet at ${at}${port === undefined ? "" : `, port ${port}`}`);
    }
    for (const d of datagrams) {
      const description = describePacket(d.payload, { secret });
      // Without --port a capture may hold other UDP traffic: skip what is not even an L2TPv2 header.
      if (
        values.pcap &&
        port === undefined &&
        description.kind === "malformed" &&
        !description.looksLikeL2tp
      ) {
        tally.skipped++;
        continue;
      }
      tally[description.kind]++;
      out.push(
        values.json
          ? JSON.stringify(jsonLine(d, description))
          : textLine(d, description, firstTime, frameWidth),
      );
    }
    if (!values.json) {
      const skipped = tally.skipped ? `, ${tally.skipped} other UDP datagrams skipped` : "";
      out.push(
        `${tally.control + tally.zlb + tally.data + tally.malformed} L2TP packets: ${tally.control} control, ${tally.zlb} ZLB, ${tally.data} data, ${tally.malformed} malformed${skipped}`,
      );
    }
    process.stdout.write(`${out.join("\n")}\n`);
    return tally.malformed > 0 ? 1 : 0;
  },
};

function textLine(
  d: Partial<CapturedDatagram>,
  p: PacketDescription,
  firstTime: number | undefined,
  frameWidth: number,
): string {
  const parts = [`#${String(d.frame ?? "?").padEnd(frameWidth)}`];
  if (d.timeMicros !== undefined && firstTime !== undefined)
    parts.push(`+${((d.timeMicros - firstTime) / 1e6).toFixed(6)}s`);
  if (d.src !== undefined) parts.push(`${d.src}:${d.srcPort} → ${d.dst}:${d.dstPort}`);
  parts.push(p.text);
  return parts.join("  ");
}

function jsonLine(d: Partial<CapturedDatagram>, p: PacketDescription): Record<string, unknown> {
  const where =
    d.src === undefined
      ? {}
      : { src: `${d.src}:${d.srcPort}`, dst: `${d.dst}:${d.dstPort}`, timeMicros: d.timeMicros };
  return { frame: d.frame, ...where, ...p.json };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--port: expected a UDP port number 1-65535, got '${text}'`);
  }
  return port;
}

function parseHex(text: string): Uint8Array {
  const clean = text.replace(/^0x/i, "").replace(/[\s:,-]/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) {
    throw new UsageError(`--hex: expected pairs of hex digits (spaces and colons allowed), got '${text}'`);
  }
  const bytes = new Uint8Array(clean.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
