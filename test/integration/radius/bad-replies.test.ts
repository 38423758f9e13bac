/**
 * Bad replies from a scripted RADIUS peer over real UDP: each kind is counted by reason in
 * `stats().badReplies` and dropped, and the good reply that follows is taken. A Message-Authenticator
 * is demanded of replies only when configured.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createSocket, type Socket } from "node:dgram";
import { RadiusClient } from "../../../adapters/aaa/radius.ts";
import { realClock } from "../../../adapters/clock/index.ts";
import { cryptoRandom } from "../../../adapters/random/index.ts";
import { bindUdp } from "../../../adapters/udp/index.ts";
import {
  attribute,
  decodePacket,
  encodeResponse,
  RadiusCode,
  type RadiusPacket,
} from "../../../protocol/radius/index.ts";

const SECRET = new TextEncoder().encode("peer-secret");

function bound(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => resolve(socket));
  });
}

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

/** A peer that answers every request with the datagrams `script` makes, in order, from `from` or itself. */
async function scriptedPeer(script: (request: RadiusPacket) => Array<{ bytes: Uint8Array; from?: Socket }>) {
  const server = await bound();
  const stranger = await bound();
  sockets.push(server, stranger);
  server.on("message", (msg: Uint8Array, rinfo) => {
    const decoded = decodePacket(new Uint8Array(msg));
    if (!decoded.ok) return;
    for (const { bytes, from } of script(decoded.value))
      (from ?? server).send(bytes, rinfo.port, rinfo.address);
  });
  return { port: server.address().port, stranger };
}

function client(port: number, requireMessageAuthenticator: boolean): RadiusClient {
  return new RadiusClient(
    {
      servers: [{ address: "127.0.0.1", authPort: port, acctPort: port, secret: "peer-secret" }],
      nasIdentifier: "nas",
      timeoutMs: 2000,
      retries: 0,
      maxInFlight: 8,
      deadTimeMs: 1000,
      requireMessageAuthenticator,
    },
    { clock: realClock, random: cryptoRandom, bind: (local) => bindUdp(local) },
  );
}

const accept = (
  request: RadiusPacket,
  overrides: { code?: number; identifier?: number; messageAuthenticator?: boolean } = {},
) =>
  encodeResponse(
    {
      code: overrides.code ?? RadiusCode.accessAccept,
      identifier: overrides.identifier ?? request.identifier,
      attributes: [attribute("Framed-IP-Address", "10.9.8.7")],
      messageAuthenticator: overrides.messageAuthenticator ?? false,
    },
    request.authenticator,
    SECRET,
  );

const pap = { credentials: { method: "pap" as const, user: "u", password: new TextEncoder().encode("p") } };

describe("bad replies", () => {
  test("wrong source, unknown code, truncated attribute, unknown Identifier, wrong code, forged authenticator: counted and dropped", async () => {
    let stranger: Socket | undefined;
    const peer = await scriptedPeer((request) => {
      const good = accept(request);
      const forged = good.slice();
      forged[10] ^= 1;
      const truncated = good.slice();
      truncated[21] = 40; // the Framed-IP-Address claims 40 octets
      const unknownCode = good.slice();
      unknownCode[0] = 99;
      return [
        { bytes: good, from: stranger },
        { bytes: unknownCode },
        { bytes: truncated },
        { bytes: accept(request, { identifier: (request.identifier + 1) & 0xff }) },
        { bytes: accept(request, { code: RadiusCode.accountingResponse }) },
        { bytes: forged },
        { bytes: good },
      ];
    });
    stranger = peer.stranger;
    const radius = client(peer.port, false);
    try {
      expect(await radius.authenticate(pap)).toEqual({
        ok: true,
        authorization: { framedIpAddress: "10.9.8.7" },
      });
      expect(radius.stats().badReplies).toEqual({
        "wrong-source": 1,
        "unknown-code": 1,
        malformed: 1,
        "unknown-identifier": 1,
        "unexpected-code": 1,
        authenticator: 1,
      });
    } finally {
      await radius.close();
    }
  });

  test("requireMessageAuthenticator: a reply without one is dropped, one with a valid one is taken", async () => {
    const peer = await scriptedPeer((request) => [
      { bytes: accept(request) },
      { bytes: accept(request, { messageAuthenticator: true }) },
    ]);
    const radius = client(peer.port, true);
    try {
      expect((await radius.authenticate(pap)).ok).toBe(true);
      expect(radius.stats().badReplies).toEqual({ "message-authenticator": 1 });
    } finally {
      await radius.close();
    }
  });

  test("a forged reply alone is never taken: the request times out as unreachable", async () => {
    const peer = await scriptedPeer((request) => {
      const forged = accept(request);
      forged[19] ^= 0x40;
      return [{ bytes: forged }];
    });
    const radius = new RadiusClient(
      {
        servers: [{ address: "127.0.0.1", authPort: peer.port, acctPort: peer.port, secret: "peer-secret" }],
        nasIdentifier: "nas",
        timeoutMs: 100,
        retries: 1,
        maxInFlight: 8,
        deadTimeMs: 1000,
        requireMessageAuthenticator: false,
      },
      { clock: realClock, random: cryptoRandom, bind: (local) => bindUdp(local) },
    );
    try {
      expect(await radius.authenticate(pap)).toMatchObject({ ok: false, reason: "unreachable" });
      expect(radius.stats().badReplies).toEqual({ authenticator: 2 });
    } finally {
      await radius.close();
    }
  });
});
