#!/usr/bin/env bun
/**
 * The one command-line entry of the L2TP engine: `npx l2tp …` after `npm ci` (the package's `bin`
 * entry), or `node_modules/.bin/deno run -A bin/l2tp.ts …` on Deno; every subcommand lives in
 * `bin/commands/`. Exit codes: 0 done, 1 the work failed, 2 the command line is wrong (an unknown
 * command or option, a bad value).
 */
import process from "node:process";
import { tuneAllocator } from "../adapters/allocator/index.ts";

const [name, ...args] = process.argv.slice(2);
// The commands that run nodes start again with the node's allocator options before anything is loaded
// (adapters/allocator: page faults were a third of a node's CPU at full rate).
if (name === "run" || name === "lab") tuneAllocator();
const { closestName } = await import("../adapters/config/suggest.ts");
const { L2TP, UsageError } = await import("./commands/cli.ts");
const { commands, usage } = await import("./commands/index.ts");
const asksHelp = name === undefined || name === "help" || name === "--help" || name === "-h";
const command = name === undefined ? undefined : commands[name];
if (!command) {
  if (asksHelp) {
    process.stdout.write(usage());
    process.exit(0);
  }
  const near = closestName(name as string, Object.keys(commands));
  process.stderr.write(
    `l2tp: unknown command '${name}'${near === undefined ? "" : `; did you mean '${near}'?`} (see '${L2TP} --help')\n`,
  );
  process.exit(2);
}
// A reader that left early (`l2tp show | head -1`) is not an error: what it wanted, it has. Bun throws
// EPIPE from the write itself, Node and Deno emit it on the stream.
const readerLeft = (err: unknown) => (err as { code?: string } | null)?.code === "EPIPE";
process.stdout.on("error", (err) => {
  if (!readerLeft(err)) throw err;
});
try {
  const code = await command.run(args);
  process.exitCode = code;
} catch (err) {
  if (readerLeft(err)) process.exitCode = 0;
  else {
    process.stderr.write(`l2tp ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
