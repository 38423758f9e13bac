/**
 * The inspector page: the tree (counts per level and state, children on demand), a server-side list
 * (virtualised), the selected actor (its statechart from the machine's definition, active state
 * highlighted; context, admin state, counters, last cause, recent events; actions when allowed), and
 * either the live event stream (SSE, resumed by the browser with Last-Event-ID) or, over a recorded
 * log, the replay: timeline, minimap, step, play and scrub.
 *
 * preact + htm: components without a JSX build step, 4 KB; the bundle is built by
 * scripts/build-inspector.ts and served by the node (no CDN, no network beyond the node).
 */

import htm from "htm";
import { h, render } from "preact";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  type Address,
  addressParams,
  addressText,
  answeringSince,
  clock,
  type Detail,
  type Envelope,
  get,
  type Info,
  LEVELS,
  type Level,
  levelOf,
  type MachineGraph,
  post,
  type Row,
  streamUrl,
  type TreeAnswer,
} from "./api.ts";
import { Statechart } from "./statechart.ts";
import { ReplayBar } from "./timeline.ts";
import { PAGE, VirtualList } from "./virtual-list.ts";

const html = htm.bind(h);

/**
 * How often, at most, a live page refetches what it shows while events arrive (the stream itself is
 * batched). A refetch costs the node a walk of its tree and the list shown, so the page waits at least
 * REFRESH_SHARE times what the last refetches took: the page takes at most about a tenth of the node.
 */
const LIVE_REFRESH_MS = 2000;
const REFRESH_SHARE = 9;
/** However slow the node answers, the page shows what changed at least this often. */
const MAX_REFRESH_MS = 10_000;

function sameAddress(a: Address | undefined, b: Address | undefined): boolean {
  return !!a && !!b && addressText(a) === addressText(b);
}

function Counts(props: { counts: TreeAnswer["counts"] | undefined }) {
  if (!props.counts) return html`<div class="counts">…</div>`;
  return html`<table class="counts" data-testid="counts">
    ${LEVELS.map((level) => {
      const states = Object.entries(props.counts?.[level] ?? {}).sort(([a], [b]) => a.localeCompare(b));
      const total = states.reduce((n, [, c]) => n + c, 0);
      return html`<tr>
        <th>${level}</th>
        <td data-testid="count-total" data-level=${level}>${total}</td>
        <td>
          ${states.map(
            ([state, n]) =>
              html`<span class=${`chip s-${state.replace(/\W/g, "-")}`} data-testid="count" data-level=${level} data-state=${state}
                >${state} <b>${n}</b></span
              >`,
          )}
        </td>
      </tr>`;
    })}
  </table>`;
}

function rowLabel(r: Row): string {
  switch (r.machine) {
    case "system":
      return `node ${r.node}`;
    case "destination":
      return `destination ${r.destination}`;
    case "tunnel":
      return `tunnel ${r.tunnel}`;
    case "session":
      return `session ${r.session}`;
    case "ppp":
      return r.subscriber !== undefined ? `ppp of subscriber ${r.subscriber}` : `ppp of session ${r.session}`;
    case "subscriber":
      return `subscriber ${r.subscriber}`;
  }
}

function TreeItem(props: {
  row: Row;
  at: number | undefined;
  version: number;
  selected: Address | undefined;
  select: (a: Address) => void;
}) {
  const [open, setOpen] = useState(props.row.machine === "system");
  const [children, setChildren] = useState<{ rows: Row[]; total: number } | undefined>();
  const r = props.row;
  useEffect(() => {
    if (!open || r.machine === "session") return;
    void get<TreeAnswer>("tree", { ...addressParams(r), at: props.at, limit: 200 }).then(
      setChildren,
      () => {},
    );
  }, [open, props.version, props.at]);
  const states = Object.entries(r.childStates ?? {})
    .map(([s, n]) => `${s} ${n}`)
    .join(", ");
  return html`<li data-testid="tree-item" data-level=${r.machine} data-address=${addressText(r)}>
    <div class=${`titem${sameAddress(r, props.selected) ? " selected" : ""}`}>
      ${
        r.machine !== "session" && r.children > 0
          ? html`<button class="twisty" onClick=${() => setOpen(!open)} aria-label="expand">${open ? "▾" : "▸"}</button>`
          : html`<span class="twisty"></span>`
      }
      <a onClick=${() => props.select(r)}>${rowLabel(r)}</a>
      <span class=${`state s-${r.state.replace(/\W/g, "-")}`}>${r.state}</span>
      ${r.admin && r.admin !== "enabled" ? html`<span class="admin">${r.admin}</span>` : null}
      ${r.children > 0 ? html`<span class="muted">${r.children} (${states})</span>` : null}
    </div>
    ${
      open && children
        ? html`<ul>
          ${children.rows.map(
            (c) =>
              html`<${TreeItem}
                key=${addressText(c)}
                row=${c}
                at=${props.at}
                version=${props.version}
                selected=${props.selected}
                select=${props.select}
              />`,
          )}
          ${
            children.total > children.rows.length
              ? html`<li class="muted">… ${children.total - children.rows.length} more: use the list</li>`
              : null
          }
        </ul>`
        : null
    }
  </li>`;
}

function ListPanel(props: {
  at: number | undefined;
  version: number;
  select: (a: Address) => void;
  selected?: Address;
}) {
  const [level, setLevel] = useState<Level>("session");
  const [state, setState] = useState("");
  const [search, setSearch] = useState("");
  const [sort, setSort] = useState("path");
  const [total, setTotal] = useState(0);
  const [first, setFirst] = useState<{ version: string; rows: Row[] } | undefined>();
  const query = { level, state, search, sort, at: props.at };
  const shape = JSON.stringify(query);
  const key = `${shape}#${props.version}`;
  const load = useCallback(
    async (offset: number, limit: number) => {
      const answer = await get<{ rows: Row[]; total: number }>("list", { ...query, offset, limit });
      setTotal(answer.total);
      return answer.rows;
    },
    [key],
  );
  useEffect(() => {
    void load(0, PAGE).then((rows) => setFirst({ version: key, rows }));
  }, [key]);
  return html`<section class="panel list">
    <header>
      <select value=${level} onChange=${(e: Event) => setLevel((e.target as HTMLSelectElement).value as Level)} data-testid="list-level">
        ${LEVELS.map((l) => html`<option value=${l}>${l}s</option>`)}
      </select>
      <input placeholder="state" value=${state} onInput=${(e: Event) => setState((e.target as HTMLInputElement).value)} size="10" />
      <input placeholder="search" value=${search} onInput=${(e: Event) => setSearch((e.target as HTMLInputElement).value)} size="14" data-testid="list-search" />
      <select value=${sort} onChange=${(e: Event) => setSort((e.target as HTMLSelectElement).value)}>
        ${["path", "-path", "state", "since", "-since", "updated", "-updated", "events", "-events"].map(
          (s) => html`<option value=${s}>sort ${s}</option>`,
        )}
      </select>
      <span class="muted" data-testid="list-total">${total}</span>
    </header>
    <${VirtualList}
      key=${shape}
      count=${total}
      rowHeight=${22}
      version=${key}
      load=${load}
      prefetched=${first}
      testid="list"
      row=${(r: Row | undefined) =>
        r
          ? html`<div class=${`lrow${sameAddress(r, props.selected) ? " selected" : ""}`} onClick=${() => props.select(r)} data-testid="list-row">
              <span class="addr">${addressText(r)}</span>
              <span class=${`state s-${r.state.replace(/\W/g, "-")}`}>${r.state}</span>
              <span class="muted">${clock(r.since)}</span>
              <span class="muted">${r.cause}</span>
            </div>`
          : html`<div class="lrow muted">…</div>`}
    />
  </section>`;
}

function Actions(props: { address: Address; info: Info }) {
  const [asking, setAsking] = useState<string | undefined>();
  const [result, setResult] = useState("");
  if (props.info.mode !== "live") return null;
  if (!props.info.actions)
    return html`<p class="muted">actions are off (start the node with --inspect-actions)</p>`;
  const level = levelOf(props.address);
  // A link ends with its session: close the session. A subscriber ends with its line (or its session).
  if (level === "ppp" || level === "subscriber") return null;
  const actions = level === "session" ? ["close"] : ["drain", "shutdown", "enable", "close"];
  const run = async (action: string) => {
    setAsking(undefined);
    try {
      await post("action", { ...props.address, action });
      setResult(`${action}: done`);
    } catch (err) {
      setResult(`${action}: ${(err as Error).message}`);
    }
  };
  return html`<div class="actions">
    ${actions.map((a) => html`<button data-testid=${`action-${a}`} onClick=${() => setAsking(a)}>${a}</button>`)}
    ${
      asking
        ? html`<div class="confirm" data-testid="confirm">
          ${asking} ${level} ${addressText(props.address)}?
          <button data-testid="confirm-yes" onClick=${() => run(asking)}>${asking}</button>
          <button onClick=${() => setAsking(undefined)}>cancel</button>
        </div>`
        : null
    }
    <span class="muted" data-testid="action-result">${result}</span>
  </div>`;
}

function EventLine(props: { e: Envelope }) {
  const e = props.e;
  const change = e.from === null ? `(new) → ${e.to}` : e.from === e.to ? `= ${e.to}` : `${e.from} → ${e.to}`;
  const path = [e.node, e.path.destination, e.path.tunnel, e.path.session]
    .filter((x) => x !== undefined)
    .join("/");
  return html`<div class="eline" data-testid="event">
    <span class="muted">${clock(e.time)}</span> <span class="muted">#${e.seq}</span> <span>${path}</span>
    <span class="machine">${e.machine}</span> <span>${change}</span> <b>${e.cause}</b>
  </div>`;
}

function DetailPanel(props: {
  select: (a: Address) => void;
  address: Address | undefined;
  at: number | undefined;
  version: number;
  graphs: Record<string, MachineGraph> | undefined;
  info: Info;
}) {
  const [detail, setDetail] = useState<Detail | undefined>();
  const [error, setError] = useState("");
  useEffect(() => {
    if (!props.address) return;
    get<Detail>("actor", { ...addressParams(props.address), at: props.at }).then(
      (d) => {
        setDetail(d);
        setError("");
      },
      (err: Error) => setError(err.message),
    );
  }, [props.address && addressText(props.address), props.at, props.version]);
  if (!props.address)
    return html`<section class="panel detail"><p class="muted">select an actor</p></section>`;
  const graph = props.graphs?.[detail?.machine ?? levelOf(props.address)];
  const shown = error ? undefined : detail;
  return html`<section class="panel detail" data-testid="detail" data-state=${shown?.state ?? ""}>
    <h2>${levelOf(props.address)} ${addressText(props.address)}</h2>
    ${error ? html`<p class="error" data-testid="detail-error">${error}</p>` : null}
    ${
      shown
        ? html`<p>
          state <b class=${`state s-${shown.state.replace(/\W/g, "-")}`} data-testid="detail-state">${shown.state}</b>
          ${shown.admin ? html` admin <b>${shown.admin}</b>` : null} since ${clock(shown.since)} by <b>${shown.cause}</b>
        </p>`
        : null
    }
    ${graph ? html`<div class="chart"><${Statechart} graph=${graph} active=${shown?.state} previous=${shown?.previous} /></div>` : null}
    ${graph ? html`<p class="muted">drawn from ${graph.source}</p>` : null}
    ${
      levelOf(props.address) === "session" || levelOf(props.address) === "subscriber"
        ? html`<p><a data-testid="to-ppp" onClick=${() => props.select({ ...(props.address as Address), ppp: true })}>its PPP link ›</a></p>`
        : null
    }
    <${Actions} address=${props.address} info=${props.info} />
    ${
      shown?.lastCause
        ? html`<p data-testid="last-cause" class="cause">cause: <b>${shown.lastCause.reason}</b> ${shown.lastCause.message}</p>`
        : null
    }
    ${
      shown
        ? html`<details open>
            <summary>context</summary>
            <pre data-testid="context">${JSON.stringify(shown.context, null, 1)}</pre>
          </details>
          ${shown.counters ? html`<details open><summary>counters</summary><pre>${JSON.stringify(shown.counters, null, 1)}</pre></details>` : null}
          <details open>
            <summary>recent events (${shown.recent.length})</summary>
            ${shown.recent.map((e) => html`<${EventLine} e=${e} />`)}
          </details>`
        : null
    }
  </section>`;
}

/** Lines the stream keeps in the page (the event log keeps them all). */
const MAX_STREAM_LINES = 200;

function StreamPanel(props: { onBatch: () => void }) {
  const [filters, setFilters] = useState({ level: "", actor: "", cause: "", type: "" });
  const [paused, setPaused] = useState(false);
  const [lines, setLines] = useState<Envelope[]>([]);
  const [skipped, setSkipped] = useState(0);
  const [status, setStatus] = useState("connecting");
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  useEffect(() => {
    // EventSource reconnects by itself and sends the last id it had (Last-Event-ID): the server resumes there.
    const source = new EventSource(streamUrl(filters));
    source.onopen = () => setStatus("live");
    source.onerror = () => setStatus("reconnecting");
    source.addEventListener("envelopes", (ev) => {
      const batch = JSON.parse((ev as MessageEvent).data) as { envelopes: Envelope[]; skipped: number };
      props.onBatch();
      if (pausedRef.current) return;
      if (batch.skipped) setSkipped((n) => n + batch.skipped);
      if (batch.envelopes.length) setLines((old) => [...old, ...batch.envelopes].slice(-MAX_STREAM_LINES));
    });
    return () => source.close();
  }, [JSON.stringify(filters)]);
  const field = (name: keyof typeof filters, placeholder: string) =>
    html`<input
      placeholder=${placeholder}
      value=${filters[name]}
      onChange=${(e: Event) => setFilters({ ...filters, [name]: (e.target as HTMLInputElement).value })}
      size="12"
    />`;
  return html`<section class="panel stream" data-testid="stream" data-status=${status}>
    <header>
      <b>events</b> <span class="muted">${status}</span>
      <select onChange=${(e: Event) => setFilters({ ...filters, level: (e.target as HTMLSelectElement).value })}>
        <option value="">every level</option>
        ${LEVELS.map((l) => html`<option value=${l}>${l}</option>`)}
      </select>
      ${field("actor", "actor lac/…")} ${field("cause", "cause rx.*")}
      <select onChange=${(e: Event) => setFilters({ ...filters, type: (e.target as HTMLSelectElement).value })}>
        <option value="">every type</option>
        <option value="new">new</option>
        <option value="change">state change</option>
        <option value="data">context only</option>
      </select>
      <button onClick=${() => setPaused(!paused)} data-testid="pause">${paused ? "resume" : "pause"}</button>
      <button onClick=${() => setLines([])}>clear</button>
      ${skipped ? html`<span class="muted">${skipped} not shown (too many at once; the log has them)</span>` : null}
    </header>
    <div class="lines">${lines.map((e) => html`<${EventLine} key=${`${e.node}:${e.seq}`} e=${e} />`)}</div>
  </section>`;
}

function App() {
  const [info, setInfo] = useState<Info | undefined>();
  const [graphs, setGraphs] = useState<Record<string, MachineGraph> | undefined>();
  const [tree, setTree] = useState<TreeAnswer | undefined>();
  const [selected, setSelected] = useState<Address | undefined>();
  const [version, setVersion] = useState(0);
  const [at, setAt] = useState<number | undefined>();
  const dirty = useRef(false);

  useEffect(() => {
    // All at once: the first tree (the end of a replay, or now) needs no answer from `info`.
    void get<Info>("info").then((i) => {
      setInfo(i);
      if (i.mode === "replay") setAt(i.envelopes ?? 0);
    });
    void get<Record<string, MachineGraph>>("graphs").then(setGraphs);
    void get<TreeAnswer>("tree").then(setTree);
  }, []);
  // Live: refetch at most once a second while the stream says something changed.
  useEffect(() => {
    if (info?.mode !== "live") return;
    let timer: ReturnType<typeof setTimeout>;
    const next = () => {
      timer = setTimeout(
        () => {
          if (dirty.current) {
            dirty.current = false;
            setVersion((v) => v + 1);
          }
          next();
        },
        Math.min(MAX_REFRESH_MS, Math.max(LIVE_REFRESH_MS, REFRESH_SHARE * answeringSince())),
      );
    };
    next();
    return () => clearTimeout(timer);
  }, [info?.mode]);
  const first = useRef(true);
  useEffect(() => {
    if (!info) return;
    if (first.current && version === 0 && (info.mode === "live" || at === info.envelopes)) {
      first.current = false; // the tree asked for at mount is this one
      return;
    }
    void get<TreeAnswer>("tree", { at }).then(setTree);
  }, [info, version, at]);
  const onBatch = useMemo(() => () => (dirty.current = true), []);

  if (!info) return html`<p>loading…</p>`;
  return html`<div class=${`app ${info.mode}`} data-testid="app" data-mode=${info.mode} data-at=${at ?? ""} data-ready=${tree ? "1" : ""}>
    <header class="top">
      <b>l2tp inspector</b>
      <span class="muted">${info.mode === "live" ? `live: ${info.nodes?.join(", ")}` : `replay: ${info.source}`}</span>
      <span class="muted" data-testid="moment">${clock(tree?.time)}</span>
    </header>
    ${
      info.mode === "replay"
        ? html`<${ReplayBar} info=${info} at=${at ?? 0} setAt=${setAt} time=${tree?.time ?? null} select=${setSelected} />`
        : null
    }
    <main>
      <section class="panel tree">
        <${Counts} counts=${tree?.counts} />
        <ul class="treeroot" data-testid="tree">
          ${tree?.rows.map(
            (r) =>
              html`<${TreeItem} key=${r.node} row=${r} at=${at} version=${version} selected=${selected} select=${setSelected} />`,
          )}
        </ul>
      </section>
      <${ListPanel} at=${at} version=${version} select=${setSelected} selected=${selected} />
      <${DetailPanel} select=${setSelected} address=${selected} at=${at} version=${version} graphs=${graphs} info=${info} />
    </main>
    ${info.mode === "live" ? html`<${StreamPanel} onBatch=${onBatch} />` : null}
  </div>`;
}

render(html`<${App} />`, document.getElementById("app") as HTMLElement);
