import { expect, test } from "bun:test";
import { ReceiveWindow } from "../../../actors/control-channel/receive-window.ts";

test("in order: accepted, Nr advances", () => {
  const w = new ReceiveWindow<string>(4);
  expect(w.offer(0, "a")).toEqual({ verdict: "accepted", ready: ["a"] });
  expect(w.offer(1, "b")).toEqual({ verdict: "accepted", ready: ["b"] });
  expect(w.nr).toBe(2);
});

test("out of order within the window is held, then released in order when the gap fills", () => {
  const w = new ReceiveWindow<string>(4);
  expect(w.offer(2, "c").verdict).toBe("held");
  expect(w.offer(1, "b").verdict).toBe("held");
  expect(w.offer(2, "c again").verdict).toBe("held");
  expect(w.heldCount).toBe(2);
  expect(w.offer(0, "a")).toEqual({ verdict: "accepted", ready: ["a", "b", "c"] });
  expect(w.nr).toBe(3);
  expect(w.heldCount).toBe(0);
});

test("beyond the window is dropped; duplicates are told apart", () => {
  const w = new ReceiveWindow<string>(4);
  expect(w.offer(4, "e").verdict).toBe("beyond-window");
  expect(w.offer(3, "d").verdict).toBe("held");
  w.offer(0, "a");
  expect(w.offer(0, "a").verdict).toBe("duplicate");
  expect(w.offer(65535, "old").verdict).toBe("duplicate");
});

test("wraps across 65535 → 0", () => {
  const w = new ReceiveWindow<number>(8, 65533);
  expect(w.offer(0, 0).verdict).toBe("held");
  expect(w.offer(65535, 65535).verdict).toBe("held");
  expect(w.offer(65533, 65533).ready).toEqual([65533]);
  expect(w.offer(65534, 65534).ready).toEqual([65534, 65535, 0]);
  expect(w.nr).toBe(1);
  expect(w.offer(65534, -1).verdict).toBe("duplicate");
});

test("a window of 1 holds nothing", () => {
  const w = new ReceiveWindow<string>(1);
  expect(w.offer(1, "b").verdict).toBe("beyond-window");
  expect(w.offer(0, "a").ready).toEqual(["a"]);
});
