/**
 * A real headless Chromium for the end-to-end tests: Debian's chromium (scripts/setup.sh installs it)
 * driven by playwright-core. Every request the page makes that leaves loopback is aborted and kept, so a
 * test can assert there were none (the page must work with no network beyond the node). Screenshots go
 * to SCREENSHOTS (CI keeps the folder as an artifact; the README names it).
 */
import { mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

/** Where the e2e tests save their screenshots. */
export const SCREENSHOTS = new URL("../../var/e2e-screenshots/", import.meta.url).pathname;

export const CHROMIUM = "/usr/lib/chromium/chromium";

/** The flags measured to work here (INTEROP notes: headless, no sandbox in a container, nothing phoning home). */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Whether a URL stays on this machine's loopback (127.0.0.0/8, ::1, or a data: URL the page made). */
export function isLoopback(url: string): boolean {
  if (url.startsWith("data:") || url.startsWith("about:")) return true;
  try {
    const host = new URL(url).hostname;
    return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === "[::1]" || host === "localhost";
  } catch {
    return false;
  }
}

/** A browser page that refuses the network beyond loopback and remembers what it refused. */
export interface TestBrowser {
  browser: Browser;
  page: Page;
  /** Requests that tried to leave loopback (aborted). */
  offLoopback: string[];
  /** Errors the page threw. */
  pageErrors: string[];
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Launches Chromium with one page of `width`×`height`. */
export async function openBrowser(width = 1500, height = 950): Promise<TestBrowser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  const context = await browser.newContext({ viewport: { width, height } });
  const offLoopback: string[] = [];
  const pageErrors: string[] = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (isLoopback(url)) return route.continue();
    offLoopback.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("pageerror", (err) => pageErrors.push(err.message));
  return {
    browser,
    page,
    offLoopback,
    pageErrors,
    async shot(name) {
      const path = `${SCREENSHOTS}${name}.png`;
      await page.screenshot({ path });
      return path;
    },
    close: () => browser.close(),
  };
}

/** The count the page shows for a level and state (0 when it shows none). */
export async function shownCount(page: Page, level: string, state: string): Promise<number> {
  const chip = page.locator(`[data-testid=count][data-level="${level}"][data-state="${state}"] b`);
  if ((await chip.count()) === 0) return 0;
  return Number(await chip.first().textContent());
}

/** The total the page shows for a level. */
export async function shownTotal(page: Page, level: string): Promise<number> {
  return Number(await page.locator(`[data-testid=count-total][data-level="${level}"]`).textContent());
}
