/**
 * bench/radius: Access-Requests per second through our RADIUS client (adapters/aaa/radius.ts) against a
 * real FreeRADIUS 3.2 it starts (threaded, not -X), PAP and CHAP, at several `maxInFlight`; with the
 * client's CPU per request and FreeRADIUS's. The reference, measured in the same run against the same
 * server: FreeRADIUS's own C client, `radclient -p 256`, sending the same PAP requests, which is what
 * FreeRADIUS itself can answer on this machine with a client that costs next to nothing.
 *   node_modules/.bin/bun bench/radius.ts [--requests 20000] [--threads 4] [--in-flight 32,64,128,256]
 *   node_modules/.bin/deno run -A bench/radius.ts …
 * Prints a human line per case, then one JSON line with every figure.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import type { AuthRequest } from "../actors/aaa.ts";
import { RadiusClient } from "../adapters/aaa/radius.ts";
import { realClock } from "../adapters/clock/index.ts";
import { cryptoRandom } from "../adapters/random/index.ts";
import { bindUdp } from "../adapters/udp/index.ts";
import { chapMd5Response } from "../protocol/ppp/chap.ts";
import { startFreeRadius } from "../test/integration/radius/freeradius.ts";
import { runtimeName } from "./measure.ts";

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const requests = Number(option("requests", "20000"));
const threads = Number(option("threads", "4"));
const inFlights = option("in-flight", "32,64,128,256").split(",").map(Number);
const USERS = 1000;

/** CPU seconds a process has used so far (utime + stime, proc(5)). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const radius = await startFreeRadius({
  debug: false,
  threads,
  users: Array.from({ length: USERS }, (_, i) => ({
    name: `sub${i}`,
    password: `pw-${i}`,
    reply: [
      ["Framed-IP-Address", `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
      ["Session-Timeout", 3600],
    ] as const,
  })),
});
const serverPid = radius.pid ?? 0;

interface Row {
  case: string;
  maxInFlight: number;
  requests: number;
  perSecond: number;
  clientCpuUsPerRequest: number;
  serverCpuUsPerRequest: number;
  failures: number;
  /** Requests resent after a 3 s silence: each one a lost datagram (a full socket buffer). */
  retransmissions: number;
}
const rows: Row[] = [];

function report(row: Row): void {
  rows.push(row);
  console.log(
    `${runtimeName().padEnd(5)} ${row.case.padEnd(28)} in-flight ${String(row.maxInFlight).padStart(3)}  ${Math.round(row.perSecond).toLocaleString("en-US").padStart(7)} req/s  client ${row.clientCpuUsPerRequest.toFixed(1).padStart(5)} µs/req  FreeRADIUS ${row.serverCpuUsPerRequest.toFixed(1).padStart(5)} µs/req${row.retransmissions ? `  ${row.retransmissions} resent` : ""}${row.failures ? `  ${row.failures} FAILED` : ""}`,
  );
}

/** The reference: radclient sending the same PAP requests, 256 at a time. */
async function radclientReference(): Promise<void> {
  const file = join(radius.dir, "requests.txt");
  const lines: string[] = [];
  for (let i = 0; i < requests; i++) {
    const u = i % USERS;
    lines.push(`User-Name = "sub${u}"\nUser-Password = "pw-${u}"\nNAS-Identifier = "bench"\n`);
  }
  writeFileSync(file, lines.join("\n"));
  const cpu0 = processCpuSeconds(serverPid);
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      "radclient",
      [
        "-q",
        "-p",
        "256",
        "-r",
        "3",
        "-t",
        "5",
        "-f",
        file,
        `127.0.0.1:${radius.authPort}`,
        "auth",
        radius.secret,
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    child.once("exit", resolve);
  });
  const seconds = (performance.now() - t0) / 1000;
  report({
    case: "radclient -p 256 (reference)",
    maxInFlight: 256,
    requests,
    perSecond: requests / seconds,
    clientCpuUsPerRequest: Number.NaN,
    serverCpuUsPerRequest: ((processCpuSeconds(serverPid) - cpu0) * 1e6) / requests,
    failures: code === 0 ? 0 : requests,
    retransmissions: 0,
  });
}

function pap(i: number): AuthRequest {
  const u = i % USERS;
  return {
    credentials: { method: "pap", user: `sub${u}`, password: new TextEncoder().encode(`pw-${u}`) },
    nasPort: i,
  };
}

const challenge = cryptoRandom.bytes(16);
function chap(i: number): AuthRequest {
  const u = i % USERS;
  return {
    credentials: {
      method: "chap",
      user: `sub${u}`,
      id: i & 0xff,
      challenge,
      response: chapMd5Response(i & 0xff, `pw-${u}`, challenge),
    },
    nasPort: i,
  };
}

async function ours(name: string, make: (i: number) => AuthRequest, maxInFlight: number): Promise<void> {
  const client = new RadiusClient(
    {
      servers: [
        { address: "127.0.0.1", authPort: radius.authPort, acctPort: radius.acctPort, secret: radius.secret },
      ],
      nasIdentifier: "bench",
      timeoutMs: 3000,
      retries: 2,
      maxInFlight,
      deadTimeMs: 60_000,
      requireMessageAuthenticator: false,
    },
    { clock: realClock, random: cryptoRandom, bind: (local) => bindUdp(local) },
  );
  // Warm-up: the JIT and the socket.
  await Promise.all(Array.from({ length: 1000 }, (_, i) => client.authenticate(make(i))));
  const inputs = Array.from({ length: requests }, (_, i) => make(i));
  const cpu0 = ownCpuSeconds();
  const server0 = processCpuSeconds(serverPid);
  const t0 = performance.now();
  const results = await Promise.all(inputs.map((r) => client.authenticate(r)));
  const seconds = (performance.now() - t0) / 1000;
  report({
    case: `ours ${name}`,
    maxInFlight,
    requests,
    perSecond: requests / seconds,
    clientCpuUsPerRequest: ((ownCpuSeconds() - cpu0) * 1e6) / requests,
    serverCpuUsPerRequest: ((processCpuSeconds(serverPid) - server0) * 1e6) / requests,
    failures: results.filter((r) => !r.ok).length,
    retransmissions: client.stats().retransmissions,
  });
  await client.close();
}

console.log(
  `FreeRADIUS 3.2 with ${threads} threads, ${USERS} users; ${requests} Access-Requests per case; load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
);
try {
  await radclientReference();
  for (const maxInFlight of inFlights) {
    await ours("PAP", pap, maxInFlight);
    await ours("CHAP", chap, maxInFlight);
  }
  await radclientReference();
} finally {
  await radius.dispose();
}
console.log(JSON.stringify({ bench: "radius", runtime: runtimeName(), threads, requests, results: rows }));
