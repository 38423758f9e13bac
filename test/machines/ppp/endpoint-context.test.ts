/**
 * The endpoint's step copies its context field by field (`copyContext`) and tells a change field by
 * field (`contextChanged`), and copies an automaton's record only when it writes it: a field added to
 * PppContext and forgotten in either would be lost or never recorded, and a record written in place
 * would change the snapshot before it (the event log diffs snapshots by reference).
 */
import { describe, expect, test } from "bun:test";
import {
  contextChanged,
  copyContext,
  PPP_DEFAULTS,
  type PppContext,
  type PppEffect,
  type PppSettings,
  pppStart,
  pppStep,
  SETTINGS,
} from "../../../machines/ppp/endpoint.ts";
import { encodeLcp } from "../../../protocol/ppp/lcp.ts";
import { PppProtocol } from "../../../protocol/ppp/numbers.ts";

const lacServer: PppSettings = {
  ...PPP_DEFAULTS,
  role: "server",
  hostName: "lac",
  lac: true,
  ipv6: true,
};
const path = { system: "t", ppp: true as const };

/** A context with every field present, the LAC-only ones too (a LAC's server that heard a request). */
function fullContext(): PppContext {
  const out: PppEffect[] = [];
  const c = pppStart(
    {
      path,
      settings: lacServer,
      magic: 0x1234,
      interfaceId: "0011223344556677",
      challenge: new Uint8Array(16),
    },
    out,
  );
  const request = encodeLcp({
    code: "Configure-Request",
    id: 1,
    options: [{ kind: "magicNumber", value: 9 }],
  });
  return pppStep(c, { type: "frame", protocol: PppProtocol.LCP, payload: request }, out);
}

function keysOf(c: object): (string | symbol)[] {
  return Reflect.ownKeys(c);
}

describe("the endpoint's context copy", () => {
  test("copyContext copies every field, the settings' symbol and the LAC's optional fields too", () => {
    const c = fullContext();
    expect(c.lcpLastReceived).toBeDefined();
    const copy = copyContext(c);
    expect(new Set(keysOf(copy))).toEqual(new Set(keysOf(c)));
    for (const key of keysOf(c)) expect((copy as never)[key]).toBe((c as never)[key]);
    expect(copy[SETTINGS]).toBe(lacServer);
  });

  test("copyContext leaves out the LAC's optional fields when the context has none", () => {
    const out: PppEffect[] = [];
    const c = pppStart({ path, settings: { ...lacServer, lac: false }, magic: 7 }, out);
    expect(keysOf(copyContext(c))).toEqual(keysOf(c));
  });

  test("contextChanged sees a change of any one field", () => {
    const c = fullContext();
    expect(contextChanged(copyContext(c), c)).toBe(false);
    for (const key of keysOf(c)) {
      const changed = copyContext(c) as unknown as Record<string | symbol, unknown>;
      changed[key] = { another: key };
      expect([key, contextChanged(changed as unknown as PppContext, c)]).toEqual([key, true]);
    }
  });

  test("a step leaves the context before it as it was, automata records included", () => {
    const c = fullContext();
    const frozen = JSON.stringify({ ...c, lcpNcp: { ...c.lcpNcp }, ipcpNcp: { ...c.ipcpNcp } });
    const lcpNcp = c.lcpNcp;
    const ack = encodeLcp({
      code: "Configure-Ack",
      id: c.lcpNcp.id,
      options: [{ kind: "magicNumber", value: c.localMagic }],
    });
    const next = pppStep(c, { type: "frame", protocol: PppProtocol.LCP, payload: ack }, []);
    expect(next).not.toBe(c);
    expect(next.lcpNcp).not.toBe(lcpNcp);
    expect(JSON.stringify({ ...c, lcpNcp: { ...c.lcpNcp }, ipcpNcp: { ...c.ipcpNcp } })).toBe(frozen);
    // IPCP did not move: its record is the same object as before (the event log records no change).
    expect(next.ipcpNcp).toBe(c.ipcpNcp);
  });

  test("a step that changes nothing returns the same context", () => {
    const c = fullContext();
    const reply = encodeLcp({ code: "Echo-Reply", id: 1, magic: 9, data: new Uint8Array(0) });
    expect(pppStep(c, { type: "frame", protocol: PppProtocol.LCP, payload: reply }, [])).toBe(c);
    const staleAck = encodeLcp({ code: "Configure-Ack", id: (c.lcpNcp.id + 5) & 0xff, options: [] });
    expect(pppStep(c, { type: "frame", protocol: PppProtocol.LCP, payload: staleAck }, [])).toBe(c);
  });
});
