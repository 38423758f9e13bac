/**
 * Standby takeover with PPP: an LNS terminating PPP records every transition, dies without a word, and
 * a standby restored from its log resumes the calls with their PPP links up: the same address (taken
 * from its pool again), the subscriber's ping answered, Echo keepalive running, and a link that was
 * still negotiating left out (the subscriber retries).
 */
import { describe, expect, test } from "bun:test";
import { restorePlan } from "../../actors/restore.ts";
import { LocalAaa } from "../../adapters/aaa/local.ts";
import { EchoDataPlane } from "../../adapters/dataplane/index.ts";
import { MemoryEventLog } from "../../adapters/event-log/memory.ts";
import { replay } from "../../events/replay.ts";
import { icmpEchoRequest } from "../../protocol/ipv4.ts";
import { LAC, Lab, LNS, lacConfig } from "./lab.ts";
import { recordedLns } from "./recorded.ts";

const PPP = {
  lns: { authProtocols: ["chap" as const], localAddress: "10.0.0.1" },
  pools: [{ name: "p", start: "10.9.0.1", end: "10.9.0.20" }],
  keepaliveMs: 1000,
  keepaliveMisses: 3,
};

describe("restore: a standby LNS resumes calls with their PPP links", () => {
  test("the address, the echo and the keepalive survive the takeover", async () => {
    const lab = new Lab(13);
    const log = new MemoryEventLog();
    const lac = lab.node(LAC.address, lacConfig({ ppp: { subscriber: { user: "u", password: "pw" } } }));
    const deps = () => ({
      aaa: new LocalAaa([{ name: "u", password: "pw" }]),
      dataPlane: new EchoDataPlane(),
    });
    const primary = recordedLns(lab, log, undefined, { config: { ppp: PPP }, deps: deps() });
    const calls = await lab.until(Promise.all([0, 1].map(() => lac.openSession({ destination: LNS }))));
    for (const c of calls) expect(c.ok).toBe(true);
    await lab.run(300);
    const before = primary.node
      .snapshot()
      .destinations[0].tunnels[0].sessions.map((s) => s.ppp?.address)
      .sort();
    expect(before).toEqual(["10.9.0.1", "10.9.0.2"]);
    await primary.recorder.flush();
    await primary.kill();

    const plan = restorePlan(replay(log.envelopes).nodes.lns as never);
    expect(plan.destinations[0]?.tunnels[0]?.sessions.map((s) => s.ppp !== undefined)).toEqual([true, true]);
    const standbyDeps = deps();
    const standby = recordedLns(lab, log, plan, { config: { ppp: PPP }, deps: standbyDeps });
    const sessions = standby.node.snapshot().destinations[0].tunnels[0].sessions;
    expect(sessions.map((s) => s.ppp?.phase)).toEqual(["opened", "opened"]);
    expect(sessions.map((s) => s.ppp?.address).sort()).toEqual(before);
    expect(standby.node.snapshot().ppp?.pools[0]).toMatchObject({ inUse: 2 });

    // The subscriber pings the LNS's address: the standby answers.
    const rt = (
      lac as unknown as {
        rt: { tunnels: Map<number, { sessions: Map<number, { ppp: { sendIp(p: Uint8Array): boolean } }> }> };
      }
    ).rt;
    const link = [...rt.tunnels.values()][0]?.sessions.values().next().value?.ppp;
    expect(link?.sendIp(icmpEchoRequest(before[0] as string, "10.0.0.1", 1, 1))).toBe(true);
    await lab.run(50);
    expect(standbyDeps.dataPlane.echoes).toBe(1);

    // Keepalive runs on the standby: a silent subscriber gets Echo-Requests, which it answers.
    await lab.run(4000);
    expect(standby.node.snapshot().ppp).toMatchObject({ keepaliveFailures: 0, linksUp: 2 });
    expect(standby.node.snapshot().ppp?.echoRequestsSent).toBeGreaterThan(0);
    await standby.kill();
    await lab.closeAll().catch(() => {});
  });
});

describe("restorePlan with PPP links", () => {
  const view = (state: string, data: Record<string, unknown> = {}) => ({
    machine: "x",
    node: "lns",
    path: {},
    state,
    previous: null,
    since: 0,
    updated: 0,
    cause: "",
    data,
    events: 1,
    lastSeq: 1,
  });
  test("a session whose PPP link is half-way is left out, with the reason", () => {
    const channel = {
      ns: 3,
      nr: 4,
      peerTunnelId: 9,
      peerReceiveWindow: 8,
      peerAddress: "127.0.0.2",
      peerPort: 1701,
    };
    const plan = restorePlan({
      node: "lns",
      lastSeq: 10,
      destinations: {
        "127.0.0.2:1701": {
          actor: view("available.used"),
          tunnels: {
            "7": {
              actor: view("established", { role: "responder", channel }),
              sessions: {
                "1": view("established", { kind: "lns-incoming", peerSessionId: 11 }),
                "2": view("established", { kind: "lns-incoming", peerSessionId: 12 }),
              },
              ppp: { "1": view("opened", { address: "10.9.0.1" }), "2": view("authenticate") },
            },
          },
        },
      },
    } as never);
    expect(plan.destinations[0]?.tunnels[0]?.sessions.map((s) => s.id)).toEqual([1]);
    expect(plan.skipped).toEqual(["session 127.0.0.2:1701/7/2: PPP in phase authenticate"]);
  });
});
