/**
 * A real kill -9: a child process appends to the file log in a loop; it is killed while writing, and
 * the log reopened. Every confirmed record must be there, the sequence gapless, the next writer
 * (another child, then this process) must resume after the last good record.
 */
import { afterAll, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openFileEventLog } from "../../../adapters/event-log/file.ts";
import { collect, makeEnvelopes } from "./fixtures.ts";

const root = mkdtempSync(join(tmpdir(), "l2tp-filecrash-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const child = join(import.meta.dir, "append-child.ts");
const bun = process.execPath;

/** Runs the child until it has confirmed `atLeast` more records, kills it with SIGKILL, returns the last confirmed seq. */
async function appendThenKill(
  dir: string,
  fsync: string,
  atLeast: number,
): Promise<{ start: number; acked: number }> {
  const proc = spawn(bun, [child, dir, fsync], { stdio: ["ignore", "pipe", "inherit"] });
  let start = 0;
  let acked = 0;
  let buffered = "";
  const exited = new Promise<string | null>((resolve) =>
    proc.once("exit", (_code, signal) => resolve(signal)),
  );
  await new Promise<void>((resolve, reject) => {
    proc.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith("start ")) start = Number(line.slice(6));
        else acked = Number(line);
      }
      if (start > 0 && acked >= start - 1 + atLeast) resolve();
    });
    proc.once("exit", (code) => reject(new Error(`append child exited early with code ${code}`)));
  });
  process.kill(proc.pid as number, "SIGKILL");
  expect(await exited).toBe("SIGKILL");
  return { start, acked };
}

test.each(["never", "interval"])(
  "kill -9 while appending (fsync %s): nothing confirmed is lost, the sequence resumes",
  async (fsync) => {
    const dir = join(root, fsync);
    const first = await appendThenKill(dir, fsync, 3000);
    expect(first.start).toBe(1);
    // A second child takes over the stale lock, recovers and continues the sequence.
    const second = await appendThenKill(dir, fsync, 1000);
    expect(second.start).toBeGreaterThan(first.acked);

    const log = openFileEventLog(dir);
    const last = await log.lastSeq("n1");
    expect(last).toBeGreaterThanOrEqual(second.acked);
    const seqs = (await collect(log.read({ node: "n1" }))).map((e) => e.seq);
    expect(seqs.length).toBe(last);
    expect(seqs.every((seq, i) => seq === i + 1)).toBe(true);
    await log.append(makeEnvelopes("n1", last + 1, 10));
    expect(await log.lastSeq("n1")).toBe(last + 10);
    await log.close();
  },
  30_000,
);
