/**
 * CHAP through a lossy wire: the PPP endpoint (machines/ppp/endpoint.ts) as pure functions, a server and a client wired to each
 * other by hand, frames relayed at once unless the test drops one, timers fired when the test says.
 */
import { describe, expect, test } from "bun:test";
import {
  type PppContext,
  type PppEffect,
  type PppEvent,
  pppStart,
  pppStep,
} from "../../../machines/ppp/endpoint.ts";
import { decodeChap } from "../../../protocol/ppp/chap.ts";
import { PppProtocol } from "../../../protocol/ppp/numbers.ts";
import { chapClient as client, path, chapServer as server } from "./settings.ts";

/** Two endpoints (0 server, 1 client) and what went between them. */
class Pair {
  readonly contexts: PppContext[] = [];
  readonly up = [false, false];
  /** Timers each side has running, by name. */
  readonly timers = [new Set<string>(), new Set<string>()];
  /** CHAP packets sent, in order: [side, code]. */
  readonly chap: [number, string][] = [];
  readonly #queue: [number, PppEvent][] = [];

  constructor(readonly drop: (side: number, protocol: number, payload: Uint8Array) => boolean) {
    this.#effects(0, (out) => {
      this.contexts[0] = pppStart(
        { path, settings: server, magic: 0x11111111, challenge: new Uint8Array(16).fill(3) },
        out,
      );
    });
    this.#effects(1, (out) => {
      this.contexts[1] = pppStart({ path, settings: client, magic: 0x22222222 }, out);
    });
    this.run();
  }

  /** Delivers everything queued, and what that causes. */
  run(): void {
    for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
      const [side, event] = next;
      this.#effects(side, (out) => {
        this.contexts[side] = pppStep(this.contexts[side], event, out);
      });
    }
  }

  /** A timer of `side` expires. */
  fire(side: number, timer: "timer.lcp" | "timer.ipcp" | "timer.auth"): void {
    expect(this.timers[side].has(timer)).toBe(true);
    this.timers[side].delete(timer);
    this.#queue.push([side, { type: timer }]);
    this.run();
  }

  #effects(side: number, step: (out: PppEffect[]) => void): void {
    const out: PppEffect[] = [];
    step(out);
    for (const e of out) {
      if (e.type === "send") {
        if (e.protocol === PppProtocol.CHAP) {
          const p = decodeChap(e.payload);
          if (p.ok) this.chap.push([side, p.value.code]);
        }
        if (!this.drop(side, e.protocol, e.payload))
          this.#queue.push([side ^ 1, { type: "frame", protocol: e.protocol, payload: e.payload }]);
      } else if (e.type === "authenticate") {
        this.#queue.push([side, { type: "authenticated", ok: true, message: "" }]);
      } else if (e.type === "needAddress") {
        this.#queue.push([side, { type: "address", address: "10.1.0.1" }]);
      } else if (e.type === "up") this.up[side] = true;
      else if (e.type === "schedule") this.timers[side].add(e.timer);
      else if (e.type === "cancel") this.timers[side].delete(e.timer);
    }
  }
}

describe("PPP endpoint: CHAP (RFC 1994)", () => {
  test("both ends come up with nothing lost: Challenge, Response, Success, and no timer left running", () => {
    const pair = new Pair(() => false);
    expect(pair.up).toEqual([true, true]);
    expect(pair.chap).toEqual([
      [0, "Challenge"],
      [1, "Response"],
      [0, "Success"],
    ]);
    expect([...pair.timers[1]]).toEqual([]);
  });

  test("a lost Success: the client sends its Response again after the restart period, the server answers Success again (§4.2), both come up", () => {
    let successes = 0;
    const pair = new Pair((side, protocol, payload) => {
      const p = protocol === PppProtocol.CHAP ? decodeChap(payload) : undefined;
      return side === 0 && p?.ok === true && p.value.code === "Success" && successes++ === 0;
    });
    // The server went on to IPCP; the client, still waiting for Success, discards it (RFC 1661 §3.4).
    expect(pair.up).toEqual([false, false]);
    pair.fire(1, "timer.auth");
    expect(pair.chap).toEqual([
      [0, "Challenge"],
      [1, "Response"],
      [0, "Success"],
      [1, "Response"],
      [0, "Success"],
    ]);
    // The server's IPCP request, sent again after its restart period, now finds the client in IPCP.
    pair.fire(0, "timer.ipcp");
    expect(pair.up).toEqual([true, true]);
  });

  test("Success never comes: the client gives up after Max-Configure Responses, with RFC 3145 code 13 (authentication timeout)", () => {
    const pair = new Pair((side, protocol, payload) => {
      const p = protocol === PppProtocol.CHAP ? decodeChap(payload) : undefined;
      return side === 0 && p?.ok === true && p.value.code === "Success";
    });
    for (let i = 1; i < client.maxConfigure; i++) pair.fire(1, "timer.auth");
    expect(pair.chap.filter(([side, code]) => side === 1 && code === "Response")).toHaveLength(
      client.maxConfigure,
    );
    pair.fire(1, "timer.auth");
    expect(pair.contexts[1].cause?.code).toBe(13);
  });
});
