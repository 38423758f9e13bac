/**
 * The RADIUS client's scheduling on the in-memory network and the simulated clock: retransmission
 * with doubling waits, failover and dead time, the 256 Identifiers and `maxInFlight` with a queue,
 * Acct-Delay-Time with a new Identifier on each accounting retransmission, and close().
 */
import { describe, expect, test } from "bun:test";
import { RadiusClient, type RadiusClientOptions } from "../../../adapters/aaa/radius.ts";
import { SimulatedClock } from "../../../adapters/clock/index.ts";
import { SeededRandom } from "../../../adapters/random/index.ts";
import { MemoryNetwork } from "../../../adapters/udp/index.ts";
import { attribute, encodeResponse, RadiusCode, type RadiusPacket } from "../../../protocol/radius/index.ts";
import { scriptedRadius, value } from "../../support/scripted-radius.ts";

const SECRET = "s3cret";
const text = (s: string) => new TextEncoder().encode(s);

function setup(overrides: Partial<RadiusClientOptions> = {}, servers = 1) {
  const clock = new SimulatedClock(1_000_000);
  const random = new SeededRandom(7);
  const net = new MemoryNetwork({ clock, random, defaultLink: { delayMs: 1 } });
  const scripted = Array.from({ length: servers }, (_, i) => ({
    auth: scriptedRadius(net, `127.0.0.${10 + i}`, 1812, clock, SECRET),
    acct: scriptedRadius(net, `127.0.0.${10 + i}`, 1813, clock, SECRET),
  }));
  const client = new RadiusClient(
    {
      servers: scripted.map((_, i) => ({
        address: `127.0.0.${10 + i}`,
        authPort: 1812,
        acctPort: 1813,
        secret: SECRET,
      })),
      nasIdentifier: "nas",
      timeoutMs: 1000,
      retries: 2,
      maxInFlight: 256,
      deadTimeMs: 30_000,
      requireMessageAuthenticator: false,
      ...overrides,
    },
    { clock, random, bind: async () => net.bind("127.0.0.2") },
  );
  /** Lets the client's socket open (a promise), then moves simulated time on. */
  const run = async (ms: number) => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
    const end = clock.now() + ms;
    while (clock.now() < end) {
      clock.advance(Math.min(10, end - clock.now()));
      for (let i = 0; i < 3; i++) await Promise.resolve();
    }
  };
  return { clock, client, scripted, run };
}

const pap = { credentials: { method: "pap" as const, user: "u", password: text("p") } };

describe("RadiusClient scheduling", () => {
  test("an unanswered request is resent after 1, 2 s (doubling), then given up after 4 s more: unreachable", async () => {
    const { client, scripted, run } = setup();
    scripted[0].auth.answer = false;
    const result = client.authenticate(pap);
    await run(8000);
    expect(await result).toMatchObject({ ok: false, reason: "unreachable" });
    const t0 = scripted[0].auth.seen[0].at;
    expect(scripted[0].auth.seen.map((s) => s.at - t0)).toEqual([0, 1000, 3000]);
    // A retransmission is the same packet: same Identifier and authenticator.
    expect(new Set(scripted[0].auth.seen.map((s) => s.packet.identifier)).size).toBe(1);
    expect(client.stats()).toMatchObject({ retransmissions: 2, authTimeouts: 1 });
  });

  test("failover: the second server answers; the first is skipped for the dead time, then used again", async () => {
    const { client, scripted, run } = setup({ retries: 0, deadTimeMs: 5000 }, 2);
    scripted[0].auth.answer = false;
    const first = client.authenticate(pap);
    await run(1100);
    expect((await first).ok).toBe(true);
    expect([scripted[0].auth.seen.length, scripted[1].auth.seen.length]).toEqual([1, 1]);
    const second = client.authenticate(pap);
    await run(10);
    expect((await second).ok).toBe(true);
    expect([scripted[0].auth.seen.length, scripted[1].auth.seen.length]).toEqual([1, 2]);
    scripted[0].auth.answer = true;
    await run(5000);
    const third = client.authenticate(pap);
    await run(10);
    expect((await third).ok).toBe(true);
    expect([scripted[0].auth.seen.length, scripted[1].auth.seen.length]).toEqual([2, 2]);
  });

  test("at most maxInFlight requests await a reply per server; the rest queue and go as replies come", async () => {
    const { client, scripted, run } = setup({ maxInFlight: 256, timeoutMs: 10_000 });
    const held: RadiusPacket[] = [];
    scripted[0].auth.answer = (p) => {
      held.push(p);
      return false;
    };
    const results = Array.from({ length: 600 }, () => client.authenticate(pap));
    await run(50);
    expect(held.length).toBe(256);
    expect(new Set(held.map((p) => p.identifier)).size).toBe(256);
    // Now the server answers everything: the queue drains through the freed Identifiers.
    scripted[0].auth.answer = true;
    const transport = scripted[0].auth.transport;
    for (const p of held) {
      transport.send(
        encodeResponse(
          {
            code: RadiusCode.accessAccept,
            identifier: p.identifier,
            attributes: [],
            messageAuthenticator: false,
          },
          p.authenticator,
          text(SECRET),
        ),
        { address: "127.0.0.2", port: 49152 },
      );
    }
    await run(100);
    const outcomes = await Promise.all(results);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(client.stats()).toMatchObject({ accessRequests: 600, accepts: 600, retransmissions: 0 });
  });

  test("a smaller maxInFlight holds that many", async () => {
    const { client, scripted, run } = setup({ maxInFlight: 32, timeoutMs: 10_000 });
    scripted[0].auth.answer = false;
    for (let i = 0; i < 100; i++) void client.authenticate(pap);
    await run(50);
    expect(scripted[0].auth.seen.length).toBe(32);
    await client.close();
  });

  test("accounting: each retransmission has a new Identifier and a larger Acct-Delay-Time; gigawords split", async () => {
    const { client, scripted, run } = setup({ retries: 3 });
    let n = 0;
    scripted[0].acct.answer = () => ++n === 3;
    const done = client.account({
      status: "stop",
      sessionId: "s1",
      user: "u",
      counters: { octetsIn: 2 ** 33 + 5, octetsOut: 7, packetsIn: 1, packetsOut: 2 },
      terminateCause: 1,
    });
    await run(4000);
    expect(await done).toEqual({ ok: true });
    const sent = scripted[0].acct.seen.map((s) => s.packet);
    expect(sent.map((p) => value(p.attributes, "Acct-Delay-Time"))).toEqual([0, 1, 3]);
    expect(new Set(sent.map((p) => p.identifier)).size).toBe(3);
    expect(value(sent[0].attributes, "Acct-Input-Octets")).toBe(5);
    expect(value(sent[0].attributes, "Acct-Input-Gigawords")).toBe(2);
    expect(value(sent[0].attributes, "Acct-Status-Type")).toBe(2);
    expect(client.stats()).toMatchObject({
      accountingRequests: 1,
      accountingResponses: 1,
      retransmissions: 2,
    });
  });

  test("close() resolves every pending request as unanswered; later calls too", async () => {
    const { client, scripted, run } = setup();
    scripted[0].auth.answer = false;
    scripted[0].acct.answer = false;
    const pending = client.authenticate(pap);
    const acct = client.account({ status: "start", sessionId: "x", user: "u" });
    await run(10);
    await client.close();
    expect(await pending).toMatchObject({ ok: false, reason: "unreachable" });
    expect(await acct).toMatchObject({ ok: false });
    expect(await client.authenticate(pap)).toMatchObject({ ok: false, reason: "error" });
  });

  test("a value that cannot be encoded is an error result, not a throw", async () => {
    const { client } = setup();
    const long = await client.authenticate({
      credentials: { method: "pap", user: "u", password: new Uint8Array(200) },
    });
    expect(long).toMatchObject({ ok: false, reason: "error" });
    expect(long.ok ? "" : long.message).toContain("User-Password");
    const badIp = await client.account({
      status: "start",
      sessionId: "x",
      user: "u",
      framedIpAddress: "10.0.0",
    });
    expect(badIp.ok ? "" : badIp.message).toContain("Framed-IP-Address");
    await client.close();
  });
});

test("attribute() is what the client puts on the wire for the NAS", () => {
  expect(attribute("NAS-Port-Type", 5).value).toEqual(Uint8Array.of(0, 0, 0, 5));
});
