/**
 * The subscriber table (machines/lac-subscriber.ts) run as XState runs it: each event moves only the
 * states that name it, writes what was decided into the context, and `ended` is final with the cause.
 */
import { describe, expect, test } from "bun:test";
import { createActor } from "xstate";
import { cause } from "../../machines/common.ts";
import {
  type LacSubscriberEvent,
  lacSubscriberLogic,
  SUBSCRIBER_STATES,
  SUBSCRIBER_TRANSITIONS,
} from "../../machines/lac-subscriber.ts";

const path = { system: "lac", subscriber: "sim:1" };

function run(events: LacSubscriberEvent[]) {
  const actor = createActor(lacSubscriberLogic, { input: { path } });
  actor.start();
  for (const e of events) actor.send(e);
  return actor.getSnapshot();
}

describe("the LAC subscriber's table", () => {
  test("tunnelled: the user, the decision and its reason, the group, the placement; ended is final", () => {
    const placed = { destination: "127.0.0.3:1701", tunnel: 7, session: 9 };
    const s = run([
      { type: "authenticated", user: "alice@isp.example" },
      { type: "tunnel", group: "isp.example", reason: "domain isp.example" },
      { type: "placed", placed },
    ]);
    expect(s.value).toBe("tunnelled");
    expect(s.context).toEqual({
      path,
      user: "alice@isp.example",
      decision: "tunnel",
      group: "isp.example",
      reason: "domain isp.example",
      placed,
    });
    const why = cause("ppp", "the subscriber hung up");
    const ended = run([
      { type: "authenticated", user: "a" },
      { type: "tunnel", group: "g", reason: "r" },
      { type: "placed", placed },
      { type: "ended", cause: why },
    ]);
    expect(ended.status).toBe("done");
    expect(ended.output).toEqual({ cause: why });
  });

  test("refused while deciding is a decision (refuse, with what was looked up); while placing only the cause", () => {
    const nothing = cause("refused", "domain nowhere.example not in the domain map");
    const deciding = run([
      { type: "authenticated", user: "d" },
      { type: "refused", cause: nothing },
    ]);
    expect(deciding.value).toBe("ended");
    expect(deciding.context.decision).toBe("refuse");
    expect(deciding.context.reason).toBe(nothing.message);
    const noTunnel = cause("refused", "every destination is locked out");
    const placing = run([
      { type: "authenticated", user: "d" },
      { type: "tunnel", group: "g", reason: "domain g" },
      { type: "refused", cause: noTunnel },
    ]);
    expect(placing.value).toBe("ended");
    expect(placing.context.decision).toBe("tunnel");
    expect(placing.context.cause).toEqual(noTunnel);
  });

  test("an event a state does not name leaves its snapshot as it is", () => {
    const all: LacSubscriberEvent[] = [
      { type: "authenticated", user: "u" },
      { type: "tunnel", group: "g", reason: "r" },
      { type: "terminate", reason: "r" },
      { type: "refused", cause: cause("refused", "x") },
      { type: "placed", placed: { destination: "d", tunnel: 1, session: 1 } },
      { type: "up", address: "10.0.0.2" },
      { type: "ended", cause: cause("ppp", "x") },
    ];
    const reach: Record<string, LacSubscriberEvent[]> = {
      ppp: [],
      deciding: [all[0] as LacSubscriberEvent],
      placing: [all[0] as LacSubscriberEvent, all[1] as LacSubscriberEvent],
      tunnelled: [all[0] as LacSubscriberEvent, all[1] as LacSubscriberEvent, all[4] as LacSubscriberEvent],
      local: [all[0] as LacSubscriberEvent, all[2] as LacSubscriberEvent],
      ended: [all[6] as LacSubscriberEvent],
    };
    for (const state of SUBSCRIBER_STATES) {
      const before = run(reach[state] as LacSubscriberEvent[]);
      expect(before.value).toBe(state);
      for (const e of all) {
        const after = run([...(reach[state] as LacSubscriberEvent[]), e]);
        const target = SUBSCRIBER_TRANSITIONS[state][e.type];
        expect(after.value).toBe(target ?? state);
        if (target === undefined) expect(after.context).toEqual(before.context);
      }
    }
  });
});
