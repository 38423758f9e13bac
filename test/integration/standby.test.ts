/**
 * Standby takeover against a real peer (issue 4 item 5, silent failover): a real nats-server, a real
 * xl2tpd 1.3.18 as LAC (the stand-in pppd keeps its calls up), and our LNS as two processes of the same
 * config file: the primary (`l2tp run --events nats://…`) and a standby (`… --standby`) that follows its
 * events and binds nothing. xl2tpd dials two calls (two `[lac]` sections: xl2tpd opens a tunnel per
 * section); once the tunnels are idle and the standby has caught up, the primary is killed with -9 and
 * the standby takes over on the same address, by `l2tp takeover` in one test and by the primary's
 * silence in the other. Then, on the tshark wire decoded by our codec: our HELLO carries the recorded Ns
 * and xl2tpd's acknowledgement its Nr; xl2tpd's calls are still established in the standby's
 * `l2tp show`; a new call from xl2tpd opens on the standby (ICRQ/ICRP/ICCN, on a restored tunnel and on
 * a new one); no StopCCN nor CDN went over the wire because of the failover, and xl2tpd logged no
 * tunnel closed. Needs nats-server, xl2tpd, tshark and root (scripts/setup.sh).
 */
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { NodeSnapshot } from "../../actors/node.ts";
import type { CapturedDatagram } from "../../adapters/capture/pcap.ts";
import { openEventLog } from "../../adapters/event-log/index.ts";
import { type ControlHeader, type ControlMessage, decodeControl } from "../../protocol/l2tp/index.ts";
import { cli, l2tp } from "./l2tp-cli.ts";
import { type NatsServer, startNatsServer } from "./nats/server.ts";
import { type LoopbackCapture, startLoopbackCapture } from "./xl2tpd/capture.ts";
import { freeUdpPort, startXl2tpd, XL2TPD_LOG, type Xl2tpd } from "./xl2tpd/harness.ts";

const secret = new TextEncoder().encode("s3cret");
const LAC_ADDRESS = "127.0.0.71";
const LNS_ADDRESS = "127.0.0.72";
const HELLO_SECONDS = 2;

let nats: NatsServer;
const dir = mkdtempSync(join(tmpdir(), "l2tp-standby-"));
let processes: ChildProcess[] = [];
let xl2tpd: Xl2tpd | undefined;
let capture: LoopbackCapture | undefined;

// A server per test: the subjects of a stream (l2tp.<node>.*) are the node's, whatever the stream.
beforeEach(async () => {
  nats = await startNatsServer();
});
afterEach(async () => {
  await capture?.stop().catch(() => []);
  capture = undefined;
  for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  processes = [];
  await xl2tpd?.stop("SIGKILL");
  xl2tpd = undefined;
  await nats?.dispose();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** One `l2tp run` child process and what it printed. */
interface Run {
  child: ChildProcess;
  out: () => string;
  admin: string;
  exited: Promise<number | null>;
}

/** Starts `l2tp run` with `args`; resolves once it printed its admin API address. */
function startRun(label: string, args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [cli, "run", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  processes.push(child);
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.stderr?.on("data", (chunk) => {
    out += chunk;
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (chunk) => {
      out += chunk;
      const m = /admin API (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, out: () => out, admin: m[1] as string, exited });
    });
    void exited.then((code) => reject(new Error(`${label} exited ${code} before it was up:\n${out}`)));
  });
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A control packet of the capture between xl2tpd and our LNS address, decoded by our codec. */
interface WirePacket {
  frame: number;
  micros: number;
  from: "us" | "xl2tpd";
  header: ControlHeader;
  message: ControlMessage | null;
}

function decodeWire(datagrams: CapturedDatagram[], lnsPort: number, lacPort: number): WirePacket[] {
  const packets: WirePacket[] = [];
  for (const d of datagrams) {
    const fromUs = d.src === LNS_ADDRESS && d.srcPort === lnsPort;
    const fromThem = d.src === LAC_ADDRESS && d.srcPort === lacPort;
    if ((!fromUs && !fromThem) || (d.payload[0] & 0x80) === 0) continue;
    const decoded = decodeControl(d.payload, { secret });
    if (!decoded.ok) throw new Error(`frame ${d.frame}: ${decoded.error.field}: ${decoded.error.reason}`);
    packets.push({
      frame: d.frame,
      micros: d.timeMicros,
      from: fromUs ? "us" : "xl2tpd",
      header: decoded.value.header,
      message: decoded.value.message,
    });
  }
  return packets;
}

function wireText(packets: WirePacket[]): string {
  return packets
    .map(
      (p) =>
        `#${p.frame} ${p.from.padEnd(6)} ${p.message?.type ?? "ZLB"} tunnel ${p.header.tunnelId} session ${p.header.sessionId} Ns ${p.header.ns} Nr ${p.header.nr}`,
    )
    .join("\n");
}

type Snapshot = NodeSnapshot;

/** The config both processes run: the same file, so the same node name, listen address and secrets. */
function writeConfig(udpPort: number): string {
  const path = join(dir, `lns-${udpPort}.yaml`);
  writeFileSync(
    path,
    `node: { name: lns, hostName: lns.test }
listen: [{ address: ${LNS_ADDRESS}, port: ${udpPort} }]
admin: { address: 127.0.0.1, port: 0 }
timers: { helloSeconds: ${HELLO_SECONDS}, stopCcnHoldSeconds: 1 }
destinations: [{ address: ${LAC_ADDRESS}, secret: s3cret, peerHostName: lac.test }]
# The stand-in pppd here keeps calls up without speaking PPP, so the LNS carries them without PPP:
# a link still negotiating is not resumed (actors/restore.ts). PPP across a takeover: test/actors/restore-ppp.
ppp: { enabled: false }
`,
  );
  return path;
}

/** Everything up to the kill: nats stream, primary, standby, xl2tpd with calls a and b up, capture. */
async function upToTheKill(stream: string, standbyArgs: string[]) {
  const udpPort = await freeUdpPort(LNS_ADDRESS);
  const config = writeConfig(udpPort);
  const events = `${nats.url}/${stream}`;
  const primary = await startRun("primary", ["--config", config, "--events", events]);
  const standby = await startRun("standby", [
    "--config",
    config,
    "--events",
    events,
    "--standby",
    ...standbyArgs,
  ]);
  expect(standby.out()).toContain("standby: following");
  const lac = await startXl2tpd({
    label: "xl2tpd-lac",
    address: LAC_ADDRESS,
    secrets: [{ ours: "lac.test", theirs: "lns.test", secret: "s3cret" }],
    lacs: ["a", "b", "c"].map((name) => ({
      name,
      lns: { address: LNS_ADDRESS, port: udpPort },
      hostname: "lac.test",
      challenge: true,
    })),
    pppd: "stand-in",
  });
  xl2tpd = lac;
  capture = await startLoopbackCapture([lac.port, udpPort]);

  for (const name of ["a", "b"]) {
    const mark = lac.lines.length;
    await lac.dial(name);
    await lac.waitForLog(XL2TPD_LOG.callEstablished, 5000, mark);
  }
  const before = await until("2 tunnels with an established call each on the primary", async () => {
    const s = await getJson<Snapshot>(`${primary.admin}/v1/snapshot?sessions=1`);
    const tunnels = s.destinations.flatMap((d) => d.tunnels);
    return tunnels.length === 2 &&
      tunnels.every(
        (t) => t.state === "established" && t.sessions.length === 1 && t.sessions[0]?.state === "established",
      )
      ? s
      : undefined;
  });
  // Idle: every message acknowledged (the ack delay is 100 ms), then the standby holds everything stored.
  await sleep(500);
  const log = await openEventLog(events);
  const stored = await log.lastSeq("lns").finally(() => log.close());
  await until("the standby caught up with the primary's events", async () => {
    const s = await getJson<{ role: string; primary: { lastSeq: number } }>(`${standby.admin}/v1/standby`);
    return s.role === "standby" && s.primary.lastSeq >= stored;
  });
  const logMark = lac.lines.length;
  primary.child.kill("SIGKILL");
  await primary.exited;
  const killedAt = Date.now() * 1000;
  return { udpPort, primary, standby, lac, before, logMark, killedAt };
}

/** After the takeover: our HELLO acked, the old calls in `show`, new calls, no StopCCN or CDN, clean close. */
async function afterTheTakeover(ctx: Awaited<ReturnType<typeof upToTheKill>>): Promise<void> {
  const { standby, lac, before, udpPort, logMark, killedAt } = ctx;
  const shown = await getJson<Snapshot>(`${standby.admin}/v1/snapshot?sessions=1`);
  const key = (s: Snapshot) =>
    s.destinations
      .flatMap((d) => d.tunnels)
      .map((t) => ({
        id: t.id,
        peer: t.peerTunnelId,
        state: t.state,
        sessions: t.sessions.map((x) => [x.id, x.peerSessionId, x.state]),
      }))
      .sort((a, b) => a.id - b.id);
  expect(key(shown)).toEqual(key(before));
  const text = l2tp("show", "--sessions", "--admin", standby.admin);
  expect(text.code).toBe(0);
  expect(text.out.match(/session \d+ → \d+ {2}established/g)?.length).toBe(2);

  // Two hello intervals of silence: the standby's HELLO goes out on each restored tunnel.
  await sleep(HELLO_SECONDS * 1000 * 2 + 500);

  // A new call on a new tunnel (xl2tpd's third section).
  let mark = lac.lines.length;
  await lac.dial("c");
  await lac.waitForLog(XL2TPD_LOG.callEstablished, 5000, mark);
  const withC = await until("a third tunnel and call on the standby", async () => {
    const s = await getJson<Snapshot>(`${standby.admin}/v1/snapshot?sessions=1`);
    const tunnels = s.destinations.flatMap((d) => d.tunnels);
    return tunnels.length === 3 && tunnels.every((t) => t.sessions[0]?.state === "established")
      ? s
      : undefined;
  });
  expect(withC.destinations.flatMap((d) => d.tunnels).flatMap((t) => t.sessions)).toHaveLength(3);
  // Up to here nothing closed anything: xl2tpd logged no tunnel or call closed since the kill.
  expect(lac.matching(XL2TPD_LOG.tunnelClosed, logMark)).toEqual([]);
  expect(lac.matching(XL2TPD_LOG.callClosedByPeer, logMark)).toEqual([]);
  const quietUntil = Date.now() * 1000;

  // xl2tpd hangs up call a (its CDN reaches the restored session), then calls again on the same
  // restored tunnel: ICRQ/ICRP/ICCN on a tunnel the standby never saw set up.
  const callA = lac.matching(XL2TPD_LOG.callEstablished)[0]?.match(XL2TPD_LOG.callEstablished);
  expect(callA).toBeTruthy();
  const aLocalCall = Number(callA?.[3]);
  const aTunnel = before.destinations
    .flatMap((d) => d.tunnels)
    .find((t) => t.sessions[0]?.peerSessionId === aLocalCall);
  expect(aTunnel).toBeDefined();
  await lac.hangupCall(aLocalCall);
  await until("call a gone from the standby", async () => {
    const s = await getJson<Snapshot>(`${standby.admin}/v1/snapshot?sessions=1`);
    const t = s.destinations.flatMap((d) => d.tunnels).find((x) => x.id === aTunnel?.id);
    return t && t.sessions.length === 0;
  });
  const deadline = Date.now() + 3000;
  for (;;) {
    const answer = await lac.command("c a");
    if (answer.startsWith("00")) break;
    if (!answer.includes("already active") || Date.now() > deadline) throw lac.failure(`c a: ${answer}`);
    await sleep(50);
  }
  mark = lac.lines.length;
  await until("a new call on restored tunnel a", async () => {
    const s = await getJson<Snapshot>(`${standby.admin}/v1/snapshot?sessions=1`);
    const t = s.destinations.flatMap((d) => d.tunnels).find((x) => x.id === aTunnel?.id);
    return t?.sessions.length === 1 && t.sessions[0]?.state === "established";
  });
  expect(lac.matching(XL2TPD_LOG.tunnelClosed, logMark)).toEqual([]);

  // Close cleanly: SIGINT → a StopCCN per tunnel, the standby exits 0.
  standby.child.kill("SIGINT");
  expect(await standby.exited).toBe(0);
  expect(standby.out()).toMatch(/events recorded \(lns [\d,]+\) in nats/);
  const datagrams = (await capture?.stop()) ?? [];
  capture = undefined;
  const wire = decodeWire(datagrams, udpPort, lac.port);
  const afterKill = wire.filter((p) => p.micros > killedAt);
  const quiet = afterKill.filter((p) => p.micros < quietUntil);
  // No StopCCN and no CDN because of the failover.
  expect(
    quiet.filter((p) => p.message?.type === "StopCCN" || p.message?.type === "CDN").map((p) => p.frame),
  ).toEqual([]);
  // Our HELLO on each restored tunnel, with the Ns the primary left off at, acknowledged by xl2tpd.
  const restored = before.destinations.flatMap((d) => d.tunnels);
  for (const t of restored) {
    const hello = quiet.find(
      (p) => p.from === "us" && p.message?.type === "HELLO" && p.header.tunnelId === t.peerTunnelId,
    );
    if (!hello)
      throw new Error(`no HELLO of ours on tunnel ${t.id} after the takeover\n${wireText(afterKill)}`);
    const lastBefore = wire
      .filter(
        (p) => p.micros <= killedAt && p.from === "us" && p.header.tunnelId === t.peerTunnelId && p.message,
      )
      .at(-1);
    expect(hello.header.ns).toBe(((lastBefore?.header.ns ?? -1) + 1) & 0xffff);
    const ack = quiet.find(
      (p) =>
        p.from === "xl2tpd" &&
        p.frame > hello.frame &&
        p.header.tunnelId === t.id &&
        p.header.nr === ((hello.header.ns + 1) & 0xffff),
    );
    if (!ack)
      throw new Error(`xl2tpd did not acknowledge our HELLO on tunnel ${t.id}\n${wireText(afterKill)}`);
  }
  // The new calls: ICRQ from xl2tpd, our ICRP, its ICCN, after the takeover (one on a restored tunnel).
  const icrqs = afterKill.filter((p) => p.from === "xl2tpd" && p.message?.type === "ICRQ");
  expect(icrqs.length).toBe(2);
  expect(icrqs.some((p) => p.header.tunnelId === aTunnel?.id)).toBe(true);
  expect(afterKill.filter((p) => p.from === "us" && p.message?.type === "ICRP")).toHaveLength(2);
  expect(afterKill.filter((p) => p.from === "xl2tpd" && p.message?.type === "ICCN")).toHaveLength(2);
  // The only StopCCNs are the standby's own at the end, one per tunnel.
  expect(
    afterKill
      .filter((p) => p.message?.type === "StopCCN")
      .every((p) => p.from === "us" && p.micros > quietUntil),
  ).toBe(true);
}

describe("standby takeover with a real xl2tpd LAC", () => {
  test("l2tp takeover: the standby (warmed up while it waits) resumes both tunnels and calls; xl2tpd notices nothing", async () => {
    const ctx = await upToTheKill("L2TP", ["--takeover-after", "0", "--warm-up", "100"]);
    // The warm-up ran in the standby before it followed (the config runs no PPP: calls alone).
    expect(ctx.standby.out()).toMatch(/warm-up: 100 synthetic calls through a LAC and an LNS/);
    const result = l2tp("takeover", "--admin", ctx.standby.admin);
    expect(result.err).toBe("");
    expect(result.out).toBe("took over (admin command): 2 tunnels, 2 sessions resumed\n");
    await afterTheTakeover(ctx);
  }, 90_000);

  test("the primary's silence: the standby takes over by itself after --takeover-after", async () => {
    const ctx = await upToTheKill("L2TP", ["--takeover-after", "2"]);
    await until(
      "the standby took over",
      async () => /took over from lns \(primary silent for \d+ ms\)/.test(ctx.standby.out()),
      10_000,
    );
    expect(ctx.standby.out()).toMatch(/2 tunnels, 2 sessions resumed/);
    await afterTheTakeover(ctx);
  }, 90_000);
});
