/**
 * Builds the inspector page's script (adapters/inspector/page/*.ts) into one bundle,
 * adapters/inspector/page/dist/app.js, which the node serves with page/index.html. The bundle is checked
 * in: a node must serve its page on a machine with no build step (Deno included), and
 * test/adapters/inspector/bundle.test.ts fails when the checked-in bundle is not what these sources build. Run: node_modules/.bin/bun scripts/build-inspector.ts
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";

const PAGE = new URL("../adapters/inspector/page/", import.meta.url);
const DIST = new URL("dist/", PAGE);

/** Builds the page's script; returns the bundle's text. */
export async function buildInspectorPage(): Promise<string> {
  const result = await Bun.build({
    entrypoints: [new URL("app.ts", PAGE).pathname],
    target: "browser",
    minify: true,
    define: { "process.env.NODE_ENV": '"production"' },
  });
  if (!result.success) throw new Error(`inspector page: ${result.logs.map(String).join("\n")}`);
  return await (result.outputs[0] as Blob).text();
}

/** The checked-in bundle's text. */
export function builtInspectorPage(): string {
  return readFileSync(new URL("app.js", DIST), "utf8");
}

if (import.meta.main) {
  const started = performance.now();
  const js = await buildInspectorPage();
  mkdirSync(DIST, { recursive: true });
  writeFileSync(new URL("app.js", DIST), js);
  console.log(
    `inspector page: ${(js.length / 1024).toFixed(0)} KB in ${Math.round(performance.now() - started)} ms → adapters/inspector/page/dist/`,
  );
}
