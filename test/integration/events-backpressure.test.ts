/**
 * Nothing lost, admission control (issue 4 item 2): a real LAC/LNS pair on the memory network, each
 * recording through its own recorder into a log whose appends the test holds (a slow log) or fails (NATS
 * down). While a node's recorder reports backpressure it refuses NEW work with the RFC 2661 §4.4.2 codes
 * (an SCCRQ: StopCCN result 2, error 4; an ICRQ: CDN result 4; a call it would place: refused locally),
 * the sessions it has live on; once the log catches up it accepts again; and every event ends up in the
 * log, in seq order, none twice.
 */
import { describe, expect, test } from "bun:test";
import type { L2tpNode, OpenSessionOutcome } from "../../actors/node.ts";
import { MemoryEventLog } from "../../adapters/event-log/memory.ts";
import type { Envelope } from "../../events/envelope.ts";
import { type EventLog, EventLogError, type FollowOptions, type ReadOptions } from "../../events/port.ts";
import { createRecorder, pathOfNode, type Recorder } from "../../events/recorder.ts";
import { replay } from "../../events/replay.ts";
import { LAC, Lab, LNS, lacConfig, lnsConfig } from "../actors/lab.ts";

/** A memory log whose appends the test can hold (slow log) or fail (unreachable), in call order. */
class GatedLog implements EventLog {
  readonly description = "gated memory:";
  readonly inner = new MemoryEventLog();
  /** Every append call, failed and retried ones included. */
  calls = 0;
  private held = false;
  private failing = false;
  private waiting: { batch: Envelope[]; resolve: () => void; reject: (e: unknown) => void }[] = [];

  append(envelopes: readonly Envelope[]): Promise<void> {
    this.calls++;
    if (this.failing) return Promise.reject(new EventLogError("io", "nats down (test)"));
    if (!this.held && this.waiting.length === 0) return this.inner.append(envelopes);
    return new Promise((resolve, reject) => this.waiting.push({ batch: [...envelopes], resolve, reject }));
  }

  /** Appends wait until release(). */
  hold(): void {
    this.held = true;
  }

  /** Appends fail (the recorder retries them) until heal(). */
  fail(): void {
    this.failing = true;
  }

  heal(): void {
    this.failing = false;
  }

  /** Lets the held appends through, in the order they were made. */
  async release(): Promise<void> {
    this.held = false;
    while (this.waiting.length > 0) {
      const next = this.waiting.shift() as (typeof this.waiting)[number];
      await this.inner.append(next.batch).then(next.resolve, next.reject);
    }
  }

  lastSeq(node: string): Promise<number> {
    return this.inner.lastSeq(node);
  }
  read(options?: ReadOptions): AsyncIterable<Envelope> {
    return this.inner.read(options);
  }
  follow(options?: FollowOptions): AsyncIterable<Envelope> {
    return this.inner.follow(options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A node of the lab recording into its own gated log, with admission control on its recorder. */
function recordedNode(
  lab: Lab,
  address: string,
  config: Parameters<Lab["node"]>[1],
): { node: L2tpNode; log: GatedLog; recorder: Recorder } {
  const log = new GatedLog();
  let node: L2tpNode | undefined;
  const recorder = createRecorder({
    node: config.name,
    clock: lab.clock,
    log,
    pathOf: pathOfNode(() => node),
    highWater: 24,
    lowWater: 8,
    batchSize: 4,
    maxInFlight: 2,
    retryMs: { initial: 10, max: 40 },
  });
  node = lab.node(address, config, {
    deps: { inspect: recorder.inspect, admit: () => !recorder.stats.backpressure },
  });
  return { node, log, recorder };
}

/** Whether the node's recorder reports backpressure now (a call, so TypeScript does not narrow it). */
function pressured(n: { recorder: Recorder }): boolean {
  return n.recorder.stats.backpressure;
}

/** Checks a node's stored events: seq 1..recorded in order, none twice, all of them. */
function expectComplete(log: GatedLog, node: string, recorder: Recorder): Envelope[] {
  const stored = log.inner.envelopes.filter((e) => e.node === node);
  expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
  expect(stored.length).toBe(recorder.stats.recorded);
  expect(recorder.stats.appended).toBe(recorder.stats.recorded);
  expect(recorder.stats.queued).toBe(0);
  return stored;
}

describe("admission control on event-log backpressure", () => {
  test("LNS: slow log → SCCRQ gets StopCCN 2/4 and ICRQ gets CDN 4, sessions live on; released → accepted; nothing lost", async () => {
    const lab = new Lab(7);
    const lns = recordedNode(lab, LNS.address, lnsConfig());
    const lac = recordedNode(lab, LAC.address, lacConfig());
    // A second LAC, to ask for a new tunnel (its lockout is short, so it can ask again after the refusal).
    const lac2 = recordedNode(lab, "127.0.0.4", lacConfig({ name: "lac2", lockoutMs: 100 }));
    const open = (from: L2tpNode) => lab.until(from.openSession({ destination: LNS }));
    const established: OpenSessionOutcome[] = [];

    established.push(await open(lac.node));
    expect(established[0]?.ok).toBe(true);

    // The LNS's log stalls: calls are still taken until its queue reaches the high-water mark.
    lns.log.hold();
    let accepted = 0;
    while (!pressured(lns)) {
      const outcome = await open(lac.node);
      expect(outcome.ok).toBe(true);
      established.push(outcome);
      accepted++;
      expect(accepted).toBeLessThan(50);
    }
    expect(accepted).toBeGreaterThan(1);

    // Backpressure on: a new call is refused with CDN result 4 (no facilities, temporary).
    const cdnsBefore = lab.sent("CDN", LNS.address).length;
    const refusedCall = await open(lac.node);
    expect(refusedCall.ok).toBe(false);
    const cdns = lab.sent("CDN", LNS.address).slice(cdnsBefore);
    expect(cdns).toHaveLength(1);
    expect(cdns[0]?.message.avps.resultCode).toMatchObject({ result: 4 });
    expect(cdns[0]?.message.avps.resultCode?.error ?? 0).toBe(0);
    expect(cdns[0]?.message.avps.assignedSessionId).toBe(0);

    // … and a new tunnel with StopCCN result 2, error 4 (insufficient resources).
    const refusedTunnel = await open(lac2.node);
    expect(refusedTunnel.ok).toBe(false);
    const stops = lab.sent("StopCCN", LNS.address);
    expect(stops).toHaveLength(1);
    expect(stops[0]?.to).toBe("127.0.0.4:1701");
    expect(stops[0]?.message.avps.resultCode).toMatchObject({ result: 2, error: 4 });

    // The sessions the LNS has live on: all established, and data still flows both ways.
    const lnsSessions = () =>
      lns.node.snapshot().destinations.flatMap((d) => d.tunnels.flatMap((t) => t.sessions));
    expect(lnsSessions().filter((s) => s.state === "established")).toHaveLength(established.length);
    const first = established[0] as OpenSessionOutcome & { ok: true };
    expect(lac.node.sendData(first.tunnelId, first.sessionId, new Uint8Array([0xff, 0x03, 0xc0, 0x21]))).toBe(
      true,
    );
    await lab.run(20);
    expect(lnsSessions().find((s) => s.id === first.peerSessionId)?.packetsIn).toBe(1);
    // Nothing was dropped while held: every event is queued.
    expect(lns.recorder.stats.queued).toBe(lns.recorder.stats.recorded - lns.recorder.stats.appended);

    // Released: the queue drains below the low-water mark, new work is accepted again.
    await lns.log.release();
    await lab.run(20);
    expect(pressured(lns)).toBe(false);
    const again = await open(lac.node);
    expect(again.ok).toBe(true);
    await lab.run(200); // lac2's lockout of the LNS ends
    const tunnelAgain = await open(lac2.node);
    expect(tunnelAgain.ok).toBe(true);
    established.push(again, tunnelAgain);

    // The log is down (appends fail, as when NATS is unreachable): refused again, nothing lost.
    lns.log.fail();
    while (!pressured(lns)) {
      const outcome = await open(lac.node);
      if (!outcome.ok) break;
      established.push(outcome);
    }
    expect(pressured(lns)).toBe(true);
    expect(lns.recorder.stats.appendFailures).toBeGreaterThan(0);
    const whileDown = await open(lac.node);
    expect(whileDown.ok).toBe(false);
    expect(lab.sent("CDN", LNS.address).at(-1)?.message.avps.resultCode).toMatchObject({ result: 4 });
    lns.log.heal();
    await lab.run(200); // the recorder's retry (at most 40 ms apart) goes through
    expect(pressured(lns)).toBe(false);
    const healed = await open(lac.node);
    expect(healed.ok).toBe(true);
    established.push(healed);

    await lab.closeAll();
    for (const n of [lns, lac, lac2]) await lab.until(n.recorder.flush());
    const stored = expectComplete(lns.log, "lns", lns.recorder);
    expectComplete(lac.log, "lac", lac.recorder);
    expectComplete(lac2.log, "lac2", lac2.recorder);
    // The log tells the whole story: every session the LNS ever had ended closed.
    const tree = replay(stored);
    const sessions = Object.values(tree.nodes.lns?.destinations ?? {}).flatMap((d) =>
      Object.values(d.tunnels).flatMap((t) => Object.values(t.sessions)),
    );
    expect(sessions.length).toBe(established.length);
    expect(sessions.every((s) => s.state === "closed")).toBe(true);
  }, 30_000);

  test("LAC: its own log stalls → the calls it would place are refused locally (no ICRQ sent); released → placed", async () => {
    const lab = new Lab(11);
    const lns = recordedNode(lab, LNS.address, lnsConfig());
    const lac = recordedNode(lab, LAC.address, lacConfig());
    const open = () => lab.until(lac.node.openSession({ destination: LNS }));
    expect((await open()).ok).toBe(true);
    lac.log.hold();
    while (!pressured(lac)) expect((await open()).ok).toBe(true);
    const icrqs = lab.sent("ICRQ", LAC.address).length;
    const refused = await open();
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.cause.reason).toBe("refused");
      expect(refused.cause.message).toContain("insufficient resources");
    }
    expect(lab.sent("ICRQ", LAC.address).length).toBe(icrqs);
    await lac.log.release();
    await lab.run(20);
    expect((await open()).ok).toBe(true);
    await lab.closeAll();
    for (const n of [lns, lac]) await lab.until(n.recorder.flush());
    expectComplete(lac.log, "lac", lac.recorder);
    expectComplete(lns.log, "lns", lns.recorder);
  }, 30_000);
});
