/**
 * Smoke test of the RADIUS client under Deno against a real FreeRADIUS (CI: scripts/smoke-deno.sh; a
 * Deno run of bun:test files proves nothing, docs/ARCHITECTURE.md): PAP with two tagged tunnel groups whose
 * Tunnel-Passwords decrypt, and an accounting Start that lands in the detail file. Exits 0 on success,
 * 1 with the reason otherwise.
 */
import process from "node:process";
import { RadiusClient } from "../../../adapters/aaa/radius.ts";
import { realClock } from "../../../adapters/clock/index.ts";
import { cryptoRandom } from "../../../adapters/random/index.ts";
import { bindUdp } from "../../../adapters/udp/index.ts";
import { startFreeRadius } from "./freeradius.ts";
import { TEST_USERS } from "./users.ts";

const radius = await startFreeRadius({ users: TEST_USERS });
const client = new RadiusClient(
  {
    servers: [
      { address: "127.0.0.1", authPort: radius.authPort, acctPort: radius.acctPort, secret: radius.secret },
    ],
    nasIdentifier: "deno-smoke",
    timeoutMs: 500,
    retries: 2,
    maxInFlight: 8,
    deadTimeMs: 1000,
    requireMessageAuthenticator: false,
  },
  { clock: realClock, random: cryptoRandom, bind: (local) => bindUdp(local) },
);
let failure: string | undefined;
try {
  const auth = await client.authenticate({
    credentials: { method: "pap", user: "lac@example.net", password: new TextEncoder().encode("x") },
  });
  const passwords = auth.ok
    ? auth.authorization.tunnels?.map((t) => new TextDecoder().decode(t.password))
    : [];
  if (
    JSON.stringify(passwords) !== JSON.stringify(["first-secret", "a-second-tunnel-secret-longer-than-16"])
  ) {
    failure = `PAP with tunnels gave ${JSON.stringify(auth)}`;
  }
  const acct = await client.account({ status: "start", sessionId: "deno-1", user: "alice" });
  if (!acct.ok || !radius.detailRecords().some((r) => r["Acct-Session-Id"]?.[0] === "deno-1")) {
    failure ??= `accounting Start: ${JSON.stringify(acct)}, not in ${radius.detailFile}`;
  }
} finally {
  await client.close();
  await radius.dispose();
}
if (failure) {
  console.error(`radius smoke: ${failure}`);
  process.exit(1);
}
console.log("radius smoke: ok");
