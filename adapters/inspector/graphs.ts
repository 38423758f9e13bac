/**
 * The statechart of every machine kind, drawn from the machine's own definition so that the page cannot
 * drift from the code: XState machines through `@xstate/graph` (`toDirectedGraph(machine.root)`), the
 * session from its SESSION_STATES table (the node runs sessions on that table, session-logic.ts, so there
 * is no running XState config to ask), a PPP link from its phase graph (RFC 1661 §3.2; its automata are
 * tables of their own). A new machine kind is one entry of MACHINE_GRAPHS.
 *
 * The drawing is flat: one node per leaf state, named as the event log names states
 * (`stateValueToString`: "closing.stop-sent"), so the active state is the envelope's `to` as it is. A
 * transition declared on a compound state applies in each of its leaves and is drawn from each; one
 * that enters a compound state enters its initial leaf; one declared on the machine itself (any state)
 * starts at the pseudo-state ANY_STATE. Transitions that keep the state (no target, or back to itself)
 * are left out: they are reactions, not moves, and would make every node a knot of loops.
 */
import { toDirectedGraph } from "@xstate/graph";
import type { AnyStateMachine, AnyStateNode } from "xstate";
import type { MachineKind } from "../../events/envelope.ts";
import { destinationMachine } from "../../machines/destination.ts";
import { SUBSCRIBER_STATES, SUBSCRIBER_TRANSITIONS } from "../../machines/lac-subscriber.ts";
import { PPP_PHASE_EDGES, PPP_PHASES } from "../../machines/ppp/endpoint.ts";
import {
  SESSION_ROOT,
  SESSION_SETUP_TIMED_OUT,
  SESSION_STATES,
  type SessionOn,
  type SessionRule,
} from "../../machines/session.ts";
import { systemMachine } from "../../machines/system.ts";
import { tunnelMachine } from "../../machines/tunnel.ts";

/** The pseudo-state where machine-level transitions ("in any state, on X") start. */
export const ANY_STATE = "*";

/** One state of a drawn machine. */
export interface GraphState {
  /** The state as the event log writes it ("established", "closing.stop-sent"); ANY_STATE for the pseudo-state. */
  id: string;
  initial: boolean;
  final: boolean;
}

/** One arrow: every event that moves from `source` to `target`. */
export interface GraphEdge {
  source: string;
  target: string;
  events: string[];
}

/** A machine kind's statechart. */
export interface MachineGraph {
  kind: string;
  /** Where the definition lives, for people reading the page. */
  source: string;
  states: GraphState[];
  edges: GraphEdge[];
}

/** Every kind's graph, made once on first use: one entry per machine kind. */
const MACHINE_GRAPHS: Record<MachineKind, () => MachineGraph> = {
  system: () => graphOfMachine("system", "machines/system.ts systemMachine", systemMachine),
  destination: () =>
    graphOfMachine("destination", "machines/destination.ts destinationMachine", destinationMachine),
  tunnel: () => graphOfMachine("tunnel", "machines/tunnel.ts tunnelMachine", tunnelMachine),
  session: () => graphOfTable("session", "machines/session.ts SESSION_STATES"),
  ppp: () => graphOfPhases("ppp", "machines/ppp/endpoint.ts PPP_PHASE_EDGES (RFC 1661 §3.2)"),
  subscriber: () =>
    graphOfTransitions(
      "subscriber",
      "machines/lac-subscriber.ts SUBSCRIBER_TRANSITIONS",
      SUBSCRIBER_STATES,
      SUBSCRIBER_TRANSITIONS,
    ),
};

const made = new Map<string, MachineGraph>();

/** The graph of one machine kind. */
export function machineGraph(kind: MachineKind): MachineGraph {
  let graph = made.get(kind);
  if (!graph) {
    graph = MACHINE_GRAPHS[kind]();
    made.set(kind, graph);
  }
  return graph;
}

/** Every kind's graph, by kind. */
export function machineGraphs(): Record<string, MachineGraph> {
  return Object.fromEntries(
    (Object.keys(MACHINE_GRAPHS) as MachineKind[]).map((kind) => [kind, machineGraph(kind)]),
  );
}

const finals = new Map<string, Set<string>>();

/** Whether `state` is a final state of `kind` (the actor has ended). */
export function isFinalState(kind: MachineKind, state: string): boolean {
  let set = finals.get(kind);
  if (!set) {
    set = new Set(
      machineGraph(kind)
        .states.filter((s) => s.final)
        .map((s) => s.id),
    );
    finals.set(kind, set);
  }
  return set.has(state);
}

/** Collects edges, merging every event between the same two states into one arrow. */
class EdgeSet {
  readonly #edges = new Map<string, GraphEdge>();

  add(source: string, target: string, event: string): void {
    if (source === target) return;
    const key = `${source}\u0000${target}`;
    const edge = this.#edges.get(key);
    if (!edge) this.#edges.set(key, { source, target, events: [event] });
    else if (!edge.events.includes(event)) edge.events.push(event);
  }

  list(): GraphEdge[] {
    return [...this.#edges.values()];
  }
}

/** An XState machine's leaf states and transitions (see the module comment for the flattening). */
function graphOfMachine(kind: string, source: string, machine: AnyStateMachine): MachineGraph {
  const root = machine.root;
  const rootId = root.id;
  const name = (node: AnyStateNode) => (node === root ? ANY_STATE : node.id.slice(rootId.length + 1));
  const leavesOf = (node: AnyStateNode): AnyStateNode[] =>
    node.type === "atomic" || node.type === "final"
      ? [node]
      : Object.values(node.states as Record<string, AnyStateNode>).flatMap(leavesOf);
  const initialLeaf = (node: AnyStateNode): AnyStateNode => {
    if (node.type === "atomic" || node.type === "final") return node;
    const first = node.initial?.target?.[0] as AnyStateNode | undefined;
    return initialLeaf(first ?? (Object.values(node.states)[0] as AnyStateNode));
  };
  const start = initialLeaf(root);
  const states: GraphState[] = leavesOf(root).map((leaf) => ({
    id: name(leaf),
    initial: leaf === start,
    final: leaf.type === "final",
  }));
  const edges = new EdgeSet();
  let anyUsed = false;
  const visit = (graphNode: ReturnType<typeof toDirectedGraph>): void => {
    for (const edge of graphNode.edges) {
      // A transition without a target keeps the state (toDirectedGraph draws it back to its source).
      if (!edge.transition.target) continue;
      const from = edge.source as unknown as AnyStateNode;
      const to = initialLeaf(edge.target as unknown as AnyStateNode);
      const event = eventName(edge.label.text);
      if (from === root) {
        anyUsed = true;
        edges.add(ANY_STATE, name(to), event);
      } else {
        for (const leaf of leavesOf(from)) edges.add(name(leaf), name(to), event);
      }
    }
    for (const child of graphNode.children) visit(child);
  };
  visit(toDirectedGraph(root));
  if (anyUsed) states.push({ id: ANY_STATE, initial: false, final: false });
  return { kind, source, states, edges: edges.list() };
}

/** A delayed transition reads "after <delay>" ("xstate.after.idle.destination.available.unused" → "after idle"). */
function eventName(eventType: string): string {
  const after = /^xstate\.after\.([^.]+)\./.exec(eventType);
  if (after) return `after ${after[1]}`;
  return eventType === "" ? "always" : eventType;
}

/** The session table's states and transitions (the table the node runs). */
function graphOfTable(kind: string, source: string): MachineGraph {
  const names = Object.keys(SESSION_STATES) as (keyof typeof SESSION_STATES)[];
  const states: GraphState[] = names.map((id, i) => ({
    id,
    initial: i === 0,
    final: !!SESSION_STATES[id].final,
  }));
  const edges = new EdgeSet();
  const addRules = (from: string, event: string, rules: readonly SessionRule[] | undefined) => {
    for (const rule of rules ?? []) if (rule.target !== undefined) edges.add(from, rule.target, event);
  };
  const addOn = (from: string, on: SessionOn | undefined) => {
    for (const [event, rules] of Object.entries(on ?? {})) addRules(from, event, rules);
  };
  for (const id of names) {
    const def = SESSION_STATES[id];
    addOn(id, def.on);
    addRules(id, "always", def.always);
    if (def.setupTimeout) addRules(id, "setupTimeout", SESSION_SETUP_TIMED_OUT);
  }
  addOn(ANY_STATE, SESSION_ROOT);
  states.push({ id: ANY_STATE, initial: false, final: false });
  return { kind, source, states, edges: edges.list() };
}

/** A table of state → event → target (the first state the initial one, the last the final one). */
function graphOfTransitions(
  kind: string,
  source: string,
  names: readonly string[],
  table: Record<string, Partial<Record<string, string>>>,
): MachineGraph {
  const states: GraphState[] = names.map((id, i) => ({
    id,
    initial: i === 0,
    final: i === names.length - 1,
  }));
  const edges = new EdgeSet();
  for (const from of names) {
    for (const [event, to] of Object.entries(table[from] ?? {}))
      if (to !== undefined) edges.add(from, to, event);
  }
  return { kind, source, states, edges: edges.list() };
}

/** A PPP link's phases (RFC 1661 §3.2): the phase graph the endpoint declares, with the events of each move. */
function graphOfPhases(kind: string, source: string): MachineGraph {
  const states: GraphState[] = PPP_PHASES.map((id, i) => ({ id, initial: i === 0, final: id === "closed" }));
  const edges = new EdgeSet();
  for (const from of PPP_PHASES) {
    for (const [to, events] of Object.entries(PPP_PHASE_EDGES[from])) {
      for (const event of events ?? []) edges.add(from, to, event);
    }
  }
  return { kind, source, states, edges: edges.list() };
}
