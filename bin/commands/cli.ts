/**
 * What every subcommand shares: the one way to call the CLI (printed in every help text), reading
 * options with a "did you mean" for a misspelt one, and the usage error that exits 2 (the same code
 * for an unknown command, an unknown option and a bad value).
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { closestName } from "../../adapters/config/suggest.ts";

/**
 * How a person calls the CLI after `npm ci` in a clone: npm runs the package's own `bin` entry with
 * node_modules/.bin (where bun is) on PATH. Help texts and the README use this form, nothing else.
 */
export const L2TP = "npx l2tp";

/** A mistake in the command line: the message names the option and the fix; the CLI exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * `parseArgs` for subcommand `command`, whose mistakes are UsageErrors that name the option and
 * suggest the nearest known one (`--sesions` → `--sessions`).
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  command: string,
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code !== "string" || !code.startsWith("ERR_PARSE_ARGS")) throw err;
    const help = `see '${L2TP} ${command} --help'`;
    const option = /'(-{1,2}[^' <]+)/.exec((err as Error).message)?.[1];
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option !== undefined) {
      const known = Object.keys(config.options ?? {});
      const near = closestName(option.replace(/^-+/, ""), known);
      throw new UsageError(
        `unknown option ${option}${near === undefined ? "" : `; did you mean --${near}?`} (${help})`,
      );
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option !== undefined) {
      throw new UsageError(`${option}: expected a value after it (${help})`);
    }
    throw new UsageError(`${(err as Error).message} (${help})`);
  }
}

/** A whole number from `min` to `max` given to `flag`, or a UsageError that names the flag and the range. */
export function wholeNumber(flag: string, text: string | undefined, min: number, max: number): number {
  const value = text === undefined || text.trim() === "" ? Number.NaN : Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(
      `${flag}: expected a whole number from ${min} to ${max.toLocaleString("en-US")}, got '${text ?? ""}'`,
    );
  }
  return value;
}
