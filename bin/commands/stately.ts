/**
 * `l2tp stately`: the Stately bridge of a running node (adapters/inspector/stately.ts), through its admin
 * API: follow one actor's inspection events to a Stately inspector, stop, or say what it follows.
 */
import process from "node:process";
import { parseStatelyUrl, StatelyError, type StatelyStatus } from "../../adapters/inspector/stately.ts";
import { callAdmin, DEFAULT_ADMIN_URL } from "./admin.ts";
import { L2TP, parseCommandArgs, UsageError } from "./cli.ts";
import type { Command } from "./index.ts";

const HELP = `usage: ${L2TP} stately --url ws://HOST:PORT --actor NAME [--admin URL]   follow one actor
       ${L2TP} stately --stop [--admin URL]                                 stop following
       ${L2TP} stately [--admin URL]                                        what it follows

For development: sends one actor's inspection events (@xstate.actor, then every @xstate.event and
@xstate.snapshot of it, secrets redacted) to a Stately inspector listening on a WebSocket. Off until
asked; a node that follows nothing does no work for it.
  --url URL     the inspector's WebSocket (ws:// or wss://)
  --actor NAME  the actor as the inspector page names it: NODE (the system), NODE/ADDR:PORT (a
                destination), NODE/ADDR:PORT/TUNNEL, NODE/ADDR:PORT/TUNNEL/SESSION, .../SESSION/ppp (its
                PPP link), NODE/subscriber:LINE[/ppp] (a LAC's subscriber)
  --admin URL   the node's admin API (default ${DEFAULT_ADMIN_URL})
`;

export const stately: Command = {
  summary: "send one actor's inspection events to a Stately inspector (development; off by default)",
  async run(argv) {
    const { values } = parseCommandArgs("stately", {
      args: argv,
      options: {
        url: { type: "string" },
        actor: { type: "string" },
        stop: { type: "boolean", default: false },
        admin: { type: "string", default: DEFAULT_ADMIN_URL },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (values.stop) {
      if (values.url !== undefined || values.actor !== undefined)
        throw new UsageError("--stop takes neither --url nor --actor");
      say((await callAdmin(values.admin, "/v1/stately/stop", {})) as StatelyStatus);
      return 0;
    }
    if (values.url === undefined && values.actor === undefined) {
      say((await callAdmin(values.admin, "/v1/stately")) as StatelyStatus);
      return 0;
    }
    if (values.actor === undefined) throw new UsageError("--actor: name the actor to follow (see --help)");
    try {
      parseStatelyUrl(values.url, "--url");
    } catch (err) {
      throw err instanceof StatelyError ? new UsageError(err.message) : err;
    }
    say(
      (await callAdmin(values.admin, "/v1/stately/follow", {
        url: values.url,
        actor: values.actor,
      })) as StatelyStatus,
    );
    return 0;
  },
};

function say(s: StatelyStatus): void {
  process.stdout.write(
    s.following
      ? `stately: following ${s.actor} to ${s.url} (${s.connected ? "connected" : "connecting"}; ${s.sent} sent, ${s.dropped} dropped)\n`
      : `stately: following nothing${s.ended === undefined ? "" : ` (the last follow ended: ${s.ended}; ${s.sent} sent, ${s.dropped} dropped)`}\n`,
  );
}
