/**
 * The UDP adapter of Deno (libc over FFI, adapters/udp/deno.ts) over real loopback UDP. Run by
 * deno-ffi.test.ts as `deno run -A test/adapters/udp/deno-ffi-smoke.ts` (a bun:test file cannot run under
 * Deno, docs/ARCHITECTURE.md); prints one JSON line of what it saw, which that test checks, and ends
 * without process.exit: the process exits only if closing the sockets ended their receive loops.
 * With `--no-ffi` (run without --allow-ffi) it reports what bindUdp fell back to.
 */
import process from "node:process";
import type { PeerAddress } from "../../../actors/ports.ts";
import { bindUdp, denoUdpUnavailable } from "../../../adapters/udp/index.ts";
import { collect } from "./send-checks.ts";

/** A datagram of `length` bytes (at least 2) numbered `n`: n in its first two bytes, then n's low byte. */
function numbered(n: number, length = 60): Uint8Array {
  const packet = new Uint8Array(length).fill(n & 0xff);
  packet[0] = n >> 8;
  packet[1] = n & 0xff;
  return packet;
}

/** The numbers of the datagrams received, -1 for one whose bytes are not those sent. */
function numbers(got: { packet: Uint8Array }[]): number[] {
  return got.map(({ packet }) => {
    const n = (packet[0] << 8) | packet[1];
    return packet.every((x, i) => i < 2 || x === (n & 0xff)) ? n : -1;
  });
}

/** How a run of numbers differs from 0…count-1: how many came, and the first place that is wrong. */
function order(received: number[], count: number): { received: number; firstMisplaced: number } {
  const firstMisplaced = received.findIndex((n, i) => n !== i);
  return {
    received: received.length,
    firstMisplaced: received.length < count ? received.length : firstMisplaced,
  };
}

/** What bindUdp said when it failed, or "bound". */
async function bindFailure(local: PeerAddress): Promise<string> {
  try {
    const t = await bindUdp(local);
    await t.close();
    return "bound";
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

if (process.argv.includes("--no-ffi")) {
  const a = await bindUdp({ address: "127.0.0.1", port: 0 });
  const b = await bindUdp({ address: "127.0.0.2", port: 0 });
  const arriving = collect(b, 64);
  for (let n = 0; n < 64; n++) a.send(numbered(n), b.local);
  const burst = order(numbers(await arriving), 64);
  await Promise.all([a.close(), b.close()]);
  process.stdout.write(
    `${JSON.stringify({ implementation: a.implementation, why: denoUdpUnavailable(), burst })}\n`,
  );
} else {
  const a = await bindUdp({ address: "127.0.0.1", port: 0 });
  const b = await bindUdp({ address: "127.0.0.2", port: 0 });

  // Bursts of 2,000 sent in one turn: the receiver takes one batch before the sender is done (its
  // thread waits while the JavaScript thread sends), so the rest must fit in its receive buffer.
  const bursts = [];
  for (let round = 0; round < 3; round++) {
    const arriving = collect(b, 2000);
    for (let n = 0; n < 2000; n++) a.send(numbered(n), b.local);
    const got = await arriving;
    bursts.push({
      ...order(numbers(got), 2000),
      fromA: got.every(({ from }) => from.address === "127.0.0.1" && from.port === a.local.port),
    });
  }

  // Lengths around the send slot (2,048 bytes: a longer datagram leaves alone by sendto), in order.
  const lengths = [2, 60, 2048, 2049, 3000, 60, 9000, 1500, 65507, 2, 60];
  const arrivingLengths = collect(a, lengths.length);
  lengths.forEach((length, n) => {
    b.send(numbered(n, length), a.local);
  });
  const gotLengths = await arrivingLengths;
  const mixed = {
    ...order(numbers(gotLengths), lengths.length),
    lengths: gotLengths.map(({ packet }) => packet.length),
  };

  // Replies made while a received burst is handled leave at its end; the echo comes back whole.
  b.onReceive((packet, from) => b.send(packet, from));
  const echoes = collect(a, 500);
  for (let n = 0; n < 500; n++) a.send(numbered(n), b.local);
  const echo = order(numbers(await echoes), 500);

  // Sends the socket cannot make are counted, never thrown.
  const before = a.stats.sendErrors;
  let threw = false;
  try {
    a.send(numbered(1), { address: "not an address", port: 1701 });
    a.send(numbered(1), { address: "127.0.0.1", port: 70_000 });
    a.send(numbered(1), { address: "127.0.0.1", port: 0 });
    a.send(numbered(1), { address: "::1", port: 1701 });
  } catch {
    threw = true;
  }
  const refused = a.stats.sendErrors - before;

  const inUse = await bindFailure(a.local);
  const notHere = await bindFailure({ address: "192.0.2.1", port: 0 });

  const t0 = performance.now();
  await Promise.all([a.close(), a.close(), b.close()]);
  const closeMs = performance.now() - t0;
  a.send(numbered(1), b.local);
  process.stdout.write(
    `${JSON.stringify({
      implementation: [a.implementation, b.implementation],
      ports: [a.local.port, b.local.port],
      bursts,
      mixed,
      echo,
      threw,
      refused,
      afterClose: a.stats.sendErrors - before - refused,
      inUse,
      notHere,
      closeMs,
      a: a.stats,
      b: b.stats,
    })}\n`,
  );
}
