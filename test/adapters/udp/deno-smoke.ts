/**
 * Smoke test of the UDP adapter under Deno (CI runs `deno run -A test/adapters/udp/deno-smoke.ts`; a
 * Deno run of bun:test files proves nothing, docs/ARCHITECTURE.md): binds two transports on loopback, sends one
 * datagram, exits 0 when it arrives intact, 1 after 2 s without it.
 */
import process from "node:process";
import { bindUdp } from "../../../adapters/udp/index.ts";

const a = await bindUdp({ address: "127.0.0.1", port: 0 });
const b = await bindUdp({ address: "127.0.0.2", port: 0 });
const payload = new Uint8Array([0xc8, 0x02, 0x00, 0x0c, 0, 1, 0, 0, 0, 0, 0, 0]);

const timer = setTimeout(() => {
  console.error(`udp smoke: no datagram from ${a.local.address}:${a.local.port} within 2 s`);
  process.exit(1);
}, 2000);

b.onReceive(async (packet, from) => {
  const intact = packet.length === payload.length && packet.every((x, i) => x === payload[i]);
  const fromA = from.address === a.local.address && from.port === a.local.port;
  clearTimeout(timer);
  await Promise.all([a.close(), b.close()]);
  if (!intact || !fromA) {
    console.error(`udp smoke: wrong datagram ${Array.from(packet)} from ${from.address}:${from.port}`);
    process.exit(1);
  }
  console.log(
    `udp smoke: ${packet.length} bytes ${from.address}:${from.port} → ${b.local.address}:${b.local.port}`,
  );
  process.exit(0);
});
a.send(payload, b.local);
