import { describe, expect, test } from "bun:test";
import { assign, createActor, fromCallback, setup } from "xstate";
import type { Clock } from "../../actors/ports.ts";
import { SimulatedClock } from "../../adapters/clock/simulated.ts";
import { MemoryEventLog } from "../../adapters/event-log/memory.ts";
import type { Envelope, EnvelopePath } from "../../events/envelope.ts";
import type { EventLog } from "../../events/port.ts";
import { createRecorder, type RecorderOptions } from "../../events/recorder.ts";
import { REDACTED } from "../../events/schema.ts";
import { makeEnvelopes } from "../adapters/event-log/fixtures.ts";

interface ActorPath extends EnvelopePath {
  system: string;
}

/** A tunnel-like machine: nested states, a final state, assigns, a secret in its context. */
const tunnel = setup({
  types: {
    context: {} as { path: ActorPath; secret?: Uint8Array; peerTunnelId: number; hellos: number },
    input: {} as { path: ActorPath; secret?: Uint8Array },
    events: {} as
      | { type: "open" }
      | { type: "rx.SCCRP"; id: number }
      | { type: "rx.HELLO" }
      | { type: "ignored" }
      | { type: "close" }
      | { type: "drained" },
  },
}).createMachine({
  id: "tunnel",
  initial: "idle",
  context: ({ input }) => ({ path: input.path, secret: input.secret, peerTunnelId: 0, hellos: 0 }),
  states: {
    idle: { on: { open: "waitCtlReply" } },
    waitCtlReply: {
      on: {
        "rx.SCCRP": { target: "established", actions: assign({ peerTunnelId: ({ event }) => event.id }) },
      },
    },
    established: {
      on: {
        "rx.HELLO": { actions: assign({ hellos: ({ context }) => context.hellos + 1 }) },
        close: "closing",
      },
    },
    closing: {
      initial: "waitAck",
      states: { waitAck: { on: { drained: "done" } }, done: { type: "final" } },
      onDone: "closed",
    },
    closed: { type: "final" },
  },
});

/** A destination that spawns tunnels (machines, recorded) and a helper callback actor (not recorded). */
const destination = setup({
  types: {
    context: {} as { path: ActorPath; tunnels: number },
    input: {} as { path: ActorPath },
    events: {} as { type: "add"; id: number } | { type: "drain" },
  },
  actors: { tunnel, helper: fromCallback(() => () => {}) },
}).createMachine({
  id: "destination",
  initial: "enabled",
  context: ({ input }) => ({ path: input.path, tunnels: 0 }),
  invoke: { src: "helper" },
  states: {
    enabled: {
      on: {
        add: { actions: assign({ tunnels: ({ context }) => context.tunnels + 1 }) },
        drain: "draining",
      },
    },
    draining: {},
  },
});

/** A clock whose time the test sets and whose timers run on the next macrotask (for retries). */
function testClock(start = 1000): Clock & { time: number } {
  const clock = {
    time: start,
    now: () => clock.time,
    setTimeout: (fn: () => void, _ms: number) => setTimeout(fn, 0),
    clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
  return clock;
}

/** A log whose appends wait until the test opens the gate. */
class GatedLog extends MemoryEventLog {
  private gate = Promise.withResolvers<void>();
  calls = 0;
  open(): void {
    this.gate.resolve();
  }
  override async append(envelopes: readonly Envelope[]): Promise<void> {
    this.calls++;
    await this.gate.promise;
    return super.append(envelopes);
  }
}

/** A log whose first `failures` appends fail after storing nothing. */
class FlakyLog extends MemoryEventLog {
  constructor(private failures: number) {
    super();
  }
  override async append(envelopes: readonly Envelope[]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error("disk full");
    }
    return super.append(envelopes);
  }
}

function recorderFor(log: EventLog, extra: Partial<RecorderOptions> = {}) {
  const clock = testClock();
  const recorder = createRecorder({ node: "lns-1", clock, log, ...extra });
  return { clock, recorder };
}

const tunnelPath: ActorPath = { system: "lns-1", destination: "127.0.0.1:1701", tunnel: 7 };
const short = (e: Envelope) => `${e.seq} ${e.machine} ${e.from ?? "∅"}→${e.to} (${e.cause})`;

describe("recorder with real XState actors", () => {
  test("every state change becomes an envelope with from, to, cause, path, gapless seq and time", async () => {
    const log = new MemoryEventLog();
    const { clock, recorder } = recorderFor(log);
    const actor = createActor(tunnel, { input: { path: tunnelPath }, inspect: recorder.inspect });
    actor.start();
    clock.time = 1010;
    actor.send({ type: "open" });
    actor.send({ type: "ignored" });
    clock.time = 1020;
    actor.send({ type: "rx.SCCRP", id: 99 });
    actor.send({ type: "close" });
    actor.send({ type: "drained" });
    await recorder.flush();
    expect(log.envelopes.map(short)).toEqual([
      "1 tunnel ∅→idle (xstate.init)",
      "2 tunnel idle→waitCtlReply (open)",
      "3 tunnel waitCtlReply→established (rx.SCCRP)",
      "4 tunnel established→closing.waitAck (close)",
      "5 tunnel closing.waitAck→closed (drained)",
    ]);
    expect(log.envelopes.map((e) => e.time)).toEqual([1000, 1010, 1020, 1020, 1020]);
    expect(log.envelopes[2]?.data).toEqual({ peerTunnelId: 99 });
    expect(log.envelopes[0]?.path).toEqual({ destination: "127.0.0.1:1701", tunnel: 7 });
    expect(log.envelopes[4]?.data).toEqual({ status: "done" });
    expect(recorder.stats).toMatchObject({
      recorded: 5,
      appended: 5,
      queued: 0,
      unchanged: 1,
      backpressure: false,
    });
  });

  test("the first snapshot carries the context, with the secret redacted in the log", async () => {
    const log = new MemoryEventLog();
    const { recorder } = recorderFor(log);
    const secret = new TextEncoder().encode("s3cret");
    createActor(tunnel, { input: { path: tunnelPath, secret }, inspect: recorder.inspect }).start();
    await recorder.flush();
    expect(log.envelopes[0]?.data).toEqual({ secret: REDACTED, peerTunnelId: 0, hellos: 0 });
    expect(JSON.stringify(log.envelopes)).not.toContain("73336372657");
  });

  test("a context change without a state change is recorded with only the changed fields", async () => {
    const log = new MemoryEventLog();
    const { recorder } = recorderFor(log);
    const actor = createActor(tunnel, { input: { path: tunnelPath }, inspect: recorder.inspect }).start();
    actor.send({ type: "open" });
    actor.send({ type: "rx.SCCRP", id: 5 });
    actor.send({ type: "rx.HELLO" });
    actor.send({ type: "rx.HELLO" });
    await recorder.flush();
    expect(log.envelopes.slice(3).map((e) => [e.from, e.to, e.cause, e.data])).toEqual([
      ["established", "established", "rx.HELLO", { hellos: 1 }],
      ["established", "established", "rx.HELLO", { hellos: 2 }],
    ]);
  });

  test("with contextChanges off, only state changes are recorded", async () => {
    const log = new MemoryEventLog();
    const { recorder } = recorderFor(log, { contextChanges: false });
    const actor = createActor(tunnel, { input: { path: tunnelPath }, inspect: recorder.inspect }).start();
    actor.send({ type: "open" });
    actor.send({ type: "rx.SCCRP", id: 5 });
    actor.send({ type: "rx.HELLO" });
    await recorder.flush();
    expect(log.envelopes.map((e) => e.to)).toEqual(["idle", "waitCtlReply", "established"]);
    expect(recorder.stats.unchanged).toBe(1);
  });

  test("a tree: each actor is located by its context path; callback actors are not recorded", async () => {
    const log = new MemoryEventLog();
    const { recorder } = recorderFor(log);
    const parent = setup({
      types: { context: {} as { path: ActorPath }, events: {} as { type: "spawn"; tunnel: number } },
      actors: { tunnel, destination, noise: fromCallback(() => () => {}) },
    }).createMachine({
      id: "system",
      context: { path: { system: "lns-1" } },
      initial: "running",
      invoke: [
        { src: "destination", input: { path: { system: "lns-1", destination: "127.0.0.1:1701" } } },
        { src: "noise" },
      ],
      states: {
        running: {
          on: {
            spawn: {
              actions: ({ event }) => {
                // actors/ creates tunnels and sessions with the same shared inspect callback.
                const child = createActor(tunnel, {
                  input: { path: { system: "lns-1", destination: "127.0.0.1:1701", tunnel: event.tunnel } },
                  inspect: recorder.inspect,
                });
                child.start();
                child.send({ type: "open" });
              },
            },
          },
        },
      },
    });
    const system = createActor(parent, { inspect: recorder.inspect }).start();
    system.send({ type: "spawn", tunnel: 3 });
    await recorder.flush();
    expect(log.envelopes.map((e) => [e.machine, e.path, e.to])).toEqual([
      ["destination", { destination: "127.0.0.1:1701" }, "enabled"],
      ["system", {}, "running"],
      ["tunnel", { destination: "127.0.0.1:1701", tunnel: 3 }, "idle"],
      ["tunnel", { destination: "127.0.0.1:1701", tunnel: 3 }, "waitCtlReply"],
    ]);
  });

  test("a stopped actor is recorded as stopped", async () => {
    const log = new MemoryEventLog();
    const { recorder } = recorderFor(log);
    const actor = createActor(tunnel, { input: { path: tunnelPath }, inspect: recorder.inspect }).start();
    actor.send({ type: "open" });
    actor.stop();
    await recorder.flush();
    expect(log.envelopes.at(-1)).toMatchObject({
      from: "waitCtlReply",
      to: "waitCtlReply",
      cause: "xstate.stop",
      data: { status: "stopped" },
    });
  });

  test("a recorder on a node with a log continues its sequence", async () => {
    const log = new MemoryEventLog();
    await log.append(makeEnvelopes("lns-1", 1, 5));
    const { recorder } = recorderFor(log);
    createActor(tunnel, { input: { path: tunnelPath }, inspect: recorder.inspect })
      .start()
      .send({ type: "open" });
    await recorder.flush();
    expect(log.envelopes.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  test("a pathOf that throws is counted, never thrown into XState", async () => {
    const log = new MemoryEventLog();
    const { recorder } = recorderFor(log, {
      pathOf: () => {
        throw new Error("bug");
      },
    });
    const actor = createActor(tunnel, { input: { path: tunnelPath }, inspect: recorder.inspect }).start();
    actor.send({ type: "open" });
    await recorder.flush();
    expect(recorder.stats.inspectErrors).toBeGreaterThan(0);
    expect(actor.getSnapshot().value).toBe("waitCtlReply");
  });

  test("an invalid node name is refused when the recorder is made", () => {
    expect(() => createRecorder({ node: "lns.test", clock: testClock(), log: new MemoryEventLog() })).toThrow(
      "must be 1-64 letters",
    );
  });
});

describe("recorder queue: never blocks, never drops, reports backpressure", () => {
  test("inspect returns before the log has stored anything; flush waits for it", async () => {
    const log = new GatedLog();
    const { recorder } = recorderFor(log);
    const actor = createActor(tunnel, { input: { path: tunnelPath }, inspect: recorder.inspect }).start();
    actor.send({ type: "open" });
    expect(actor.getSnapshot().value).toBe("waitCtlReply");
    await Promise.resolve();
    expect(log.envelopes.length).toBe(0);
    expect(recorder.stats.queued).toBe(2);
    let flushed = false;
    const flushing = recorder.flush().then(() => {
      flushed = true;
    });
    await new Promise((r) => setTimeout(r, 0));
    expect(flushed).toBe(false);
    log.open();
    await flushing;
    expect(log.envelopes.map((e) => e.to)).toEqual(["idle", "waitCtlReply"]);
  });

  test("what one synchronous run records goes to the log in one append", async () => {
    const log = new GatedLog();
    log.open();
    const { recorder } = recorderFor(log);
    const actor = createActor(tunnel, { input: { path: tunnelPath }, inspect: recorder.inspect }).start();
    actor.send({ type: "open" });
    actor.send({ type: "rx.SCCRP", id: 5 });
    actor.send({ type: "close" });
    expect(log.calls).toBe(0);
    await recorder.flush();
    expect(log.calls).toBe(1);
    expect(log.envelopes.map((e) => e.to)).toEqual([
      "idle",
      "waitCtlReply",
      "established",
      "closing.waitAck",
    ]);
  });

  test("at the bound backpressure turns on; nothing is dropped; it turns off once drained", async () => {
    const log = new GatedLog();
    const changes: boolean[] = [];
    const { recorder } = recorderFor(log, {
      highWater: 10,
      lowWater: 4,
      batchSize: 3,
      maxInFlight: 2,
      onBackpressure: (on) => changes.push(on),
    });
    const actors = Array.from({ length: 13 }, (_, i) =>
      createActor(tunnel, {
        input: { path: { ...tunnelPath, tunnel: i + 1 } },
        inspect: recorder.inspect,
      }).start(),
    );
    expect(recorder.stats.backpressure).toBe(true);
    expect(changes).toEqual([true]);
    for (const actor of actors) actor.send({ type: "open" }); // still accepted: the queue only reports
    expect(recorder.stats.queued).toBe(26);
    expect(recorder.stats.maxQueued).toBe(26);
    log.open();
    await recorder.flush();
    expect(changes).toEqual([true, false]);
    expect(recorder.stats.backpressure).toBe(false);
    expect(log.envelopes.map((e) => e.seq)).toEqual(Array.from({ length: 26 }, (_, i) => i + 1));
    // Per actor, its own transitions stay in order.
    for (let t = 1; t <= 13; t++) {
      expect(log.envelopes.filter((e) => e.path.tunnel === t).map((e) => e.to)).toEqual([
        "idle",
        "waitCtlReply",
      ]);
    }
  });

  test("failed appends are retried in order until stored, without duplicates", async () => {
    const log = new FlakyLog(3);
    const errors: unknown[] = [];
    const { recorder } = recorderFor(log, { batchSize: 2, maxInFlight: 3, onError: (e) => errors.push(e) });
    for (let i = 1; i <= 5; i++) {
      const actor = createActor(tunnel, {
        input: { path: { ...tunnelPath, tunnel: i } },
        inspect: recorder.inspect,
      });
      actor.start();
      actor.send({ type: "open" });
    }
    await recorder.flush();
    expect(log.envelopes.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(recorder.stats.appendFailures).toBeGreaterThanOrEqual(3);
    expect(recorder.stats.lastError).toBe("disk full");
    expect(errors.length).toBe(recorder.stats.appendFailures);
  });

  test("after close nothing more is recorded", async () => {
    const log = new MemoryEventLog();
    const { recorder } = recorderFor(log);
    const actor = createActor(tunnel, { input: { path: tunnelPath }, inspect: recorder.inspect }).start();
    await recorder.close();
    actor.send({ type: "open" });
    await recorder.flush();
    expect(log.envelopes.length).toBe(1);
  });

  test("maxLagMs: an unconfirmed envelope waiting too long turns backpressure on with nothing new recorded; caught up, off", async () => {
    const log = new GatedLog();
    const clock = new SimulatedClock(1000);
    const changes: boolean[] = [];
    const recorder = createRecorder({
      node: "lns-1",
      clock,
      log,
      maxLagMs: 2000,
      onBackpressure: (on) => changes.push(on),
    });
    createActor(tunnel, { input: { path: tunnelPath }, inspect: recorder.inspect }).start();
    await new Promise((r) => setTimeout(r, 0));
    expect(recorder.stats.queued).toBe(1);
    clock.advance(1999); // an outage: nothing is recorded, nothing confirmed
    expect(recorder.stats.backpressure).toBe(false);
    clock.advance(500); // the lag watch looks again (every maxLagMs / 4)
    expect(recorder.stats.backpressure).toBe(true);
    expect(recorder.stats.lagMs).toBeGreaterThanOrEqual(2000);
    expect(changes).toEqual([true]);
    log.open();
    await recorder.flush();
    expect(recorder.stats.backpressure).toBe(false);
    expect(recorder.stats.lagMs).toBe(0);
    expect(changes).toEqual([true, false]);
    clock.advance(10_000);
    expect(clock.pending).toBe(0); // nothing queued: no watch left running
  });

  test("stop gives up at once: no retries, no timers, the unstored count kept", async () => {
    const log = new FlakyLog(1_000_000);
    const clock = new SimulatedClock(1000);
    const recorder = createRecorder({ node: "lns-1", clock, log, maxLagMs: 100 });
    createActor(tunnel, { input: { path: tunnelPath }, inspect: recorder.inspect }).start();
    await new Promise((r) => setTimeout(r, 0));
    clock.advance(50);
    await new Promise((r) => setTimeout(r, 0));
    expect(recorder.stats.appendFailures).toBeGreaterThan(0);
    expect(clock.pending).toBeGreaterThan(0);
    recorder.stop();
    expect(clock.pending).toBe(0);
    const failures = recorder.stats.appendFailures;
    clock.advance(10_000);
    await new Promise((r) => setTimeout(r, 0));
    expect(recorder.stats.appendFailures).toBe(failures);
    expect(recorder.stats.queued).toBe(1);
  });
});
