/**
 * The admin surface of `l2tp run` (issue 11 items 3 and 4), over HTTP against two real node processes
 * (an LNS and a LAC on loopback UDP, file event logs):
 * - /metrics in the Prometheus text format, checked by Prometheus's own `promtool check metrics`, with
 *   every family the issue lists and no id, user or address as a label;
 * - the token rules: reads open on loopback, every mutating request needs the token (the one the node
 *   made and wrote to its token file, or the configured one), a non-loopback bind without a token is
 *   refused at start;
 * - no secret (tunnel secret, admin tokens) in any answer, log line or event log record.
 */
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { newAaaStats } from "../../actors/aaa.ts";
import {
  ADMIN_TOKEN_ENV,
  adminAccess,
  adminTokenFile,
  clientAdminToken,
} from "../../adapters/admin/access.ts";
import { createNodeMetrics } from "../../adapters/admin/metrics.ts";
import { startAdminServer } from "../../adapters/admin/server.ts";
import { realClock } from "../../adapters/clock/index.ts";
import { freePort } from "../support/ports.ts";
import { killStartedNodes, l2tp, startNode } from "./l2tp-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "l2tp-admin-surface-"));
afterAll(() => {
  killStartedNodes();
  rmSync(dir, { recursive: true, force: true });
});

const TUNNEL_SECRET = "tunnel-secret-Zq81vW";
const LAC_TOKEN = "lac-admin-token-Xk4e5r7t9Pq2";

/** Every family issue 11 asks for, with its type. */
const FAMILIES: Record<string, string> = {
  l2tp_destinations: "gauge",
  l2tp_tunnels: "gauge",
  l2tp_sessions: "gauge",
  l2tp_tunnel_setups_total: "counter",
  l2tp_session_setups_total: "counter",
  l2tp_session_setup_duration_seconds: "histogram",
  l2tp_tunnel_closes_total: "counter",
  l2tp_session_closes_total: "counter",
  l2tp_control_messages_total: "counter",
  l2tp_control_retransmissions_total: "counter",
  l2tp_malformed_packets_total: "counter",
  l2tp_half_open_tunnels: "gauge",
  l2tp_sccrqs_waiting: "gauge",
  l2tp_half_open_refused_total: "counter",
  l2tp_event_log_lag_seconds: "gauge",
  l2tp_event_log_backlog: "gauge",
  l2tp_build_info: "gauge",
};
const ALLOWED_LABELS = new Set([
  "state",
  "role",
  "result",
  "cause",
  "direction",
  "type",
  "reason",
  "le",
  "version",
  "runtime",
  // PPP and AAA families: an event kind, a configured pool's name, a request kind.
  "event",
  "pool",
  "kind",
]);

/** The samples of an exposition: name, labels, value. */
function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const m = /^([a-z0-9_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`not a sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, k, v] of (m[2] ?? "").matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g))
        labels[k as string] = v as string;
      return { name: m[1] as string, labels, value: Number(m[3]) };
    });
}

function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  return samples(text).find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

test("metrics, token rules and secrets of two running nodes, over HTTP", async () => {
  const udp = 20000 + Math.floor(Math.random() * 20000);
  const [lnsPort, lacPort] = [await freePort(), await freePort()];
  const lnsEvents = join(dir, "lns-events");
  const lacEvents = join(dir, "lac-events");
  const lns = await startNode(
    dir,
    "lns",
    `node: { name: lns1, hostName: lns.test }
listen: [{ address: 127.0.0.1, port: ${udp} }]
admin: { address: 127.0.0.1, port: ${lnsPort} }
events: "file:${lnsEvents}"
destinations: [{ address: 127.0.0.2, secret: ${TUNNEL_SECRET}, peerHostName: lac.test }]
`,
  );
  const lac = await startNode(
    dir,
    "lac",
    `node: { name: lac1, hostName: lac.test }
listen: [{ address: 127.0.0.2, port: 0 }]
admin: { address: 127.0.0.1, port: ${lacPort}, token: ${LAC_TOKEN} }
events: "file:${lacEvents}"
destinations: [{ address: 127.0.0.1, port: ${udp}, secret: ${TUNNEL_SECRET}, hide: [assignedSessionId] }]
`,
  );
  const lnsUrl = `http://127.0.0.1:${lnsPort}`;
  const lacUrl = `http://127.0.0.1:${lacPort}`;
  const answers: string[] = [];
  const get = async (url: string, init: RequestInit = {}) => {
    const r = await fetch(url, init);
    const text = await r.text();
    answers.push(text);
    return { status: r.status, text, type: r.headers.get("content-type") };
  };

  // --- the token rules ---------------------------------------------------------------------------
  // The LNS has no configured token: it made one, in a file only its user reads.
  const lnsTokenFile = adminTokenFile("127.0.0.1", lnsPort);
  const lnsToken = readFileSync(lnsTokenFile, "utf8").trim();
  expect(lnsToken).toMatch(/^[0-9a-f]{48}$/);
  expect(spawnSync("stat", ["-c", "%a", lnsTokenFile], { encoding: "utf8" }).stdout.trim()).toBe("600");
  const drain = { target: { level: "system" }, state: "drain" };
  const post = (url: string, body: unknown, token?: string) =>
    get(url, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
  // Reads are open on loopback; a mutating request needs the token, whatever the bind.
  expect((await get(`${lnsUrl}/v1/show/tunnels`)).status).toBe(200);
  const anonymous = await post(`${lnsUrl}/v1/admin`, drain);
  expect(anonymous.status).toBe(401);
  expect(anonymous.text).toContain("this request needs admin token");
  expect((await post(`${lnsUrl}/v1/admin`, drain, "not-the-token")).status).toBe(403);
  expect((await post(`${lnsUrl}/v1/close`, { target: { level: "system" } })).status).toBe(401);
  expect((await post(`${lnsUrl}/v1/admin`, drain, lnsToken)).status).toBe(200);
  // The CLI finds the made token in the file.
  expect(clientAdminToken(lnsUrl)).toBe(lnsToken);
  expect(l2tp("enable", "--admin", lnsUrl).out).toBe("system: admin state enabled\n");
  // The LAC's token is configured: the file does not exist, the CLI takes it from the environment.
  expect(clientAdminToken(lacUrl)).toBeUndefined();
  expect((await post(`${lacUrl}/v1/dial`, { destination: `127.0.0.1:${udp}` })).status).toBe(401);
  const noToken = l2tp("dial", `127.0.0.1:${udp}`, "--admin", lacUrl);
  expect(noToken.code).toBe(1);
  expect(noToken.err).toContain(`the CLI reads it from ${ADMIN_TOKEN_ENV}`);
  const dialed = spawnSync(
    process.execPath,
    [
      join(import.meta.dir, "../../bin/l2tp.ts"),
      "dial",
      `127.0.0.1:${udp}`,
      "--count",
      "3",
      "--admin",
      lacUrl,
    ],
    { encoding: "utf8", env: { ...process.env, [ADMIN_TOKEN_ENV]: LAC_TOKEN }, timeout: 20_000 },
  );
  expect(dialed.stdout.match(/^established: /gm)).toHaveLength(3);
  answers.push(dialed.stdout, dialed.stderr, noToken.out, noToken.err);

  // --- metrics -------------------------------------------------------------------------------------
  // One call cleared by the LNS (a CDN), so that a session close is counted on both sides.
  const sessions = JSON.parse((await get(`${lnsUrl}/v1/show/sessions`)).text).rows as {
    id: number;
    tunnelId: number;
  }[];
  const first = sessions[0] as { id: number; tunnelId: number };
  expect(
    (
      await post(
        `${lnsUrl}/v1/close`,
        { target: { level: "session", tunnelId: first.tunnelId, sessionId: first.id } },
        lnsToken,
      )
    ).status,
  ).toBe(200);
  await Bun.sleep(300);

  for (const [url, role, init] of [
    [lnsUrl, "lns", {}],
    [lacUrl, "lac", { headers: { authorization: `Bearer ${LAC_TOKEN}` } }],
  ] as const) {
    const scrape = await get(`${url}/metrics`, init);
    expect(scrape.status).toBe(200);
    expect(scrape.type).toBe("text/plain; version=0.0.4; charset=utf-8");
    // Prometheus's own parser and linter.
    const check = spawnSync("promtool", ["check", "metrics"], { input: scrape.text, encoding: "utf8" });
    expect({ role, code: check.status, out: check.stdout + check.stderr }).toEqual({
      role,
      code: 0,
      out: "",
    });
    for (const [family, type] of Object.entries(FAMILIES))
      expect(scrape.text).toContain(`# TYPE ${family} ${type}\n`);
    for (const s of samples(scrape.text))
      for (const label of Object.keys(s.labels))
        expect({ sample: s.name, label }).toEqual({
          sample: s.name,
          label: ALLOWED_LABELS.has(label) ? label : "allowed",
        });
    expect(scrape.text).not.toMatch(/127\.0\.0\.|lac\.test|lns\.test/);

    const text = scrape.text;
    expect(value(text, "l2tp_sessions", { role, state: "established" })).toBe(2);
    expect(value(text, "l2tp_session_setups_total", { role, result: "established" })).toBe(3);
    expect(value(text, "l2tp_session_closes_total", { role, cause: role === "lns" ? "admin" : "peer" })).toBe(
      1,
    );
    expect(value(text, "l2tp_tunnel_setups_total", { result: "established" })).toBe(1);
    expect(value(text, "l2tp_tunnels", { state: "established" })).toBe(1);
    expect(value(text, "l2tp_destinations", { state: "available" })).toBe(1);
    expect(value(text, "l2tp_session_setup_duration_seconds_count", {})).toBe(3);
    expect(value(text, "l2tp_session_setup_duration_seconds_bucket", { le: "+Inf" })).toBe(3);
    const sent = role === "lac" ? ["SCCRQ", "SCCCN", "ICRQ", "ICCN"] : ["SCCRP", "ICRP", "CDN"];
    for (const type of sent)
      expect(value(text, "l2tp_control_messages_total", { direction: "tx", type })).toBeGreaterThan(0);
    expect(
      value(text, "l2tp_control_messages_total", {
        direction: "rx",
        type: role === "lac" ? "SCCRP" : "SCCRQ",
      }),
    ).toBe(1);
    expect(value(text, "l2tp_control_retransmissions_total", {})).toBe(0);
    expect(value(text, "l2tp_malformed_packets_total", { reason: "not_l2tpv2" })).toBe(0);
    expect(value(text, "l2tp_half_open_tunnels", {})).toBe(0);
    expect(value(text, "l2tp_sccrqs_waiting", {})).toBe(0);
    expect(value(text, "l2tp_half_open_refused_total", {})).toBe(0);
    expect(value(text, "l2tp_event_log_backlog", {})).toBeGreaterThanOrEqual(0);
    expect(value(text, "l2tp_build_info", {})).toBe(1);
    if (role === "lns") {
      // The LNS runs PPP on its calls (the LAC's dial brings no subscriber: none gets up).
      expect(value(text, "l2tp_ppp_links_total", {})).toBe(3);
      expect(value(text, "l2tp_ppp_links_up", {})).toBe(0);
    }
  }
  // AAA counters join the exposition when the node has an AAA adapter (rendered here from the LNS's
  // snapshot with made-up counters): still valid for promtool, labelled by kind and result only.
  const snapshot = JSON.parse((await get(`${lnsUrl}/v1/snapshot?sessions=1`)).text);
  const withAaa = createNodeMetrics(realClock).render(snapshot, undefined, {
    ...newAaaStats(),
    accessRequests: 5,
    accepts: 4,
    rejects: 1,
    badReplies: { authenticator: 2 },
  });
  const aaaCheck = spawnSync("promtool", ["check", "metrics"], { input: withAaa, encoding: "utf8" });
  expect(aaaCheck.stdout + aaaCheck.stderr).toBe("");
  expect(value(withAaa, "l2tp_aaa_responses_total", { result: "reject" })).toBe(1);
  expect(value(withAaa, "l2tp_aaa_bad_replies_total", { reason: "authenticator" })).toBe(2);

  // On loopback reads are open even with a configured token.
  expect((await get(`${lacUrl}/metrics`)).status).toBe(200);

  // --- the end: every answer, log line and event record, grepped for the secrets -------------------
  for (const { child } of [lac, lns]) {
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  }
  // The made token's file goes with its node.
  expect(() => readFileSync(lnsTokenFile)).toThrow();
  const logs = [lns.out(), lns.err(), lac.out(), lac.err()];
  const records = [lnsEvents, lacEvents].flatMap((d) =>
    (readdirSync(d, { recursive: true }) as string[])
      .filter((f) => statSync(join(d, f)).isFile())
      .map((f) => readFileSync(join(d, f)).toString("latin1")),
  );
  expect(records.join("").length).toBeGreaterThan(1000);
  for (const secret of [TUNNEL_SECRET, LAC_TOKEN, lnsToken]) {
    for (const [what, texts] of [
      ["answers", answers],
      ["logs", logs],
      ["event log", records],
    ] as const) {
      expect({ secret, what, found: texts.some((t) => t.includes(secret)) }).toEqual({
        secret,
        what,
        found: false,
      });
    }
  }
}, 60_000);

test("a non-loopback admin bind without a token is refused at start, with the reason", async () => {
  // l2tp run: the config check names admin.token and the fix; nothing is started.
  writeFileSync(
    join(dir, "open.yaml"),
    'node: { name: open }\nadmin: { address: 0.0.0.0, port: 0 }\nevents: "memory:"\n',
  );
  const open = l2tp("run", "--config", join(dir, "open.yaml"));
  expect(open.code).toBe(2);
  expect(open.err).toContain("config admin.token: listening on 0.0.0.0 (not loopback) needs a token");
  expect(open.out).toBe("");
  // The admin server itself refuses before it listens (a program that skips the config check).
  const node = { snapshot: () => ({}) } as unknown as Parameters<typeof startAdminServer>[0];
  await expect(startAdminServer(node, { address: "0.0.0.0", port: 0 })).rejects.toThrow(
    "admin API: listening on 0.0.0.0:0 (not loopback) needs admin.token",
  );
  // Off loopback, with a token, reads need it too (checked without binding: only loopback is ours).
  const access = adminAccess({ address: "192.0.2.1", port: 17010 }, LAC_TOKEN);
  const request = (method: string, authorization?: string) =>
    ({ method, headers: authorization ? { authorization } : {} }) as Parameters<typeof access.check>[0];
  expect(access.check(request("GET"))?.status).toBe(401);
  expect(access.check(request("GET", `Bearer ${LAC_TOKEN}`))).toBeUndefined();
  expect(access.check(request("POST", `Bearer ${LAC_TOKEN}x`))?.status).toBe(403);
  expect(JSON.stringify(access.check(request("POST", "Bearer nope")))).not.toContain(LAC_TOKEN);
});
