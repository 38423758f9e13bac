import { expect, test } from "bun:test";
import { realClock } from "../../../adapters/clock/index.ts";

test("realClock: a cleared timer never fires, now() is wall time", async () => {
  let fired = false;
  const h = realClock.setTimeout(() => {
    fired = true;
  }, 1);
  realClock.clearTimeout(h);
  await new Promise<void>((resolve) => realClock.setTimeout(resolve, 5));
  expect(fired).toBe(false);
  expect(Math.abs(realClock.now() - Date.now())).toBeLessThan(1000);
});
