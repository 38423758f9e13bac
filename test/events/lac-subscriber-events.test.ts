/**
 * A LAC's subscriber in the event log and in the supervisor's tree: an actor of its own level under the
 * system (`subscriber:LINE`), whose transitions say what was decided and why and where its call went,
 * with its PPP link (LCP, authentication) as its child at the same path; replay folds both into the
 * node's tree, the timeline and `--subscriber` find them, and closing the node ends a subscriber that
 * is still deciding (supervised, nothing left behind).
 */
import { describe, expect, test } from "bun:test";
import type { Aaa } from "../../actors/aaa.ts";
import { LacAccess } from "../../actors/lac-access.ts";
import type { L2tpNode } from "../../actors/node.ts";
import { LocalAaa } from "../../adapters/aaa/local.ts";
import { SubscriberSimulator } from "../../adapters/access/simulator.ts";
import { EchoDataPlane } from "../../adapters/dataplane/index.ts";
import { MemoryEventLog } from "../../adapters/event-log/memory.ts";
import { actorsOf, childrenOf, findActor, levelCounts } from "../../adapters/inspector/view.ts";
import { SeededRandom } from "../../adapters/random/seeded.ts";
import { createRecorder, pathOfNode } from "../../events/recorder.ts";
import { evolve, initialTree, matchesFilter } from "../../events/replay.ts";
import { timelineLine, treeText } from "../../events/timeline.ts";
import type { DomainRoute, LacPolicy } from "../../machines/lac-decision.ts";
import { LAC, Lab, LNS, lacConfig, lnsConfig } from "../actors/lab.ts";
import { group } from "../machines/tunnel-groups.ts";

const policy: LacPolicy = {
  domainSeparator: "@",
  stripDomain: false,
  domains: new Map<string, DomainRoute>([
    ["isp.example", { kind: "tunnel", group: group([{ peer: LNS, preference: 0, maxSessions: 0 }]) }],
  ]),
  radiusGroup: { weightedLoadBalancing: false, failoverWithinPreference: false, maxSessions: 0 },
};

function recordedLac(aaa?: Aaa) {
  const lab = new Lab(41);
  const log = new MemoryEventLog();
  let lacNode: L2tpNode | undefined;
  const recorder = createRecorder({ node: "lac", clock: lab.clock, log, pathOf: pathOfNode(() => lacNode) });
  let access: LacAccess | undefined;
  lacNode = lab.node(LAC.address, lacConfig(), {
    deps: { inspect: recorder.inspect, onData: (s, p) => access?.onData(s, p) },
  });
  lab.node(
    LNS.address,
    lnsConfig({
      ppp: {
        lns: { authProtocols: ["chap"], localAddress: "10.0.0.1" },
        pools: [{ name: "main", start: "10.1.0.1", end: "10.1.0.9" }],
      },
    }),
    {
      deps: {
        aaa: new LocalAaa([{ name: "alice@isp.example", password: "alice-pw" }]),
        dataPlane: new EchoDataPlane(),
      },
    },
  );
  const subscribers = new SubscriberSimulator(lab.clock);
  access = new LacAccess({
    node: lacNode,
    access: subscribers,
    policy,
    clock: lab.clock,
    random: new SeededRandom(3),
    ppp: { authProtocols: ["chap"] },
    ...(aaa ? { aaa } : {}),
  });
  return { lab, log, recorder, lac: lacNode, subscribers, access };
}

describe("a LAC's subscriber is a supervised actor in the event log", () => {
  test("tunnelled: its PPP's LCP and CHAP, the decision and why, where its call went; replay shows it", async () => {
    const { lab, log, recorder, lac, subscribers } = recordedLac();
    const alice = subscribers.dial({ user: "alice@isp.example", password: "alice-pw" });
    await lab.until(alice.up, 60_000);
    // Supervised: the subscriber is a child of the system, its PPP link (handed off, ended) is gone.
    const live = [...lac.system.children.values()].filter((c) => c.level === "subscriber");
    expect(live.map((c) => c.path)).toEqual([{ system: "lac", subscriber: alice.id }]);
    expect([...(live[0]?.children.values() ?? [])]).toEqual([]);
    alice.hangUp();
    await lab.run(2_000);
    expect([...lac.system.children.values()].filter((c) => c.level === "subscriber")).toEqual([]);
    await recorder.flush();

    const mine = log.envelopes.filter((e) => e.node === "lac" && e.path.subscriber === alice.id);
    const subscriber = mine.filter((e) => e.machine === "subscriber");
    const states = subscriber.map((e) => e.to).filter((to, i, all) => to !== all[i - 1]);
    expect(states).toEqual(["ppp", "deciding", "placing", "tunnelled", "ended"]);
    const phases = mine
      .filter((e) => e.machine === "ppp")
      .map((e) => e.to)
      .filter((to, i, all) => to !== all[i - 1]);
    expect(phases.slice(0, 2)).toEqual(["establish", "authenticate"]);
    for (const e of mine) expect(e.path).toEqual({ subscriber: alice.id });

    const tree = log.envelopes.reduce(evolve, initialTree());
    const view = tree.nodes.lac?.subscribers?.[alice.id];
    expect(view?.actor?.state).toBe("ended");
    expect(view?.actor?.data.user).toBe("alice@isp.example");
    expect(view?.actor?.data.decision).toBe("tunnel");
    expect(String(view?.actor?.data.reason)).toContain("isp.example");
    const placed = view?.actor?.data.placed as { destination: string; tunnel: number; session: number };
    expect(placed.destination).toBe(`${LNS.address}:${LNS.port}`);
    expect(tree.nodes.lac?.destinations[placed.destination]?.tunnels[String(placed.tunnel)]).toBeDefined();
    // Tunnel selection's choice and its reason are the subscriber's own event (not the system's).
    const selection = view?.actor?.data.selection as { choice: string; destination: string; reason: string };
    expect(selection).toMatchObject({ choice: "open", destination: placed.destination });
    expect(selection.reason).toContain("preference 0");
    expect(log.envelopes.some((e) => e.machine === "system" && e.data.selection !== undefined)).toBe(false);
    expect(treeText(tree, { sessions: true })).toContain(
      `subscriber ${alice.id}  alice@isp.example  → ${placed.destination}/${placed.tunnel}/${placed.session}`,
    );
    // The inspector's view of the same tree: counted, listed and found at its own level.
    expect(levelCounts(tree, "lac").subscriber).toEqual({ ended: 1 });
    const rows = [...actorsOf(tree, new Set(["subscriber"]))].map((row) => row());
    expect(rows.map((r) => [r.machine, r.subscriber, r.state])).toEqual([["subscriber", alice.id, "ended"]]);
    expect(findActor(tree, { node: "lac", subscriber: alice.id, ppp: true })?.machine).toBe("ppp");
    // In the tree: a child of its node beside the destinations, its PPP link its own child.
    const children = childrenOf(tree, { node: "lac" }, 100).rows.map((r) => r.machine);
    expect(children).toEqual(["destination", "subscriber"]);
    expect(childrenOf(tree, { node: "lac", subscriber: alice.id }, 100).rows.map((r) => r.machine)).toEqual([
      "ppp",
    ]);
    const filtered = log.envelopes.filter((e) => matchesFilter(e, { subscriber: alice.id }));
    expect(filtered).toHaveLength(mine.length);
    expect(timelineLine(subscriber[0] as never)).toContain(
      `lac subscriber:${alice.id} subscriber (new) → ppp`,
    );
    expect(JSON.stringify(log.envelopes)).not.toContain("alice-pw");
    await lab.closeAll();
  });

  test("refused: the decision is refuse with what was looked up, and the subscriber ends", async () => {
    const { lab, log, recorder, lac, subscribers } = recordedLac();
    const dave = subscribers.dial({ user: "dave@nowhere.example", password: "x" });
    await lab.until(dave.ended, 60_000);
    await lab.run(100);
    await recorder.flush();
    const tree = log.envelopes.reduce(evolve, initialTree());
    const view = tree.nodes.lac?.subscribers?.[dave.id]?.actor;
    expect(view?.state).toBe("ended");
    expect(view?.data.decision).toBe("refuse");
    expect(String(view?.data.reason)).toContain("domain nowhere.example not in the domain map");
    expect(tree.nodes.lac?.subscribers?.[dave.id]?.ppp?.data.user).toBe("dave@nowhere.example");
    expect([...lac.system.children.values()].filter((c) => c.level === "subscriber")).toEqual([]);
    await lab.closeAll();
  });

  test("the node closing ends a subscriber still deciding (its AAA never answers): its line goes down", async () => {
    const silent: Aaa = {
      authenticate: () => new Promise(() => {}),
      account: async () => ({ ok: true }) as never,
      stats: () => ({}) as never,
      close: async () => {},
    };
    const { lab, log, recorder, lac, subscribers } = recordedLac(silent);
    const bob = subscribers.dial({ user: "bob@isp.example", password: "x" });
    await lab.run(2_000);
    const live = [...lac.system.children.values()].filter((c) => c.level === "subscriber");
    expect(live).toHaveLength(1);
    expect(live[0]?.actor.getSnapshot().value).toBe("deciding");
    await lab.until(lac.close(), 300_000);
    await lab.until(bob.ended, 60_000);
    expect(live[0]?.ending?.kind).toBe("stopped");
    await recorder.flush();
    const ppp = log.envelopes.filter((e) => e.path.subscriber === bob.id && e.machine === "ppp");
    expect(ppp.at(-1)?.to).not.toBe("opened");
    await lab.closeAll();
  });
});
