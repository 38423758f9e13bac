/**
 * The page's bundle is checked in (adapters/inspector/page/dist/, so that a node serves its page with no
 * build step, on Deno too): it must be what the sources build, or the page would drift from the code.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { buildInspectorPage, builtInspectorPage } from "../../../scripts/build-inspector.ts";

test("the checked-in inspector bundle is what the page's sources build (run scripts/build-inspector.ts)", async () => {
  expect(builtInspectorPage() === (await buildInspectorPage())).toBe(true);
});

test("the page loads nothing from another origin", () => {
  const html = readFileSync(new URL("../../../adapters/inspector/page/index.html", import.meta.url), "utf8");
  expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  expect(builtInspectorPage()).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\//i);
});
