/** The local AAA adapter: PAP and CHAP-MD5 against the configured users, accounting kept in memory. */
import { describe, expect, test } from "bun:test";
import { openAaa } from "../../../adapters/aaa/index.ts";
import { LocalAaa } from "../../../adapters/aaa/local.ts";
import { realClock } from "../../../adapters/clock/index.ts";
import { SeededRandom } from "../../../adapters/random/index.ts";
import { chapMd5Response } from "../../../protocol/ppp/chap.ts";

const text = (s: string) => new TextEncoder().encode(s);
const users = [
  { name: "alice", password: "wonderland", framedIpAddress: "10.0.0.5", sessionTimeout: 60 },
  { name: "bob", password: "builder", framedPool: "gold" },
];

describe("LocalAaa", () => {
  const aaa = new LocalAaa(users, 3);

  test("PAP: the right password accepted with the user's authorization; a wrong one and an unknown user rejected", async () => {
    expect(
      await aaa.authenticate({ credentials: { method: "pap", user: "alice", password: text("wonderland") } }),
    ).toEqual({
      ok: true,
      authorization: { framedIpAddress: "10.0.0.5", sessionTimeout: 60 },
    });
    for (const [user, password] of [
      ["alice", "wonderlanD"],
      ["alice", "wonderland "],
      ["carol", "wonderland"],
      ["bob", ""],
    ]) {
      const result = await aaa.authenticate({
        credentials: { method: "pap", user, password: text(password) },
      });
      expect(result.ok ? "accepted" : result.reason).toBe("rejected");
    }
  });

  test("CHAP-MD5 (RFC 1994 §2): the response to our challenge accepted; a response with another id or secret rejected", async () => {
    const challenge = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
    const chap = (id: number, secret: string, answeredId = id) => ({
      credentials: {
        method: "chap" as const,
        user: "bob",
        id,
        challenge,
        response: chapMd5Response(answeredId, secret, challenge),
      },
    });
    expect(await aaa.authenticate(chap(9, "builder"))).toEqual({
      ok: true,
      authorization: { framedPool: "gold" },
    });
    expect((await aaa.authenticate(chap(9, "builder", 10))).ok).toBe(false);
    expect((await aaa.authenticate(chap(9, "Builder"))).ok).toBe(false);
    expect((await aaa.authenticate({ credentials: { method: "none", user: "bob" } })).ok).toBe(false);
  });

  test("accounting: every record answered and counted; the last N kept, oldest first", async () => {
    for (let i = 0; i < 5; i++)
      expect(await aaa.account({ status: "start", sessionId: `s${i}`, user: "alice" })).toEqual({ ok: true });
    expect(aaa.records().map((r) => r.sessionId)).toEqual(["s2", "s3", "s4"]);
    expect(aaa.stats()).toMatchObject({
      accountingRequests: 5,
      accountingResponses: 5,
      accepts: 2,
      rejects: 7,
    });
  });

  test("openAaa makes the adapter the config names", async () => {
    const local = openAaa({ kind: "local", users }, { clock: realClock, random: new SeededRandom(1) });
    expect(local).toBeInstanceOf(LocalAaa);
    await local.close();
  });
});
