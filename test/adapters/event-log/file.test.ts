import { afterAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FsyncPolicy, openFileEventLog } from "../../../adapters/event-log/file.ts";
import type { Envelope } from "../../../events/envelope.ts";
import { eventLogContract } from "./contract.ts";
import { collect, makeEnvelopes } from "./fixtures.ts";

const root = mkdtempSync(join(tmpdir(), "l2tp-filelog-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `log${++dirs}`);

for (const fsync of ["interval", "always", "never"] as FsyncPolicy[]) {
  eventLogContract(`file (fsync ${fsync})`, async () => openFileEventLog(freshDir(), { fsync }));
}

describe("file log layout and rotation", () => {
  test("segments are named by their first seq and rotate at the size; reads and lastSeq span them", async () => {
    const dir = freshDir();
    const log = openFileEventLog(dir, { segmentBytes: 4096 });
    const all = makeEnvelopes("n1", 1, 300);
    for (let i = 0; i < 300; i += 37) await log.append(all.slice(i, i + 37));
    await log.close();
    const names = readdirSync(join(dir, "n1"))
      .filter((n) => n.endsWith(".log"))
      .sort();
    expect(names.length).toBeGreaterThan(5);
    expect(names[0]).toBe("00000001.log");
    for (const name of names) expect(statSync(join(dir, "n1", name)).size).toBeLessThanOrEqual(4096);

    const reopened = openFileEventLog(dir, { segmentBytes: 4096 });
    expect(await reopened.lastSeq("n1")).toBe(300);
    expect(await collect(reopened.read({ node: "n1" }))).toEqual(all);
    // fromSeq starts in the right segment.
    const firstOfThird = Number.parseInt(names[2] as string, 10);
    expect((await collect(reopened.read({ node: "n1", fromSeq: firstOfThird + 1 })))[0]?.seq).toBe(
      firstOfThird + 1,
    );
    // Appending after reopen continues the last segment and the sequence.
    await reopened.append(makeEnvelopes("n1", 301, 5));
    expect((await collect(reopened.read({ node: "n1", fromSeq: 299 }))).map((e) => e.seq)).toEqual([
      299, 300, 301, 302, 303, 304, 305,
    ]);
    await reopened.close();
  });

  test("nodes are merged by time when no node is asked for", async () => {
    const log = openFileEventLog(freshDir());
    await log.append(makeEnvelopes("a", 1, 3, 100)); // times 101..103
    await log.append(makeEnvelopes("b", 1, 3, 101)); // times 102..104
    expect((await collect(log.read())).map((e) => `${e.node}${e.seq}@${e.time}`)).toEqual([
      "a1@101",
      "a2@102",
      "b1@102",
      "a3@103",
      "b2@103",
      "b3@104",
    ]);
    await log.close();
  });

  test("a bad fsync policy or node name is refused clearly", async () => {
    expect(() => openFileEventLog(freshDir(), { fsync: "sometimes" as FsyncPolicy })).toThrow(
      "fsync must be",
    );
    const log = openFileEventLog(freshDir());
    await expect(
      log.append([{ ...(makeEnvelopes("n1", 1, 1)[0] as Envelope), node: "../x" }]),
    ).rejects.toThrow("node name");
    await log.close();
  });
});

describe("crash safety: a torn or corrupt last record", () => {
  /** A log of four records, and the same log with a fifth: the bytes of the fifth record are [s4, s5). */
  async function fiveRecords() {
    const dir = freshDir();
    const log = openFileEventLog(dir, { fsync: "never" });
    const envelopes = makeEnvelopes("n1", 1, 5);
    await log.append(envelopes.slice(0, 4));
    const path = join(dir, "n1", "00000001.log");
    const s4 = statSync(path).size;
    await log.append(envelopes.slice(4));
    await log.close();
    const bytes = readFileSync(path);
    return { envelopes, bytes, s4 };
  }

  /** Writes `bytes` as node n1's only segment in a new directory, opens it and checks recovery. */
  async function recoverFrom(bytes: Uint8Array, envelopes: Envelope[], goodEnd: number) {
    const dir = freshDir();
    const nodeDir = join(dir, "n1");
    const path = join(nodeDir, "00000001.log");
    await import("node:fs").then((fs) => fs.mkdirSync(nodeDir, { recursive: true }));
    writeFileSync(path, bytes);
    const log = openFileEventLog(dir, { fsync: "never" });
    // A reader sees the four good records and never breaks, without changing the file.
    expect(await log.lastSeq("n1")).toBe(4);
    expect(await collect(log.read())).toEqual(envelopes.slice(0, 4));
    expect(statSync(path).size).toBe(bytes.length);
    // The writer cuts the tail off and resumes at seq 5.
    const replacement = { ...(envelopes[4] as Envelope), data: { replaced: true } };
    await log.append([replacement]);
    expect(log.recoveries.length).toBe(bytes.length > goodEnd ? 1 : 0);
    if (bytes.length > goodEnd)
      expect(log.recoveries[0]).toMatchObject({ offset: goodEnd, cutBytes: bytes.length - goodEnd });
    expect(await collect(log.read())).toEqual([...envelopes.slice(0, 4), replacement]);
    await log.close();
    const again = openFileEventLog(dir);
    expect(await again.lastSeq("n1")).toBe(5);
    expect(again.recoveries).toEqual([]);
    await again.close();
  }

  test("truncated at every byte of the last record", async () => {
    const { envelopes, bytes, s4 } = await fiveRecords();
    for (let cut = s4; cut < bytes.length; cut++) await recoverFrom(bytes.subarray(0, cut), envelopes, s4);
  });

  test("any byte of the last record corrupted (all bits flipped)", async () => {
    const { envelopes, bytes, s4 } = await fiveRecords();
    for (let at = s4; at < bytes.length; at++) {
      const corrupt = Uint8Array.from(bytes);
      corrupt[at] = (corrupt[at] as number) ^ 0xff;
      await recoverFrom(corrupt, envelopes, s4);
    }
  });

  test("a single flipped bit anywhere in the last record", async () => {
    const { envelopes, bytes, s4 } = await fiveRecords();
    for (let at = s4; at < bytes.length; at += 7) {
      for (let bit = 0; bit < 8; bit += 3) {
        const corrupt = Uint8Array.from(bytes);
        corrupt[at] = (corrupt[at] as number) ^ (1 << bit);
        await recoverFrom(corrupt, envelopes, s4);
      }
    }
  });

  test("zeros after the last record (space allocated, never written) are cut too", async () => {
    const { envelopes, bytes, s4 } = await fiveRecords();
    const padded = new Uint8Array(s4 + 4096);
    padded.set(bytes.subarray(0, s4));
    await recoverFrom(padded, envelopes, s4);
  });

  test("a length field claiming gigabytes is refused without allocating", async () => {
    const { envelopes, bytes, s4 } = await fiveRecords();
    const huge = Uint8Array.from(bytes);
    new DataView(huge.buffer).setUint32(s4, 0xfffffff0, true);
    await recoverFrom(huge, envelopes, s4);
  });
});

describe("one writer per node", () => {
  test("a second writer of the same node in this process is refused; a reader is not", async () => {
    const dir = freshDir();
    const writer = openFileEventLog(dir);
    await writer.append(makeEnvelopes("n1", 1, 2));
    const other = openFileEventLog(dir);
    await expect(other.append(makeEnvelopes("n1", 3, 1))).rejects.toMatchObject({ code: "locked" });
    expect((await collect(other.read())).length).toBe(2);
    await writer.close();
    await other.append(makeEnvelopes("n1", 3, 1));
    await other.close();
  });

  test("a LOCK of a live other process is refused with its PID; a dead one's is taken over", async () => {
    const dir = freshDir();
    const seed = openFileEventLog(dir);
    await seed.append(makeEnvelopes("n1", 1, 1));
    await seed.close();
    const lock = join(dir, "n1", "LOCK");
    writeFileSync(lock, `${process.ppid}\n`);
    const refused = openFileEventLog(dir);
    await expect(refused.append(makeEnvelopes("n1", 2, 1))).rejects.toThrow(`process ${process.ppid}`);
    await refused.close();
    writeFileSync(lock, "999999999\n");
    const taker = openFileEventLog(dir);
    await taker.append(makeEnvelopes("n1", 2, 1));
    expect(readFileSync(lock, "utf8").trim()).toBe(String(process.pid));
    await taker.close();
  });
});

describe("follow", () => {
  test("a follower on another instance sees another writer's records by polling", async () => {
    const dir = freshDir();
    const writer = openFileEventLog(dir, { segmentBytes: 4096 });
    const reader = openFileEventLog(dir, { pollMs: 5 });
    const abort = new AbortController();
    const seen: number[] = [];
    const following = (async () => {
      for await (const envelope of reader.follow({ node: "n1", signal: abort.signal })) {
        seen.push(envelope.seq);
        if (envelope.seq === 200) abort.abort();
      }
    })();
    const all = makeEnvelopes("n1", 1, 200);
    for (let i = 0; i < 200; i += 20) {
      await writer.append(all.slice(i, i + 20));
      await new Promise((r) => setTimeout(r, 1));
    }
    await following;
    expect(seen).toEqual(all.map((e) => e.seq));
    await writer.close();
    await reader.close();
  });
});

describe("writes: queued per node, one write per turn", () => {
  test("appends of one turn reach the file in one write, in order, and all resolve", async () => {
    const log = openFileEventLog(freshDir());
    const all = makeEnvelopes("n1", 1, 40);
    await log.append(all.slice(0, 4));
    const before = log.stats.writes;
    await Promise.all(
      [4, 10, 20, 30].map((at) => log.append(all.slice(at, at === 30 ? 40 : at + (at === 4 ? 6 : 10)))),
    );
    expect(log.stats.writes - before).toBe(1);
    expect(await collect(log.read())).toEqual(all);
    await log.close();
  });

  test("text beyond ASCII (and a lone surrogate) is framed, checked and read back as it was", async () => {
    const dir = freshDir();
    const log = openFileEventLog(dir);
    const [first, second] = makeEnvelopes("n1", 1, 2) as [Envelope, Envelope];
    const odd = [
      { ...first, data: { name: "héllo 世界 😀", callingNumber: "5550000094" } },
      { ...second, cause: "rx.\u00e9", data: { lone: "a\ud800b" } },
    ];
    await log.append(odd);
    await log.close();
    const reopened = openFileEventLog(dir);
    expect(await collect(reopened.read())).toEqual(odd);
    expect(reopened.recoveries).toEqual([]);
    await reopened.close();
  });

  test("a few records wait for the end of the turn; 64 KiB of them are written at the end of the job", async () => {
    const log = openFileEventLog(freshDir(), { fsync: "never" });
    const all = makeEnvelopes("n1", 1, 1000);
    const microtasks = async () => {
      for (let i = 0; i < 5; i++) await Promise.resolve();
    };
    const small = log.append(all.slice(0, 3));
    await microtasks();
    expect(log.stats.writes).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log.stats.writes).toBe(1);
    await small;
    const large = log.append(all.slice(3)); // ~200 bytes each: over 64 KiB
    await microtasks();
    expect(log.stats.writes).toBeGreaterThan(1);
    await large;
    expect((await collect(log.read())).length).toBe(1000);
    await log.close();
  });

  test("a read, lastSeq and close wait for appends nobody awaited", async () => {
    const dir = freshDir();
    const log = openFileEventLog(dir);
    const all = makeEnvelopes("n1", 1, 30);
    const first = log.append(all.slice(0, 10));
    expect((await collect(log.read())).map((e) => e.seq)).toEqual(all.slice(0, 10).map((e) => e.seq));
    const second = log.append(all.slice(10, 20));
    expect(await log.lastSeq("n1")).toBe(20);
    const third = log.append(all.slice(20));
    await log.close();
    await Promise.all([first, second, third]);
    const reopened = openFileEventLog(dir);
    expect(await collect(reopened.read())).toEqual(all);
    await reopened.close();
  });

  test("one turn's appends across segment boundaries rotate as they would one by one", async () => {
    const dir = freshDir();
    const log = openFileEventLog(dir, { segmentBytes: 4096 });
    const all = makeEnvelopes("n1", 1, 300);
    const appends: Promise<void>[] = [];
    for (let i = 0; i < 300; i += 7) appends.push(log.append(all.slice(i, i + 7)));
    await Promise.all(appends);
    await log.close();
    const names = readdirSync(join(dir, "n1")).filter((n) => n.endsWith(".log"));
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) expect(statSync(join(dir, "n1", name)).size).toBeLessThanOrEqual(4096);
    const reopened = openFileEventLog(dir);
    expect(await collect(reopened.read({ node: "n1" }))).toEqual(all);
    await reopened.close();
  });

  test("a failed write rejects its appends and those queued behind it; a retry stores them once", async () => {
    const dir = freshDir();
    const log = openFileEventLog(dir, { fsync: "never" });
    const all = makeEnvelopes("n1", 1, 15);
    await log.append(all.slice(0, 5));
    // Swap the segment's descriptor for a read-only one: the next write fails (EBADF).
    const writer = (log as unknown as { writers: Map<string, { fd: number }> }).writers.get("n1") as {
      fd: number;
    };
    const good = writer.fd;
    writer.fd = openSync(join(dir, "n1", "00000001.log"), "r");
    const failed = await Promise.allSettled([log.append(all.slice(5, 10)), log.append(all.slice(10))]);
    expect(failed.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect((failed[0] as PromiseRejectedResult).reason).toMatchObject({ code: "io" });
    expect(await log.lastSeq("n1")).toBe(5);
    closeSync(writer.fd);
    writer.fd = good;
    // The recorder resends everything unconfirmed: 1..5 are skipped, 6..15 stored.
    await log.append(all);
    expect(await collect(log.read())).toEqual(all);
    await log.close();
  });
});
