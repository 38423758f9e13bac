#!/usr/bin/env bun
/**
 * The one command-line entry of the L2TP engine. Runs under Bun (`bun bin/l2tp.ts …`) and Deno
 * (`deno run -A bin/l2tp.ts …`); every subcommand lives in `bin/commands/`.
 */
import process from "node:process";
import { commands, usage } from "./commands/index.ts";

const [name, ...args] = process.argv.slice(2);
const command = name ? commands[name] : undefined;
if (!command) {
  process.stderr.write(
    name && name !== "help" && name !== "--help" ? `l2tp: unknown command '${name}'\n\n` : "",
  );
  process.stderr.write(usage());
  process.exit(name && name !== "help" && name !== "--help" ? 2 : 0);
}
try {
  const code = await command.run(args);
  process.exitCode = code;
} catch (err) {
  process.stderr.write(`l2tp ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
