/** Tunnel groups for tests: defaults (random choice, failover to the next level) unless told. */
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
