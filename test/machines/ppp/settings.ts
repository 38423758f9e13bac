/** A CHAP server and client of the PPP tests, on one session's path. */
import type { ActorPath } from "../../../machines/common.ts";
import { PPP_DEFAULTS, type PppSettings } from "../../../machines/ppp/endpoint.ts";

export const path: ActorPath = { system: "t", destination: "d", tunnel: 1, session: 1, ppp: true };

export const chapServer: PppSettings = {
  ...PPP_DEFAULTS,
  role: "server",
  hostName: "lns.test",
  authProtocols: ["chap"],
  localAddress: "10.0.0.1",
  dns: [],
};

export const chapClient: PppSettings = {
  ...PPP_DEFAULTS,
  role: "client",
  hostName: "lac.test",
  authProtocols: ["chap"],
  user: "alice",
  password: "alice-pw",
  dns: [],
};
