/**
 * Run inside a network namespace of its own, as root (lac.test.ts does both): a FreeRADIUS, l2tpns
 * 2.4.1 as the LNS on 127.0.0.1:1701 with that FreeRADIUS behind it, and our LAC with one simulated
 * subscriber (PAP, a 2-character password: its Proxy Authen Response goes hidden, padded). Prints one
 * JSON line: the subscriber's address, what the LAC relayed, and what l2tpns logged of the call.
 * docs/INTEROP.md says what l2tpns needs to run here.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { settled, until } from "../../support/until.ts";
import { startOurLac } from "../our-lac.ts";
import { startFreeRadius } from "../radius/freeradius.ts";

const SECRET = "l2tpns-interop";
const USER = "alice@isp.example";
const PASSWORD = "pw";
/** l2tpns reads its pool from this fixed path: kept aside and put back. */
const POOL = "/etc/l2tpns/ip_pool";

const dir = mkdtempSync(join(tmpdir(), "l2tpns-"));
const log = join(dir, "log");
const poolKept = existsSync(POOL) ? join(dir, "ip_pool.kept") : undefined;
let l2tpns: ChildProcess | undefined;
const radius = await startFreeRadius({
  users: [{ name: USER, password: PASSWORD }],
  secret: "radius-secret",
  // l2tpns sends accounting to its authentication port + 1: the usual pair, free in a namespace of its own.
  authPort: 1812,
  acctPort: 1813,
  debug: false,
  threads: 1,
});
let result: Record<string, unknown> = {};
try {
  if (poolKept) copyFileSync(POOL, poolKept);
  writeFileSync(POOL, "10.64.0.0/24\n");
  writeFileSync(
    join(dir, "startup-config"),
    [
      "set debug 3",
      `set log_file "${log}"`,
      `set pid_file "${join(dir, "pid")}"`,
      `set l2tp_secret "${SECRET}"`,
      "set bind_address 127.0.0.1",
      // Its cluster interface must exist (default eth0, absent here: it exits).
      'set cluster_interface "lo"',
      "set send_garp no",
      "set primary_radius 127.0.0.1",
      `set primary_radius_port ${radius.authPort}`,
      'set radius_secret "radius-secret"',
      'set radius_authtypes "pap"',
      "",
    ].join("\n"),
  );
  // Its own process group: stopping it signals its group.
  l2tpns = spawn("/usr/sbin/l2tpns", ["-c", join(dir, "startup-config")], {
    detached: true,
    stdio: "ignore",
  });
  const logText = () => (existsSync(log) ? readFileSync(log, "utf8") : "");
  // It serves only once its cluster master election is over (about 15 s).
  await until(
    "l2tpns serving",
    () => (logText().includes("declaring myself the master") ? true : undefined),
    40_000,
  );

  const lac = await startOurLac("127.0.0.62", { address: "127.0.0.1", port: 1701 }, SECRET, ["pap"]);
  const { node, socket, access, subscribers } = lac;
  const alice = subscribers.dial({ user: USER, password: PASSWORD, authProtocols: ["pap"] });
  const address = await settled("the subscriber's address from l2tpns", alice.up, 20_000);
  const text = logText();
  result = {
    address,
    framesToLns: access.stats.framesToLns,
    framesToSubscriber: access.stats.framesToSubscriber,
    shortHidden: text.includes("Short hidden AVP"),
    papAllowed: text.includes(`PAP User ${USER} authentication allowed`),
  };
  await node.close();
  await socket.close();
} catch (error) {
  result = { error: (error as Error).message };
} finally {
  if (l2tpns?.pid) {
    try {
      process.kill(-l2tpns.pid, "SIGKILL");
    } catch {}
  }
  if (poolKept) copyFileSync(poolKept, POOL);
  await radius.dispose();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(0);
