import { afterEach, describe, expect, test } from "bun:test";
import type { PeerAddress } from "../../../actors/ports.ts";
import {
  bindUdp,
  isBun,
  RECOMMENDED_KERNEL_RECEIVE_BUFFER,
  receiveBufferWarning,
  type UdpTransport,
} from "../../../adapters/udp/index.ts";

const open: UdpTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function bind(address: string, implementation: "bun" | "node"): Promise<UdpTransport> {
  const t = await bindUdp({ address, port: 0 }, { implementation });
  open.push(t);
  return t;
}

function nextDatagrams(t: UdpTransport, n: number): Promise<{ packet: Uint8Array; from: PeerAddress }[]> {
  const got: { packet: Uint8Array; from: PeerAddress }[] = [];
  return new Promise((resolve) => {
    t.onReceive((packet, from) => {
      got.push({ packet, from });
      if (got.length === n) resolve(got);
    });
  });
}

for (const implementation of ["bun", "node"] as const) {
  describe(`bindUdp (${implementation}) on loopback`, () => {
    test("port 0 binds an ephemeral port that local tells", async () => {
      const t = await bind("127.0.0.1", implementation);
      expect(t.local.address).toBe("127.0.0.1");
      expect(t.local.port).toBeGreaterThan(0);
    });

    test("127.0.0.1 ↔ 127.0.0.2: datagrams arrive whole, with the sender's address and port", async () => {
      const a = await bind("127.0.0.1", implementation);
      const b = await bind("127.0.0.2", implementation);
      const atB = nextDatagrams(b, 3);
      for (let i = 0; i < 3; i++) a.send(new Uint8Array([0xc8, 0x02, i, 0xff]), b.local);
      const got = await atB;
      expect(got.map((d) => Array.from(d.packet))).toEqual([
        [0xc8, 0x02, 0, 0xff],
        [0xc8, 0x02, 1, 0xff],
        [0xc8, 0x02, 2, 0xff],
      ]);
      // Each datagram is its own buffer: keeping one is safe after the next arrives.
      expect(got[0].packet).not.toBe(got[1].packet);
      // On Bun a plain Uint8Array, not a Buffer (whose `slice` is a view): the PPP decoders copy what
      // they keep with `slice` rather than give the datagram an ArrayBuffer (protocol/ppp/frame.ts).
      if (isBun()) expect(Buffer.isBuffer(got[0].packet)).toBe(false);
      expect(got[0].from).toEqual({ address: "127.0.0.1", port: a.local.port });
      // The reply goes to the source address and port the datagram came from.
      const atA = nextDatagrams(a, 1);
      b.send(new Uint8Array([9]), got[0].from);
      const [reply] = await atA;
      expect(Array.from(reply.packet)).toEqual([9]);
      expect(reply.from).toEqual({ address: "127.0.0.2", port: b.local.port });
      expect(a.stats.sent).toBe(3);
      expect(b.stats.received).toBe(3);
    });

    // Sender and receiver share one thread, so the whole burst sits in the receive buffer before it is
    // read. Bun.udpSocket cannot raise SO_RCVBUF (default about 208 KiB: some 250 small datagrams);
    // node:dgram raises it to 4 MiB, so it takes a burst of 2000.
    const burst = implementation === "bun" ? 200 : 2000;
    test(`a burst of ${burst} datagrams sent in one turn is received whole and in order`, async () => {
      const a = await bind("127.0.0.1", implementation);
      const b = await bind("127.0.0.1", implementation);
      const atB = nextDatagrams(b, burst);
      for (let i = 0; i < burst; i++) a.send(new Uint8Array(60).fill(i & 0xff), b.local);
      const got = await atB;
      expect(got.map((d) => d.packet[0])).toEqual(Array.from({ length: burst }, (_, i) => i & 0xff));
      expect(a.stats.sendErrors).toBe(0);
    });

    test("a failed send is counted, never thrown; sends after close are counted too", async () => {
      const a = await bind("127.0.0.1", implementation);
      expect(() => a.send(new Uint8Array([1]), { address: "not an address", port: 1701 })).not.toThrow();
      expect(() => a.send(new Uint8Array([1]), { address: "127.0.0.1", port: 70_000 })).not.toThrow();
      // Errors may be reported asynchronously (send callback, batched flush): wait for them, bounded.
      for (let i = 0; i < 200 && a.stats.sendErrors < 2; i++) await new Promise((r) => setTimeout(r, 5));
      expect(a.stats.sendErrors).toBe(2);
      expect(a.stats.sent).toBe(0);
      await a.close();
      await a.close();
      a.send(new Uint8Array([1]), { address: "127.0.0.1", port: 9 });
      expect(a.stats.sendErrors).toBe(3);
    });

    test("binding a port in use fails", async () => {
      const a = await bind("127.0.0.1", implementation);
      await expect(bindUdp(a.local, { implementation })).rejects.toThrow();
    });
  });
}

describe("receiveBufferWarning", () => {
  const noFfi = () => "no FFI permission (--allow-ffi)";
  test("on Deno without FFI, with the usual 208 KiB default: says why, names the sysctl and the value to set", () => {
    const warning = receiveBufferWarning(true, () => 212992, noFfi);
    expect(warning).toContain("node:dgram here (no FFI permission (--allow-ffi))");
    expect(warning).toContain("net.core.rmem_default = 212992");
    expect(warning).toContain(`sysctl -w net.core.rmem_default=${RECOMMENDED_KERNEL_RECEIVE_BUFFER}`);
  });

  test("without FFI and a default it cannot read (Deno reads /proc/sys only with -A): the fallback said all the same", () => {
    const warning = receiveBufferWarning(true, () => undefined, noFfi);
    expect(warning).toContain("node:dgram here (no FFI permission (--allow-ffi))");
    expect(warning).toContain("(net.core.rmem_default):");
  });

  test("nothing to say with FFI (it raises SO_RCVBUF), a large enough default, or off Deno", () => {
    expect(
      receiveBufferWarning(
        true,
        () => 212992,
        () => undefined,
      ),
    ).toBeUndefined();
    expect(receiveBufferWarning(true, () => RECOMMENDED_KERNEL_RECEIVE_BUFFER, noFfi)).toBeUndefined();
    expect(receiveBufferWarning(false, () => 212992, noFfi)).toBeUndefined();
    // Bun sets its own SO_RCVBUF: no warning on the runtime these tests run on.
    expect(receiveBufferWarning()).toBeUndefined();
  });
});
