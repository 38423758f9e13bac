/**
 * adapters/inspector/: the inspector page of a live node or of a recorded log, served over HTTP. The
 * routes (routes.ts) sit beside the admin API on the node's admin server, or alone for a replay; the
 * live tree is the fold of the node's event log while a page looks (live.ts); a replay seeks through a
 * loaded log from checkpoints (recorded.ts); statecharts come from the machines' definitions (graphs.ts).
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { PeerAddress } from "../../actors/ports.ts";
import { adminAccess } from "../admin/access.ts";
import {
  type AdminRoutes,
  type AdminServer,
  listenAdmin,
  parsePeer,
  refuse,
  reply,
} from "../admin/server.ts";
import type { Inspector } from "./routes.ts";

export { ANY_STATE, isFinalState, type MachineGraph, machineGraph, machineGraphs } from "./graphs.ts";
export { LiveSource } from "./live.ts";
export { RecordedLog, type Span, type SpanOutcome } from "./recorded.ts";
export { createInspector, type Inspector, type InspectorSubject } from "./routes.ts";

/** Reads a listen address "127.0.0.1:17011" or "[::1]:0" (port 0: a free port, told in the URL). */
export function parseListen(text: string): PeerAddress | undefined {
  const zero = /^(.*):0$/.exec(text.trim());
  if (!zero) return parsePeer(text);
  const peer = parsePeer(`${zero[1]}:1`);
  return peer && { address: peer.address, port: 0 };
}

/**
 * The page's address on a server whose base URL is `url`; with `token` (the admin token, needed for
 * actions) in the fragment, which the browser never sends: the page reads it and sends it as
 * `Authorization: Bearer` with its actions only.
 */
export function inspectorUrl(url: string, token?: string): string {
  return `${url}/inspector/${token ? `#token=${token}` : ""}`;
}

/** A server of the inspector alone, and the admin token its actions need. */
export interface InspectorServer extends AdminServer {
  readonly token: string;
}

/**
 * Serves the inspector on its own server (a replay, or the lab's two nodes), with `more` routes after
 * it (the lab's LAC admin API); anything else is a 404. The admin API's access rules apply (access.ts):
 * reads from loopback are free, every mutating request needs the token (made here).
 */
export async function serveInspector(
  inspector: Inspector,
  listen: PeerAddress,
  more?: AdminRoutes,
): Promise<InspectorServer> {
  const token = randomBytes(24).toString("hex");
  const access = adminAccess(listen, token);
  const server = createServer((req, res) => {
    if (refuse(access, req, res)) return;
    inspector
      .handle(req, res)
      .then(async (done) => done || (more ? await more(req, res) : false))
      .then((done) => {
        if (!done)
          reply(res, 404, {
            error: `no such endpoint: ${req.method} ${req.url}; the page is at /inspector/`,
          });
      })
      .catch((err) => reply(res, 500, { error: String(err) }));
  });
  const served = await listenAdmin(server, listen, access);
  return { url: served.url, close: () => served.close(), token };
}
