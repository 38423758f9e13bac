/** Runs `l2tp` subcommands in-process, as an operator would, capturing what they print. */
import { commands } from "../../bin/commands/index.ts";

/** Runs an `l2tp` subcommand in-process and returns its exit code and what it printed. */
export async function l2tp(...argv: string[]): Promise<{ code: number; out: string }> {
  const [name, ...args] = argv;
  let out = "";
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await commands[name].run(args), out };
  } finally {
    process.stdout.write = write;
  }
}
