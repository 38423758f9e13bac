/**
 * Retakes the README's screenshots of the inspector (docs/screenshots/) from a lab run as `l2tp lab
 * --inspect` runs it: PPP subscribers through our LAC to our LNS (LCP, CHAP, IPCP, an address from the
 * LNS's pool), recorded to a file log; then the replay page over that log. The failure shot is the e2e
 * test's (test/e2e/inspector.test.ts "a replayed failure"), copied from var/e2e-screenshots/ when there.
 *
 * Run: node_modules/.bin/bun scripts/screenshots.ts   (Debian's chromium, as the e2e tests use it)
 * Look at the images before committing them: they must show what the README says they show.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { openEventLog } from "../adapters/event-log/index.ts";
import { createInspector, inspectorUrl, RecordedLog, serveInspector } from "../adapters/inspector/index.ts";
import { runLab, serveLabInspector } from "../bin/commands/lab.ts";
import { openBrowser, SCREENSHOTS, type TestBrowser } from "../test/e2e/browser.ts";

const OUT = new URL("../docs/screenshots/", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "l2tp-screenshots-"));

async function ready(b: TestBrowser, url: string): Promise<void> {
  await b.page.goto(url);
  await b.page.waitForSelector("[data-testid=app][data-ready='1']", { timeout: 30_000 });
}

// 1. The live page: the LNS's PPP link of one subscriber, its phase graph with `opened` lit, its address.
const live = await openBrowser(1500, 950);
const inspector = serveLabInspector({ address: "127.0.0.1", port: 0 }, false);
const report = await runLab({
  sessions: 40,
  tunnels: 2,
  holdMs: 0,
  window: 100,
  events: `file:${dir}`,
  ppp: true,
  throughLac: true,
  observe: {
    ...inspector.observe,
    established: async () => {
      await ready(live, await inspector.pageUrl());
      await live.page.locator("[data-testid=list-level]").selectOption("ppp");
      await live.page.locator("[data-testid=list-search]").fill("lns/");
      await live.page.locator("[data-testid=list-row]").first().click();
      await live.page.waitForSelector('[data-testid=statechart][data-kind=ppp][data-active="opened"]');
      await live.page.waitForFunction(() =>
        /"peerAddress": "\d+\.\d+\.\d+\.\d+"/.test(
          document.querySelector("[data-testid=context]")?.textContent ?? "",
        ),
      );
      await live.page.screenshot({ path: `${OUT}inspector-live.png` });
    },
  },
});
await inspector.close();
await live.close();
if (!report.ok) throw new Error(`the lab failed: ${report.problems.join("; ")}`);

// 2. The replay of that run, at the moment every call was up and none closed yet.
const log = await openEventLog(`file:${dir}`);
const recorded = await RecordedLog.load(log);
await log.close();
const server = await serveInspector(
  createInspector({ mode: "replay", recorded, source: "file:./var/events/lab-…" }),
  { address: "127.0.0.1", port: 0 },
);
let allUp = 0;
recorded.envelopes.forEach((e, i) => {
  if (e.machine === "ppp" && e.to === "opened") allUp = i + 1;
});
const replay = await openBrowser(1500, 950);
await ready(replay, inspectorUrl(server.url));
await replay.page.locator("[data-testid=scrub]").evaluate((el, value) => {
  const input = el as HTMLInputElement;
  input.value = String(value);
  input.dispatchEvent(new Event("input", { bubbles: true }));
}, allUp);
await replay.page.waitForSelector(`[data-testid=app][data-at="${allUp}"]`, { timeout: 10_000 });
await replay.page.waitForTimeout(500);
await replay.page.screenshot({ path: `${OUT}inspector-replay.png` });
await replay.close();
await server.close();
rmSync(dir, { recursive: true, force: true });

// 3. The failure: the e2e test's shot, when it ran.
const failure = join(SCREENSHOTS, "replay-failure.png");
if (existsSync(failure)) copyFileSync(failure, `${OUT}inspector-replay-failure.png`);
else process.stderr.write(`no ${failure}: run the e2e tests first for the failure shot\n`);
process.stdout.write(`screenshots in ${OUT}\n`);
process.exit(0);
