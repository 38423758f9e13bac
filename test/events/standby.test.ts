/**
 * The standby's follow of its primary (events/standby.ts): the fold starts a new life of the node at
 * each new system actor, heartbeats keep the standby waiting, silence past the limit is told once,
 * and stopping reads what the log stored after the follow's last envelope.
 */
import { describe, expect, test } from "bun:test";
import { SimulatedClock } from "../../adapters/clock/simulated.ts";
import { MemoryEventLog } from "../../adapters/event-log/memory.ts";
import type { Envelope, EnvelopePath, MachineKind } from "../../events/envelope.ts";
import { evolve, initialTree } from "../../events/replay.ts";
import { followPrimary } from "../../events/standby.ts";

const D = "127.0.0.1:1701";

function maker(node = "lns") {
  let seq = 0;
  return (
    machine: MachineKind,
    path: EnvelopePath,
    from: string | null,
    to: string,
    data: Record<string, unknown> = {},
  ): Envelope => ({ v: 1, node, seq: ++seq, time: seq, path, machine, from, to, cause: "x", data });
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe("events/standby", () => {
  test("a new system actor starts a new life: what the killed life left open is forgotten", () => {
    const ev = maker();
    const tree = initialTree();
    for (const e of [
      ev("system", {}, null, "running"),
      ev("tunnel", { destination: D, tunnel: 7 }, null, "established"),
      ev("system", {}, null, "running"),
      ev("tunnel", { destination: D, tunnel: 9 }, null, "established"),
    ]) {
      evolve(tree, e);
    }
    expect(Object.keys(tree.nodes.lns.destinations[D].tunnels)).toEqual(["9"]);
    expect(tree.nodes.lns.lastSeq).toBe(4);
  });

  test("heartbeats keep it waiting; silence past the limit is told once; stop reads the rest", async () => {
    const clock = new SimulatedClock();
    const log = new MemoryEventLog();
    const ev = maker();
    const other = maker("someone-else");
    const silent: number[] = [];
    const follower = followPrimary({
      log,
      node: "lns",
      clock,
      takeoverAfterMs: 3000,
      onSilent: (ms) => silent.push(ms),
    });
    await log.append([ev("system", {}, null, "running")]);
    await settle();
    expect(follower.status().lastSeq).toBe(1);
    // A heartbeat a second, for ten seconds: never silent.
    for (let i = 1; i <= 10; i++) {
      clock.advance(1000);
      await log.append([ev("system", {}, "running", "running", { heartbeat: i * 1000 })]);
      await log.append([other("system", {}, null, "running")]);
      await settle();
    }
    expect(silent).toEqual([]);
    expect(follower.status()).toMatchObject({ lastSeq: 11, heartbeat: 10_000 });
    // The primary dies: told once, about 3 s later.
    for (let i = 0; i < 40; i++) {
      clock.advance(100);
      await settle();
    }
    expect(silent).toHaveLength(1);
    expect(silent[0]).toBeGreaterThanOrEqual(3000);
    expect(silent[0]).toBeLessThan(3300);
    const tree = await follower.stop();
    // The fold stop() returns: the primary only, up to its last envelope.
    expect(tree.nodes.lns.lastSeq).toBe(11);
    expect(tree.nodes["someone-else"]).toBeUndefined();
  });

  test("stop picks up envelopes the follow had not delivered yet", async () => {
    const clock = new SimulatedClock();
    const log = new MemoryEventLog();
    const ev = maker();
    const follower = followPrimary({ log, node: "lns", clock });
    await log.append([ev("system", {}, null, "running")]);
    // No turn for the follow to run: the envelopes are only in the log.
    await log.append([ev("tunnel", { destination: D, tunnel: 7 }, null, "established")]);
    const tree = await follower.stop();
    expect(tree.nodes.lns.destinations[D].tunnels["7"].actor?.state).toBe("established");
  });
});
