/**
 * Proxy LCP and proxy authentication on the LNS (RFC 2661 §4.4.5), with the LAC side a scripted peer:
 * our LAC places calls whose ICCN carries the proxy AVPs a real LAC would send, and records the PPP
 * frames the LNS sends toward the subscriber.
 */
import { describe, expect, test } from "bun:test";
import type { SessionHandle } from "../../actors/tunnel-actor.ts";
import { LocalAaa } from "../../adapters/aaa/local.ts";
import { PppDisconnectCode } from "../../machines/ppp/disconnect.ts";
import type { Avps } from "../../protocol/l2tp/avps.ts";
import { dataPayloadOffset } from "../../protocol/l2tp/header.ts";
import { chapMd5Response, decodeChap } from "../../protocol/ppp/chap.ts";
import { decodeFrame } from "../../protocol/ppp/frame.ts";
import { decodeLcp, type LcpOption, lcpOptions } from "../../protocol/ppp/lcp.ts";
import { encodeOptions } from "../../protocol/ppp/options.ts";
import { LAC, Lab, LNS, lacConfig, lnsConfig } from "./lab.ts";

const CHAP: LcpOption = { kind: "authProtocol", protocol: 0xc223, algorithm: 5 };
const opts = (...o: LcpOption[]) => encodeOptions(o, lcpOptions);
const challenge = Uint8Array.from({ length: 16 }, (_, i) => i * 7);

/** ICCN proxy AVPs of a subscriber that did CHAP with the LAC (id 42), MRU 1400. */
function proxyAvps(password = "alice-pw", extra: Partial<Avps> = {}): Avps {
  return {
    initialReceivedLcpConfReq: opts({ kind: "mru", value: 1400 }, { kind: "magicNumber", value: 0x2222 }),
    lastSentLcpConfReq: opts(CHAP, { kind: "magicNumber", value: 0x1111 }),
    lastReceivedLcpConfReq: opts({ kind: "mru", value: 1400 }, { kind: "magicNumber", value: 0x2222 }),
    proxyAuthenType: 2,
    proxyAuthenName: "alice",
    proxyAuthenChallenge: challenge,
    proxyAuthenId: 42,
    proxyAuthenResponse: chapMd5Response(42, password, challenge),
    ...extra,
  };
}

function setup(lns: { renegotiateOnMismatch?: boolean; proxyLcp?: "accept" | "renegotiate-always" } = {}) {
  const lab = new Lab(11);
  const frames: { protocol: number; payload: Uint8Array }[] = [];
  const onData = (_s: SessionHandle, packet: Uint8Array) => {
    const f = decodeFrame(packet.subarray(dataPayloadOffset(packet)));
    if (f.ok) frames.push({ protocol: f.value.protocol, payload: f.value.payload.slice() });
  };
  const lac = lab.node(LAC.address, lacConfig(), { deps: { onData } });
  const node = lab.node(
    LNS.address,
    lnsConfig({
      ppp: {
        lns: { authProtocols: ["chap", "pap"], ...lns },
        pools: [{ name: "p", start: "10.3.0.1", end: "10.3.0.9" }],
      },
    }),
    { deps: { aaa: new LocalAaa([{ name: "alice", password: "alice-pw" }]) } },
  );
  return { lab, lac, lns: node, frames };
}

const lcpCodes = (frames: { protocol: number; payload: Uint8Array }[]) =>
  frames
    .filter((f) => f.protocol === 0xc021)
    .map((f) => (decodeLcp(f.payload) as { value: { code: string } }).value.code);

describe("proxy LCP and proxy authentication on the LNS", () => {
  test("accepted: no LCP Configure-Request goes to the client; AAA checks the proxied CHAP; Success carries the proxied ID", async () => {
    const { lab, lac, lns, frames } = setup();
    expect((await lab.until(lac.openSession({ destination: LNS, connectAvps: proxyAvps() }))).ok).toBe(true);
    await lab.run(100);
    expect(lcpCodes(frames)).not.toContain("Configure-Request");
    const chap = frames.filter((f) => f.protocol === 0xc223).map((f) => decodeChap(f.payload));
    expect(chap).toHaveLength(1);
    expect(chap[0]?.ok && chap[0].value).toMatchObject({ code: "Success", id: 42 });
    // IPCP starts at once: the LNS's Configure-Request with its own address.
    expect(frames.some((f) => f.protocol === 0x8021)).toBe(true);
    const session = lns.snapshot().destinations[0].tunnels[0].sessions[0];
    expect(session.ppp).toMatchObject({ proxied: true, lcp: "opened", user: "alice", phase: "network" });
    expect(lns.snapshot().ppp).toMatchObject({ proxyLcp: 1, lcpRenegotiated: 0, authAccepted: 1 });
    await lab.closeAll();
  });

  test("proxied authentication that fails: CHAP Failure with the proxied ID, LCP Terminate-Request, CDN with code 16", async () => {
    const { lab, lac, lns, frames } = setup();
    expect((await lab.until(lac.openSession({ destination: LNS, connectAvps: proxyAvps("wrong") }))).ok).toBe(
      true,
    );
    await lab.run(10_000);
    const chap = frames.filter((f) => f.protocol === 0xc223).map((f) => decodeChap(f.payload));
    expect(chap[0]?.ok && chap[0].value).toMatchObject({ code: "Failure", id: 42 });
    expect(lcpCodes(frames)).toContain("Terminate-Request");
    const cdn = lab.sent("CDN", LNS.address);
    expect(cdn).toHaveLength(1);
    expect(cdn[0].message.avps.pppDisconnectCause?.code).toBe(PppDisconnectCode.authFailed);
    expect(lns.snapshot().ppp?.authRejected).toBe(1);
    await lab.closeAll();
  });

  test("not acceptable (the subscriber asked for an MRRU): LCP is renegotiated with the client", async () => {
    const { lab, lac, lns, frames } = setup();
    const mrru: LcpOption = { kind: "unknown", type: 17, raw: Uint8Array.of(5, 0xdc) };
    const avps = proxyAvps("alice-pw", {
      lastReceivedLcpConfReq: opts({ kind: "magicNumber", value: 0x2222 }, mrru),
    });
    expect((await lab.until(lac.openSession({ destination: LNS, connectAvps: avps }))).ok).toBe(true);
    await lab.run(100);
    expect(lcpCodes(frames)[0]).toBe("Configure-Request");
    expect(lns.snapshot().destinations[0].tunnels[0].sessions[0].ppp).toMatchObject({
      proxied: false,
      phase: "establish",
    });
    expect(lns.snapshot().ppp).toMatchObject({ proxyLcp: 0, lcpRenegotiated: 1 });
    await lab.closeAll();
  });

  test("not acceptable and renegotiation off: CDN with RFC 3145 code 2, no LCP sent", async () => {
    const { lab, lac, frames } = setup({ renegotiateOnMismatch: false });
    const avps = proxyAvps("alice-pw", { proxyAuthenType: 3 }); // PAP named, CHAP negotiated: a mismatch
    expect((await lab.until(lac.openSession({ destination: LNS, connectAvps: avps }))).ok).toBe(true);
    await lab.run(100);
    expect(frames).toHaveLength(0);
    const cdn = lab.sent("CDN", LNS.address);
    expect(cdn).toHaveLength(1);
    expect(cdn[0].message.avps.pppDisconnectCause).toMatchObject({
      code: PppDisconnectCode.renegotiationDisabled,
      protocol: 0xc021,
    });
    await lab.closeAll();
  });

  test("renegotiate-always: a good proxy LCP is ignored and LCP negotiated", async () => {
    const { lab, lac, frames } = setup({ proxyLcp: "renegotiate-always" });
    expect((await lab.until(lac.openSession({ destination: LNS, connectAvps: proxyAvps() }))).ok).toBe(true);
    await lab.run(100);
    expect(lcpCodes(frames)[0]).toBe("Configure-Request");
    await lab.closeAll();
  });

  test("a malformed proxy LCP fails the call with a cause", async () => {
    const { lab, lac } = setup();
    const avps = proxyAvps("alice-pw", { lastSentLcpConfReq: Uint8Array.of(1, 3, 5) });
    const outcome = await lab.until(lac.openSession({ destination: LNS, connectAvps: avps }));
    expect(outcome.ok).toBe(true);
    await lab.run(100);
    const cdn = lab.sent("CDN", LNS.address);
    expect(cdn).toHaveLength(1);
    expect(cdn[0].message.avps.pppDisconnectCause?.message).toContain("malformed proxy LCP");
    await lab.closeAll();
  });
});
