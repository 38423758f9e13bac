/**
 * `l2tp show destinations | tunnels | sessions` against a lab run (issue 11 item 1): the lab's two
 * nodes get an admin API each, and while the calls are held the real CLI, in a process of its own,
 * reads every level from both: the E-series fields, the filters, --json, --detail, and a table that
 * fits the terminal.
 */
import { expect, test } from "bun:test";
import type { L2tpNode } from "../../actors/node.ts";
import { type AdminServer, startAdminServer } from "../../adapters/admin/server.ts";
import type { DestinationRow, SessionRow, ShowAnswer, TunnelRow } from "../../adapters/admin/show.ts";
import { LAB_SUBSCRIBER, type LabSide, runLab } from "../../bin/commands/lab.ts";
import { l2tpAsync } from "../integration/l2tp-cli.ts";

test("every show level of both lab nodes, while 6 calls over 2 tunnels are held", async () => {
  const admins: Partial<Record<LabSide, AdminServer>> = {};
  const starting: Promise<void>[] = [];
  const seen: Record<string, unknown> = {};
  const show = async (side: LabSide, ...args: string[]) => {
    const r = await l2tpAsync(["show", ...args, "--admin", (admins[side] as AdminServer).url], {
      COLUMNS: "200",
    });
    if (r.code !== 0) throw new Error(`show ${args.join(" ")} exited ${r.code}: ${r.err}`);
    return r;
  };
  const json = async <R>(side: LabSide, ...args: string[]) =>
    JSON.parse((await show(side, ...args, "--json")).out) as ShowAnswer<R>;

  const report = await runLab({
    sessions: 6,
    tunnels: 2,
    holdMs: 0,
    window: 6,
    ppp: true,
    observe: {
      created(side: LabSide, node: L2tpNode) {
        starting.push(
          startAdminServer(node, { address: "127.0.0.1", port: 0 }).then((a) => {
            admins[side] = a;
          }),
        );
      },
      async established() {
        await Promise.all(starting);
        const lnsAddress = "127.0.0.1";

        // Destinations, on the LNS: the LAC at 127.0.0.2, its tunnels and sessions by state.
        const d = await json<DestinationRow>("lns", "destinations");
        expect(d.rows).toHaveLength(1);
        const dest = d.rows[0] as DestinationRow;
        expect(dest).toMatchObject({
          address: "127.0.0.2",
          admin: "enabled",
          tunnels: { established: 2 },
          sessions: { established: 6 },
          lockouts: 0,
        });
        expect(dest.state).toStartWith("available");
        seen.destinationTable = (await show("lns", "destinations")).out;

        // Tunnels, on the LAC: ids both ways, the peer, host names, windows, Ns/Nr.
        const t = await json<TunnelRow>("lac", "tunnels");
        expect(t.rows).toHaveLength(2);
        for (const row of t.rows) {
          expect(row.peer).toStartWith(`${lnsAddress}:`);
          expect(row).toMatchObject({
            state: "established",
            admin: "enabled",
            role: "initiator",
            hostName: "lac.lab",
            peerHostName: "lns.lab",
            sessions: { established: 3 },
            retransmissions: 0,
          });
          expect(row.peerTunnelId).toBeGreaterThan(0);
          expect(row.ns).toBeGreaterThanOrEqual(5); // SCCRQ, SCCCN, and an ICRQ + ICCN per call
          expect(row.nr).toBeGreaterThanOrEqual(4);
          expect(row.receiveWindow).toBeGreaterThan(0);
          expect(row.peerReceiveWindow).toBeGreaterThan(0);
          expect(row.uptimeSeconds).toBeGreaterThanOrEqual(0);
        }
        const tunnelDetail = (await show("lac", "tunnels", "--detail")).out;
        expect(tunnelDetail.split("\n")[0]).toMatch(/^TUNNEL +PEER-ID +PEER +STATE .*NS\/NR +RETX +CAUSE$/);
        expect(tunnelDetail).toContain("lns.lab");

        // Sessions, on the LAC: the calling numbers the lab placed, the subscriber's user name.
        const s = await json<SessionRow>("lac", "sessions");
        expect(s.rows).toHaveLength(6);
        expect(new Set(s.rows.map((x) => x.callingNumber))).toEqual(
          new Set(Array.from({ length: 6 }, (_, i) => `555${String(i).padStart(7, "0")}`)),
        );
        for (const row of s.rows) {
          // The lab's PPP subscriber went through LCP, CHAP and IPCP: octets and packets both ways.
          expect(row).toMatchObject({ state: "established", user: LAB_SUBSCRIBER.name });
          for (const n of [row.bytesIn, row.bytesOut, row.packetsIn, row.packetsOut])
            expect(n).toBeGreaterThan(0);
          expect(t.rows.map((x) => x.id)).toContain(row.tunnelId);
          expect(row.peerSessionId).toBeGreaterThan(0);
        }
        // The LNS learnt the calling numbers from the ICRQs (hidden on the wire: revealed by the secret).
        const lnsSessions = await json<SessionRow>("lns", "sessions");
        expect(lnsSessions.rows.map((x) => x.callingNumber).sort()).toEqual(
          s.rows.map((x) => x.callingNumber).sort(),
        );
        // The LNS authenticated each subscriber (CHAP, the lab's PPP): the user name is the session's.
        expect(new Set(lnsSessions.rows.map((x) => x.user))).toEqual(new Set([LAB_SUBSCRIBER.name]));
        const byUser = await json<SessionRow>("lns", "sessions", "--user", LAB_SUBSCRIBER.name);
        expect(byUser.matched).toBe(6);
        const detail = await show("lns", "sessions", "--json");
        expect(detail.out).not.toContain(LAB_SUBSCRIBER.password);

        // Filters.
        const limited = await json<SessionRow>("lac", "sessions", "--limit", "2");
        expect([limited.rows.length, limited.matched]).toEqual([2, 6]);
        expect((await json<SessionRow>("lac", "sessions", "--state", "established")).matched).toBe(6);
        expect((await json<SessionRow>("lac", "sessions", "--state", "idle")).matched).toBe(0);
        expect((await json<SessionRow>("lac", "sessions", "--user", "nobody")).matched).toBe(0);
        expect((await json<TunnelRow>("lac", "tunnels", "--destination", "127.0.0.9:1701")).matched).toBe(0);
        const byDest = await json<TunnelRow>("lns", "tunnels", "--destination", dest.destination);
        expect(byDest.matched).toBe(2);
        expect((await json<DestinationRow>("lns", "destinations", "--state", "available")).matched).toBe(1);
        const limitedTable = await show("lac", "sessions", "--limit", "2");
        expect(limitedTable.out.trimEnd().split("\n")).toHaveLength(3);
        expect(limitedTable.err).toBe("2 of 6 sessions shown (--limit)\n");

        // Mistakes: named, exit 2.
        const url = (admins.lac as AdminServer).url;
        const user = await l2tpAsync(["show", "tunnels", "--user", "x", "--admin", url]);
        expect([user.code, user.err]).toEqual([
          2,
          "l2tp show: --user: only sessions have a user; use 'npx l2tp show sessions --user U'\n",
        ]);
        const level = await l2tpAsync(["show", "sesions", "--admin", url]);
        expect(level.code).toBe(2);
        expect(level.err).toContain("unknown level 'sesions'");

        // A narrow terminal: every line fits, cut cells end with "…".
        const narrow = await l2tpAsync(["show", "tunnels", "--detail", "--admin", url], { COLUMNS: "100" });
        for (const line of narrow.out.trimEnd().split("\n")) expect(line.length).toBeLessThanOrEqual(100);
        expect(narrow.out).toContain("…");
      },
      async closing() {
        for (const a of Object.values(admins)) await a?.close();
      },
    },
  });
  expect(report.ok).toBe(true);
  expect(String(seen.destinationTable)).toMatch(
    /^DESTINATION +STATE +ADMIN +TUNNELS +SESSIONS +LOCKOUTS\n127\.0\.0\.2:\d+ +available +enabled +2 +6 +0\n$/,
  );
}, 60_000);
