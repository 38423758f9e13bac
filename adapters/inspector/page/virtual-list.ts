/**
 * A virtualised list of fixed-height rows (@tanstack/virtual-core): only the rows in view (plus a few)
 * are in the DOM, so 100,000 sessions cost a few dozen elements. Rows come from `load(offset, limit)`
 * a page at a time (the server filters and sorts), kept until `version` changes; while a new version's
 * rows load, the previous version's are shown (a live list refreshes in place, its scroll position kept).
 */
import {
  elementScroll,
  observeElementOffset,
  observeElementRect,
  type VirtualItem,
  Virtualizer,
} from "@tanstack/virtual-core";
import htm from "htm";
import { h, type VNode } from "preact";
import { useEffect, useMemo, useReducer, useRef } from "preact/hooks";

const html = htm.bind(h);

/** Rows fetched at a time. */
export const PAGE = 200;

export interface VirtualListProps<T> {
  /** How many rows there are in all. */
  count: number;
  rowHeight: number;
  /** Changes when the rows must be fetched again (a new query, a new moment, a live update). */
  version: string;
  load: (offset: number, limit: number) => Promise<T[]>;
  /** The first page, when the caller fetched it already (with the count) for this version. */
  prefetched?: { version: string; rows: T[] } | undefined;
  row: (item: T | undefined, index: number) => VNode;
  testid: string;
}

/** The list: a scroll box whose content is as tall as every row, holding only the visible ones. */
export function VirtualList<T>(props: VirtualListProps<T>) {
  const scroller = useRef<HTMLDivElement>(null);
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const cache = useRef<{
    version: string;
    pages: Map<number, T[] | "loading">;
    stale?: Map<number, T[] | "loading">;
  }>(undefined);
  if (!cache.current || cache.current.version !== props.version) {
    cache.current = {
      version: props.version,
      pages: new Map(),
      ...(cache.current ? { stale: cache.current.pages } : {}),
    };
  }
  const { pages, stale } = cache.current;
  if (props.prefetched?.version === props.version && !Array.isArray(pages.get(0)))
    pages.set(0, props.prefetched.rows);
  const virtualizer = useMemo(
    () =>
      new Virtualizer<HTMLDivElement, Element>({
        count: props.count,
        getScrollElement: () => scroller.current,
        estimateSize: () => props.rowHeight,
        scrollToFn: elementScroll,
        observeElementRect,
        observeElementOffset,
        overscan: 10,
        onChange: () => redraw(0),
      }),
    [],
  );
  virtualizer.setOptions({ ...virtualizer.options, count: props.count });
  useEffect(() => virtualizer._didMount(), []);
  useEffect(() => {
    virtualizer._willUpdate();
  });

  const items: VirtualItem[] = virtualizer.getVirtualItems();
  const need = new Set(items.map((i) => Math.floor(i.index / PAGE)));
  for (const page of need) {
    if (pages.has(page)) continue;
    pages.set(page, "loading");
    void props.load(page * PAGE, PAGE).then((rows) => {
      pages.set(page, rows);
      redraw(0);
    });
  }
  const itemAt = (index: number): T | undefined => {
    const page = pages.get(Math.floor(index / PAGE));
    if (Array.isArray(page)) return page[index % PAGE];
    const old = stale?.get(Math.floor(index / PAGE));
    return Array.isArray(old) ? old[index % PAGE] : undefined;
  };
  return html`<div class="vlist" ref=${scroller} data-testid=${props.testid} data-count=${props.count}>
    <div style=${`height:${virtualizer.getTotalSize()}px;position:relative`}>
      ${items.map(
        (item) => html`<div
          key=${item.key}
          class="vrow"
          style=${`position:absolute;top:0;left:0;right:0;height:${props.rowHeight}px;transform:translateY(${item.start}px)`}
        >
          ${props.row(itemAt(item.index), item.index)}
        </div>`,
      )}
    </div>
  </div>`;
}
