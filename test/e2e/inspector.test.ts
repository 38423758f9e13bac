/**
 * The inspector page end to end, in a real headless Chromium (test/e2e/browser.ts) against real nodes:
 * the lab's LNS and LAC on loopback UDP recording to a file event log, the page served by the node.
 * Every request that leaves loopback is aborted, and each test asserts there were none.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { L2tpNode } from "../../actors/node.ts";
import { openEventLog } from "../../adapters/event-log/index.ts";
import {
  createInspector,
  inspectorUrl,
  RecordedLog,
  serveInspector,
} from "../../adapters/inspector/index.ts";
import { runLab, serveLabInspector, startLabLns } from "../../bin/commands/lab.ts";
import { l2tp } from "../support/l2tp-command.ts";
import { openBrowser, shownCount, shownTotal, type TestBrowser } from "./browser.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function eventsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "l2tp-e2e-"));
  dirs.push(dir);
  return dir;
}

interface LiveLab {
  url: string;
  /** The page's URL (with the admin token in its fragment when actions are allowed). */
  page: string;
  nodes: Map<string, L2tpNode>;
}

/**
 * Runs a lab (`sessions` over `tunnels`) recording to `dir`, with the inspector of both nodes served
 * beside the LAC's admin API; `during` runs while the sessions are held (before the lab closes them).
 */
async function withLiveLab(
  options: { sessions: number; tunnels: number; dir: string; actions: boolean },
  during: (lab: LiveLab) => Promise<void>,
): Promise<void> {
  const nodes = new Map<string, L2tpNode>();
  const inspector = serveLabInspector({ address: "127.0.0.1", port: 0 }, options.actions);
  let failure: unknown;
  await runLab({
    sessions: options.sessions,
    tunnels: options.tunnels,
    holdMs: 0,
    window: 100,
    events: `file:${options.dir}`,
    ppp: true,
    observe: {
      ...inspector.observe,
      created: (side, node) => {
        nodes.set(side, node);
        inspector.observe.created?.(side, node);
      },
      established: async () => {
        try {
          await during({ url: await inspector.url(), page: await inspector.pageUrl(), nodes });
        } catch (err) {
          failure = err;
        }
      },
    },
  });
  await inspector.close();
  if (failure) throw failure;
}

async function openPage(page: string): Promise<TestBrowser> {
  const b = await openBrowser();
  await b.page.goto(page);
  await b.page.waitForSelector("[data-testid=app][data-ready='1']", { timeout: 10_000 });
  return b;
}

/** Serves a recorded log's replay page. */
async function replayServer(
  dir: string,
): Promise<{ url: string; recorded: RecordedLog; close(): Promise<void> }> {
  const log = await openEventLog(`file:${dir}`);
  const recorded = await RecordedLog.load(log);
  await log.close();
  const inspector = createInspector({ mode: "replay", recorded, source: `file:${dir}` });
  const server = await serveInspector(inspector, { address: "127.0.0.1", port: 0 });
  return { url: server.url, recorded, close: () => server.close() };
}

/** Moves the replay's scrubber to `position` and waits for the page to show that moment. */
async function scrubTo(b: TestBrowser, position: number): Promise<void> {
  await b.page.locator("[data-testid=scrub]").evaluate((el, value) => {
    const input = el as HTMLInputElement;
    input.value = String(value);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }, position);
  await b.page.waitForSelector(`[data-testid=app][data-at="${position}"]`, { timeout: 10_000 });
  await b.page.waitForFunction(
    (p) => document.querySelector("[data-testid=position]")?.textContent?.startsWith(`${p} /`),
    position,
  );
  await b.page.waitForTimeout(300);
}

describe("inspector page in Chromium", () => {
  test("a lab's tree with the right counts per level and state; a session's statechart follows the call", async () => {
    const sessions = 40;
    const tunnels = 2;
    await withLiveLab({ sessions, tunnels, dir: eventsDir(), actions: false }, async ({ page, nodes }) => {
      const b = await openPage(page);
      try {
        await b.page.waitForFunction(
          (n) =>
            document.querySelector('[data-testid=count][data-level="session"][data-state="established"] b')
              ?.textContent === String(n),
          sessions * 2,
          { timeout: 30_000 },
        );
        expect(await shownCount(b.page, "session", "established")).toBe(sessions * 2); // both ends
        expect(await shownTotal(b.page, "session")).toBe(sessions * 2);
        expect(await shownCount(b.page, "tunnel", "established")).toBe(tunnels * 2);
        expect(await shownCount(b.page, "system", "running")).toBe(2);
        expect(await shownTotal(b.page, "destination")).toBe(2);
        await b.shot("live-tree");

        // One call of the LAC: its statechart, drawn from SESSION_STATES, has `established` lit.
        const lac = nodes.get("lac") as L2tpNode;
        const d = lac.snapshot().destinations[0];
        const t = d.tunnels[0];
        const s = t.sessions[0];
        await b.page.locator("[data-testid=list-search]").fill(`lac/${d.key}/${t.id}/${s.id}`);
        await b.page.waitForFunction(
          () => document.querySelector("[data-testid=list-total]")?.textContent === "1",
        );
        await b.page.locator("[data-testid=list-row]").first().click();
        const chart = b.page.locator("[data-testid=statechart][data-kind=session]");
        await chart.waitFor();
        await b.page.waitForSelector('[data-testid=statechart][data-active="established"]');
        expect(await chart.locator(".state.active").getAttribute("data-state")).toBe("established");
        await b.shot("live-session-established");

        // Its PPP link (the lab's subscriber): the phase graph of RFC 1661 §3.2, `opened` lit.
        expect(await shownCount(b.page, "ppp", "opened")).toBe(sessions * 2);
        await b.page.locator("[data-testid=to-ppp]").click();
        await b.page.waitForSelector('[data-testid=statechart][data-kind=ppp][data-active="opened"]');
        // The link's context: the address the LNS's pool gave the subscriber, and the user.
        await b.page.waitForFunction(() =>
          /"address": "\d+\.\d+\.\d+\.\d+"/.test(
            document.querySelector("[data-testid=context]")?.textContent ?? "",
          ),
        );
        await b.shot("live-ppp-opened");
        await b.page.locator("[data-testid=list-row]").first().click();
        await b.page.waitForSelector(
          '[data-testid=statechart][data-kind=session][data-active="established"]',
        );

        lac.closeSession(t.id, s.id);
        await b.page.waitForSelector('[data-testid=statechart][data-active="closed"]', { timeout: 30_000 });
        expect(await chart.locator(".state.active").getAttribute("data-state")).toBe("closed");
        expect(await b.page.locator("[data-testid=last-cause]").textContent()).toContain("admin");
        await b.shot("live-session-closed");
        expect(b.offLoopback).toEqual([]);
        expect(b.pageErrors).toEqual([]);
      } finally {
        await b.close();
      }
    });
  }, 120_000);

  test("shutting a destination down from the page drains the tree to empty, as the node's show says", async () => {
    await withLiveLab(
      { sessions: 30, tunnels: 3, dir: eventsDir(), actions: true },
      async ({ url, page, nodes }) => {
        expect(page).toContain("#token=");
        const b = await openPage(page);
        try {
          await b.page.waitForFunction(
            () =>
              document.querySelector('[data-testid=count-total][data-level="session"]')?.textContent === "60",
            undefined,
            { timeout: 30_000 },
          );
          const lac = nodes.get("lac") as L2tpNode;
          const key = lac.snapshot().destinations[0].key;
          await b.page.locator(`[data-testid=tree-item][data-address="lac/${key}"] a`).first().click();
          await b.page.locator("[data-testid=action-shutdown]").click();
          expect(await b.page.locator("[data-testid=confirm]").textContent()).toContain(
            `shutdown destination lac/${key}`,
          );
          await b.page.locator("[data-testid=confirm-yes]").click();
          await b.page.waitForFunction(
            () =>
              document.querySelector('[data-testid=count-total][data-level="session"]')?.textContent ===
                "0" &&
              document.querySelector('[data-testid=count-total][data-level="tunnel"]')?.textContent === "0",
            undefined,
            { timeout: 30_000 },
          );
          await b.shot("live-destination-shutdown");
          const shown = (await l2tp("show", "--admin", url)).out;
          expect(shown).toContain(`destination ${key}`);
          expect(shown).toContain("admin shutdown");
          expect(shown).toContain("tunnels 0  sessions 0");
          expect(shown).not.toMatch(/^\s+tunnel \d+/m);
          expect(lac.snapshot().registries.sessions).toBe(0);
          expect(lac.snapshot().registries.tunnels).toBe(0);
          expect(b.offLoopback).toEqual([]);
          expect(b.pageErrors).toEqual([]);
        } finally {
          await b.close();
        }
      },
    );
  }, 120_000);

  test("the replay scrubbed before the close shows the sessions established, after it closed", async () => {
    const dir = eventsDir();
    const report = await runLab({
      sessions: 20,
      tunnels: 2,
      holdMs: 300,
      window: 100,
      events: `file:${dir}`,
    });
    expect(report.ok).toBe(true);
    const replay = await replayServer(dir);
    const b = await openPage(inspectorUrl(replay.url));
    try {
      const envelopes = replay.recorded.envelopes;
      const firstClose = envelopes.findIndex((e) => e.machine === "session" && e.to === "closed");
      let allUp = 0;
      envelopes.forEach((e, i) => {
        if (e.machine === "session" && e.to === "established") allUp = i + 1;
      });
      expect(allUp).toBeGreaterThan(0);
      expect(allUp).toBeLessThanOrEqual(firstClose); // the moment: every call up, none closed yet
      await scrubTo(b, allUp);
      expect(await shownCount(b.page, "session", "established")).toBe(40);
      expect(await shownCount(b.page, "session", "closed")).toBe(0);
      await b.shot("replay-before-close");
      await scrubTo(b, envelopes.length);
      expect(await shownCount(b.page, "session", "closed")).toBe(40);
      expect(await shownCount(b.page, "session", "established")).toBe(0);
      expect(await b.page.locator("[data-testid=span][data-outcome=closed]").count()).toBeGreaterThan(0);
      await b.shot("replay-after-close");
      expect(b.offLoopback).toEqual([]);
      expect(b.pageErrors).toEqual([]);
    } finally {
      await b.close();
      await replay.close();
    }
  }, 120_000);

  test("a replayed failure (wrong tunnel secret) shows its cause", async () => {
    const dir = eventsDir();
    const lns = await startLabLns({ secret: "the-right-one", events: `file:${dir}` });
    const report = await runLab({
      sessions: 2,
      tunnels: 1,
      holdMs: 0,
      window: 10,
      lns,
      secret: "a-wrong-one",
      events: `file:${dir}`,
    });
    expect(report.established).toBe(0);
    const replay = await replayServer(dir);
    const b = await openPage(inspectorUrl(replay.url));
    try {
      await b.page.locator("[data-testid=failures-only]").check();
      await b.page.waitForSelector("[data-testid=span][data-outcome=failed]");
      expect(await b.page.locator("[data-testid=span]:not([data-outcome=failed])").count()).toBe(0);
      const failed = b.page.locator("[data-testid=span][data-outcome=failed]").first();
      const cause = (await failed.getAttribute("title")) ?? "";
      expect(cause.toLowerCase()).toMatch(/secret|challenge|auth/);
      await failed.locator(".slabel").click();
      await b.page.waitForSelector("[data-testid=last-cause]");
      expect((await b.page.locator("[data-testid=last-cause]").textContent())?.toLowerCase()).toMatch(
        /secret|challenge|auth/,
      );
      await b.shot("replay-failure");
      expect(b.offLoopback).toEqual([]);
      expect(b.pageErrors).toEqual([]);
    } finally {
      await b.close();
      await replay.close();
    }
  }, 120_000);
});
