/**
 * A flood of SCCRQs from peers no profile names by address (issue 12 item 3), on the simulated network:
 * the node decodes a share of them per turn of the event loop and lets the rest wait, so that the
 * messages of established tunnels read in the same burst go first; a peer whose half-open tunnel
 * counts against a limit still reaches that tunnel with a retransmitted SCCRQ (the refusal made from the
 * header alone is only for peers the node holds nothing for).
 */
import { describe, expect, test } from "bun:test";
import { decodeControl, encodeControl } from "../../protocol/l2tp/messages.ts";
import { LAC, Lab, LNS, lacConfig, lnsConfig } from "./lab.ts";

/** An SCCRQ as a flooder sends it: the host name and a challenge the LNS asks for, never completed. */
function sccrq(assignedTunnelId: number, ns = 0): Uint8Array {
  return encodeControl(
    { tunnelId: 0, sessionId: 0, ns, nr: 0 },
    {
      type: "SCCRQ",
      avps: {
        protocolVersion: { version: 1, revision: 0 },
        hostName: "lac.test",
        framingCapabilities: { sync: true, async: true },
        assignedTunnelId,
        challenge: new Uint8Array(16).fill(assignedTunnelId & 0xff),
      },
    },
  ).slice();
}

describe("a flood of SCCRQs from unnamed peers", () => {
  test("waits its turn: a data message of an established call read in the same burst goes before most of it", async () => {
    const lab = new Lab(3);
    // Every datagram takes the same 1 ms, so those sent at one instant arrive at one instant, in order.
    lab.net.setDefaultLink({ delayMs: 1 });
    const lac = lab.node(LAC.address, lacConfig());
    // When the LNS hands the data on, how many of the flood's tunnels it has made, and how many wait.
    const halfOpenAtData: number[] = [];
    const waitingAtData: number[] = [];
    const lns = lab.node(LNS.address, lnsConfig({ maxHalfOpenTunnels: 1000, maxHalfOpenPerAddress: 1000 }), {
      deps: {
        onData: () => {
          const { registries } = lns.snapshot({ sessions: false });
          halfOpenAtData.push(registries.halfOpenTunnels);
          waitingAtData.push(registries.waitingSccrqs);
        },
      },
    });
    const call = await lab.until(lac.openSession({ destination: LNS }));
    if (!call.ok) throw new Error(call.cause.message);

    const flooders = Array.from({ length: 100 }, () => lab.net.bind("127.0.0.9"));
    flooders.forEach((socket, i) => {
      socket.send(sccrq(i + 1), LNS);
    });
    expect(lac.sendData(call.tunnelId, call.sessionId, new Uint8Array([0xff, 0x03, 0xc0, 0x21]))).toBe(true);
    await lab.run(50);

    // 16 SCCRQs decoded in the turn that read the burst, then the data, then the rest in later turns.
    expect(halfOpenAtData).toEqual([16]);
    expect(waitingAtData).toEqual([84]);
    const after = lns.snapshot({ sessions: false }).registries;
    expect(after.halfOpenTunnels).toBe(100);
    expect(after.waitingSccrqs).toBe(0);
    await lab.closeAll();
  });

  test("a peer at its address's limit retransmitting its SCCRQ reaches its half-open tunnel; another port of the address is refused", async () => {
    const lab = new Lab(5);
    const lns = lab.node(LNS.address, lnsConfig({ maxHalfOpenPerAddress: 1 }));
    const heard: { port: number; type: string; error?: number }[] = [];
    const peer = lab.net.bind("127.0.0.9");
    const other = lab.net.bind("127.0.0.9");
    for (const socket of [peer, other]) {
      socket.onReceive((packet) => {
        const d = decodeControl(packet);
        const m = d.ok ? d.value.message : null;
        if (m) heard.push({ port: socket.local.port, type: m.type, error: m.avps.resultCode?.error });
      });
    }
    peer.send(sccrq(7), LNS);
    await lab.run(20);
    // The address is at its limit: the same SCCRQ again (a retransmission) goes to the tunnel it made,
    // which acknowledges it; an SCCRQ from another port of the address is refused unread with 2/4.
    peer.send(sccrq(7), LNS);
    other.send(sccrq(8), LNS);
    await lab.run(20);
    expect(heard.filter((h) => h.port === peer.local.port).map((h) => h.type)).toEqual(["SCCRP"]);
    expect(heard.filter((h) => h.port === other.local.port)).toEqual([
      { port: other.local.port, type: "StopCCN", error: 4 },
    ]);
    const n = lns.snapshot({ sessions: false });
    expect(n.registries.halfOpenTunnels).toBe(1);
    expect(n.stats.halfOpenRefused).toBe(1);
    expect(n.destinations.map((d) => d.key)).toEqual([`127.0.0.9:${peer.local.port}`]);
    await lab.closeAll();
  });
});
