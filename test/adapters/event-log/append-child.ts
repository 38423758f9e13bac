/**
 * The child process of the crash test: appends to a file event log in a loop and prints each
 * confirmed seq on a line, until it is killed. Usage: bun append-child.ts DIR FSYNC
 */
import { type FsyncPolicy, openFileEventLog } from "../../../adapters/event-log/file.ts";
import { makeEnvelopes } from "./fixtures.ts";

const [dir, fsync] = process.argv.slice(2);
if (!dir) throw new Error("usage: append-child.ts DIR [always|interval|never]");
const log = openFileEventLog(dir, { fsync: (fsync ?? "interval") as FsyncPolicy, segmentBytes: 64 * 1024 });
let seq = (await log.lastSeq("n1")) + 1;
process.stdout.write(`start ${seq}\n`);
for (;;) {
  await log.append(makeEnvelopes("n1", seq, 20, 0));
  seq += 20;
  process.stdout.write(`${seq - 1}\n`);
}
