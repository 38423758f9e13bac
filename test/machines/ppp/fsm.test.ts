/**
 * The RFC 1661 automaton against the RFC's own state transition table (§4.1), every state × event,
 * transcribed here a second time in the RFC's numeric notation (states 0-9), and properties of random
 * event sequences.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  FSM_EVENTS,
  FSM_STATES,
  type FsmEvent,
  type FsmState,
  fsmStep,
  restartTimerRuns,
} from "../../../machines/ppp/fsm.ts";

// RFC 1661 §4.1, as printed: rows are events, columns states 0-9; "-" illegal; "r", "p", "x" options dropped.
const RFC: Record<string, string> = {
  Up: "2 irc,scr/6 - - - - - - - -",
  Down: "- - 0 tls/1 0 1 1 1 1 tld/1",
  Open: "tls/1 1 irc,scr/6 3 5 5 6 7 8 9",
  Close: "0 tlf/0 2 2 4 4 irc,str/4 irc,str/4 irc,str/4 tld,irc,str/4",
  "TO+": "- - - - str/4 str/5 scr/6 scr/6 scr/8 -",
  "TO-": "- - - - tlf/2 tlf/3 tlf/3 tlf/3 tlf/3 -",
  "RCR+": "- - sta/2 irc,scr,sca/8 4 5 sca/8 sca,tlu/9 sca/8 tld,scr,sca/8",
  "RCR-": "- - sta/2 irc,scr,scn/6 4 5 scn/6 scn/7 scn/6 tld,scr,scn/6",
  RCA: "- - sta/2 sta/3 4 5 irc/7 scr/6 irc,tlu/9 tld,scr/6",
  RCN: "- - sta/2 sta/3 4 5 irc,scr/6 scr/6 irc,scr/8 tld,scr/6",
  RTR: "- - sta/2 sta/3 sta/4 sta/5 sta/6 sta/6 sta/6 tld,zrc,sta/5",
  RTA: "- - 2 3 tlf/2 tlf/3 6 6 8 tld,scr/6",
  RUC: "- - scj/2 scj/3 scj/4 scj/5 scj/6 scj/7 scj/8 scj/9",
  "RXJ+": "- - 2 3 4 5 6 6 8 9",
  "RXJ-": "- - tlf/2 tlf/3 tlf/2 tlf/3 tlf/3 tlf/3 tlf/3 tld,irc,str/5",
  RXR: "- - 2 3 4 5 6 7 8 ser/9",
};

const EVENT_OF: Record<string, FsmEvent> = {
  Up: "up",
  Down: "down",
  Open: "open",
  Close: "close",
  "TO+": "to+",
  "TO-": "to-",
  "RCR+": "rcr+",
  "RCR-": "rcr-",
  RCA: "rca",
  RCN: "rcn",
  RTR: "rtr",
  RTA: "rta",
  RUC: "ruc",
  "RXJ+": "rxj+",
  "RXJ-": "rxj-",
  RXR: "rxr",
};

describe("RFC 1661 §4.1 state transition table", () => {
  test("covers the 16 events and 10 states of the RFC", () => {
    expect(FSM_EVENTS).toHaveLength(16);
    expect(FSM_STATES).toHaveLength(10);
    expect(
      Object.keys(RFC)
        .map((e) => EVENT_OF[e])
        .sort(),
    ).toEqual([...FSM_EVENTS].sort());
  });

  for (const [row, cells] of Object.entries(RFC)) {
    const event = EVENT_OF[row] as FsmEvent;
    test(`${row}: every state`, () => {
      const expected = cells.split(" ");
      expect(expected).toHaveLength(10);
      FSM_STATES.forEach((state, i) => {
        const cell = expected[i] as string;
        const got = fsmStep(state, event);
        if (cell === "-") {
          expect(got).toBeNull();
          return;
        }
        const slash = cell.indexOf("/");
        const next = Number(slash < 0 ? cell : cell.slice(slash + 1));
        const actions = slash < 0 ? [] : cell.slice(0, slash).split(",");
        expect({ state, actions: [...(got?.actions ?? [])] as string[], next: got?.next as string }).toEqual({
          state,
          actions,
          next: FSM_STATES[next] as string,
        });
      });
    });
  }
});

describe("the automaton over random event sequences", () => {
  test("This-Layer-Up and -Down alternate, Opened is entered only with tlu and left only with tld, the restart timer runs where §4.6 says", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...FSM_EVENTS), { maxLength: 200 }), (events) => {
        let state: FsmState = "initial";
        let up = false;
        for (const event of events) {
          const t = fsmStep(state, event);
          if (!t) continue;
          const tlu = t.actions.includes("tlu");
          const tld = t.actions.includes("tld");
          if (tlu) {
            expect(up).toBe(false);
            up = true;
          }
          if (tld) {
            expect(up).toBe(true);
            up = false;
          }
          if (state !== "opened" && t.next === "opened") expect(tlu).toBe(true);
          if (state === "opened" && t.next !== "opened") expect(tld).toBe(true);
          // A Configure-Request or Terminate-Request sent means the timer runs in the next state.
          if (t.actions.includes("scr") || t.actions.includes("str"))
            expect(restartTimerRuns(t.next)).toBe(true);
          state = t.next;
          expect(up).toBe(state === "opened");
        }
      }),
      { numRuns: 2000 },
    );
  });
});
