import { describe, expect, test } from "bun:test";
import type { TunnelAssignment } from "../../actors/aaa.ts";
import { decide, groupFromRadius, type LacPolicy, splitUser } from "../../machines/lac-decision.ts";
import { group } from "./tunnel-groups.ts";

const lns1 = { peer: { address: "192.0.2.10", port: 1701 }, preference: 0, maxSessions: 0 };

function policy(extra: Partial<LacPolicy> = {}): LacPolicy {
  return {
    domainSeparator: "@",
    stripDomain: false,
    domains: new Map([
      ["isp.example", { kind: "tunnel", group: group([lns1]) }],
      ["local.example", { kind: "terminate" }],
    ]),
    radiusGroup: { weightedLoadBalancing: false, failoverWithinPreference: false, maxSessions: 0 },
    ...extra,
  };
}

const bobTunnels: TunnelAssignment[] = [
  {
    tag: 1,
    type: 3,
    mediumType: 1,
    serverEndpoint: "127.0.0.3",
    preference: 1,
    password: new Uint8Array([1]),
  },
  { tag: 2, type: 3, mediumType: 1, serverEndpoint: "127.0.0.4:1702", preference: 2, assignmentId: "b" },
];

describe("the LAC's decision", () => {
  test("the domain is what follows the last separator, case-folded; strip passes the name without it", () => {
    expect(splitUser("bob@ISP.example", policy())).toEqual({
      domain: "isp.example",
      user: "bob@ISP.example",
    });
    expect(splitUser("a@b@isp.example", policy({ stripDomain: true }))).toEqual({
      domain: "isp.example",
      user: "a@b",
    });
    expect(splitUser("bob%isp.example", policy({ domainSeparator: "%" })).domain).toBe("isp.example");
    expect(splitUser("bob", policy()).domain).toBeUndefined();
    expect(splitUser("bob@", policy()).domain).toBeUndefined();
  });

  test("the domain map: a tunnel group, or terminated here", () => {
    const d = decide("alice@isp.example", undefined, policy({ stripDomain: true }));
    expect(d).toMatchObject({ kind: "tunnel", source: "domain map", user: "alice" });
    expect(d.kind === "tunnel" && d.group.tunnels[0]?.peer.address).toBe("192.0.2.10");
    expect(decide("carol@local.example", undefined, policy())).toMatchObject({ kind: "terminate" });
  });

  test("RADIUS tunnel attributes win over the domain map: one tunnel per tag, the password kept", () => {
    const d = decide("bob@isp.example", bobTunnels, policy());
    expect(d).toMatchObject({ kind: "tunnel", source: "radius" });
    if (d.kind !== "tunnel") return;
    expect(d.group.name).toBe("radius:isp.example");
    expect(d.group.tunnels).toEqual([
      {
        peer: { address: "127.0.0.3", port: 1701 },
        preference: 1,
        maxSessions: 0,
        secret: new Uint8Array([1]),
      },
      { peer: { address: "127.0.0.4", port: 1702 }, preference: 2, maxSessions: 0, assignmentId: "b" },
    ]);
  });

  test("Tunnel-Preference beyond 7 is ranked into the 8 levels; other tunnel types are left out", () => {
    const g = groupFromRadius(
      [
        { tag: 1, type: 3, serverEndpoint: "10.0.0.1", preference: 100 },
        { tag: 2, type: 3, serverEndpoint: "10.0.0.2", preference: 5 },
        { tag: 3, type: 1, serverEndpoint: "10.0.0.3", preference: 0 },
      ],
      "x",
      policy(),
    );
    expect(typeof g !== "string" && g.tunnels.map((t) => [t.peer.address, t.preference])).toEqual([
      ["10.0.0.1", 1],
      ["10.0.0.2", 0],
    ]);
  });

  test("nothing found, or unusable attributes: refused with a cause that says what was looked up", () => {
    const none = decide("dave@nowhere.example", undefined, policy());
    expect(none.kind === "refuse" && none.cause.message).toContain(
      "domain nowhere.example not in the domain map",
    );
    const bare = decide("dave", undefined, policy());
    expect(bare.kind === "refuse" && bare.cause.message).toContain('no domain (separator "@")');
    const bad = decide("bob@isp.example", [{ tag: 1, type: 3, serverEndpoint: "lns.example" }], policy());
    expect(bad.kind === "refuse" && bad.cause.message).toContain(
      'tag 1: Tunnel-Server-Endpoint "lns.example" is not an IPv4 address',
    );
    const pptp = decide("bob@isp.example", [{ tag: 1, type: 1, serverEndpoint: "10.0.0.1" }], policy());
    expect(pptp.kind === "refuse" && pptp.cause.message).toContain("no tag is Tunnel-Type L2TP");
  });

  test("a default route takes the names the map does not know", () => {
    const p = policy({ defaultRoute: { kind: "terminate" } });
    expect(decide("dave@nowhere.example", undefined, p)).toMatchObject({ kind: "terminate" });
    expect(decide("dave", undefined, p).reason).toContain("the default route");
  });
});
