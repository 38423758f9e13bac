/**
 * bench/setup (issue 3): sessions established per second LAC → LNS over loopback UDP, CPU and peak RSS
 * of each side's process per session, and the time to close a destination (every StopCCN sent and the
 * LNS empty), for 1,000, 10,000 and 60,000 sessions in one tunnel and spread over 100 tunnels.
 *
 *   node_modules/.bin/bun bench/setup.ts                  the whole matrix, each case in fresh processes
 *   node_modules/.bin/bun bench/setup.ts --sessions 10000 --tunnels 100   one case
 *   node_modules/.bin/bun bench/setup.ts --cases 10000x100 --profile DIR  Bun: CPU profiles (Markdown) of both sides
 *   node_modules/.bin/deno run -A bench/setup.ts          the same on Deno
 *   … --events memory:|file:DIR|nats://HOST:PORT[/STREAM]|nats:auto   both nodes record every transition
 *       (nats:auto starts a nats-server of its own for each case; default: no event log)
 *
 * The LAC runs in the benchmark's process, the LNS in a child (bench/lns-child.ts) of the same runtime.
 * Prints a human line per case and one JSON line per case.
 *
 * Two rounds per case (--rounds cold,warm, the default): cold, both processes fresh; then warm, the
 * same two processes again after the cold round has ended (its calls closed, the LNS settled): what a
 * node in service sets up, against one just started (a restart's avalanche is the cold round). The
 * memory figures are the cold round's (the warm one reuses the heap the cold one grew).
 *
 * Measured here (2 cores, no event log, window 4000). Runs vary by ±10% (the two processes and their
 * JIT and GC threads share the two cores) and the machine itself by ±15% from one hour to the next:
 * compare figures measured back to back. Calls/s overall (and by quarter of the calls), CPU per call
 * LAC/LNS (all threads; the JavaScript thread's share after it), destination close, RSS per established
 * call LAC/LNS (marginal: the slope past the first quarter of the calls). 2026-12-06:
 *
 *   Bun 1.4 cold  1,000x1     4,800-7,000/s          139-202/131-170 µs (main 70-90/50-90)  14-15 ms  18-19/15-16 KB
 *                 1,000x100   3,900-4,500/s          227-254/208-230 µs (main 120/100-120)  34-36 ms  26/22 KB
 *                 10,000x1   14,200-16,200/s         63-68/51-55 µs (main 30-33/24-25)  74-95 ms
 *                                                    6.6-7.2/5.2-5.3 KB (marginal 3.0-3.7/3.4-3.7)
 *                 10,000x100 13,400-15,100/s (6,500-8,700 16-18,000 14-18,000 18-30,000)  72-78/60-64 µs
 *                            (main 34-38/27-31)  84-111 ms  6.9-7.6/5.9-6.2 KB (marginal 3.1-3.8/0.0-0.3)
 *                 60,000x1   22,200-26,200/s         38-44/29-33 µs (main 25-28/19-22)  239-268 ms
 *                                                    4.0/3.0-3.6 KB (marginal 2.6-3.2/2.9-3.4)
 *                 60,000x100 25,900-27,000/s (15,000-16,300 30-32,000 32-34,000 37-44,000)  36-37/29-32 µs
 *                            (main 25/19-21)  283-314 ms  3.8-3.9/3.5-3.6 KB (marginal 2.6-2.9/2.8-3.1)
 *   Bun 1.4 warm  1,000x1    11,700-13,800/s;  1,000x100 8,100-8,400/s;  10,000x1 18,700-25,900/s
 *                 10,000x100 19,000-24,000/s (the later quarters 20-47,000)  46-52/39-47 µs (main 29-32/22-25)
 *                 60,000x1   25,700-29,400/s;  60,000x100 29,000-30,500/s  33/25-27 µs (main 25/19-21)  200-225 ms
 *   Deno 2.9 cold 1,000x100     680/s (254 of 1,000 ICRQs resent)  288/237 µs  61/57 KB
 *                 10,000x100  3,900/s (238 ICRQs resent)  127/117 µs (main 86/80)  73 ms  15/16 KB
 *                 60,000x100 10,400/s  64/53 µs (main 48/41)  445 ms  5.3/4.9 KB (marginal 3.2/2.7)
 *   Deno 2.9 warm 10,000x100  4,500/s;  60,000x100 12,600/s  57/43 µs  277 ms
 *   The session-start code of 2026-11-25 (0ccb118) measured back to back with the code of 2026-11-25
 *   evening: 60,000x100 19,200-20,000/s against 27,100-28,300 (fast hour), 16,900-17,000 against
 *   21,500-23,700 (slow hour); Deno 9,700/s (6.6/5.1 KB). Before the first session's work: Bun
 *   10,000x100 4,100/s with 98 StopCCNs for 100 tunnels and a 10 s close, 22-38 KB per call.
 *
 * What bounds these figures:
 * - Past the warm-up, the JavaScript thread: 24 µs of it per call on the LAC, 19 on the LNS at 60,000
 *   calls (the second to fourth quarters run at 31,000-40,000 calls/s, about l2tpns's 37,000). The
 *   loopback sends are a fifth of it (sendmmsg on the LAC, sendto on the LNS: the kernel delivers each
 *   datagram in the sender's time); XState's actor machinery per session (createActor, start, the
 *   mailbox, a snapshot per step, register/unregister) a fifth; encoding with two hidden AVPs (MD5),
 *   decoding, the control channel and the session table the rest.
 * - The cold start: the first quarter runs at half the rate, and at 1,000 and 10,000 calls that is most
 *   of the run. The split by thread says why: JSC's JIT threads (JITWorker) take 20-28 µs per call at
 *   10,000 calls, 50-90 at 1,000, as much CPU as the JavaScript itself, on the same two cores
 *   (BUN_JSC_reportCompileTimes=1: ~1.2 s of compilation across both processes in a 10,000-call run,
 *   70% of it in the FTL tier: the codec, the MD5 of hidden AVPs, the channel and the session logic;
 *   with BUN_JSC_useFTLJIT=0 10,000x100 measured 16,900/s and 60,000x100 20,400/s: less compiling,
 *   slower code). The 100 tunnel handshakes weigh at 1,000 calls, and the fixed RSS of compiled
 *   code and the runtime is counted per call there (the marginal figures are the per-call cost).
 *   At 10,000 cold calls the run is CPU-bound across both cores: 72-78 + 60-64 µs per call on two
 *   cores is ~14,000 calls/s, and the JIT's part of it (30 + 28 µs) is a fixed cost of compiling
 *   (~0.3 s of CPU per process in the cold round's setup, ~0.95 s over both rounds: BUN_JSC_reportCompileTimes=1;
 *   nearly every function reaches FTL once per process, no recompile loop; the largest FTL
 *   compiles are encodeControl ~64 ms, decodeControl ~47 ms, the MD5 of hidden AVPs ~70 ms in all,
 *   then XState's _process, update, spawn and our channel's #deliver and #pump, 20-45 ms each).
 *   The warm round shows what is left once compiled: 19,000-24,000/s at 10,000 calls, and its first
 *   quarter is still the slowest (a tunnel's handshake and slow start, RFC 2661 Appendix A, before
 *   its calls flow; some compiling still: 13-19 µs per call of JIT, as the first round's LAC node and
 *   its objects are gone and code specialised on them is compiled again for the new ones).
 * - What made the difference in this round, by measurement: a session's effects reach its wiring
 *   through one property instead of an actor.on listener (XState kept a closure, its bound copy and a
 *   Set per session and copied the listener list per emit: 700 bytes per call; with the lab's promise
 *   per call gone in the same measurement, 10 µs of CPU per call less on the LAC, 9 on the LNS), encoding into a shared slab with no DataView and decoding without one (a packet's
 *   ArrayBuffer cost ~190 ns on Bun, reading a received datagram's .buffer ~275 ns), delayed events
 *   of one millisecond sharing a runtime timer and living on their actor, the channel's state
 *   recorded only when someone records (an event log), and no promise kept per call by the lab.
 * - Memory: XState's actor is most of a session's ~2.3 KB of heap on the LAC (its Actor, Mailbox,
 *   options, scope with four closures, bound send and _process, observers Set, listeners Map), then the
 *   snapshot, context and path, our session handle and supervision record, the call's request.
 * - Window/RTT on one tunnel: the peer's receive window (16) bounds a tunnel to 16 messages in flight;
 *   over 100 tunnels, calls fill a tunnel before the next opens. The lab's window (4,000, 1,000 or
 *   300 calls at once) changes nothing measurable at 10,000 cold calls; its calls start 100 per
 *   event-loop turn (placing 4,000 in one turn held the first call back 60-70 ms on a warm node, the
 *   LNS idle meanwhile: 7-8 ms now). The ack delay (100 ms) is not on the path: 1 ms measured the same.
 * - Deno: node:dgram costs 17-25 µs of CPU per datagram there (4 µs on Bun), a small typed array ~800 ns
 *   to make (12 ns on Bun); and its node:dgram cannot raise SO_RCVBUF (the kernel's 208 KiB default
 *   stays), so bursts overflow the LNS's socket: at 10,000x100 the LAC retransmitted 238-261 ICRQs and
 *   each loss stalls its tunnel for the 1 s retransmission timeout (the last quarter at 2,000/s); at
 *   1,000x100 a quarter of the ICRQs (all 100 tunnels open at once, 1,000 calls in flight against a
 *   buffer of ~250 datagrams). Once compiled (60,000 calls) hardly anything is lost. The kernel's
 *   UdpRcvbufErrors counted 470 drops at 10,000x100; with net.core.rmem_default at 4 MiB none, and
 *   10,000x100 ran at 9,100/s, 1,000x100 at 4,200/s (adapters/udp's receiveBufferWarning tells the operator).
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { parseArgs } from "node:util";
import { type NatsServer, startNatsServer } from "../test/integration/nats/server.ts";
import { measureRound, printRound } from "./lab-rounds.ts";
import { profileFlags, runtimeCommand, startChildLns } from "./lns-child-client.ts";

const { values } = parseArgs({
  options: {
    sessions: { type: "string" },
    tunnels: { type: "string" },
    window: { type: "string", default: "4000" },
    cases: { type: "string", default: "1000x1,1000x100,10000x1,10000x100,60000x1,60000x100" },
    profile: { type: "string" },
    events: { type: "string" },
    // cold: both processes fresh; warm: the same processes again, after the cold round.
    rounds: { type: "string", default: "cold,warm" },
  },
});
// The cold round always runs (the warm one is the same processes after it).
if (values.rounds !== "cold" && values.rounds !== "cold,warm") {
  console.error(`bench/setup: --rounds: expected 'cold' or 'cold,warm', got '${values.rounds}'`);
  process.exit(2);
}
const warm = values.rounds === "cold,warm";

if (values.sessions === undefined) {
  // The matrix: every case in a fresh process, so that no case inherits another's heap.
  for (const c of values.cases.split(",")) {
    const [sessions, tunnels] = c.split("x");
    const [cmd, args] = runtimeCommand(
      "./setup.ts",
      [
        "--sessions",
        sessions,
        "--tunnels",
        tunnels,
        "--window",
        values.window,
        ...(values.profile ? ["--profile", values.profile] : []),
        ...(values.events ? ["--events", values.events] : []),
        "--rounds",
        values.rounds,
      ],
      profileFlags(values.profile),
    );
    const child = spawn(cmd, args, { stdio: ["ignore", "inherit", "inherit"] });
    const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
    if (code !== 0) process.exitCode = code;
  }
} else {
  await oneCase(Number(values.sessions), Number(values.tunnels ?? 1), Number(values.window), warm);
}

async function oneCase(sessions: number, tunnels: number, window: number, warm: boolean): Promise<void> {
  const nats: NatsServer | undefined = values.events === "nats:auto" ? await startNatsServer() : undefined;
  const events = nats ? nats.url : values.events;
  const lns = await startChildLns(values.profile, events);
  // The cold round: both processes fresh. Its memory figures are the per-call cost.
  const cold = await measureRound(lns, { sessions, tunnels, window, events, last: !warm, round: "cold" });
  // The warm round: the same two processes serve the same load again (code compiled, heap grown): what a
  // node in service sets up, as against one just started (the avalanche after a restart is the cold round).
  const rounds = warm
    ? [cold, await measureRound(lns, { sessions, tunnels, window, events, last: true, round: "warm" })]
    : [cold];
  await nats?.dispose();
  for (const result of rounds) {
    printRound(result);
    console.log(JSON.stringify(result));
    if (!result.ok) process.exitCode = 1;
  }
}
