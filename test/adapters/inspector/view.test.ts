/** Lists over a tree: path order without a sort, other orders sorted, filters and paging. */
import { expect, test } from "bun:test";
import { ListCache, type ListQuery, levelCounts } from "../../../adapters/inspector/view.ts";
import { replay } from "../../../events/replay.ts";
import { envelopesOf } from "../../events/envelopes.ts";

const query = (q: Partial<ListQuery>): ListQuery => ({
  level: "session",
  sort: "path",
  descending: false,
  offset: 0,
  limit: 100,
  ...q,
});

test("a path-ordered list is in path order whatever order the actors appeared in", () => {
  const { ev } = envelopesOf("lns");
  const envelopes = [];
  let time = 0;
  // Destinations, tunnels and sessions appear out of order.
  for (const d of ["127.0.0.3:1701", "127.0.0.10:1701", "127.0.0.2:1701"]) {
    for (const t of [300, 7, 45]) {
      for (const s of [9, 1000, 2]) {
        envelopes.push(
          ev(time++, "session", { destination: d, tunnel: t, session: s }, null, "established", "x"),
        );
      }
    }
  }
  const tree = replay(envelopes);
  const { rows, total } = new ListCache().list(tree, 1, query({}));
  expect(total).toBe(27);
  const keys = rows.map((r) => [r.destination, r.tunnel, r.session]);
  const sorted = [...keys].sort((a, b) =>
    (a[0] as string) < (b[0] as string)
      ? -1
      : (a[0] as string) > (b[0] as string)
        ? 1
        : (a[1] as number) - (b[1] as number) || (a[2] as number) - (b[2] as number),
  );
  expect(keys).toEqual(sorted);
  expect(keys[0]).toEqual(["127.0.0.10:1701", 7, 2]);

  const page = new ListCache().list(tree, 1, query({ sort: "path", descending: true, offset: 1, limit: 2 }));
  expect(page.rows.map((r) => [r.destination, r.tunnel, r.session])).toEqual([
    ["127.0.0.3:1701", 300, 9],
    ["127.0.0.3:1701", 300, 2],
  ]);
  const search = new ListCache().list(tree, 1, query({ search: "127.0.0.2:1701/45/" }));
  expect(search.total).toBe(3);
});

test("a path-ordered page walked only as far as the page (totals from the counts) is the page of the whole list", () => {
  const { ev } = envelopesOf("lns");
  const envelopes = [];
  let time = 0;
  for (const d of ["127.0.0.3:1701", "127.0.0.2:1701"]) {
    for (const t of [12, 3]) {
      for (let s = 1; s <= 40; s++) {
        const path = { destination: d, tunnel: t, session: s };
        envelopes.push(ev(time++, "session", path, null, "wait-connect", "x"));
        if (s % 3 !== 0) envelopes.push(ev(time++, "session", path, "wait-connect", "established", "y"));
      }
    }
  }
  const tree = replay(envelopes);
  const counts = levelCounts(tree);
  for (const q of [
    query({}),
    query({ offset: 30, limit: 25 }),
    query({ descending: true, offset: 7, limit: 30 }),
    query({ state: "established", offset: 50, limit: 40 }),
    query({ state: "wait-connect", descending: true, offset: 3, limit: 10 }),
    query({ state: "none-such" }),
    query({ offset: 158, limit: 10 }),
  ]) {
    const walked = new ListCache().list(tree, 1, q, counts);
    const whole = new ListCache().list(tree, 1, q);
    expect(walked).toEqual(whole);
  }
  expect(new ListCache().list(tree, 1, query({ state: "established" }), counts).total).toBe(108);
});

test("a path-ordered page of every level is walked only as far as the page and is the page of the whole list", () => {
  const { ev } = envelopesOf("lac");
  const envelopes = [];
  let time = 0;
  envelopes.push(ev(time++, "system", {}, null, "running", "x"));
  for (const d of ["127.0.0.3:1701", "127.0.0.2:1701"]) {
    envelopes.push(ev(time++, "destination", { destination: d }, null, "available.unused", "x"));
    for (const t of [12, 3, 700]) {
      envelopes.push(ev(time++, "tunnel", { destination: d, tunnel: t }, null, "idle", "x"));
      if (t !== 3)
        envelopes.push(ev(time++, "tunnel", { destination: d, tunnel: t }, "idle", "established", "y"));
    }
  }
  // Subscribers appear out of order; a few get a PPP link.
  for (const line of [17, 3, 250, 42, 9, 100, 1, 64]) {
    const path = { subscriber: `sim:${line}` };
    envelopes.push(ev(time++, "subscriber", path, null, "deciding", "x"));
    if (line % 2 === 0) envelopes.push(ev(time++, "subscriber", path, "deciding", "tunnelled", "y"));
    if (line % 3 !== 0) envelopes.push(ev(time++, "ppp", path, null, "establish", "x"));
  }
  const tree = replay(envelopes);
  const counts = levelCounts(tree);
  for (const level of ["system", "destination", "tunnel", "subscriber", "ppp"] as const) {
    for (const q of [
      query({ level }),
      query({ level, offset: 2, limit: 3 }),
      query({ level, descending: true, offset: 1, limit: 4 }),
      query({ level, state: "tunnelled", offset: 1, limit: 2 }),
      query({ level, state: "established", descending: true }),
    ]) {
      expect(new ListCache().list(tree, 1, q, counts)).toEqual(new ListCache().list(tree, 1, q));
    }
  }
  expect(new ListCache().list(tree, 1, query({ level: "subscriber" }), counts).total).toBe(8);
  expect(new ListCache().list(tree, 1, query({ level: "tunnel", state: "idle" }), counts).total).toBe(2);
});
