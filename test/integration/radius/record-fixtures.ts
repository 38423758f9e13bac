/**
 * Records real FreeRADIUS 3.2 replies as fixtures (test/fixtures/radius/*.json) for the codec's unit
 * test: `node_modules/.bin/bun test/integration/radius/record-fixtures.ts`. Each fixture holds the
 * request we sent, the reply FreeRADIUS gave, and the secret, so the test can verify the Response
 * Authenticator and decrypt Tunnel-Password as a client would. Rerun it only to refresh them.
 */
import { createSocket } from "node:dgram";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { chapMd5Response } from "../../../protocol/ppp/chap.ts";
import {
  attribute,
  encodeRequest,
  hideUserPassword,
  type RadiusAttribute,
  RadiusCode,
} from "../../../protocol/radius/index.ts";
import { startFreeRadius } from "./freeradius.ts";
import { TEST_USERS } from "./users.ts";

const SECRET = "fixture-secret";
const secret = new TextEncoder().encode(SECRET);
const out = new URL("../../fixtures/radius/", import.meta.url).pathname;
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

const radius = await startFreeRadius({
  secret: SECRET,
  users: TEST_USERS,
});

const socket = createSocket("udp4");
await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));

function exchange(bytes: Uint8Array, port: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no reply")), 3000);
    socket.once("message", (msg: Uint8Array) => {
      clearTimeout(timer);
      resolve(new Uint8Array(msg));
    });
    socket.send(bytes, port, "127.0.0.1");
  });
}

let id = 1;
async function record(
  name: string,
  description: string,
  code: 1 | 4,
  build: (ra: Uint8Array) => RadiusAttribute[],
) {
  const authenticator = Uint8Array.from({ length: 16 }, (_, i) => (i * 17 + id) & 0xff);
  const request = encodeRequest(
    code === RadiusCode.accessRequest
      ? { code, identifier: id, authenticator, attributes: build(authenticator), messageAuthenticator: true }
      : { code, identifier: id, attributes: build(authenticator), messageAuthenticator: true },
    secret,
  );
  id++;
  const reply = await exchange(
    request,
    code === RadiusCode.accessRequest ? radius.authPort : radius.acctPort,
  );
  const fixture = {
    description,
    freeradius: "3.2.1",
    secret: SECRET,
    request: hex(request),
    reply: hex(reply),
  };
  writeFileSync(join(out, `${name}.json`), `${JSON.stringify(fixture, null, 2)}\n`);
}

const nas = [attribute("NAS-Identifier", "fixture-nas"), attribute("NAS-Port-Type", 5)];
const text = (s: string) => new TextEncoder().encode(s);
await record(
  "pap-accept",
  "Access-Accept for PAP alice/wonderland: Framed-IP-Address, Class, Session-Timeout, Idle-Timeout, Acct-Interim-Interval, Framed-Pool, Reply-Message",
  1,
  (ra) => [
    attribute("User-Name", "alice"),
    attribute("User-Password", hideUserPassword(text("wonderland"), secret, ra)),
    ...nas,
  ],
);
await record("pap-reject", "Access-Reject for PAP alice with a wrong password", 1, (ra) => [
  attribute("User-Name", "alice"),
  attribute("User-Password", hideUserPassword(text("wrong"), secret, ra)),
  ...nas,
]);
const challenge = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
await record("chap-accept", "Access-Accept for CHAP alice/wonderland (id 7)", 1, () => [
  attribute("User-Name", "alice"),
  attribute("CHAP-Password", { id: 7, response: chapMd5Response(7, "wonderland", challenge) }),
  attribute("CHAP-Challenge", challenge),
  ...nas,
]);
await record(
  "tunnels-accept",
  "Access-Accept with two tagged tunnel groups (users.ts); Tunnel-Password:1 first-secret, :2 a-second-tunnel-secret-longer-than-16",
  1,
  (ra) => [
    attribute("User-Name", "lac@example.net"),
    attribute("User-Password", hideUserPassword(text("x"), secret, ra)),
    ...nas,
  ],
);
await record("accounting-response", "Accounting-Response to a Start", 4, () => [
  attribute("Acct-Status-Type", 1),
  attribute("Acct-Session-Id", "fixture-1"),
  attribute("User-Name", "alice"),
  ...nas,
]);

socket.close();
await radius.dispose();
console.log(`fixtures written to ${out}`);
