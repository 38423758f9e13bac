/**
 * The PPP endpoint under hostile input: a deterministic stream of events for both roles (random and
 * mutated LCP, PAP, CHAP and IPCP packets, other protocols, timers, AAA and address answers, closes).
 * Nothing throws, every step leaves a well-formed context, every effect is well formed, and an ended
 * link stays ended.
 */
import { describe, expect, test } from "bun:test";
import {
  PPP_DEFAULTS,
  type PppContext,
  type PppEffect,
  type PppEvent,
  type PppSettings,
  pppStart,
  pppStep,
} from "../../machines/ppp/endpoint.ts";
import { FSM_STATES } from "../../machines/ppp/fsm.ts";
import { encodeLcp } from "../../protocol/ppp/lcp.ts";
import { fuzzSettings, prng } from "./mutate.ts";

const { seed, runs } = fuzzSettings(20_000, 1661);
const PROTOCOLS = [0xc021, 0xc021, 0xc021, 0xc023, 0xc223, 0x8021, 0x8021, 0x8057, 0x80fd, 0x0021];
const STATES: ReadonlySet<string> = new Set(FSM_STATES);

/** Well-formed packets to mutate: a Configure-Request with every LCP option, a Terminate-Request, an Echo. */
const SEEDS: Uint8Array[] = [
  encodeLcp({
    code: "Configure-Request",
    id: 1,
    options: [
      { kind: "mru", value: 1400 },
      { kind: "authProtocol", protocol: 0xc223, algorithm: 5 },
      { kind: "magicNumber", value: 0x01020304 },
      { kind: "pfc" },
      { kind: "acfc" },
    ],
  }),
  encodeLcp({ code: "Terminate-Request", id: 2, data: new Uint8Array(0) }),
  encodeLcp({ code: "Echo-Request", id: 3, magic: 5, data: Uint8Array.of(1, 2) }),
  Uint8Array.of(1, 1, 0, 10, 3, 6, 0, 0, 0, 0), // IPCP Configure-Request, address 0.0.0.0
  Uint8Array.of(1, 1, 0, 14, 5, 97, 108, 105, 99, 101, 2, 112, 119, 0), // PAP Authenticate-Request
  Uint8Array.of(2, 1, 0, 26, 16, ...new Array(16).fill(7), 97), // CHAP Response
];

function wellFormed(c: PppContext): void {
  expect(STATES.has(c.lcp)).toBe(true);
  expect(STATES.has(c.ipcp)).toBe(true);
  expect(Number.isInteger(c.lcpNcp.id) && c.lcpNcp.id >= 0 && c.lcpNcp.id <= 255).toBe(true);
  expect(Number.isInteger(c.localMagic) && c.localMagic >= 0 && c.localMagic <= 0xffffffff).toBe(true);
}

function checkEffect(e: PppEffect): void {
  if (e.type === "send") {
    expect(e.payload).toBeInstanceOf(Uint8Array);
    expect(e.payload.length).toBeLessThanOrEqual(1500);
    // Every packet we send declares its own length right (RFC 1661 §5).
    expect((e.payload[2] << 8) | e.payload[3]).toBe(e.payload.length);
  }
}

describe("PPP endpoint fuzzing", () => {
  for (const role of ["server", "client"] as const) {
    test(`${role}: ${runs} hostile events, no exception, contexts and effects well formed`, () => {
      const rand = prng(seed + (role === "server" ? 0 : 1));
      const int = (n: number) => Math.floor(rand() * n);
      const settings: PppSettings = {
        ...PPP_DEFAULTS,
        role,
        hostName: "fuzz",
        user: "u",
        password: "p",
        dns: ["10.0.0.53"],
      };
      let out: PppEffect[] = [];
      let c = pppStart(
        { path: { system: "fuzz", ppp: true }, settings, magic: 42, challenge: new Uint8Array(16) },
        out,
      );
      let restarts = 0;
      for (let i = 0; i < runs; i++) {
        if (c.ended) {
          restarts++;
          out = [];
          c = pppStart(
            {
              path: { system: "fuzz", ppp: true },
              settings,
              magic: 1 + int(1000),
              challenge: new Uint8Array(16),
            },
            out,
          );
        }
        const kind = int(20);
        let event: PppEvent;
        if (kind < 14) {
          const base = SEEDS[int(SEEDS.length)] as Uint8Array;
          const bytes = int(3) === 0 ? Uint8Array.from({ length: int(40) }, () => int(256)) : base.slice();
          for (let m = int(4); m > 0 && bytes.length > 0; m--) bytes[int(bytes.length)] = int(256);
          event = {
            type: "frame",
            protocol: PROTOCOLS[int(PROTOCOLS.length)] as number,
            payload: bytes.subarray(0, int(bytes.length + 1)),
          };
        } else if (kind < 17) {
          event = { type: (["timer.lcp", "timer.ipcp", "timer.auth"] as const)[int(3)] as "timer.lcp" };
        } else if (kind === 17) {
          event = { type: "authenticated", ok: int(2) === 0, message: "m" };
        } else if (kind === 18) {
          event =
            int(2) === 0
              ? { type: "address", address: `10.0.0.${int(250) + 2}` }
              : { type: "address", failure: "none" };
        } else {
          event = { type: "close", cause: { code: 1, protocol: 0, direction: 2, message: "fuzz" } };
        }
        const before = c;
        const wasEnded = c.ended;
        c = pppStep(c, event, out);
        if (wasEnded) expect(c).toBe(before);
        wellFormed(c);
        for (const e of out) checkEffect(e);
        out.length = 0;
      }
      expect(restarts).toBeGreaterThan(0);
    }, 60_000);
  }
});
