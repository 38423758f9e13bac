import { describe, expect, test } from "bun:test";
import { cause } from "../../machines/common.ts";
import { type TunnelInput, tunnelMachine } from "../../machines/tunnel.ts";
import type { ControlMessage } from "../../protocol/l2tp/messages.ts";
import { drive } from "./harness.ts";

const path = { system: "n", destination: "127.0.0.2:1701", tunnel: 1 };

/** An initiator tunnel brought to established by hand (no secret: no challenge). */
function established(stopHoldMs: number) {
  const d = drive(tunnelMachine, {
    path,
    role: "initiator",
    localTunnelId: 1111,
    hostName: "lac.test",
    receiveWindow: 16,
    stopHoldMs,
  } satisfies TunnelInput);
  d.actor.send({ type: "open" });
  d.actor.send({
    type: "rx.SCCRP",
    message: { type: "SCCRP", avps: { assignedTunnelId: 2222, hostName: "lns.test" } } as ControlMessage,
  });
  expect(d.state()).toBe("established");
  return d;
}

describe("tunnel machine: the hold after our StopCCN (RFC 2661 §5.7)", () => {
  test("the hold counts from the StopCCN's transmission: a StopCCN still waiting for the window keeps the tunnel", () => {
    const d = established(1000);
    d.actor.send({ type: "close", cause: cause("admin", "operator") });
    expect(d.state()).toBe("closing.stop-sent");
    // Queued behind a full window for longer than the hold: the tunnel waits.
    d.clock.advance(5000);
    expect(d.state()).toBe("closing.stop-sent");
    d.actor.send({ type: "stopTransmitted" });
    d.clock.advance(999);
    expect(d.actor.getSnapshot().status).toBe("active");
    d.clock.advance(1);
    expect(d.actor.getSnapshot().status).toBe("done");
    expect(d.actor.getSnapshot().output).toMatchObject({ cause: { reason: "admin" }, wasEstablished: true });
  });

  test("the ack of the StopCCN (drained) ends the hold at once and leaves no timer", () => {
    const d = established(1000);
    d.actor.send({ type: "close", cause: cause("admin", "operator") });
    d.actor.send({ type: "stopTransmitted" });
    expect(d.clock.pending).toBe(1);
    d.actor.send({ type: "drained" });
    expect(d.actor.getSnapshot().status).toBe("done");
    expect(d.clock.pending).toBe(0);
  });
});
