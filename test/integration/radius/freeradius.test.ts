/**
 * The FreeRADIUS harness on its own, checked with FreeRADIUS's own client tools (radclient from
 * freeradius-utils), so that a fault in the harness is not mistaken for one of our RADIUS client.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { type FreeRadius, startFreeRadius, usersFileText } from "./freeradius.ts";

/** Runs radclient with `attributes` on stdin; resolves with its stdout. */
function radclient(port: number, kind: "auth" | "acct", secret: string, attributes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("radclient", ["-x", "-r", "1", "-t", "2", `127.0.0.1:${port}`, kind, secret]);
    let out = "";
    child.stdout.on("data", (c: Uint8Array) => {
      out += new TextDecoder().decode(c);
    });
    child.stderr.on("data", (c: Uint8Array) => {
      out += new TextDecoder().decode(c);
    });
    child.once("error", reject);
    child.once("exit", () => resolve(out));
    child.stdin.end(attributes);
  });
}

describe("startFreeRadius", () => {
  let radius: FreeRadius;
  beforeAll(async () => {
    radius = await startFreeRadius({
      users: [
        {
          name: "alice",
          password: "pw",
          reply: [
            ["Framed-IP-Address", "10.0.0.5"],
            ["Class", "0x01ff"],
          ],
        },
      ],
    });
  });
  afterAll(async () => {
    await radius?.dispose();
  });

  test("writes a users file FreeRADIUS reads: quoted strings, bare numbers and octets, tagged names", () => {
    expect(
      usersFileText([
        {
          name: 'a"b',
          password: "p\\w",
          reply: [
            ["Tunnel-Type:1", "L2TP"],
            ["Session-Timeout", 60],
          ],
        },
      ]),
    ).toBe('"a\\"b"\tCleartext-Password := "p\\\\w"\n\tTunnel-Type:1 = "L2TP",\n\tSession-Timeout = 60\n');
  });

  test("accepts the configured user and replies with its items; rejects a wrong password", async () => {
    const accept = await radclient(
      radius.authPort,
      "auth",
      radius.secret,
      'User-Name = "alice"\nUser-Password = "pw"\n',
    );
    expect(accept).toContain("Received Access-Accept");
    expect(accept).toContain("Framed-IP-Address = 10.0.0.5");
    const reject = await radclient(
      radius.authPort,
      "auth",
      radius.secret,
      'User-Name = "alice"\nUser-Password = "no"\n',
    );
    expect(reject).toContain("Received Access-Reject");
  });

  test("accounting lands in the detail file, also after a restart on the same ports", async () => {
    const start = 'User-Name = "alice"\nAcct-Status-Type = Start\nAcct-Session-Id = "s1"\n';
    expect(await radclient(radius.acctPort, "acct", radius.secret, start)).toContain("Accounting-Response");
    const pid = radius.pid;
    await radius.stop();
    expect(radius.pid).toBeUndefined();
    await radius.restart();
    expect(radius.pid).not.toBe(pid);
    const stop = 'User-Name = "alice"\nAcct-Status-Type = Stop\nAcct-Session-Id = "s1"\n';
    expect(await radclient(radius.acctPort, "acct", radius.secret, stop)).toContain("Accounting-Response");
    const records = radius.detailRecords();
    expect(records.map((r) => r["Acct-Status-Type"]?.[0])).toEqual(["Start", "Stop"]);
    expect(records[1]["Acct-Session-Id"]).toEqual(["s1"]);
  });
});
