import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { SimulatedClock } from "../../adapters/clock/simulated.ts";
import { type Cause, cause } from "../../machines/common.ts";
import { LOCKOUT_MS } from "../../machines/destination.ts";
import {
  destinationOf,
  type GroupTunnel,
  groupProblem,
  type LiveTunnel,
  newAttempt,
  recordFailure,
  type Selection,
  type SelectionView,
  selectTunnel,
  triggersFailover,
} from "../../machines/tunnel-selection.ts";
import { group } from "./tunnel-groups.ts";

/**
 * A small node as selection sees it, on the simulated clock: destinations locked out for LOCKOUT_MS
 * after a failure, and live tunnels per destination.
 */
class World implements SelectionView {
  readonly clock = new SimulatedClock(1_000);
  readonly locks = new Map<string, { since: number; until: number }>();
  readonly live = new Map<string, LiveTunnel[]>();
  #nextTunnel = 1;

  get now(): number {
    return this.clock.now();
  }
  lockout(d: string): { since: number; until: number } | undefined {
    const l = this.locks.get(d);
    return l && l.until > this.now ? l : undefined;
  }
  tunnels(d: string): LiveTunnel[] {
    return this.live.get(d) ?? [];
  }
  eachTunnel(d: string, visit: (live: LiveTunnel) => void): void {
    // As the node does: one object filled again for each tunnel, so that selection keeping a reference
    // to what it was shown would be caught.
    const shown: LiveTunnel = {
      tunnelId: 0,
      sessions: 0,
      usable: false,
      established: false,
      assignmentId: undefined,
    };
    for (const t of this.tunnels(d)) visit(Object.assign(shown, t));
  }
  lock(d: string): void {
    this.locks.set(d, { since: this.now, until: this.now + LOCKOUT_MS });
  }
  addTunnel(d: string, sessions: number, extra: Partial<LiveTunnel> = {}): LiveTunnel {
    const t: LiveTunnel = {
      tunnelId: this.#nextTunnel++,
      sessions,
      usable: true,
      established: true,
      assignmentId: undefined,
      ...extra,
    };
    this.live.set(d, [...this.tunnels(d), t]);
    return t;
  }
}

function lns(n: number, preference: number, extra: Partial<GroupTunnel> = {}): GroupTunnel {
  return { peer: { address: `127.0.0.${n}`, port: 1701 }, preference, maxSessions: 0, ...extra };
}

const first = () => 0;
const last = () => 0.999;
const A = "127.0.0.10:1701";
const B = "127.0.0.11:1701";
const C = "127.0.0.12:1701";

function dest(s: Selection): string | undefined {
  return s.kind === "refuse" ? undefined : s.destination;
}

describe("tunnel selection: preference levels", () => {
  test("the most preferred level (0) first, whatever the order of the group", () => {
    const w = new World();
    const g = group([lns(11, 1), lns(12, 2), lns(10, 0)]);
    const s = selectTunnel(g, w, newAttempt(), last);
    expect(s).toMatchObject({ kind: "open", destination: A, sibling: false });
    expect(s.reason).toContain("preference 0");
  });

  test("a locked-out destination is skipped until its lockout ends, then chosen again", () => {
    const w = new World();
    const g = group([lns(10, 0), lns(11, 1)]);
    w.lock(A);
    const s = selectTunnel(g, w, newAttempt(), first);
    expect(dest(s)).toBe(B);
    expect(s.reason).toContain(`${A} locked out until ${1_000 + LOCKOUT_MS}`);
    w.clock.advance(LOCKOUT_MS - 1);
    expect(dest(selectTunnel(g, w, newAttempt(), first))).toBe(B);
    w.clock.advance(1);
    expect(dest(selectTunnel(g, w, newAttempt(), first))).toBe(A);
  });

  test("a failure drops to the next level by default, even with another destination at the same level", () => {
    const w = new World();
    const g = group([lns(10, 0), lns(11, 0), lns(12, 1)]);
    const attempt = newAttempt();
    const s1 = selectTunnel(g, w, attempt, first);
    expect(dest(s1)).toBe(A);
    recordFailure(g, attempt, s1);
    const s2 = selectTunnel(g, w, attempt, first);
    expect(dest(s2)).toBe(C);
    expect(s2.reason).toContain("preference 1");
  });

  test("failoverWithinPreference tries the rest of the level first, then drops", () => {
    const w = new World();
    const g = group([lns(10, 0), lns(11, 0), lns(12, 1)], { failoverWithinPreference: true });
    const attempt = newAttempt();
    const s1 = selectTunnel(g, w, attempt, first);
    recordFailure(g, attempt, s1);
    const s2 = selectTunnel(g, w, attempt, first);
    expect(dest(s2)).toBe(B);
    expect(s2.reason).toContain(`${A} failed`);
    recordFailure(g, attempt, s2);
    expect(dest(selectTunnel(g, w, attempt, first))).toBe(C);
  });

  test("levels below exhausted, what is left above is tried", () => {
    const w = new World();
    const g = group([lns(10, 0), lns(11, 0), lns(12, 1)]);
    const attempt = newAttempt();
    recordFailure(g, attempt, selectTunnel(g, w, attempt, first)); // A, level 0
    recordFailure(g, attempt, selectTunnel(g, w, attempt, first)); // C, level 1
    expect(dest(selectTunnel(g, w, attempt, first))).toBe(B);
  });

  test("random among the candidates of a level", () => {
    const w = new World();
    const g = group([lns(10, 0), lns(11, 0), lns(12, 0)]);
    expect(dest(selectTunnel(g, w, newAttempt(), first))).toBe(A);
    expect(dest(selectTunnel(g, w, newAttempt(), () => 0.5))).toBe(B);
    expect(dest(selectTunnel(g, w, newAttempt(), last))).toBe(C);
    expect(selectTunnel(g, w, newAttempt(), last).reason).toContain("random among 3");
  });
});

describe("tunnel selection: max sessions, reuse, siblings, Tunnel-Assignment-Id", () => {
  test("a tunnel with room is reused (established first, then the fullest)", () => {
    const w = new World();
    w.addTunnel(A, 1, { established: false });
    const t = w.addTunnel(A, 2);
    w.addTunnel(A, 3, { usable: false });
    const s = selectTunnel(group([lns(10, 0, { maxSessions: 5 })]), w, newAttempt(), first);
    expect(s).toMatchObject({ kind: "reuse", destination: A, tunnelId: t.tunnelId });
  });

  test("a destination whose tunnels are full loses to one with room at the same level", () => {
    const w = new World();
    w.addTunnel(A, 2);
    const g = group([lns(10, 0, { maxSessions: 2 }), lns(11, 0, { maxSessions: 2 })]);
    for (const r of [first, last]) expect(dest(selectTunnel(g, w, newAttempt(), r))).toBe(B);
  });

  test("a full tunnel gets a sibling when nothing at the level has room", () => {
    const w = new World();
    w.addTunnel(A, 2);
    const s = selectTunnel(group([lns(10, 0, { maxSessions: 2 }), lns(11, 1)]), w, newAttempt(), first);
    expect(s).toMatchObject({ kind: "open", destination: A, sibling: true });
    expect(s.reason).toContain("a sibling");
  });

  test("max sessions 0 means no limit", () => {
    const w = new World();
    const t = w.addTunnel(A, 65_000);
    expect(selectTunnel(group([lns(10, 0)]), w, newAttempt(), first)).toMatchObject({
      kind: "reuse",
      tunnelId: t.tunnelId,
    });
  });

  test("weighted load balancing: the largest max sessions until it is full, then the next", () => {
    const w = new World();
    const g = group([lns(10, 0, { maxSessions: 10 }), lns(11, 0, { maxSessions: 100 })], {
      weightedLoadBalancing: true,
    });
    for (const r of [first, last]) expect(dest(selectTunnel(g, w, newAttempt(), r))).toBe(B);
    w.addTunnel(B, 99);
    expect(dest(selectTunnel(g, w, newAttempt(), first))).toBe(B);
    w.live.set(B, []);
    w.addTunnel(B, 100);
    const s = selectTunnel(g, w, newAttempt(), last);
    expect(dest(s)).toBe(A);
    expect(s.reason).toContain("weighted by max sessions");
  });

  test("the same Tunnel-Assignment-Id shares a tunnel; another one gets its own tunnel to the endpoint", () => {
    const w = new World();
    const x = w.addTunnel(A, 1, { assignmentId: "x" });
    expect(selectTunnel(group([lns(10, 0, { assignmentId: "x" })]), w, newAttempt(), first)).toMatchObject({
      kind: "reuse",
      tunnelId: x.tunnelId,
    });
    const y = selectTunnel(group([lns(10, 0, { assignmentId: "y" })]), w, newAttempt(), first);
    expect(y).toMatchObject({ kind: "open", destination: A, sibling: false });
    expect(y.reason).toContain("Tunnel-Assignment-Id y");
    // No assignment id: the tunnels opened for one are not used.
    expect(selectTunnel(group([lns(10, 0)]), w, newAttempt(), first)).toMatchObject({ kind: "open" });
  });
});

describe("tunnel selection: every destination locked out", () => {
  test("the one locked out first is retried once, then the subscriber is refused with a cause", () => {
    const w = new World();
    const g = group([lns(10, 0), lns(11, 1), lns(12, 2)]);
    w.lock(B);
    w.clock.advance(10);
    w.lock(A);
    w.lock(C);
    const attempt = newAttempt();
    const s = selectTunnel(g, w, attempt, first);
    expect(s).toMatchObject({ kind: "lastResort", destination: B });
    expect(s.reason).toContain("locked out first");
    recordFailure(g, attempt, s);
    const r = selectTunnel(g, w, attempt, first);
    expect(r.kind).toBe("refuse");
    expect(r.kind === "refuse" && r.cause.reason).toBe("refused");
    expect(r.reason).toContain("retried once");
  });

  test("failed for this call without lockouts (CDN try another everywhere): refused, naming what was tried", () => {
    const w = new World();
    const g = group([lns(10, 0), lns(11, 0)], { failoverWithinPreference: true });
    const attempt = newAttempt();
    recordFailure(g, attempt, selectTunnel(g, w, attempt, first));
    recordFailure(g, attempt, selectTunnel(g, w, attempt, first));
    const r = selectTunnel(g, w, attempt, first);
    expect(r.kind).toBe("refuse");
    expect(r.reason).toContain(`tried ${A}, ${B}`);
  });
});

describe("tunnel selection: what fails over", () => {
  test.each([
    [
      "a CDN with error 7 (try another)",
      cause("peer", "peer disconnected the call", { result: 2, error: 7 }),
      true,
    ],
    ["a CDN without it", cause("peer", "peer disconnected the call (CDN result 3)", { result: 3 }), false],
    ["no answer to SCCRQ", cause("retries", "no answer"), true],
    ["tunnel authentication", cause("auth", "bad challenge response"), true],
    ["a StopCCN before the tunnel was up", cause("peer", "peer closed the tunnel (StopCCN result 2)"), true],
    ["a lockout", cause("lockout", "locked out"), true],
    ["an operator", cause("admin", "closed"), false],
    ["PPP", cause("ppp", "LCP terminated"), false],
  ] as [string, Cause, boolean][])("%s", (_name, why, expected) => {
    expect(triggersFailover(why)).toBe(expected);
  });

  test("a group with no tunnels, or a level or max out of range, is named with the fix", () => {
    expect(groupProblem(group([]))).toContain("has no tunnels");
    expect(groupProblem(group([lns(10, 8)]))).toContain(
      "tunnels[0].preference: expected an integer 0-7, got 8",
    );
    expect(groupProblem(group([lns(10, 0, { maxSessions: -1 })]))).toContain("tunnels[0].maxSessions");
    expect(groupProblem(group([lns(10, 7)]))).toBeNull();
  });
});

describe("tunnel selection: property", () => {
  const tunnelArb = fc.record({
    host: fc.integer({ min: 10, max: 15 }),
    preference: fc.integer({ min: 0, max: 7 }),
    maxSessions: fc.integer({ min: 0, max: 3 }),
    assignmentId: fc.option(fc.constantFrom("a", "b"), { nil: undefined }),
  });
  const callArb = fc.record({
    /** Milliseconds since the previous call. */
    gap: fc.integer({ min: 0, max: 200_000 }),
    /** Each try: 0 the tunnel comes up and the call is placed, 1 the tunnel fails, 2 CDN try another. */
    outcomes: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 12, maxLength: 12 }),
    /** A session that ends before the next call. */
    hangUp: fc.boolean(),
  });

  test("no tunnel over max sessions, no locked-out destination chosen before its lockout ends, every call tunnelled or refused with a cause", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(tunnelArb, {
          minLength: 1,
          maxLength: 6,
          selector: (t) => `${t.host}/${t.assignmentId}`,
        }),
        fc.boolean(),
        fc.boolean(),
        fc.array(callArb, { minLength: 1, maxLength: 40 }),
        fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })),
        (defs, weighted, within, calls, randoms) => {
          const w = new World();
          const g = group(
            defs.map((d) =>
              lns(d.host, d.preference, { maxSessions: d.maxSessions, assignmentId: d.assignmentId }),
            ),
            { weightedLoadBalancing: weighted, failoverWithinPreference: within },
          );
          const random = () => randoms.next().value as number;
          const placed: LiveTunnel[] = [];
          for (const call of calls) {
            w.clock.advance(call.gap);
            const attempt = newAttempt();
            let outcome: "tunnelled" | Cause | undefined;
            for (let tries = 0; outcome === undefined; tries++) {
              expect(tries).toBeLessThanOrEqual(g.tunnels.length + 1);
              const s = selectTunnel(g, w, attempt, random);
              if (s.kind === "refuse") {
                expect(s.cause.message.length).toBeGreaterThan(0);
                outcome = s.cause;
                break;
              }
              expect(s.reason.length).toBeGreaterThan(0);
              const lock = w.lockout(s.destination);
              if (s.kind !== "lastResort") expect(lock).toBeUndefined();
              else {
                // Only when every destination of the group is locked out or failed for this call.
                for (const t of g.tunnels) {
                  const d = destinationOf(t);
                  expect(w.lockout(d) !== undefined || attempt.failed.includes(d)).toBe(true);
                }
              }
              const result = call.outcomes[tries] ?? 1;
              if (result === 1 && s.kind !== "reuse") {
                w.lock(s.destination);
                recordFailure(g, attempt, s);
                continue;
              }
              if (result === 2) {
                recordFailure(g, attempt, s);
                continue;
              }
              let t: LiveTunnel;
              if (s.kind === "reuse") {
                t = w.tunnels(s.destination).find((x) => x.tunnelId === s.tunnelId) as LiveTunnel;
                t.sessions++;
              } else {
                w.locks.delete(s.destination);
                t = w.addTunnel(s.destination, 1, { assignmentId: s.tunnel.assignmentId });
              }
              if (s.tunnel.maxSessions > 0) expect(t.sessions).toBeLessThanOrEqual(s.tunnel.maxSessions);
              placed.push(t);
              outcome = "tunnelled";
            }
            expect(outcome).toBeDefined();
            if (call.hangUp && placed.length > 0) (placed.shift() as LiveTunnel).sessions--;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
