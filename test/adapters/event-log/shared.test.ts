import { describe, expect, test } from "bun:test";
import { checkBatch } from "../../../adapters/event-log/shared.ts";
import { makeEnvelopes } from "./fixtures.ts";

describe("checkBatch", () => {
  const a = makeEnvelopes("a", 1, 5);
  const b = makeEnvelopes("b", 1, 5);
  const id = (e: { node: string; seq: number }) => `${e.node}${e.seq}`;

  test("nodes interleaved in one batch are each checked against their own last seq", () => {
    const stored: Record<string, number> = { a: 1, b: 0 };
    const batch = [a[0], a[1], b[0], a[2], b[1], b[0], a[1], b[2], a[3]].map((e) => e as (typeof a)[0]);
    const { fresh, gap } = checkBatch(batch, (node) => stored[node] ?? 0);
    expect(gap).toBeUndefined();
    expect(fresh.map(id)).toEqual(["a2", "b1", "a3", "b2", "b3", "a4"]);
  });

  test("a gap in one node ends the batch there, after the fresh envelopes before it", () => {
    const batch = [a[0], b[0], b[2], a[1]].map((e) => e as (typeof a)[0]);
    const { fresh, gap } = checkBatch(batch, () => 0);
    expect(fresh.map(id)).toEqual(["a1", "b1"]);
    expect(gap?.code).toBe("gap");
    expect(gap?.message).toContain("node b seq 3");
  });
});
