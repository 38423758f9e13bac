/**
 * The configuration file of `l2tp run --config FILE`: `loadConfig` / `parseConfig` check a YAML or JSON
 * file against `RunConfigFileSchema` and report every problem as one line naming the field and the fix;
 * `toNodeConfig` turns the result into the actors' `NodeConfig`. `example.yaml` shows every setting.
 */
export * from "./load.ts";
export * from "./schema.ts";
export { closestName } from "./suggest.ts";
