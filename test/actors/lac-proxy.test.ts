/**
 * A LAC's ICCN with proxy authentication (RFC 2661 §4.4.5): the proxied PAP password (Proxy Authen
 * Response, AVP 33) goes hidden (§4.3) whenever the tunnel has a secret, even with no hide list, and the
 * tunnel's other messages are as before (no Random Vector without something to hide).
 */
import { describe, expect, test } from "bun:test";
import type { NodeRuntime } from "../../actors/runtime.ts";
import { LAC, Lab, LNS, lacConfig, lnsConfig } from "./lab.ts";

const PASSWORD = new TextEncoder().encode("pap-Secret-4711");

/** The AVPs of a control packet on the wire: [type, hidden, length] in order (RFC 2661 §3.1, §4.1). */
function rawAvps(packet: Uint8Array): [number, boolean, number][] {
  const flags = packet[0] as number;
  let at = 6 + (flags & 0x40 ? 2 : 0) + (flags & 0x08 ? 4 : 0);
  if (flags & 0x02) at += 2 + (((packet[at] as number) << 8) | (packet[at + 1] as number));
  const out: [number, boolean, number][] = [];
  while (at + 6 <= packet.length) {
    const length = (((packet[at] as number) & 0x03) << 8) | (packet[at + 1] as number);
    if (length < 6) break;
    out.push([
      ((packet[at + 4] as number) << 8) | (packet[at + 5] as number),
      ((packet[at] as number) & 0x40) !== 0,
      length,
    ]);
    at += length;
  }
  return out;
}

describe("LAC: proxy authentication in the ICCN", () => {
  test("a tunnel with a secret hides Proxy Authen Response; the LNS reads the password back; nothing else gains a Random Vector", async () => {
    const lab = new Lab(21);
    const packets: { type: number; avps: [number, boolean, number][] }[] = [];
    lab.net.tap((packet, from) => {
      if (from.address !== LAC.address || ((packet[0] as number) & 0x80) === 0 || packet.length <= 12) return;
      const avps = rawAvps(packet);
      packets.push({
        type: avps[0]?.[0] === 0 ? ((packet[18] as number) << 8) | (packet[19] as number) : -1,
        avps,
      });
    });
    const lac = lab.node(LAC.address, lacConfig());
    lab.node(LNS.address, lnsConfig());
    const o = await lab.until(
      lac.openSession({
        destination: LNS,
        connectAvps: { proxyAuthenType: 3, proxyAuthenName: "carol", proxyAuthenResponse: PASSWORD },
      }),
    );
    expect(o.ok).toBe(true);
    const iccn = packets.find((p) => p.type === 12);
    expect(iccn?.avps.find(([t]) => t === 33)?.slice(0, 2)).toEqual([33, true]);
    expect(iccn?.avps.some(([t]) => t === 36)).toBe(true); // its Random Vector
    const others = packets.filter((p) => p.type !== 12 && p.type !== -1);
    expect(others.length).toBeGreaterThan(1);
    for (const p of others) expect(p.avps.some(([t]) => t === 36)).toBe(false);
    // The decoded ICCN (the lab decodes with the secret) carries the password as sent.
    expect(lab.sent("ICCN")[0]?.message.avps.proxyAuthenResponse).toEqual(PASSWORD);
    // Once sent, the proxy AVPs (the password among them) are kept neither by the call's request nor by
    // the session's context, for the call's life.
    const sessions = [...lac.liveActors()].filter((a) => a.path.session !== undefined);
    expect(sessions).toHaveLength(1);
    const context = sessions[0]?.snapshot.context as { connectAvps?: unknown; wasEstablished: boolean };
    expect(context.wasEstablished).toBe(true);
    expect(context.connectAvps).toBeUndefined();
    // The call's request (the node's own object; no API shows it) lets go of them too.
    const runtime = (lac as unknown as { rt: NodeRuntime }).rt;
    for (const tunnel of runtime.tunnels.values())
      for (const session of tunnel.sessions.values()) expect(session.request?.connectAvps).toBeUndefined();
    await lab.closeAll();
  });

  test("a short password is padded with random bytes to one MD5 block before it is hidden (l2tpns refuses a hidden part under 8 bytes)", async () => {
    const lab = new Lab(22);
    const lengths: number[] = [];
    lab.net.tap((packet, from) => {
      if (from.address !== LAC.address || ((packet[0] as number) & 0x80) === 0 || packet.length <= 12) return;
      for (const [type, hidden, length] of rawAvps(packet)) if (type === 33 && hidden) lengths.push(length);
    });
    const lac = lab.node(LAC.address, lacConfig());
    lab.node(LNS.address, lnsConfig());
    const short = new TextEncoder().encode("pw");
    const o = await lab.until(
      lac.openSession({
        destination: LNS,
        connectAvps: { proxyAuthenType: 3, proxyAuthenName: "carol", proxyAuthenResponse: short },
      }),
    );
    expect(o.ok).toBe(true);
    // The AVP header (6) and the subformat padded to 16: original length (2), "pw" (2), 12 random bytes.
    expect(lengths).toEqual([22]);
    expect(lab.sent("ICCN")[0]?.message.avps.proxyAuthenResponse).toEqual(short);
    await lab.closeAll();
  });
});
