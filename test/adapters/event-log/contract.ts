/**
 * The EventLog contract, run against every adapter (memory and file here, JetStream in
 * test/integration/nats/): order, idempotent retries, gaps, filters, follow, redaction, close.
 */
import { describe, expect, test } from "bun:test";
import type { Envelope } from "../../../events/envelope.ts";
import type { EventLog } from "../../../events/port.ts";
import { REDACTED } from "../../../events/schema.ts";
import { collect, makeEnvelopes } from "./fixtures.ts";

/** Runs the contract against logs made by `open` (a fresh, empty log each time; closed by the test). */
export function eventLogContract(name: string, open: () => Promise<EventLog>): void {
  describe(`EventLog contract: ${name}`, () => {
    test("append then read gives the envelopes back in order, lastSeq follows", async () => {
      const log = await open();
      try {
        expect(await log.lastSeq("n1")).toBe(0);
        const batch = makeEnvelopes("n1", 1, 50);
        await log.append(batch.slice(0, 20));
        await log.append(batch.slice(20));
        expect(await collect(log.read())).toEqual(batch);
        expect(await log.lastSeq("n1")).toBe(50);
        expect(await log.lastSeq("other")).toBe(0);
      } finally {
        await log.close();
      }
    });

    test("a retry of stored envelopes is skipped, never duplicated", async () => {
      const log = await open();
      try {
        const batch = makeEnvelopes("n1", 1, 10);
        await log.append(batch.slice(0, 6));
        await log.append(batch); // 1..6 again, then 7..10
        await log.append(batch.slice(2, 4));
        expect((await collect(log.read())).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      } finally {
        await log.close();
      }
    });

    test("a gap rejects with code gap, after storing what came before it", async () => {
      const log = await open();
      try {
        const batch = makeEnvelopes("n1", 1, 10);
        await log.append(batch.slice(0, 3));
        const skipping = [...batch.slice(3, 5), ...batch.slice(6)];
        await expect(log.append(skipping)).rejects.toMatchObject({ code: "gap" });
        expect(await log.lastSeq("n1")).toBe(5);
        expect((await collect(log.read())).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      } finally {
        await log.close();
      }
    });

    test("appends issued without waiting are stored in call order", async () => {
      const log = await open();
      try {
        const batch = makeEnvelopes("n1", 1, 100);
        await Promise.all([0, 25, 50, 75].map((at) => log.append(batch.slice(at, at + 25))));
        expect((await collect(log.read())).map((e) => e.seq)).toEqual(batch.map((e) => e.seq));
      } finally {
        await log.close();
      }
    });

    test("read filters by node, fromSeq and until", async () => {
      const log = await open();
      try {
        const a = makeEnvelopes("a", 1, 10, 1000);
        const b = makeEnvelopes("b", 1, 10, 1000);
        await log.append(a.slice(0, 5));
        await log.append(b);
        await log.append(a.slice(5));
        expect(await collect(log.read({ node: "a" }))).toEqual(a);
        expect(await collect(log.read({ node: "b", fromSeq: 8 }))).toEqual(b.slice(7));
        expect((await collect(log.read({ node: "a", until: 1004 }))).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
        const all = await collect(log.read());
        expect(all.length).toBe(20);
        // Within a node, always seq order.
        expect(all.filter((e) => e.node === "a")).toEqual(a);
        expect(all.filter((e) => e.node === "b")).toEqual(b);
      } finally {
        await log.close();
      }
    });

    test("what is stored is redacted by the schema, bytes as hex", async () => {
      const log = await open();
      try {
        const [first] = makeEnvelopes("n1", 1, 1);
        await log.append([
          {
            ...(first as Envelope),
            data: { secret: new Uint8Array([1, 2]), challenge: new Uint8Array([0xfe]) },
          },
        ]);
        const [read] = await collect(log.read());
        expect(read?.data).toEqual({ secret: REDACTED, challenge: "fe" });
      } finally {
        await log.close();
      }
    });

    test("follow yields what is stored, then what arrives, and ends when aborted", async () => {
      const log = await open();
      try {
        const batch = makeEnvelopes("n1", 1, 30);
        await log.append(batch.slice(0, 10));
        const abort = new AbortController();
        const seen: number[] = [];
        const following = (async () => {
          for await (const envelope of log.follow({ node: "n1", fromSeq: 5, signal: abort.signal })) {
            seen.push(envelope.seq);
            if (envelope.seq === 30) abort.abort();
          }
        })();
        await log.append(batch.slice(10, 20));
        await log.append(batch.slice(20));
        await following;
        expect(seen).toEqual(batch.slice(4).map((e) => e.seq));
      } finally {
        await log.close();
      }
    });

    test("breaking out of a follow ends it", async () => {
      const log = await open();
      try {
        await log.append(makeEnvelopes("n1", 1, 3));
        let count = 0;
        for await (const _ of log.follow()) if (++count === 2) break;
        expect(count).toBe(2);
      } finally {
        await log.close();
      }
    });

    test("after close, append rejects with code closed", async () => {
      const log = await open();
      await log.close();
      await log.close();
      await expect(log.append(makeEnvelopes("n1", 1, 1))).rejects.toMatchObject({ code: "closed" });
    });
  });
}
