/**
 * Our LAC against l2tpns 2.4.1 (an independent LNS, C; Debian's package, which scripts/setup.sh
 * installs): a simulated subscriber with a 2-character PAP password gets an address from l2tpns's
 * pool through our LAC, with FreeRADIUS behind l2tpns. l2tpns takes neither proxy LCP nor proxy
 * authentication (it negotiates both again through our relay), but it reads the hidden Proxy Authen
 * Response: padded to one MD5 block it is no longer "Short hidden AVP" (docs/INTEROP.md). l2tpns makes a
 * tun device and a route for its pool, so everything runs in a network namespace of its own (root).
 */
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";

const CHILD = new URL("./our-lac.ts", import.meta.url).pathname;
const NETNS = `l2tpns-test-${process.pid}`;

// Root (a network namespace, l2tpns's tun device) and l2tpns itself: CI has both (scripts/setup.sh).
const runnable = process.getuid?.() === 0 && existsSync("/usr/sbin/l2tpns");

test.skipIf(!runnable)(
  "l2tpns as LNS: our LAC's subscriber (PAP, a 2-character password) comes up; l2tpns reads the padded hidden password",
  () => {
    const ip = (...args: string[]) => spawnSync("ip", args, { encoding: "utf8" });
    expect(ip("netns", "add", NETNS).status).toBe(0);
    try {
      expect(ip("netns", "exec", NETNS, "ip", "link", "set", "lo", "up").status).toBe(0);
      const r = spawnSync("ip", ["netns", "exec", NETNS, process.execPath, CHILD], {
        encoding: "utf8",
        timeout: 80_000,
      });
      const last = (r.stdout ?? "").trim().split("\n").at(-1) ?? "";
      const result = JSON.parse(last || "{}") as Record<string, unknown>;
      expect(result).toMatchObject({ shortHidden: false, papAllowed: true });
      expect(String(result.address)).toMatch(/^10\.64\.0\.\d+$/);
      expect(result.framesToLns).toBeGreaterThan(3);
      expect(result.framesToSubscriber).toBeGreaterThan(3);
    } finally {
      ip("netns", "del", NETNS);
    }
  },
  100_000,
);
