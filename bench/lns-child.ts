/**
 * The LNS side of bench/setup, in a process of its own so that each side's RSS and CPU are its own:
 * the lab's LNS (127.0.0.1, ephemeral port). Prints `{"port":N}`, then answers one JSON line per stdin
 * command: `heap` (the heap after a full collection, by object type), `count` (tunnels, sessions, RSS, peak RSS, CPU µs so far, in all and by thread) and `close` (closes the node, prints
 * its registries, the messages it sent, its peak RSS and CPU, and exits) and `settle` (waits until the
 * LNS has no tunnel and no session left, then prints its registries and the messages it sent so far, and
 * goes on serving: the next round of calls finds it warm). `--events ADDRESS`: it records
 * into that event log (and says how many it recorded when it closes). `--warm-up N`: before its LNS
 * starts, N calls go through a lab LAC and LNS of its own over loopback (the JIT compiles the code
 * of a call before the first real one; bounded, and said on stderr). `registries` answers its
 * registries, counters and RSS now. `--open`: it
 * also accepts any other peer that knows the secret (bench/flood); `--max-half-open N`: its node-wide
 * bound on half-open tunnels.
 * `L2TP_UDP=deno|node|bun` in its environment (`bench/lns-load.ts --lns-env L2TP_UDP=node`): its socket
 * goes through that UDP adapter (adapters/udp/index.ts; on Deno the default is libc over FFI, `node`
 * forces node:dgram for a comparison); the adapter it got is then said on stderr.
 * `--ppp pap|chap`: it terminates PPP on every call (bench/ppp), asking for that protocol, with an
 * address pool of a million and AAA from `--users N` local users (the benchmark's subscriber among
 * them) or from `--radius HOST:AUTHPORT:ACCTPORT:SECRET`; `count` then says how many PPP links are up.
 * Its spawners (lns-child-client.ts, lns-load.ts) give it the node's allocator options in its environment,
 * as `l2tp run` runs with them (adapters/allocator), so that a profiled child has them too.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

import type { Aaa } from "../actors/aaa.ts";
import { LocalAaa } from "../adapters/aaa/local.ts";
import { RadiusClient } from "../adapters/aaa/radius.ts";
import { realClock } from "../adapters/clock/index.ts";
import { cryptoRandom } from "../adapters/random/index.ts";
import { bindUdp } from "../adapters/udp/index.ts";
import { type LabLnsOptions, runLab, startLabLns } from "../bin/commands/lab.ts";
import { cpuByThread } from "./measure.ts";
import { BENCH_POOL, benchUsers, LNS_PPP_ADDRESS } from "./ppp-settings.ts";

/** Resident set size: `memoryUsage.rss()` reads only that (the full `memoryUsage()` also sizes the heap). */
const rss = (): number => process.memoryUsage.rss();

/**
 * The process's peak RSS as the kernel keeps it (Linux: VmHWM in /proc/self/status), or undefined where
 * there is none. With it no sampler runs in the LNS: reading the RSS every 20 ms was 1.1% of a PPP
 * bench's LNS profile, counted as the LNS's CPU per set-up.
 */
function kernelPeakRss(): number | undefined {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

const { values } = parseArgs({
  options: {
    events: { type: "string" },
    secret: { type: "string" },
    "warm-up": { type: "string" },
    open: { type: "boolean" },
    "max-half-open": { type: "string" },
    ppp: { type: "string" },
    users: { type: "string", default: "1" },
    radius: { type: "string" },
  },
});
if (values["warm-up"]) {
  const sessions = Number(values["warm-up"]);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  // With PPP when this LNS runs it, as `l2tp run --warm-up` does (bin/commands/run.ts).
  const warm = await runLab({
    sessions,
    tunnels: 10,
    holdMs: 0,
    window: 1000,
    ppp: values.ppp !== undefined,
  });
  const c1 = process.cpuUsage(c0);
  process.stderr.write(
    `lns-child: warm-up: ${warm.established} calls through a lab LAC and LNS in this process in ${Math.round(performance.now() - t0)} ms, ${Math.round((c1.user + c1.system) / 1000)} ms of CPU\n`,
  );
}
// `--ppp lab`: the lab's own PPP (CHAP through local AAA, the lab's pool, the echo data plane), for a LAC
// lab whose subscribers dial through our LAC (bench/lac); pap or chap: bench/ppp's settings.
const ppp =
  values.ppp === undefined
    ? undefined
    : values.ppp === "lab"
      ? true
      : await pppOptions(values.ppp, values.users, values.radius);
const lns = await startLabLns({
  ...(values.secret ? { secret: values.secret } : {}),
  ...(values.events ? { events: values.events } : {}),
  ...(values.open ? { openToAny: true } : {}),
  ...(values["max-half-open"] ? { maxHalfOpenTunnels: Number(values["max-half-open"]) } : {}),
  ...(ppp ? { ppp } : {}),
  ...(udpChoice() ? { udp: udpChoice() } : {}),
});
// Said only when asked for, so that the comparison shows it took (the benchmarks' tests want no stderr).
if (udpChoice()) process.stderr.write(`lns-child: UDP through ${lns.udp} (L2TP_UDP=${udpChoice()})\n`);
let peakRss = rss();
const sampler =
  kernelPeakRss() === undefined
    ? setInterval(() => {
        peakRss = Math.max(peakRss, rss());
      }, 20)
    : undefined;
/** The peak RSS so far, `now` among it. */
const peakRssNow = (now: number): number => {
  peakRss = Math.max(peakRss, now, kernelPeakRss() ?? 0);
  return peakRss;
};

const cpuMicros = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const answer = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
answer({ port: lns.peer.port });

for await (const line of createInterface({ input: process.stdin })) {
  if (line === "count") {
    const now = rss();
    answer({
      ...(await lns.count()),
      rss: now,
      peakRss: peakRssNow(now),
      cpuMicros: cpuMicros(),
      threads: cpuByThread(),
    });
  } else if (line === "heap") {
    answer(await heapNow());
  } else if (line === "registries") {
    const now = rss();
    answer({ ...lns.snapshot?.(), rss: now, peakRss: peakRssNow(now) });
  } else if (line === "settle") {
    // A closed tunnel stays for the RFC 2661 §5.7 hold (1 s in the lab) before it leaves the registry.
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      const { tunnels, sessions } = await lns.count();
      if (tunnels === 0 && sessions === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    answer({ registries: lns.registries?.(), sent: { ...lns.sent } });
  } else if (line === "close") {
    clearInterval(sampler);
    const peak = peakRssNow(rss());
    const registries = await lns.close();
    answer({ registries, sent: lns.sent, peakRss: peak, cpuMicros: cpuMicros(), events: lns.events });
    process.exit(0);
  }
}

/**
 * The heap after a full collection: its size, its objects and their count by type (Bun: bun:jsc's
 * heapStats; Deno: V8's heap statistics, without the types).
 */
async function heapNow(): Promise<Record<string, unknown>> {
  if ("Bun" in globalThis) {
    const jsc = await import("bun:jsc");
    jsc.fullGC();
    const { heapSize, objectCount, objectTypeCounts } = jsc.heapStats();
    return { heapSize, objectCount, objectTypeCounts };
  }
  const v8 = await import("node:v8");
  (globalThis as { gc?: () => void }).gc?.();
  return { heapSize: v8.getHeapStatistics().used_heap_size, objectCount: 0, objectTypeCounts: {} };
}

/** `L2TP_UDP`, bindUdp's `implementation` for the LNS's socket; unset: the runtime's default. */
function udpChoice(): "deno" | "node" | "bun" | undefined {
  const value = process.env.L2TP_UDP;
  if (value === undefined || value === "") return undefined;
  if (value === "deno" || value === "node" || value === "bun") return value;
  process.stderr.write(`lns-child: L2TP_UDP: expected deno, node or bun, got '${value}'\n`);
  process.exit(2);
}

/** The LNS's PPP: the protocol it asks for, a pool for every call, local users or a RADIUS server. */
async function pppOptions(
  auth: string,
  users: string,
  radius: string | undefined,
): Promise<LabLnsOptions["ppp"]> {
  if (auth !== "pap" && auth !== "chap")
    throw new Error(`lns-child: --ppp: expected lab, pap or chap, got '${auth}'`);
  let aaa: Aaa;
  if (radius !== undefined) {
    const [address, authPort, acctPort, secret] = radius.split(":");
    if (!address || !Number(authPort) || !Number(acctPort) || !secret)
      throw new Error(`lns-child: --radius: expected HOST:AUTHPORT:ACCTPORT:SECRET, got '${radius}'`);
    aaa = new RadiusClient(
      {
        servers: [{ address, authPort: Number(authPort), acctPort: Number(acctPort), secret }],
        nasIdentifier: "lns.lab",
        timeoutMs: 1000,
        retries: 3,
        maxInFlight: 256,
        deadTimeMs: 10_000,
        requireMessageAuthenticator: false,
      },
      { clock: realClock, random: cryptoRandom, bind: (local) => bindUdp(local) },
    );
  } else {
    aaa = new LocalAaa(benchUsers(Number(users)).map(({ name, password }) => ({ name, password })));
  }
  return {
    config: {
      lns: { authProtocols: [auth], localAddress: LNS_PPP_ADDRESS, dns: ["10.0.0.53", "10.0.0.54"] },
      pools: [BENCH_POOL],
    },
    aaa,
  };
}
