/**
 * The replay bar, in the spirit of Jaeger's and Temporal's timelines: step, play and a scrubber over the
 * log's positions; a minimap of the whole incident (events per moment, failures in red) where a drag
 * zooms the timeline; and the timeline itself, each tunnel and session a span from its first to its last
 * event coloured by outcome (established, closed, failed with its cause), virtualised like the list.
 * A click on the timeline moves the moment there; the tree and every statechart follow.
 */

import htm from "htm";
import { h } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { type Address, clock, type Density, get, type Info, type Span, type TreeAnswer } from "./api.ts";
import { PAGE, VirtualList } from "./virtual-list.ts";

const html = htm.bind(h);

const SPEEDS = [1, 10, 100, 1000];
const TICK_MS = 100;

function spanAddress(s: Span): Address {
  return { node: s.node, ...s.path };
}

function Minimap(props: {
  density: Density | undefined;
  view: [number, number];
  setView: (v: [number, number]) => void;
  time: number | null;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const drag = useRef<number | undefined>(undefined);
  const d = props.density;
  useEffect(() => {
    const c = canvas.current;
    if (!c || !d) return;
    const width = c.clientWidth;
    c.width = width;
    c.height = 40;
    const g = c.getContext("2d") as CanvasRenderingContext2D;
    g.clearRect(0, 0, width, 40);
    const max = Math.max(1, ...d.events);
    const w = width / d.events.length;
    d.events.forEach((n, i) => {
      g.fillStyle = "#8aa4c8";
      const hgt = (n / max) * 36;
      g.fillRect(i * w, 40 - hgt, Math.max(1, w - 0.5), hgt);
      if (d.failures[i]) {
        g.fillStyle = "#d9534f";
        g.fillRect(i * w, 0, Math.max(2, w), 6);
      }
    });
    const span = Math.max(1, d.end - d.start);
    const x0 = ((props.view[0] - d.start) / span) * width;
    const x1 = ((props.view[1] - d.start) / span) * width;
    g.fillStyle = "rgba(60,120,200,0.15)";
    g.fillRect(x0, 0, Math.max(2, x1 - x0), 40);
    if (props.time !== null) {
      g.fillStyle = "#222";
      g.fillRect(((props.time - d.start) / span) * width - 1, 0, 2, 40);
    }
  }, [d, props.view[0], props.view[1], props.time]);
  const timeOf = (ev: MouseEvent) => {
    const c = canvas.current as HTMLCanvasElement;
    const rect = c.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (ev.clientX - rect.left) / rect.width));
    return (d?.start ?? 0) + f * Math.max(1, (d?.end ?? 0) - (d?.start ?? 0));
  };
  return html`<canvas
    class="minimap"
    ref=${canvas}
    data-testid="minimap"
    title="drag to zoom the timeline; double-click for all of it"
    onMouseDown=${(ev: MouseEvent) => (drag.current = timeOf(ev))}
    onMouseUp=${(ev: MouseEvent) => {
      const from = drag.current;
      drag.current = undefined;
      if (from === undefined) return;
      const to = timeOf(ev);
      if (Math.abs(to - from) > 0) props.setView([Math.min(from, to), Math.max(from, to)]);
    }}
    onDblClick=${() => d && props.setView([d.start, d.end])}
  />`;
}

/** The replay controls, minimap and timeline. */
export function ReplayBar(props: {
  info: Info;
  at: number;
  setAt: (at: number) => void;
  time: number | null;
  select: (a: Address) => void;
}) {
  const total = props.info.envelopes ?? 0;
  const start = props.info.start ?? 0;
  const end = props.info.end ?? 0;
  const [density, setDensity] = useState<Density | undefined>();
  const [view, setView] = useState<[number, number]>([start, Math.max(end, start + 1)]);
  const [failuresOnly, setFailuresOnly] = useState(false);
  const [spanCount, setSpanCount] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(10);
  const [scrub, setScrub] = useState(props.at);
  const moment = useRef(props.time);
  moment.current = props.time;
  useEffect(() => setScrub(props.at), [props.at]);
  useEffect(() => {
    void get<Density>("density", { buckets: 400 }).then(setDensity);
  }, []);
  // The scrubber moves at once; the moment follows when it rests (a drag does not ask for every position).
  useEffect(() => {
    if (scrub === props.at) return;
    const timer = setTimeout(() => props.setAt(scrub), 80);
    return () => clearTimeout(timer);
  }, [scrub]);
  // Play: the moment advances through the log's own time, `speed` times faster than it happened.
  useEffect(() => {
    if (!playing) return;
    const timer = setInterval(() => {
      const now = moment.current ?? start;
      void get<TreeAnswer>("tree", { time: now + TICK_MS * speed, limit: 0 }).then((t) => {
        props.setAt(t.at);
        if (t.at >= total) setPlaying(false);
      });
    }, TICK_MS);
    return () => clearInterval(timer);
  }, [playing, speed]);
  const seekTime = async (time: number) => {
    const t = await get<TreeAnswer>("tree", { time, limit: 0 });
    props.setAt(t.at);
  };
  const key = `${failuresOnly}`;
  const load = useCallback(
    async (offset: number, limit: number) => {
      const answer = await get<{ rows: Span[]; total: number }>("spans", {
        failures: failuresOnly ? 1 : undefined,
        offset,
        limit,
      });
      setSpanCount(answer.total);
      return answer.rows;
    },
    [key],
  );
  const [first, setFirst] = useState<{ version: string; rows: Span[] } | undefined>();
  useEffect(() => {
    void load(0, PAGE).then((rows) => setFirst({ version: key, rows }));
  }, [key]);
  const width = Math.max(1, view[1] - view[0]);
  const pct = (t: number) => ((t - view[0]) / width) * 100;
  const cursor = props.time !== null ? pct(props.time) : undefined;
  return html`<section class="replay" data-testid="replay">
    <div class="controls">
      <button data-testid="step-back" onClick=${() => props.setAt(Math.max(0, props.at - 1))}>◀ step</button>
      <button data-testid="play" onClick=${() => setPlaying(!playing)}>${playing ? "❚❚ pause" : "▶ play"}</button>
      <button data-testid="step" onClick=${() => props.setAt(Math.min(total, props.at + 1))}>step ▶</button>
      <select value=${speed} onChange=${(e: Event) => setSpeed(Number((e.target as HTMLSelectElement).value))}>
        ${SPEEDS.map((s) => html`<option value=${s}>${s}×</option>`)}
      </select>
      <input
        type="range"
        class="scrub"
        data-testid="scrub"
        min="0"
        max=${total}
        value=${scrub}
        onInput=${(e: Event) => setScrub(Number((e.target as HTMLInputElement).value))}
      />
      <span data-testid="position">${props.at} / ${total}</span>
      <span>${clock(props.time)}</span>
      <label><input type="checkbox" data-testid="failures-only" checked=${failuresOnly} onChange=${() => setFailuresOnly(!failuresOnly)} /> failures only</label>
      <span class="muted" data-testid="span-count">${spanCount} spans</span>
      <span class="legend muted">
        <i class="sbar o-pending" style="position:static"></i>setting up
        <i style="background:#3fa45b"></i>established <i style="background:#7fbf8f"></i>established, since closed
        <i class="sbar o-failed" style="position:static"></i>failed
      </span>
    </div>
    <${Minimap} density=${density} view=${view} setView=${setView} time=${props.time} />
    <div class="timeline">
      ${cursor !== undefined && cursor >= 0 && cursor <= 100 ? html`<div class="cursor" style=${`left:calc(220px + (100% - 220px) * ${cursor / 100})`} />` : null}
      <${VirtualList}
        key=${key}
        count=${spanCount}
        rowHeight=${18}
        version=${key}
        load=${load}
        prefetched=${first}
        testid="spans"
        row=${(s: Span | undefined) => {
          if (!s) return html`<div class="srow muted">…</div>`;
          const left = pct(s.first);
          const right = pct(Math.max(s.last, s.first + width / 500));
          const up = s.establishedAt !== undefined ? pct(s.establishedAt) : undefined;
          return html`<div class="srow" data-testid="span" data-outcome=${s.outcome} title=${s.cause ?? s.state}>
            <a class="slabel" onClick=${() => props.select(spanAddress(s))}>${s.machine} ${s.actor}</a>
            <div class="sbar-area" onClick=${(ev: MouseEvent) => {
              const area = ev.currentTarget as HTMLElement;
              const rect = area.getBoundingClientRect();
              props.select(spanAddress(s));
              void seekTime(view[0] + ((ev.clientX - rect.left) / rect.width) * width);
            }}>
              <div class=${`sbar o-${s.outcome}`} style=${`left:${left}%;width:${Math.max(0.2, right - left)}%`}>
                ${up !== undefined ? html`<div class="sup" style=${`left:${((up - left) / Math.max(0.001, right - left)) * 100}%`} />` : null}
              </div>
              ${s.outcome === "failed" && s.cause ? html`<span class="scause" style=${`left:${Math.min(right, 80)}%`}>${s.cause}</span>` : null}
            </div>
          </div>`;
        }}
      />
    </div>
  </section>`;
}
