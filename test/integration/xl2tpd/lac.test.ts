/**
 * Our LAC against an independent LNS (issue 9): xl2tpd 1.3 as LNS, with a PPP server of ours as its
 * stand-in pppd (ppp-server-standin.ts) on the pty, and a simulated subscriber on our LAC. xl2tpd passes
 * no proxy LCP to pppd, so LCP is negotiated a second time, with the LNS's PPP, through our relay; then
 * CHAP (the LNS's own challenge), IPCP, and an ICMP echo answered: frames flow both ways.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { L2tpNode } from "../../../actors/node.ts";
import type { Transport } from "../../../actors/ports.ts";
import { icmpEchoRequest, isIcmpEchoReply } from "../../../protocol/ipv4.ts";
import { until } from "../../support/until.ts";
import { startOurLac } from "../our-lac.ts";
import { startXl2tpd, type Xl2tpd } from "./harness.ts";

const SERVER_STANDIN = new URL("./ppp-server-standin.ts", import.meta.url).pathname;
const SECRET = "s3cret";
const dir = mkdtempSync(join(tmpdir(), "lac-xl2tpd-"));
const started: { xl2tpd?: Xl2tpd; node?: L2tpNode; socket?: Transport } = {};

afterAll(async () => {
  await started.node?.close().catch(() => {});
  await started.socket?.close();
  await started.xl2tpd?.stop("SIGINT");
  rmSync(dir, { recursive: true, force: true });
});

test("a subscriber through our LAC to xl2tpd's LNS: LCP again through the relay, CHAP, IPCP, an echo answered", async () => {
  const report = join(dir, "server.jsonl");
  const xl2tpd = await startXl2tpd({
    label: "xl2tpd-lns",
    address: "127.0.0.61",
    secrets: [{ ours: "lns.test", theirs: "lac.test", secret: SECRET }],
    lns: { hostname: "lns.test", challenge: true },
    pppd: "stand-in",
    standInMain: SERVER_STANDIN,
    env: {
      PPP_SERVER_REPORT: report,
      PPP_SERVER_USER: "alice@isp.example",
      PPP_SERVER_PASSWORD: "alice-pw",
      PPP_SERVER_LOCAL: "10.8.0.1",
      PPP_SERVER_PEER: "10.8.0.2",
    },
  });
  started.xl2tpd = xl2tpd;
  const { node, socket, access, subscribers } = await startOurLac("127.0.0.62", xl2tpd.endpoint, SECRET, [
    "chap",
  ]);
  started.socket = socket;
  started.node = node;
  const alice = subscribers.dial({
    user: "alice@isp.example",
    password: "alice-pw",
    authProtocols: ["chap"],
  });
  let address: string | undefined;
  void alice.up.then((a) => {
    address = a;
  });
  await until("alice's address", () => address, 15_000);
  expect(address).toBe("10.8.0.2");
  expect(alice.sendIp(icmpEchoRequest(address as string, "10.8.0.1", 9, 1, new Uint8Array(16)))).toBe(true);
  await until(
    "the echo reply",
    () => (alice.received.some((p) => isIcmpEchoReply(p, 9, 1)) ? true : undefined),
    5000,
  );
  const lines = readFileSync(report, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { event: string; ok?: boolean; user?: string });
  const events = lines.map((l) => l.event);
  expect(events).toContain("lcp-up");
  expect(lines.find((l) => l.event === "auth")).toMatchObject({ ok: true, user: "alice@isp.example" });
  expect(events).toContain("ipcp-up");
  expect(events).toContain("echo-reply-sent");
  expect(access.stats.framesToLns).toBeGreaterThan(3);
  expect(access.stats.framesToSubscriber).toBeGreaterThan(3);
}, 30_000);
