/**
 * A PPP link in the event log: its phases are transitions of a "ppp" actor under its session, replay
 * puts it beside its session, `--cause ppp` finds the calls PPP ended, and a PAP password (the
 * subscriber's own, or proxied by a LAC in the ICCN) never reaches the log, hidden or not.
 */
import { describe, expect, test } from "bun:test";
import { LocalAaa } from "../../adapters/aaa/local.ts";
import { MemoryEventLog } from "../../adapters/event-log/memory.ts";
import { createRecorder } from "../../events/recorder.ts";
import { evolve, initialTree, matchesFilter } from "../../events/replay.ts";
import { toHex } from "../../events/schema.ts";
import { LAC, Lab, LNS, lacConfig, lnsConfig } from "../actors/lab.ts";

const PASSWORD = "pap-Secret-4711";

function recordedLab(password: string) {
  const lab = new Lab(5);
  const log = new MemoryEventLog();
  const lacRecorder = createRecorder({ node: "lac", clock: lab.clock, log });
  const lnsRecorder = createRecorder({ node: "lns", clock: lab.clock, log });
  const lac = lab.node(
    LAC.address,
    lacConfig({ ppp: { subscriber: { user: "carol", password, authProtocols: ["pap"] } } }),
    {
      deps: { inspect: lacRecorder.inspect },
    },
  );
  const lns = lab.node(
    LNS.address,
    lnsConfig({
      ppp: { lns: { authProtocols: ["pap"] }, pools: [{ name: "p", start: "10.8.0.1", end: "10.8.0.9" }] },
    }),
    { deps: { inspect: lnsRecorder.inspect, aaa: new LocalAaa([{ name: "carol", password: PASSWORD }]) } },
  );
  const flush = async () => {
    await lacRecorder.flush();
    await lnsRecorder.flush();
  };
  return { lab, log, lac, lns, flush };
}

describe("PPP in the event log", () => {
  test("the link's phases are transitions of a ppp actor beside its session; the password is nowhere", async () => {
    const { lab, log, lac, flush } = recordedLab(PASSWORD);
    expect((await lab.until(lac.openSession({ destination: LNS }))).ok).toBe(true);
    await lab.run(300);
    await flush();
    const ppp = log.envelopes.filter((e) => e.node === "lns" && e.machine === "ppp");
    const phases = ppp.map((e) => e.to).filter((to, i, all) => to !== all[i - 1]);
    expect(phases).toEqual(["establish", "authenticate", "network", "opened"]);
    const session = log.envelopes.find((e) => e.node === "lns" && e.machine === "session");
    expect(ppp[0]?.path).toEqual(session?.path as object);
    const tree = log.envelopes.reduce(evolve, initialTree());
    const lnsTunnel = Object.values(Object.values(tree.nodes.lns?.destinations ?? {})[0]?.tunnels ?? {})[0];
    expect(Object.values(lnsTunnel?.ppp ?? {})[0]?.state).toBe("opened");
    expect(Object.values(lnsTunnel?.ppp ?? {})[0]?.data.user).toBe("carol");
    const text = JSON.stringify(log.envelopes);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(toHex(new TextEncoder().encode(PASSWORD)));
    await lab.closeAll();
  });

  test("a proxied PAP password (ICCN Proxy Authen Response) is nowhere in the log either", async () => {
    const { lab, log, lac, flush } = recordedLab("unused");
    // Last Sent: Auth-Protocol PAP, Magic 0x11223344; Last Received: MRU 1440, Magic 0x55667788.
    const connectAvps = {
      lastSentLcpConfReq: Uint8Array.of(3, 4, 0xc0, 0x23, 5, 6, 0x11, 0x22, 0x33, 0x44),
      lastReceivedLcpConfReq: Uint8Array.of(1, 4, 0x05, 0xa0, 5, 6, 0x55, 0x66, 0x77, 0x88),
      proxyAuthenType: 3,
      proxyAuthenName: "carol",
      proxyAuthenResponse: new TextEncoder().encode(PASSWORD),
    };
    expect((await lab.until(lac.openSession({ destination: LNS, connectAvps }))).ok).toBe(true);
    await lab.run(300);
    await flush();
    expect(log.envelopes.some((e) => e.machine === "ppp" && e.node === "lns" && e.to === "network")).toBe(
      true,
    );
    const text = JSON.stringify(log.envelopes);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(toHex(new TextEncoder().encode(PASSWORD)));
    await lab.closeAll();
  });

  test("replay's cause filter finds the calls PPP ended (a wrong password)", async () => {
    const { lab, log, lac, flush } = recordedLab("wrong");
    expect((await lab.until(lac.openSession({ destination: LNS }))).ok).toBe(true);
    await lab.run(8000);
    await flush();
    const found = log.envelopes.filter((e) => e.node === "lns" && matchesFilter(e, { cause: "ppp" }));
    expect(found.length).toBeGreaterThan(0);
    expect(found.some((e) => e.machine === "session" && e.to === "closed")).toBe(true);
    await lab.closeAll();
  });
});
