/**
 * The LNS's PPP against a real FreeRADIUS: our LAC with a simulated subscriber per call → our LNS
 * (PPP server, the RADIUS adapter) → FreeRADIUS, all on loopback UDP. PAP and CHAP accepted and
 * rejected by FreeRADIUS, Framed-IP-Address assigned by IPCP, accounting Start and Stop in FreeRADIUS's
 * detail file with the session's counters, and FreeRADIUS stopped mid-run: no session lost, the Stop
 * retried until it lands.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createNode, type L2tpNode } from "../../../actors/node.ts";
import type { Transport } from "../../../actors/ports.ts";
import type { PppNodeConfig } from "../../../actors/ppp-link.ts";
import { RadiusClient } from "../../../adapters/aaa/radius.ts";
import { realClock } from "../../../adapters/clock/index.ts";
import { EchoDataPlane } from "../../../adapters/dataplane/index.ts";
import { cryptoRandom } from "../../../adapters/random/index.ts";
import { bindUdp } from "../../../adapters/udp/index.ts";
import { type FreeRadius, startFreeRadius } from "./freeradius.ts";

const SECRET = "radius-lab";

let radius: FreeRadius;
const open: { nodes: L2tpNode[]; transports: Transport[]; clients: RadiusClient[] } = {
  nodes: [],
  transports: [],
  clients: [],
};

beforeAll(async () => {
  radius = await startFreeRadius({
    users: [
      {
        name: "alice",
        password: "alice-pw",
        reply: [
          ["Framed-IP-Address", "10.5.0.7"],
          ["Class", "0x01ff"],
        ],
      },
      { name: "bob", password: "bob-pw" },
    ],
  });
});

afterAll(async () => {
  for (const n of open.nodes) await n.close().catch(() => {});
  for (const c of open.clients) await c.close();
  for (const t of open.transports) await t.close();
  await radius?.dispose();
});

async function until(check: () => boolean, ms = 8000, show?: () => unknown): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end)
      throw new Error(`condition not met in time${show ? `: ${JSON.stringify(show())}` : ""}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An LNS on 127.0.0.1 with RADIUS, and a LAC on 127.0.0.2 whose calls carry `user`. */
async function pair(
  user: string,
  password: string,
  auth: ("pap" | "chap")[],
  lnsAuth: ("pap" | "chap")[] = ["chap", "pap"],
  retries = 3,
) {
  const aaa = new RadiusClient(
    {
      servers: [
        { address: "127.0.0.1", authPort: radius.authPort, acctPort: radius.acctPort, secret: radius.secret },
      ],
      nasIdentifier: "lns-radius-test",
      timeoutMs: 300,
      retries,
      maxInFlight: 64,
      deadTimeMs: 1000,
      requireMessageAuthenticator: false,
    },
    { clock: realClock, random: cryptoRandom, bind: (local) => bindUdp(local) },
  );
  open.clients.push(aaa);
  const lnsSocket = await bindUdp({ address: "127.0.0.1", port: 0 });
  const lacSocket = await bindUdp({ address: "127.0.0.2", port: 0 });
  open.transports.push(lnsSocket, lacSocket);
  const lnsPpp: PppNodeConfig = {
    lns: { authProtocols: lnsAuth, localAddress: "10.0.0.1" },
    pools: [{ name: "main", start: "10.6.0.1", end: "10.6.0.50" }],
    accounting: { enabled: true },
  };
  const lns = createNode(
    {
      name: "lns",
      hostName: "lns.test",
      destinations: [{ address: "127.0.0.2", secret: SECRET }],
      ppp: lnsPpp,
    },
    { transport: lnsSocket, clock: realClock, random: cryptoRandom, aaa, dataPlane: new EchoDataPlane() },
  );
  const lac = createNode(
    {
      name: "lac",
      hostName: "lac.test",
      destinations: [{ address: "127.0.0.1", port: lnsSocket.local.port, secret: SECRET, accept: false }],
      ppp: { subscriber: { user, password, authProtocols: auth } },
    },
    { transport: lacSocket, clock: realClock, random: cryptoRandom },
  );
  open.nodes.push(lns, lac);
  return { lns, lac, aaa, peer: lnsSocket.local };
}

function lnsSessions(lns: L2tpNode) {
  return lns.snapshot().destinations.flatMap((d) => d.tunnels.flatMap((t) => t.sessions));
}

describe("LNS PPP with FreeRADIUS", () => {
  test("PAP accepted: Framed-IP-Address by IPCP; accounting Start and Stop in the detail file with counters and Class", async () => {
    const { lns, lac, peer } = await pair("alice", "alice-pw", ["pap"], ["pap"]);
    const call = await lac.openSession({ destination: peer, requestAvps: { callingNumber: "5550001" } });
    expect(call.ok).toBe(true);
    await until(
      () => lnsSessions(lns)[0]?.ppp?.phase === "opened",
      8000,
      () => [lnsSessions(lns), lns.snapshot().ppp, radius.output().slice(-1500)],
    );
    expect(lnsSessions(lns)[0].ppp).toMatchObject({ user: "alice", address: "10.5.0.7" });
    await until(
      () =>
        radius
          .detailRecords()
          .some((r) => r["User-Name"]?.includes("alice") && r["Acct-Status-Type"]?.includes("Start")),
      8000,
      () => [radius.detailRecords(), lns.snapshot().ppp],
    );
    if (!call.ok) return;
    lac.closeSession(call.tunnelId, call.sessionId);
    await until(() =>
      radius
        .detailRecords()
        .some((r) => r["User-Name"]?.includes("alice") && r["Acct-Status-Type"]?.includes("Stop")),
    );
    const stop =
      radius
        .detailRecords()
        .find((r) => r["User-Name"]?.includes("alice") && r["Acct-Status-Type"]?.includes("Stop")) ?? {};
    expect(stop["Framed-IP-Address"]).toEqual(["10.5.0.7"]);
    expect(stop.Class).toEqual(["0x01ff"]);
    expect(Number(stop["Acct-Input-Packets"]?.[0])).toBeGreaterThan(0);
    expect(Number(stop["Acct-Output-Octets"]?.[0])).toBeGreaterThan(0);
    expect(stop["Calling-Station-Id"]).toEqual(["5550001"]);
    expect(stop["Acct-Terminate-Cause"]?.[0]).toBeDefined();
  }, 30_000);

  test("CHAP accepted: an address from the pool", async () => {
    const { lns, lac, peer } = await pair("bob", "bob-pw", ["chap"]);
    expect((await lac.openSession({ destination: peer })).ok).toBe(true);
    await until(() => lnsSessions(lns)[0]?.ppp?.phase === "opened");
    expect(lnsSessions(lns)[0].ppp).toMatchObject({ user: "bob", address: "10.6.0.1" });
  }, 30_000);

  test("CHAP and PAP rejected by FreeRADIUS: the call ends, the rejection is counted", async () => {
    for (const auth of ["chap", "pap"] as const) {
      const { lns, lac, peer } = await pair("bob", "not-bobs", [auth], [auth]);
      const call = await lac.openSession({ destination: peer });
      expect(call.ok).toBe(true);
      if (!call.ok) return;
      // The subscriber hears the CHAP Failure / PAP Nak and hangs up, or the LNS's CDN comes first.
      const why = await call.ended;
      expect(["peer", "ppp"]).toContain(why.reason);
      expect(lns.snapshot().ppp).toMatchObject({ authRejected: 1, up: 0 });
    }
  }, 30_000);

  test("FreeRADIUS stopped mid-run: sessions stay up, accounting is retried and lands when it is back", async () => {
    // Retransmissions at 0.3, 0.9, 2.1, 4.5 and 9.3 s bridge a restart of FreeRADIUS.
    const { lns, lac, aaa, peer } = await pair("bob", "bob-pw", ["chap"], ["chap", "pap"], 5);
    const calls = await Promise.all([1, 2, 3].map(() => lac.openSession({ destination: peer })));
    for (const c of calls) expect(c.ok).toBe(true);
    await until(() => lnsSessions(lns).filter((s) => s.ppp?.phase === "opened").length === 3);
    const stopsBefore = radius.detailRecords().filter((r) => r["Acct-Status-Type"]?.includes("Stop")).length;
    await radius.stop();
    for (const c of calls) if (c.ok) lac.closeSession(c.tunnelId, c.sessionId);
    await until(() => lnsSessions(lns).length === 0);
    await new Promise((r) => setTimeout(r, 600));
    expect(aaa.stats().retransmissions).toBeGreaterThan(0);
    await radius.restart();
    const stops = () => radius.detailRecords().filter((r) => r["Acct-Status-Type"]?.includes("Stop")).length;
    await until(() => stops() - stopsBefore === 3, 15_000);
    expect(lns.snapshot().ppp?.accountingUnanswered).toBe(0);
  }, 30_000);
});
