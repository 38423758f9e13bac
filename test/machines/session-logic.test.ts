import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type AnyActorLogic, createActor } from "xstate";
import { SimulatedClock } from "../../adapters/clock/simulated.ts";
import { cause } from "../../machines/common.ts";
import {
  type SessionEvent,
  type SessionInput,
  type SessionKind,
  sessionMachine,
} from "../../machines/session.ts";
import { sessionLogic, sinkSessionEffects } from "../../machines/session-logic.ts";
import type { ControlMessage, MessageTypeName } from "../../protocol/l2tp/messages.ts";

const path = { system: "n1", destination: "127.0.0.2:1701", tunnel: 10, session: 500 };
const KINDS: SessionKind[] = ["lac-incoming", "lns-incoming", "lac-outgoing", "lns-outgoing"];
const RX: MessageTypeName[] = ["ICRQ", "ICRP", "ICCN", "OCRQ", "OCRP", "OCCN", "CDN", "WEN", "SLI"];

/** One thing that happens to a session: an event, or time passing. */
type Step = { event: SessionEvent } | { advanceMs: number };

const message = (type: MessageTypeName): fc.Arbitrary<ControlMessage> =>
  fc
    .record({
      assignedSessionId: fc.constantFrom(undefined, 0, 77, 78),
      resultCode: fc.option(
        fc.record({ result: fc.integer({ min: 1, max: 11 }), error: fc.constantFrom(undefined, 0, 6) }),
        { nil: undefined },
      ),
    })
    .map(({ assignedSessionId, resultCode }) => ({
      type,
      avps: {
        ...(assignedSessionId !== undefined ? { assignedSessionId } : {}),
        ...(resultCode
          ? {
              resultCode: {
                result: resultCode.result,
                ...(resultCode.error !== undefined ? { error: resultCode.error } : {}),
              },
            }
          : {}),
      },
    }));

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom<Step>(
    { event: { type: "tunnelUp" } },
    { event: { type: "answered" } },
    { event: { type: "answerFailed", cause: cause("timeout", "no answer") } },
    { event: { type: "tunnelGone", cause: cause("tunnel-gone", "tunnel 10 ended") } },
    { event: { type: "close", cause: cause("admin", "operator") } },
    { event: { type: "close", cause: cause("admin", "operator", { result: 3, message: "bye" }) } },
    { advanceMs: 1000 },
    { advanceMs: 6000 },
    { advanceMs: 130_000 },
  ),
  fc
    .constantFrom(...RX)
    .chain((type) => message(type))
    .map((m): Step => ({ event: { type: `rx.${m.type}`, message: m } as SessionEvent })),
);

const input: fc.Arbitrary<SessionInput> = fc
  .record({
    kind: fc.constantFrom(...KINDS),
    tunnelUp: fc.constantFrom(undefined, true),
    request: fc.option(
      fc.constantFrom<MessageTypeName>("ICRQ", "OCRQ").chain((t) => message(t)),
      {
        nil: undefined,
      },
    ),
    setupTimeoutMs: fc.constantFrom(undefined, 5000),
    requestAvps: fc.constantFrom(undefined, { callSerialNumber: 9, callingNumber: "555" }),
    connectAvps: fc.constantFrom(undefined, { txConnectSpeed: 64000 }),
  })
  .map(({ kind, tunnelUp, request, setupTimeoutMs, requestAvps, connectAvps }) => ({
    path,
    kind,
    localSessionId: 500,
    ...(tunnelUp ? { tunnelUp } : {}),
    ...(request ? { request } : {}),
    ...(setupTimeoutMs ? { setupTimeoutMs } : {}),
    ...(requestAvps ? { requestAvps } : {}),
    ...(connectAvps ? { connectAvps } : {}),
  }));

/**
 * Runs a logic on its own simulated clock and records what it emits. `sunk`: as the node wires a
 * session (sinkSessionEffects: a sink first, and the actor's scope with shared methods), the sink's
 * events recorded apart in `sunk`.
 */
function run(logic: AnyActorLogic, start: SessionInput, sunk?: unknown[]) {
  const clock = new SimulatedClock();
  const actor = createActor(logic, { input: start, clock });
  const emitted: unknown[] = [];
  if (sunk) sinkSessionEffects(actor, { sessionEmitted: (e) => sunk.push(e) });
  actor.on("*", (e) => emitted.push(e));
  actor.start();
  const view = () => {
    const s = actor.getSnapshot() as { status: string; value: unknown; context: unknown; output: unknown };
    return { status: s.status, value: s.value, context: s.context, output: s.output, emitted: [...emitted] };
  };
  return {
    view,
    apply(s: Step) {
      if ("advanceMs" in s) clock.advance(s.advanceMs);
      else actor.send(s.event);
    },
    pending: () => clock.pending,
  };
}

describe("sessionLogic is sessionMachine (RFC 2661 §7.3-§7.5)", () => {
  test("property: the same inputs and events give the same snapshots, emitted events and timers", () => {
    fc.assert(
      fc.property(input, fc.array(step, { maxLength: 8 }), (start, steps) => {
        const machine = run(sessionMachine, start);
        const logic = run(sessionLogic, start);
        // As the node runs it: a sink, and the scope whose methods are shared (SessionScope).
        const sunk: unknown[] = [];
        const wired = run(sessionLogic, start, sunk);
        const same = () => {
          expect(logic.view()).toEqual(machine.view());
          expect(logic.pending()).toBe(machine.pending());
          expect(wired.view()).toEqual(machine.view());
          expect(wired.pending()).toBe(machine.pending());
          expect(sunk).toEqual(wired.view().emitted);
        };
        same();
        for (const s of steps) {
          machine.apply(s);
          logic.apply(s);
          wired.apply(s);
          same();
        }
      }),
      { numRuns: 3000 },
    );
  });

  test("a LAC call on an established tunnel: ICRQ at once, ICRP → ICCN → established, output on tunnelGone", () => {
    const logic = run(sessionLogic, { path, kind: "lac-incoming", localSessionId: 500, tunnelUp: true });
    expect(logic.view()).toMatchObject({ value: "wait-reply", status: "active" });
    expect(logic.pending()).toBe(1); // the setup timeout
    logic.apply({ event: { type: "rx.ICRP", message: { type: "ICRP", avps: { assignedSessionId: 77 } } } });
    const v = logic.view();
    expect(v).toMatchObject({ value: "established", context: { peerSessionId: 77, wasEstablished: true } });
    expect((v.emitted as { type: string }[]).map((e) => e.type)).toEqual(["send", "send", "established"]);
    expect(logic.pending()).toBe(0);
    logic.apply({ event: { type: "tunnelGone", cause: cause("tunnel-gone", "gone") } });
    expect(logic.view()).toMatchObject({
      status: "done",
      value: "closed",
      output: { cause: { reason: "tunnel-gone" }, wasEstablished: true },
    });
  });

  test("xstate.stop stops it (status stopped) and clears its timer", () => {
    const clock = new SimulatedClock();
    const actor = createActor(sessionLogic, {
      input: { path, kind: "lac-incoming", localSessionId: 1, tunnelUp: true },
      clock,
    });
    actor.start();
    expect(clock.pending).toBe(1);
    actor.stop();
    expect(actor.getSnapshot().status).toBe("stopped");
    expect(clock.pending).toBe(0);
  });
});
