/**
 * A machine's statechart as SVG, laid out by dagre. Why dagre and not elkjs: our machines have fewer than
 * ten states each, and a layered (Sugiyama) layout, states flowing left to right from the initial one,
 * is how statecharts are read; dagre does that in 49 KB under MIT, where elkjs is 1.65 MB (EPL-2.0 or
 * GPL-3.0) for layouts we do not need. Layouts are made once per machine kind and kept.
 */
import dagre from "@dagrejs/dagre";
import htm from "htm";
import { h } from "preact";
import type { MachineGraph } from "./api.ts";

const html = htm.bind(h);

interface Laid {
  width: number;
  height: number;
  nodes: { id: string; x: number; y: number; w: number; h: number; final: boolean; initial: boolean }[];
  edges: {
    source: string;
    target: string;
    points: { x: number; y: number }[];
    label: string;
    lx: number;
    ly: number;
  }[];
}

const layouts = new Map<string, Laid>();
const CHAR = 7;

/** The label of an arrow: its events, at most three named. */
function edgeLabel(events: string[]): string {
  return events.length > 3 ? `${events.slice(0, 3).join(" | ")} …+${events.length - 3}` : events.join(" | ");
}

function layout(graph: MachineGraph): Laid {
  const known = layouts.get(graph.kind);
  if (known) return known;
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 60, edgesep: 8, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const s of graph.states) {
    const label = s.id === "*" ? "any state" : s.id;
    g.setNode(s.id, { width: label.length * CHAR + 20, height: 28 });
  }
  for (const e of graph.edges) {
    const label = edgeLabel(e.events);
    g.setEdge(e.source, e.target, {
      label,
      width: Math.min(label.length, 40) * 6,
      height: 12,
      labelpos: "c",
    });
  }
  dagre.layout(g);
  const laid: Laid = {
    width: g.graph().width ?? 0,
    height: g.graph().height ?? 0,
    nodes: graph.states.map((s) => {
      const n = g.node(s.id);
      return { id: s.id, x: n.x, y: n.y, w: n.width, h: n.height, final: s.final, initial: s.initial };
    }),
    edges: graph.edges.map((e) => {
      const d = g.edge(e.source, e.target) as {
        points: { x: number; y: number }[];
        x: number;
        y: number;
        label: string;
      };
      return { source: e.source, target: e.target, points: d.points, label: d.label, lx: d.x, ly: d.y };
    }),
  };
  layouts.set(graph.kind, laid);
  return laid;
}

/** The statechart of `graph` with `active` (the state as the log names it) highlighted. */
export function Statechart(props: {
  graph: MachineGraph;
  active: string | undefined;
  previous?: string | null;
}) {
  const laid = layout(props.graph);
  return html`<svg
    class="statechart"
    data-testid="statechart"
    data-kind=${props.graph.kind}
    data-active=${props.active ?? ""}
    viewBox=${`0 0 ${laid.width} ${laid.height}`}
    width="100%"
    style=${`max-height:${Math.min(360, laid.height)}px`}
    preserveAspectRatio="xMidYMid meet"
  >
    <defs>
      <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
        <path d="M 0 0 L 10 5 L 0 10 z" fill="#7a8699" />
      </marker>
    </defs>
    ${laid.edges.map((e) => {
      const hot = e.source === props.previous && e.target === props.active;
      return html`<g class=${hot ? "edge hot" : "edge"}>
        <path d=${`M ${e.points.map((p) => `${p.x} ${p.y}`).join(" L ")}`} marker-end="url(#arrow)" />
        <text x=${e.lx} y=${e.ly} text-anchor="middle">${e.label.length > 40 ? `${e.label.slice(0, 39)}…` : e.label}</text>
      </g>`;
    })}
    ${laid.nodes.map(
      (n) => html`<g
        class=${`state${n.id === props.active ? " active" : ""}${n.final ? " final" : ""}${n.id === "*" ? " any" : ""}`}
        data-state=${n.id}
      >
        <rect x=${n.x - n.w / 2} y=${n.y - n.h / 2} width=${n.w} height=${n.h} rx="8" />
        ${n.initial ? html`<circle cx=${n.x - n.w / 2 - 8} cy=${n.y} r="4" />` : null}
        <text x=${n.x} y=${n.y + 4} text-anchor="middle">${n.id === "*" ? "any state" : n.id}</text>
      </g>`,
    )}
  </svg>`;
}
