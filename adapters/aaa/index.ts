/**
 * AAA adapters behind the `Aaa` port (actors/aaa.ts): `local` (users from the config file) and
 * `radius` (a RADIUS client on our own codec). `openAaa` makes the one the config's `aaa` section names.
 */
import type { Aaa } from "../../actors/aaa.ts";
import type { Clock, PeerAddress, Random, Transport } from "../../actors/ports.ts";
import type { AaaConfig } from "../config/schema.ts";
import { bindUdp } from "../udp/index.ts";
import { LocalAaa } from "./local.ts";
import { RadiusClient } from "./radius.ts";

export { LOCAL_ACCOUNTING_KEPT, LocalAaa, type LocalUser } from "./local.ts";
export {
  type BadReplyReason,
  RadiusClient,
  type RadiusClientDeps,
  type RadiusClientOptions,
  type RadiusServer,
} from "./radius.ts";

/** What the RADIUS adapter runs on; `bind` defaults to the project's UDP sockets. */
export interface AaaDeps {
  clock: Clock;
  random: Random;
  bind?: (local: PeerAddress) => Promise<Transport>;
}

/** The AAA adapter the config's `aaa` section asks for. */
export function openAaa(config: AaaConfig, deps: AaaDeps): Aaa {
  if (config.kind === "local") return new LocalAaa(config.users);
  return new RadiusClient(
    {
      servers: config.servers,
      nasIdentifier: config.nasIdentifier,
      timeoutMs: Math.round(config.timeoutSeconds * 1000),
      retries: config.retries,
      maxInFlight: config.maxInFlight,
      deadTimeMs: Math.round(config.deadTimeSeconds * 1000),
      requireMessageAuthenticator: config.requireMessageAuthenticator,
    },
    { clock: deps.clock, random: deps.random, bind: deps.bind ?? ((local) => bindUdp(local)) },
  );
}
