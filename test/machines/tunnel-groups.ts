/** Tunnel groups for tests: defaults (random choice, failover to the next level) unless told. */
import type { LacPolicy } from "../../machines/lac-decision.ts";
import type { GroupTunnel, TunnelGroup } from "../../machines/tunnel-selection.ts";

/** The group "isp.example" of these tunnels. */
export function group(tunnels: GroupTunnel[], extra: Partial<TunnelGroup> = {}): TunnelGroup {
  return {
    name: "isp.example",
    tunnels,
    weightedLoadBalancing: false,
    failoverWithinPreference: false,
    ...extra,
  };
}

/** A LAC's policy that sends the domain isp.example to the group of these tunnels, nothing else. */
export function ispPolicy(tunnels: GroupTunnel[]): LacPolicy {
  return {
    domainSeparator: "@",
    stripDomain: false,
    domains: new Map([["isp.example", { kind: "tunnel", group: group(tunnels) }]]),
    radiusGroup: { weightedLoadBalancing: false, failoverWithinPreference: false, maxSessions: 0 },
  };
}
