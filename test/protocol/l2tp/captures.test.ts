import { describe, expect, test } from "bun:test";
import { decodeHeader, peekIds } from "../../../protocol/l2tp/header.ts";
import { type ControlMessage, decodeControl, encodeControl } from "../../../protocol/l2tp/messages.ts";
import { captureFiles, controlPackets, dataPackets, captureSecret as secret } from "./captures.ts";

const ascii = (s: string) => new TextEncoder().encode(s);

function decodeAll(file: string) {
  return controlPackets(file).map((p) => {
    const r = decodeControl(p.payload, { secret, keepOrder: true });
    if (!r.ok) throw new Error(`${file} frame ${p.frame}: ${r.error.field}: ${r.error.reason}`);
    return { ...p, header: r.value.header, message: r.value.message };
  });
}

function find(file: string, type: ControlMessage["type"]): ControlMessage {
  const m = decodeAll(file).find((p) => p.message?.type === type)?.message;
  if (!m) throw new Error(`${file}: no ${type}`);
  return m;
}

describe("xl2tpd captures", () => {
  const files = captureFiles();

  test("there are captures to read", () => {
    expect(files.length).toBeGreaterThanOrEqual(13);
  });

  for (const file of files) {
    test(`${file}: every control packet decodes`, () => {
      const packets = decodeAll(file);
      expect(packets.length).toBeGreaterThan(0);
      expect(packets.some((p) => p.message?.type === "SCCRQ")).toBe(true);
    });
  }

  test("every data message decodes, peekIds agrees, and seq-proxy's carry Length and (from xl2tpd) Ns/Nr", () => {
    let count = 0;
    for (const file of files) {
      for (const p of dataPackets(file)) {
        const r = decodeHeader(p.payload);
        if (!r.ok) throw new Error(`${file} frame ${p.frame}: ${r.error.field}: ${r.error.reason}`);
        const { header } = r.value;
        expect(header.isControl).toBe(false);
        expect(peekIds(p.payload)).toEqual({
          isControl: false,
          tunnelId: header.tunnelId,
          sessionId: header.sessionId,
        });
        // Every data payload is a PPP frame starting with address/control FF 03.
        expect([p.payload[r.value.payloadOffset], p.payload[r.value.payloadOffset + 1]]).toEqual([
          0xff, 0x03,
        ]);
        if (file === "xl2tpd-lns-seq-proxy.pcapng" && !header.isControl) {
          // Both sides send the L bit; xl2tpd adds Ns/Nr (S bit) since the ICCN required sequencing.
          expect(header.length).toBe(true);
          if (header.ns !== undefined) count++;
        }
      }
    }
    expect(count).toBe(3);
  });

  test("xl2tpd-lns-hidden: the ICRQ reveals Assigned Session ID 77 and Calling Number 5551234", () => {
    const icrq = find("xl2tpd-lns-hidden.pcapng", "ICRQ");
    expect(icrq.avps.assignedSessionId).toBe(77);
    expect(icrq.avps.callingNumber).toBe("5551234");
    expect(icrq.hidden).toEqual(["assignedSessionId", "callingNumber"]);
    expect(icrq.avps.randomVector?.length).toBe(16);
  });

  test("xl2tpd-lns-hidden: without the secret the ICRQ fails on the hidden AVP, or shows it undecrypted", () => {
    const packet = controlPackets("xl2tpd-lns-hidden.pcapng").find((p) => p.frame === 5);
    if (!packet) throw new Error("no frame 5");
    const r = decodeControl(packet.payload);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.field).toBe("avp[2] Assigned Session ID (14)");
      expect(r.error.reason).toBe("hidden AVP and no secret configured");
    }
    const shown = decodeControl(packet.payload, { keepHiddenOpaque: true });
    expect(shown.ok && shown.value.message?.opaque?.map((o) => [o.attribute, o.hidden])).toEqual([
      [14, true],
      [22, true],
    ]);
  });

  test("xl2tpd-lac-hidden: the ICRP xl2tpd accepted reveals Assigned Session ID 555", () => {
    expect(find("xl2tpd-lac-hidden.pcapng", "ICRP").avps.assignedSessionId).toBe(555);
  });

  test("xl2tpd-lns-hiddenbit: xl2tpd sends a Random Vector and hides nothing", () => {
    const sccrp = find("xl2tpd-lns-hiddenbit.pcapng", "SCCRP");
    expect(sccrp.avps.randomVector?.length).toBe(16);
    expect(sccrp.hidden).toBeUndefined();
  });

  test("xl2tpd-lns-seq-proxy: the ICCN's proxy AVPs decode to typed values", () => {
    const iccn = find("xl2tpd-lns-seq-proxy.pcapng", "ICCN");
    expect(iccn.avps).toEqual({
      txConnectSpeed: 100000000,
      framingType: { async: false, sync: true },
      sequencingRequired: true,
      initialReceivedLcpConfReq: new Uint8Array([
        1, 4, 5, 0xb4, 3, 4, 0xc0, 0x23, 5, 6, 0xde, 0xad, 0xbe, 0xef,
      ]),
      lastSentLcpConfReq: new Uint8Array([1, 4, 5, 0xb4, 5, 6, 0xca, 0xfe, 0xba, 0xbe]),
      lastReceivedLcpConfReq: new Uint8Array([1, 4, 5, 0xb4, 3, 4, 0xc0, 0x23, 5, 6, 0xde, 0xad, 0xbe, 0xef]),
      proxyAuthenType: 3,
      proxyAuthenName: "alice",
      proxyAuthenId: 1,
      proxyAuthenResponse: ascii("secret"),
    });
  });

  test("xl2tpd-lns-badauth: xl2tpd's StopCCN reads result 2 error 6", () => {
    const stop = find("xl2tpd-lns-badauth.pcapng", "StopCCN");
    expect(stop.avps.resultCode).toEqual({
      result: 2,
      error: 6,
      message: "Invalid challenge authentication",
    });
  });

  test("xl2tpd-lac-badresp: xl2tpd's StopCCN reads result 2 error 6", () => {
    expect(find("xl2tpd-lac-badresp.pcapng", "StopCCN").avps.resultCode).toMatchObject({
      result: 2,
      error: 6,
    });
  });

  test("re-encoding every non-hidden message reproduces its bytes, except where the peer's M bits differ from the RFC's", () => {
    const mBitDifferences: string[] = [];
    let compared = 0;
    for (const file of files) {
      for (const p of decodeAll(file)) {
        if (!p.message || p.message.hidden) continue;
        const again = encodeControl(p.header, p.message);
        compared++;
        expect(again.length).toBe(p.payload.length);
        for (let i = 0; i < again.length; i++) {
          if (again[i] === p.payload[i]) continue;
          // Only the M bit (top bit of an AVP's first byte) may differ; name the AVP it belongs to.
          expect(again[i] ^ p.payload[i]).toBe(0x80);
          const type = (again[i + 4] << 8) | again[i + 5];
          mBitDifferences.push(`${file}#${p.frame} ${p.message.type} type ${type} M=${p.payload[i] >> 7}`);
        }
      }
    }
    expect(compared).toBeGreaterThan(80);
    // The scripted peer sends Bearer Capabilities (4) without the M bit, which RFC 2661 §4.4.3 sets;
    // xl2tpd's own messages all use the RFC's M bits.
    expect(mBitDifferences.every((d) => d.includes("SCCRQ type 4 M=0"))).toBe(true);
    expect(mBitDifferences.map((d) => d.split("#")[0]).sort()).toEqual(
      files.filter((f) => f.startsWith("xl2tpd-lns-")).sort(),
    );
  });

  test("hidden messages re-encoded with their random vector decode to the same values", () => {
    for (const file of ["xl2tpd-lns-hidden.pcapng", "xl2tpd-lac-hidden.pcapng"]) {
      for (const p of decodeAll(file)) {
        if (!p.message?.hidden) continue;
        const again = encodeControl(p.header, p.message, { secret, hide: p.message.hidden });
        const r = decodeControl(again, { secret, keepOrder: true });
        expect(r).toEqual({ ok: true, value: { header: p.header, message: p.message } });
      }
    }
  });
});
