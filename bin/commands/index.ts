/** The subcommands of `l2tp`, each a module of its own. */

import { close, dial, drain, enable, lockout, shutdown } from "./admin.ts";
import { L2TP } from "./cli.ts";
import { decode } from "./decode.ts";
import { lab } from "./lab.ts";
import { replay } from "./replay.ts";
import { run } from "./run.ts";
import { show } from "./show.ts";
import { takeover } from "./standby.ts";
import { stately } from "./stately.ts";

export interface Command {
  /** One line for `l2tp help`. */
  summary: string;
  /** Runs with the arguments after the subcommand name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {
  run,
  lab,
  show,
  drain,
  enable,
  shutdown,
  close,
  lockout,
  dial,
  takeover,
  stately,
  replay,
  decode,
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: ${L2TP} <command> [options]\n\ncommands:\n${lines.join("\n")}\n`;
}
