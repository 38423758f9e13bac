/** Proxy LCP acceptance (machines/ppp/proxy-lcp.ts): one test per rule. */
import { describe, expect, test } from "bun:test";
import { judgeProxyLcp, type ProxyLcpPolicy } from "../../../machines/ppp/proxy-lcp.ts";
import type { Avps } from "../../../protocol/l2tp/avps.ts";
import { type LcpOption, lcpOptions } from "../../../protocol/ppp/lcp.ts";
import { encodeOptions } from "../../../protocol/ppp/options.ts";

const POLICY: ProxyLcpPolicy = { minMru: 576, maxMru: 1460, authProtocols: ["chap", "pap"] };
const CHAP: LcpOption = { kind: "authProtocol", protocol: 0xc223, algorithm: 5 };
const PAP: LcpOption = { kind: "authProtocol", protocol: 0xc023 };

function opts(...options: LcpOption[]): Uint8Array {
  return encodeOptions(options, lcpOptions);
}

/** A proxy LCP the LNS takes: LAC asked CHAP-MD5, magic 1; subscriber MRU 1400, magic 2. */
function proxy(extra: Partial<Avps> = {}): Avps {
  return {
    initialReceivedLcpConfReq: opts({ kind: "mru", value: 1400 }, { kind: "magicNumber", value: 2 }),
    lastSentLcpConfReq: opts(CHAP, { kind: "magicNumber", value: 1 }),
    lastReceivedLcpConfReq: opts(
      { kind: "mru", value: 1400 },
      { kind: "magicNumber", value: 2 },
      { kind: "pfc" },
      { kind: "acfc" },
    ),
    proxyAuthenType: 2,
    ...extra,
  };
}

describe("proxy LCP acceptance", () => {
  test("acceptable: the LAC's side becomes ours, the subscriber's is the peer's", () => {
    expect(judgeProxyLcp(proxy(), POLICY)).toEqual({
      kind: "acceptable",
      local: { magic: 1, mru: 1500, pfc: false, acfc: false },
      peer: { magic: 2, mru: 1400, pfc: true, acfc: true },
      auth: "chap",
    });
  });

  test("present only when Last Sent CONFREQ is", () => {
    expect(judgeProxyLcp({ proxyAuthenType: 2 }, POLICY)).toEqual({ kind: "absent" });
    expect(judgeProxyLcp({ lastReceivedLcpConfReq: opts() }, POLICY)).toEqual({ kind: "absent" });
  });

  test("both option lists must parse with correct option lengths", () => {
    const bad = Uint8Array.of(1, 3, 5); // MRU with length 3
    expect(judgeProxyLcp(proxy({ lastSentLcpConfReq: bad }), POLICY).kind).toBe("malformed");
    expect(judgeProxyLcp(proxy({ lastReceivedLcpConfReq: bad }), POLICY).kind).toBe("malformed");
    expect(judgeProxyLcp(proxy({ lastReceivedLcpConfReq: Uint8Array.of(5, 9, 0) }), POLICY).kind).toBe(
      "malformed",
    );
    const { lastReceivedLcpConfReq: _, ...noReceived } = proxy();
    expect(judgeProxyLcp(noReceived, POLICY).kind).toBe("malformed");
  });

  test("only MRU, ACCM, Auth-Protocol, Magic-Number, PFC and ACFC are taken over", () => {
    const mrru: LcpOption = { kind: "unknown", type: 17, raw: Uint8Array.of(5, 0xdc) };
    const callback: LcpOption = { kind: "unknown", type: 13, raw: Uint8Array.of(6) };
    const discriminator: LcpOption = { kind: "unknown", type: 19, raw: Uint8Array.of(0) };
    for (const odd of [mrru, callback, discriminator]) {
      expect(
        judgeProxyLcp(proxy({ lastReceivedLcpConfReq: opts({ kind: "magicNumber", value: 2 }, odd) }), POLICY)
          .kind,
      ).toBe("unacceptable");
      expect(judgeProxyLcp(proxy({ lastSentLcpConfReq: opts(CHAP, odd) }), POLICY).kind).toBe("unacceptable");
    }
    const withAccm = opts(
      { kind: "mru", value: 1400 },
      { kind: "accm", value: 0 },
      { kind: "magicNumber", value: 2 },
    );
    expect(judgeProxyLcp(proxy({ lastReceivedLcpConfReq: withAccm }), POLICY).kind).toBe("acceptable");
  });

  test("the subscriber's MRU must be at least the minimum and fit the path (1500 when not negotiated)", () => {
    const mru = (value: number) => opts({ kind: "mru", value }, { kind: "magicNumber", value: 2 });
    expect(judgeProxyLcp(proxy({ lastReceivedLcpConfReq: mru(575) }), POLICY).kind).toBe("unacceptable");
    expect(judgeProxyLcp(proxy({ lastReceivedLcpConfReq: mru(576) }), POLICY).kind).toBe("acceptable");
    expect(judgeProxyLcp(proxy({ lastReceivedLcpConfReq: mru(1460) }), POLICY).kind).toBe("acceptable");
    expect(judgeProxyLcp(proxy({ lastReceivedLcpConfReq: mru(1461) }), POLICY).kind).toBe("unacceptable");
    const noMru = opts({ kind: "magicNumber", value: 2 });
    expect(judgeProxyLcp(proxy({ lastReceivedLcpConfReq: noMru }), POLICY).kind).toBe("unacceptable");
    expect(judgeProxyLcp(proxy({ lastReceivedLcpConfReq: noMru }), { ...POLICY, maxMru: 1500 }).kind).toBe(
      "acceptable",
    );
  });

  test("the two magic numbers must differ", () => {
    const same = opts({ kind: "mru", value: 1400 }, { kind: "magicNumber", value: 1 });
    const verdict = judgeProxyLcp(proxy({ lastReceivedLcpConfReq: same }), POLICY);
    expect(verdict).toMatchObject({ kind: "unacceptable", reason: "the two magic numbers are equal" });
  });

  test("ACCM is ignored", () => {
    const odd = opts(
      { kind: "mru", value: 1400 },
      { kind: "accm", value: 0xffffffff },
      { kind: "magicNumber", value: 2 },
    );
    expect(judgeProxyLcp(proxy({ lastReceivedLcpConfReq: odd }), POLICY).kind).toBe("acceptable");
  });

  test("the Auth-Protocol in Last Sent must be one this LNS allows", () => {
    const msChap = opts(
      { kind: "authProtocol", protocol: 0xc223, algorithm: 0x80 },
      { kind: "magicNumber", value: 1 },
    );
    expect(judgeProxyLcp(proxy({ lastSentLcpConfReq: msChap, proxyAuthenType: 5 }), POLICY).kind).toBe(
      "unacceptable",
    );
    expect(judgeProxyLcp(proxy(), { ...POLICY, authProtocols: ["pap"] }).kind).toBe("unacceptable");
    const none = opts({ kind: "magicNumber", value: 1 });
    expect(judgeProxyLcp(proxy({ lastSentLcpConfReq: none, proxyAuthenType: 4 }), POLICY).kind).toBe(
      "unacceptable",
    );
    expect(
      judgeProxyLcp(proxy({ lastSentLcpConfReq: none, proxyAuthenType: 4 }), { ...POLICY, authProtocols: [] })
        .kind,
    ).toBe("acceptable");
  });

  test("and it must match the Proxy Authen Type", () => {
    expect(judgeProxyLcp(proxy({ proxyAuthenType: 3 }), POLICY).kind).toBe("unacceptable");
    const pap = opts(PAP, { kind: "magicNumber", value: 1 });
    expect(judgeProxyLcp(proxy({ lastSentLcpConfReq: pap, proxyAuthenType: 3 }), POLICY)).toMatchObject({
      kind: "acceptable",
      auth: "pap",
    });
    expect(judgeProxyLcp(proxy({ lastSentLcpConfReq: pap, proxyAuthenType: 2 }), POLICY).kind).toBe(
      "unacceptable",
    );
  });
});
