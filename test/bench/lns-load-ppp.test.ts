/**
 * bench/lns-load-ppp, the generator's subscriber PPP, frame by frame: what it sends in answer to what an
 * LNS sends (RFC 1661 LCP, RFC 1334 PAP, RFC 1994 CHAP, RFC 1332 IPCP), its restart timer and the
 * reasons it gives for a failed set-up. Time is given to it explicitly (no clock runs).
 */
import { describe, expect, test } from "bun:test";
import { type PppLink, PppSubscribers, RESTART_MS } from "../../bench/lns-load-ppp.ts";
import { encodeDataHeader } from "../../protocol/l2tp/header.ts";
import {
  ChapAlgorithm,
  chapMd5Response,
  decodeChap,
  decodeFrame,
  decodeIpcp,
  decodeLcp,
  decodePap,
  encodeChap,
  encodeFrame,
  encodeIpcp,
  encodeLcp,
  encodePap,
  type IpcpPacket,
  type LcpPacket,
  PppProtocol,
} from "../../protocol/ppp/index.ts";

const peer = { address: "127.0.0.1", port: 1701 };
const LNS_MAGIC = 0x11223344;

function harness(auth: "pap" | "chap") {
  const sent: Uint8Array[] = [];
  const settled: PppLink[] = [];
  const subscribers = new PppSubscribers(
    { auth, user: "user0", password: "pw-0-secret" },
    (packet) => sent.push(packet.slice()),
    (link) => settled.push(link),
    () => {},
  );
  const link = subscribers.start(peer, 7, 9, 0);
  /** Hands the link a frame as the LNS sends it: a data message of its call. */
  const receive = (protocol: number, packet: Uint8Array, now = 0) =>
    subscribers.receive(
      link,
      encodeDataHeader({ tunnelId: 1, sessionId: 1 }, encodeFrame({ protocol, payload: packet })),
      6,
      now,
    );
  /** The frames sent since the last call, as protocol and packet. */
  const take = () =>
    sent.splice(0).map((datagram) => {
      // Every data message names the LNS's tunnel and session (RFC 2661 §3.1).
      expect([datagram[2] * 256 + datagram[3], datagram[4] * 256 + datagram[5]]).toEqual([7, 9]);
      const frame = decodeFrame(datagram, 6);
      if (!frame.ok) throw new Error(frame.error.reason);
      expect(frame.value.addressControl).toBe(true);
      return { protocol: frame.value.protocol, packet: frame.value.payload };
    });
  const lcp = (bytes: Uint8Array): LcpPacket => {
    const decoded = decodeLcp(bytes);
    if (!decoded.ok) throw new Error(decoded.error.reason);
    return decoded.value;
  };
  const ipcp = (bytes: Uint8Array): IpcpPacket => {
    const decoded = decodeIpcp(bytes);
    if (!decoded.ok) throw new Error(decoded.error.reason);
    return decoded.value;
  };
  return { subscribers, link, settled, receive, take, lcp, ipcp };
}

/** The LNS's LCP Configure-Request asking `auth` (as our LNS asks it). */
function lnsLcpRequest(id: number, auth: "pap" | "chap") {
  return encodeLcp({
    code: "Configure-Request",
    id,
    options: [
      auth === "pap"
        ? { kind: "authProtocol", protocol: PppProtocol.PAP }
        : { kind: "authProtocol", protocol: PppProtocol.CHAP, algorithm: ChapAlgorithm.MD5 },
      { kind: "magicNumber", value: LNS_MAGIC },
    ],
  });
}

/** LCP up both ways: the LNS's request Acked, ours Acked by it. */
function openLcp(h: ReturnType<typeof harness>, auth: "pap" | "chap") {
  const [ours] = h.take();
  h.receive(PppProtocol.LCP, lnsLcpRequest(1, auth));
  // The LNS's Ack: our request with its Code changed (RFC 1661 §5.2).
  const ack = ours.packet.slice();
  ack[0] = 2;
  h.receive(PppProtocol.LCP, ack);
}

describe("bench/lns-load-ppp: the subscriber's side", () => {
  test("it asks MRU and a magic number of its own, and Acks the LNS's request byte for byte", () => {
    const h = harness("pap");
    const [first] = h.take();
    expect(first.protocol).toBe(PppProtocol.LCP);
    const request = h.lcp(first.packet);
    expect(request).toMatchObject({ code: "Configure-Request", id: 1 });
    const options = (request as { options: { kind: string; value?: number }[] }).options;
    expect(options.map((o) => o.kind)).toEqual(["mru", "magicNumber"]);
    expect(options[0].value).toBe(1500);
    expect(options[1].value).not.toBe(0);
    expect(h.link.magic).toBe(options[1].value as number);

    const theirs = lnsLcpRequest(42, "pap");
    h.receive(PppProtocol.LCP, theirs);
    const [ack] = h.take();
    expect(ack.protocol).toBe(PppProtocol.LCP);
    expect([...ack.packet]).toEqual([2, ...theirs.subarray(1)]);
  });

  test("an authentication protocol it was not told to use is Nak'd with its own; an unknown option Rejected", () => {
    const h = harness("pap");
    h.take();
    h.receive(PppProtocol.LCP, lnsLcpRequest(3, "chap"));
    expect(h.lcp(h.take()[0].packet)).toEqual({
      code: "Configure-Nak",
      id: 3,
      options: [{ kind: "authProtocol", protocol: PppProtocol.PAP }],
    });
    const withUnknown = encodeLcp({
      code: "Configure-Request",
      id: 4,
      options: [
        { kind: "authProtocol", protocol: PppProtocol.PAP },
        { kind: "unknown", type: 0x42, raw: Uint8Array.of(1, 2) },
      ],
    });
    h.receive(PppProtocol.LCP, withUnknown);
    const reject = h.lcp(h.take()[0].packet);
    expect(reject).toMatchObject({ code: "Configure-Reject", id: 4 });
    expect((reject as { options: unknown[] }).options).toEqual([
      { kind: "unknown", type: 0x42, raw: Uint8Array.of(1, 2) },
    ]);
    expect(h.link.phase).toBe("lcp");
  });

  test("a full PAP set-up: the request, then IPCP 0.0.0.0, the Nak'd address asked, up when both requests are Acked", () => {
    const h = harness("pap");
    openLcp(h, "pap");
    const [lcpAck, papRequest] = h.take();
    expect(h.lcp(lcpAck.packet).code).toBe("Configure-Ack");
    expect(papRequest.protocol).toBe(PppProtocol.PAP);
    const pap = decodePap(papRequest.packet);
    expect(pap.ok && pap.value).toMatchObject({ code: "Authenticate-Request", id: 1 });
    if (!pap.ok || pap.value.code !== "Authenticate-Request") throw new Error("not a PAP request");
    expect(new TextDecoder().decode(pap.value.peerId)).toBe("user0");
    expect(new TextDecoder().decode(pap.value.password)).toBe("pw-0-secret");

    h.receive(PppProtocol.PAP, encodePap({ code: "Authenticate-Ack", id: 1, message: new Uint8Array(0) }));
    const [ipcpRequest] = h.take();
    expect(ipcpRequest.protocol).toBe(PppProtocol.IPCP);
    expect(h.ipcp(ipcpRequest.packet)).toEqual({
      code: "Configure-Request",
      id: 1,
      options: [{ kind: "ipAddress", address: "0.0.0.0" }],
    });
    h.receive(
      PppProtocol.IPCP,
      encodeIpcp({ code: "Configure-Nak", id: 1, options: [{ kind: "ipAddress", address: "10.64.0.9" }] }),
    );
    expect(h.ipcp(h.take()[0].packet)).toEqual({
      code: "Configure-Request",
      id: 2,
      options: [{ kind: "ipAddress", address: "10.64.0.9" }],
    });
    const theirs = encodeIpcp({
      code: "Configure-Request",
      id: 1,
      options: [{ kind: "ipAddress", address: "10.0.0.1" }],
    });
    h.receive(PppProtocol.IPCP, theirs);
    expect([...h.take()[0].packet]).toEqual([2, ...theirs.subarray(1)]);
    expect(h.settled).toEqual([]);
    h.receive(
      PppProtocol.IPCP,
      encodeIpcp({ code: "Configure-Ack", id: 2, options: [{ kind: "ipAddress", address: "10.64.0.9" }] }),
    );
    expect(h.link.phase).toBe("up");
    expect(h.settled).toEqual([h.link]);
    expect(h.subscribers.counts.up).toBe(1);
  });

  test("CHAP: the Challenge is answered with MD5 over its identifier, the password and its value; Failure is 'auth failed'", () => {
    const h = harness("chap");
    openLcp(h, "chap");
    h.take();
    const value = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
    h.receive(
      PppProtocol.CHAP,
      encodeChap({ code: "Challenge", id: 77, value, name: new TextEncoder().encode("lns") }),
    );
    const [response] = h.take();
    expect(response.protocol).toBe(PppProtocol.CHAP);
    const chap = decodeChap(response.packet);
    if (!chap.ok || chap.value.code !== "Response") throw new Error("not a CHAP response");
    expect(chap.value.id).toBe(77);
    expect([...chap.value.value]).toEqual([...chapMd5Response(77, "pw-0-secret", value)]);
    expect(new TextDecoder().decode(chap.value.name)).toBe("user0");

    h.receive(PppProtocol.CHAP, encodeChap({ code: "Failure", id: 77, message: new Uint8Array(0) }));
    expect(h.link.phase).toBe("failed");
    expect(h.subscribers.failures).toEqual({ "auth failed": 1 });
    expect(h.settled).toEqual([h.link]);
  });

  test("a request unanswered for 3 s is sent again, the same; after Max-Configure (10) tries the set-up fails: 'timeout in lcp'", () => {
    const h = harness("pap");
    const [first] = h.take();
    h.subscribers.restart(RESTART_MS - 1);
    expect(h.take()).toEqual([]);
    h.subscribers.restart(RESTART_MS);
    const [again] = h.take();
    expect([...again.packet]).toEqual([...first.packet]);
    expect(h.subscribers.counts.resends).toBe(1);
    for (let k = 2; k <= 10; k++) h.subscribers.restart(k * RESTART_MS);
    expect(h.subscribers.counts.resends).toBe(9);
    expect(h.subscribers.failures).toEqual({ "timeout in lcp": 1 });
    expect(h.settled).toEqual([h.link]);
    // An answered request is not sent again.
    const answered = harness("pap");
    openLcp(answered, "pap");
    answered.take();
    answered.subscribers.restart(RESTART_MS);
    // The PAP request (sent at 0) is the one waiting now: resent once, nothing of LCP.
    expect(answered.take().map((f) => f.protocol)).toEqual([PppProtocol.PAP]);
  });

  test("IPCP Nak'd over and over fails as 'IPCP Nak loop'", () => {
    const h = harness("pap");
    openLcp(h, "pap");
    h.receive(PppProtocol.PAP, encodePap({ code: "Authenticate-Ack", id: 1, message: new Uint8Array(0) }));
    for (let k = 0; k < 10 && h.link.phase === "ipcp"; k++) {
      h.receive(
        PppProtocol.IPCP,
        encodeIpcp({
          code: "Configure-Nak",
          id: h.link.requestId,
          options: [{ kind: "ipAddress", address: `10.64.0.${k + 1}` }],
        }),
      );
    }
    expect(h.subscribers.failures).toEqual({ "IPCP Nak loop": 1 });
  });
});
