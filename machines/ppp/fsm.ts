/**
 * The option-negotiation automaton of RFC 1661 §4: ten states, sixteen events, thirteen actions, one
 * table. LCP and every NCP (IPCP, IPv6CP) run the same automaton (RFC 1661 §4, RFC 1332 §2); what
 * differs is how a Configure-Request is judged (RCR+ / RCR-) and what ours contains, which is the
 * protocol's option policy (options.ts).
 *
 * Pure and allocation-free per step: `fsmStep(state, event)` looks the transition up in a table parsed
 * once at load from the RFC's own notation ("irc,scr/req-sent"), so a reader can hold this file
 * against RFC 1661 §4.1 line by line. The restart option ("r") and the passive option ("p") are not
 * used: Open in Stopped/Closing/Stopping/Opened keeps the state, TO- after Req-Sent stops.
 */

/** The states of RFC 1661 §4.2, in the RFC's order (0-9). */
export const FSM_STATES = [
  "initial",
  "starting",
  "closed",
  "stopped",
  "closing",
  "stopping",
  "req-sent",
  "ack-rcvd",
  "ack-sent",
  "opened",
] as const;

/** A state of the automaton (RFC 1661 §4.2). */
export type FsmState = (typeof FSM_STATES)[number];

/** The events of RFC 1661 §4.3. */
export const FSM_EVENTS = [
  /** Up: the lower layer is up. */
  "up",
  /** Down: the lower layer is down. */
  "down",
  /** Open: administrative open. */
  "open",
  /** Close: administrative close. */
  "close",
  /** TO+: the restart timer expired, counter > 0. */
  "to+",
  /** TO-: the restart timer expired, counter exhausted. */
  "to-",
  /** RCR+: a Configure-Request we can Ack. */
  "rcr+",
  /** RCR-: a Configure-Request we must Nak or Reject. */
  "rcr-",
  /** RCA: a Configure-Ack for our last request. */
  "rca",
  /** RCN: a Configure-Nak or Configure-Reject of our last request. */
  "rcn",
  /** RTR: a Terminate-Request. */
  "rtr",
  /** RTA: a Terminate-Ack. */
  "rta",
  /** RUC: an unknown code. */
  "ruc",
  /** RXJ+: a Code-Reject or Protocol-Reject of something we can live without. */
  "rxj+",
  /** RXJ-: a Code-Reject or Protocol-Reject that makes the protocol unusable. */
  "rxj-",
  /** RXR: an Echo-Request, Echo-Reply or Discard-Request. */
  "rxr",
] as const;

/** An event of the automaton (RFC 1661 §4.3). */
export type FsmEvent = (typeof FSM_EVENTS)[number];

/**
 * The actions of RFC 1661 §4.4: tlu/tld/tls/tlf tell the layer above/below (This-Layer-Up/-Down/
 * -Started/-Finished); irc/zrc set the restart counter (Max-Configure or Max-Terminate / zero); scr, sca,
 * scn, str, sta, scj, ser send Configure-Request/-Ack/-Nak(or -Reject), Terminate-Request/-Ack,
 * Code-Reject, Echo-Reply.
 */
export type FsmAction =
  | "tlu"
  | "tld"
  | "tls"
  | "tlf"
  | "irc"
  | "zrc"
  | "scr"
  | "sca"
  | "scn"
  | "str"
  | "sta"
  | "scj"
  | "ser";

/** What one event does in one state: the actions, in order, and the next state. */
export interface FsmTransition {
  readonly actions: readonly FsmAction[];
  readonly next: FsmState;
}

/**
 * RFC 1661 §4.1's state transition table, one row per event, one column per state (initial …
 * opened). "-" is an event that cannot happen in that state (RFC 1661 §4.1: "illegal"); it is ignored.
 * A cell with no actions is just the next state.
 */
// biome-ignore format: the table keeps the RFC's layout, one column per state.
const TABLE: Record<FsmEvent, readonly string[]> = {
  //        initial       starting              closed                  stopped                     closing          stopping         req-sent                ack-rcvd                ack-sent                opened
  up:      ["closed",     "irc,scr/req-sent",   "-",                    "-",                        "-",             "-",             "-",                    "-",                    "-",                    "-"],
  down:    ["-",          "-",                  "initial",              "tls/starting",             "initial",       "starting",      "starting",             "starting",             "starting",             "tld/starting"],
  open:    ["tls/starting","starting",          "irc,scr/req-sent",     "stopped",                  "stopping",      "stopping",      "req-sent",             "ack-rcvd",             "ack-sent",             "opened"],
  close:   ["initial",    "tlf/initial",        "closed",               "closed",                   "closing",       "closing",       "irc,str/closing",      "irc,str/closing",      "irc,str/closing",      "tld,irc,str/closing"],
  "to+":   ["-",          "-",                  "-",                    "-",                        "str/closing",   "str/stopping",  "scr/req-sent",         "scr/req-sent",         "scr/ack-sent",         "-"],
  "to-":   ["-",          "-",                  "-",                    "-",                        "tlf/closed",    "tlf/stopped",   "tlf/stopped",          "tlf/stopped",          "tlf/stopped",          "-"],
  "rcr+":  ["-",          "-",                  "sta/closed",           "irc,scr,sca/ack-sent",     "closing",       "stopping",      "sca/ack-sent",         "sca,tlu/opened",       "sca/ack-sent",         "tld,scr,sca/ack-sent"],
  "rcr-":  ["-",          "-",                  "sta/closed",           "irc,scr,scn/req-sent",     "closing",       "stopping",      "scn/req-sent",         "scn/ack-rcvd",         "scn/req-sent",         "tld,scr,scn/req-sent"],
  rca:     ["-",          "-",                  "sta/closed",           "sta/stopped",              "closing",       "stopping",      "irc/ack-rcvd",         "scr/req-sent",         "irc,tlu/opened",       "tld,scr/req-sent"],
  rcn:     ["-",          "-",                  "sta/closed",           "sta/stopped",              "closing",       "stopping",      "irc,scr/req-sent",     "scr/req-sent",         "irc,scr/ack-sent",     "tld,scr/req-sent"],
  rtr:     ["-",          "-",                  "sta/closed",           "sta/stopped",              "sta/closing",   "sta/stopping",  "sta/req-sent",         "sta/req-sent",         "sta/req-sent",         "tld,zrc,sta/stopping"],
  rta:     ["-",          "-",                  "closed",               "stopped",                  "tlf/closed",    "tlf/stopped",   "req-sent",             "req-sent",             "ack-sent",             "tld,scr/req-sent"],
  ruc:     ["-",          "-",                  "scj/closed",           "scj/stopped",              "scj/closing",   "scj/stopping",  "scj/req-sent",         "scj/ack-rcvd",         "scj/ack-sent",         "scj/opened"],
  "rxj+":  ["-",          "-",                  "closed",               "stopped",                  "closing",       "stopping",      "req-sent",             "req-sent",             "ack-sent",             "opened"],
  "rxj-":  ["-",          "-",                  "tlf/closed",           "tlf/stopped",              "tlf/closed",    "tlf/stopped",   "tlf/stopped",          "tlf/stopped",          "tlf/stopped",          "tld,irc,str/stopping"],
  rxr:     ["-",          "-",                  "closed",               "stopped",                  "closing",       "stopping",      "req-sent",             "ack-rcvd",             "ack-sent",             "ser/opened"],
};

const STATE_INDEX: Readonly<Record<FsmState, number>> = Object.fromEntries(
  FSM_STATES.map((s, i) => [s, i]),
) as Record<FsmState, number>;

const ACTIONS: ReadonlySet<string> = new Set([
  "tlu",
  "tld",
  "tls",
  "tlf",
  "irc",
  "zrc",
  "scr",
  "sca",
  "scn",
  "str",
  "sta",
  "scj",
  "ser",
]);

/** Reads one cell of the table; throws at load if the table has a typo (a test loads it). */
function parseCell(cell: string): FsmTransition | null {
  if (cell === "-") return null;
  const slash = cell.indexOf("/");
  const next = (slash < 0 ? cell : cell.slice(slash + 1)) as FsmState;
  if (!(next in STATE_INDEX)) throw new Error(`RFC 1661 table: unknown state '${next}'`);
  const actions = slash < 0 ? [] : cell.slice(0, slash).split(",");
  for (const a of actions) if (!ACTIONS.has(a)) throw new Error(`RFC 1661 table: unknown action '${a}'`);
  return Object.freeze({ actions: Object.freeze(actions as FsmAction[]), next });
}

/** The parsed table: TRANSITIONS[event][state index]. */
const TRANSITIONS: Readonly<Record<FsmEvent, readonly (FsmTransition | null)[]>> = Object.fromEntries(
  FSM_EVENTS.map((e) => [e, TABLE[e].map(parseCell)]),
) as Record<FsmEvent, (FsmTransition | null)[]>;

/**
 * What `event` does in `state` (RFC 1661 §4.1), or null when the RFC calls the event illegal there
 * (it is then ignored: nothing changes). The result is shared and frozen: never allocate per step.
 */
export function fsmStep(state: FsmState, event: FsmEvent): FsmTransition | null {
  return TRANSITIONS[event][STATE_INDEX[state]] ?? null;
}

/** RFC 1661 §4.6 defaults: Max-Terminate, Max-Configure, Max-Failure, and the restart timer. */
export const FSM_DEFAULTS = {
  maxTerminate: 2,
  maxConfigure: 10,
  maxFailure: 5,
  restartMs: 3000,
} as const;

/** Whether the restart timer runs in `state` (RFC 1661 §4.6: in Closing, Stopping, Req-Sent, Ack-Rcvd, Ack-Sent). */
export function restartTimerRuns(state: FsmState): boolean {
  const i = STATE_INDEX[state];
  return i >= 4 && i <= 8;
}
