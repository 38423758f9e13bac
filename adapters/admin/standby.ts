/**
 * The admin API of a standby (`l2tp run --standby`): before the takeover it answers what it knows of
 * its primary and takes the takeover command; after it, it is the node's ordinary admin API
 * (adapters/admin/server.ts), on the same address.
 *
 *   GET  /v1/standby    { role: "standby" | "taking-over" | "active", primary: PrimaryStatus, … }
 *   POST /v1/takeover   take over now; answers once the node runs: { ok, tunnels, sessions, skipped }
 *   anything else       the node's admin API once active; 503 before
 */
import { createServer } from "node:http";
import type { L2tpNode } from "../../actors/node.ts";
import type { PeerAddress } from "../../actors/ports.ts";
import { adminAccess } from "./access.ts";
import type { AdminServer } from "./server.ts";
import { handleAdminRequest, listenAdmin, refuse, reply } from "./server.ts";

/** What the standby's admin API asks of the standby. */
export interface StandbyControl {
  /** The node, once taken over. */
  node(): L2tpNode | undefined;
  /** What GET /v1/standby answers. */
  status(): unknown;
  /** Takes over (or waits for the takeover already under way); resolves with what was resumed. */
  takeover(reason: string): Promise<unknown>;
}

/** Starts the standby's admin API on `listen` (port 0: an ephemeral port, told in `url`). */
export async function startStandbyAdminServer(
  control: StandbyControl,
  listen: PeerAddress,
  token?: string,
): Promise<AdminServer> {
  const access = adminAccess(listen, token);
  const server = createServer((req, res) => {
    if (refuse(access, req, res)) return;
    const url = new URL(req.url ?? "/", "http://admin");
    const answer = async (): Promise<void> => {
      if (req.method === "GET" && url.pathname === "/v1/standby") return reply(res, 200, control.status());
      if (req.method === "POST" && url.pathname === "/v1/takeover") {
        req.resume();
        return reply(res, 200, await control.takeover("admin command"));
      }
      const node = control.node();
      if (node) return handleAdminRequest(node, req, res);
      return reply(res, 503, {
        error: "this node is a standby: it serves nothing until it takes over (POST /v1/takeover)",
      });
    };
    answer().catch((err) => reply(res, 500, { error: err instanceof Error ? err.message : String(err) }));
  });
  return listenAdmin(server, listen, access);
}
