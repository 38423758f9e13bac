/**
 * Our RADIUS client against a real FreeRADIUS 3.2 (startFreeRadius): PAP and CHAP accepted and
 * rejected, reply attributes, RFC 2868 tunnel groups with Tunnel-Password decrypted, accounting landing
 * in the detail file (Gigawords past 4 GiB), an outage during which accounting is retried until the
 * server is back, and failover to a second server with return to the first after the dead time.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AuthRequest } from "../../../actors/aaa.ts";
import { RadiusClient, type RadiusClientOptions } from "../../../adapters/aaa/radius.ts";
import { realClock } from "../../../adapters/clock/index.ts";
import { cryptoRandom } from "../../../adapters/random/index.ts";
import { bindUdp } from "../../../adapters/udp/index.ts";
import { chapMd5Response } from "../../../protocol/ppp/chap.ts";
import { type FreeRadius, startFreeRadius } from "./freeradius.ts";
import { LONG_PASSWORD, TEST_USERS as USERS } from "./users.ts";

const text = (s: string) => new TextEncoder().encode(s);
function options(radius: FreeRadius[], overrides: Partial<RadiusClientOptions> = {}): RadiusClientOptions {
  return {
    servers: radius.map((r) => ({
      address: "127.0.0.1",
      authPort: r.authPort,
      acctPort: r.acctPort,
      secret: r.secret,
    })),
    nasIdentifier: "lns-test",
    timeoutMs: 300,
    retries: 2,
    maxInFlight: 32,
    deadTimeMs: 2000,
    requireMessageAuthenticator: false,
    ...overrides,
  };
}

const deps = {
  clock: realClock,
  random: cryptoRandom,
  bind: (local: { address: string; port: number }) => bindUdp(local),
};

const pap = (user: string, password: string): AuthRequest => ({
  credentials: { method: "pap", user, password: text(password) },
  callingNumber: "0123456789",
  tunnelClientEndpoint: "127.0.0.2",
  nasPort: 7,
});

function chap(user: string, password: string): AuthRequest {
  const challenge = cryptoRandom.bytes(16);
  return {
    credentials: {
      method: "chap",
      user,
      id: 42,
      challenge,
      response: chapMd5Response(42, password, challenge),
    },
  };
}

describe("RADIUS client against FreeRADIUS", () => {
  let radius: FreeRadius;
  let client: RadiusClient;
  beforeAll(async () => {
    radius = await startFreeRadius({ users: USERS });
    // Tries at 0, 0.3, 0.9 and 2.1 s: an outage of a second and a half is bridged.
    client = new RadiusClient(options([radius], { retries: 3 }), deps);
  });
  afterAll(async () => {
    await client?.close();
    await radius?.dispose();
  });

  test("PAP: accepted with every reply attribute; a wrong password rejected; a long password hidden right", async () => {
    const accepted = await client.authenticate(pap("alice", "wonderland"));
    expect(accepted).toEqual({
      ok: true,
      authorization: {
        framedIpAddress: "10.20.30.40",
        framedPool: "gold",
        sessionTimeout: 3600,
        idleTimeout: 600,
        acctInterimInterval: 300,
        class: [Uint8Array.of(1, 0xff, 2)],
        replyMessage: "welcome",
      },
    });
    const rejected = await client.authenticate(pap("alice", "wonderlanD"));
    expect(rejected.ok ? "accepted" : rejected.reason).toBe("rejected");
    expect((await client.authenticate(pap("long", LONG_PASSWORD))).ok).toBe(true);
    expect((await client.authenticate(pap("long", `${LONG_PASSWORD}x`))).ok).toBe(false);
    // What FreeRADIUS saw: Message-Authenticator first, and the NAS attributes.
    const seen = await radius.waitForOutput(
      /User-Name = "long"[\s\S]*User-Name = "long"[\s\S]*Finished request/,
    );
    expect(seen).toContain('NAS-Identifier = "lns-test"');
    expect(seen).toContain("NAS-Port-Type = Virtual");
    expect(seen).toContain('Calling-Station-Id = "0123456789"');
    expect(seen).toContain('Tunnel-Client-Endpoint:0 = "127.0.0.2"');
    expect(seen).toMatch(/length \d+\n\(\d+\)\s+Message-Authenticator = 0x/);
  });

  test("CHAP: accepted and rejected", async () => {
    expect((await client.authenticate(chap("alice", "wonderland"))).ok).toBe(true);
    const rejected = await client.authenticate(chap("alice", "wrong"));
    expect(rejected.ok ? "accepted" : rejected.reason).toBe("rejected");
  });

  test("two tagged tunnel groups, Tunnel-Password decrypted to the configured values", async () => {
    const result = await client.authenticate(pap("lac@example.net", "x"));
    if (!result.ok) throw new Error(result.message);
    expect(result.authorization.tunnels).toEqual([
      {
        tag: 1,
        type: 3,
        mediumType: 1,
        serverEndpoint: "192.0.2.1",
        password: text("first-secret"),
        preference: 1,
        assignmentId: "lns-a",
        clientAuthId: "lac-a",
        serverAuthId: "lns-a",
      },
      {
        tag: 2,
        type: 3,
        mediumType: 1,
        serverEndpoint: "192.0.2.2",
        password: text("a-second-tunnel-secret-longer-than-16"),
        preference: 2,
      },
    ]);
  });

  test("accounting Start and Stop land in the detail file with counters, Class and Gigawords", async () => {
    const base = {
      sessionId: "acct-1",
      user: "alice",
      framedIpAddress: "10.20.30.40",
      class: [Uint8Array.of(1, 0xff, 2)],
    };
    expect(await client.account({ ...base, status: "start" })).toEqual({ ok: true });
    const counters = { octetsIn: 5 * 2 ** 32 + 1234, octetsOut: 4321, packetsIn: 77, packetsOut: 88 };
    expect(
      await client.account({ ...base, status: "stop", sessionTime: 61, counters, terminateCause: 1 }),
    ).toEqual({ ok: true });
    const records = radius.detailRecords().filter((r) => r["Acct-Session-Id"]?.[0] === "acct-1");
    expect(records.map((r) => r["Acct-Status-Type"][0])).toEqual(["Start", "Stop"]);
    const stop = records[1];
    expect(stop["Acct-Input-Octets"]).toEqual(["1234"]);
    expect(stop["Acct-Input-Gigawords"]).toEqual(["5"]);
    expect(stop["Acct-Output-Octets"]).toEqual(["4321"]);
    expect(stop["Acct-Output-Gigawords"]).toEqual(["0"]);
    expect(stop["Acct-Input-Packets"]).toEqual(["77"]);
    expect(stop["Acct-Session-Time"]).toEqual(["61"]);
    expect(stop["Acct-Terminate-Cause"]).toEqual(["User-Request"]);
    expect(stop.Class).toEqual(["0x01ff02"]);
    expect(stop["Acct-Delay-Time"]).toEqual(["0"]);
    expect(client.stats().badReplies).toEqual({});
  });

  test("FreeRADIUS stopped: accounting is retransmitted (Acct-Delay-Time grows) and lands once it is back", async () => {
    const retriesBefore = client.stats().retransmissions;
    await radius.stop();
    const pending = client.account({
      status: "interim",
      sessionId: "outage-1",
      user: "alice",
      sessionTime: 5,
    });
    await new Promise((r) => setTimeout(r, 1200));
    await radius.restart();
    expect(await pending).toEqual({ ok: true });
    expect(client.stats().retransmissions).toBeGreaterThan(retriesBefore);
    const record = radius.detailRecords().find((r) => r["Acct-Session-Id"]?.[0] === "outage-1");
    // Sent again at 2.1 s: RFC 2866 §5.2 says how long the record waited.
    expect(Number(record?.["Acct-Delay-Time"]?.[0])).toBeGreaterThanOrEqual(2);
    expect(record?.["Acct-Status-Type"]).toEqual(["Interim-Update"]);
  });
});

describe("RADIUS failover", () => {
  let first: FreeRadius;
  let second: FreeRadius;
  beforeAll(async () => {
    [first, second] = await Promise.all([
      startFreeRadius({ users: USERS }),
      startFreeRadius({ users: USERS }),
    ]);
  });
  afterAll(async () => {
    await first?.dispose();
    await second?.dispose();
  });

  test("the first server down: authentication fails over to the second, and returns to the first after the dead time", async () => {
    const client = new RadiusClient(
      options([first, second], { timeoutMs: 150, retries: 1, deadTimeMs: 1500 }),
      deps,
    );
    try {
      // What each server logged; its output reaches us a moment after its reply does.
      const counts = async (expected: [number, number]) => {
        const count = (r: FreeRadius) => (r.output().match(/Received Access-Request/g) ?? []).length;
        for (let i = 0; i < 50 && (count(first) !== expected[0] || count(second) !== expected[1]); i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        expect([count(first), count(second)]).toEqual(expected);
      };
      expect((await client.authenticate(pap("alice", "wonderland"))).ok).toBe(true);
      await counts([1, 0]);
      await first.stop();
      const t0 = Date.now();
      expect((await client.authenticate(pap("alice", "wonderland"))).ok).toBe(true);
      // 150 ms and 300 ms on the first, then the second answered.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
      await counts([1, 1]);
      // Dead: the next request goes straight to the second.
      const t1 = Date.now();
      expect((await client.authenticate(pap("alice", "wonderland"))).ok).toBe(true);
      expect(Date.now() - t1).toBeLessThan(150);
      await counts([1, 2]);
      await first.restart();
      await new Promise((r) => setTimeout(r, 1600));
      expect((await client.authenticate(pap("alice", "wonderland"))).ok).toBe(true);
      await counts([1, 2]); // the restarted first server's own output: one request
      expect(client.stats().authTimeouts).toBe(0);
    } finally {
      await client.close();
    }
  });

  test("both servers down: unreachable after every try, never a throw", async () => {
    await first.stop();
    await second.stop();
    const client = new RadiusClient(options([first, second], { timeoutMs: 50, retries: 1 }), deps);
    try {
      const result = await client.authenticate(pap("alice", "wonderland"));
      expect(result.ok ? "accepted" : result.reason).toBe("unreachable");
      expect(await client.account({ status: "start", sessionId: "x", user: "alice" })).toMatchObject({
        ok: false,
      });
      expect(client.stats()).toMatchObject({ authTimeouts: 1, accountingTimeouts: 1 });
    } finally {
      await client.close();
      await first.restart();
      await second.restart();
    }
  });
});
