/**
 * A LAC's decision for an authenticated subscriber, as the E-series makes it: the user's domain
 * (`user@domain`; the separator and whether the domain is stripped from the name are settings) is
 * looked up, and the subscriber is tunnelled (to a tunnel group), terminated here, or refused.
 *
 * - RADIUS: RFC 2868 tunnel attributes in the Access-Accept (grouped by tag) make the tunnel group and
 *   win over the domain map; the decrypted Tunnel-Password authenticates the tunnel.
 * - The local domain map: domain → a tunnel group, or "terminate" (this node is the PPP server).
 * - Nothing found: refused, with a cause that says what was looked up.
 *
 * Pure: the wiring gives it the user name, the AAA answer and the settings.
 */
import type { TunnelAssignment } from "../actors/aaa.ts";
import { type Cause, cause } from "./common.ts";
import { type GroupTunnel, groupProblem, PREFERENCE_LEVELS, type TunnelGroup } from "./tunnel-selection.ts";

/** RFC 2868 §3.1 Tunnel-Type 3: L2TP. */
export const TUNNEL_TYPE_L2TP = 3;
/** RFC 2868 §3.2 Tunnel-Medium-Type 1: IPv4. */
export const TUNNEL_MEDIUM_IPV4 = 1;
/** RFC 2661 §8.1: the LNS's UDP port when RADIUS names only an address. */
export const L2TP_PORT = 1701;

/** Where a domain's subscribers go. */
export type DomainRoute = { kind: "terminate" } | { kind: "tunnel"; group: TunnelGroup };

/** The LAC's settings for the decision. */
export interface LacPolicy {
  /** Between the user and the domain (default "@"); the domain is what follows its last occurrence. */
  domainSeparator: string;
  /** Whether the name passed on (proxy authentication, the LNS's AAA) loses "@domain". */
  stripDomain: boolean;
  /** The local domain map, by domain (lower case). */
  domains: ReadonlyMap<string, DomainRoute>;
  /** Subscribers with no domain, or a domain not in the map: a route for them, or refused. */
  defaultRoute?: DomainRoute;
  /** How groups made from RADIUS attributes choose (the map's groups carry their own). */
  radiusGroup: Pick<TunnelGroup, "weightedLoadBalancing" | "failoverWithinPreference" | "proxyAvps"> & {
    /** Max sessions per tunnel when RADIUS says nothing (0: no limit). */
    maxSessions: number;
  };
}

/** What the LAC does with the subscriber. */
export type LacDecision =
  | { kind: "tunnel"; group: TunnelGroup; user: string; source: "radius" | "domain map"; reason: string }
  | { kind: "terminate"; user: string; reason: string }
  | { kind: "refuse"; cause: Cause; reason: string };

/** The user's domain (lower case, undefined when there is none) and the name to pass on. */
export function splitUser(
  name: string,
  policy: Pick<LacPolicy, "domainSeparator" | "stripDomain">,
): { domain: string | undefined; user: string } {
  const at = policy.domainSeparator === "" ? -1 : name.lastIndexOf(policy.domainSeparator);
  if (at < 0 || at + policy.domainSeparator.length >= name.length) return { domain: undefined, user: name };
  const domain = name.slice(at + policy.domainSeparator.length).toLowerCase();
  return { domain, user: policy.stripDomain ? name.slice(0, at) : name };
}

/** Decides where an authenticated subscriber goes: RADIUS tunnel attributes, else the domain map. */
export function decide(
  name: string,
  radiusTunnels: readonly TunnelAssignment[] | undefined,
  policy: LacPolicy,
): LacDecision {
  const { domain, user } = splitUser(name, policy);
  if (radiusTunnels && radiusTunnels.length > 0) {
    const made = groupFromRadius(radiusTunnels, domain ?? name, policy);
    if (typeof made === "string") {
      const message = `subscriber ${name}: RADIUS tunnel attributes unusable: ${made}`;
      return { kind: "refuse", cause: cause("refused", message), reason: message };
    }
    return {
      kind: "tunnel",
      group: made,
      user,
      source: "radius",
      reason: `subscriber ${name}: RADIUS tunnel attributes (${made.tunnels.length} tunnels) win over the domain map`,
    };
  }
  const route = domain !== undefined ? policy.domains.get(domain) : undefined;
  const chosen = route ?? policy.defaultRoute;
  const how = route
    ? `domain ${domain} in the domain map`
    : `no domain map entry for ${domain ?? "a name without a domain"}: the default route`;
  if (!chosen) {
    const message = `subscriber ${name}: no RADIUS tunnel attributes and ${
      domain === undefined
        ? `no domain (separator "${policy.domainSeparator}")`
        : `domain ${domain} not in the domain map`
    }: nowhere to send the call`;
    return { kind: "refuse", cause: cause("refused", message), reason: message };
  }
  if (chosen.kind === "terminate")
    return { kind: "terminate", user, reason: `subscriber ${name}: ${how}: terminated here` };
  return {
    kind: "tunnel",
    group: chosen.group,
    user,
    source: "domain map",
    reason: `subscriber ${name}: ${how}: tunnel group ${chosen.group.name}`,
  };
}

/**
 * A tunnel group from RFC 2868 attributes, one tunnel per tag; a string says why it cannot be used. Tags
 * that are not L2TP over IPv4 are left out (another NAS's tunnels). Tunnel-Preference values 0-7 are the
 * levels; larger ones are ranked into 8 levels, the smallest most preferred.
 */
export function groupFromRadius(
  assignments: readonly TunnelAssignment[],
  name: string,
  policy: Pick<LacPolicy, "radiusGroup">,
): TunnelGroup | string {
  const usable = assignments.filter(
    (a) =>
      (a.type === undefined || a.type === TUNNEL_TYPE_L2TP) &&
      (a.mediumType === undefined || a.mediumType === TUNNEL_MEDIUM_IPV4),
  );
  if (usable.length === 0) return "no tag is Tunnel-Type L2TP (3) over Tunnel-Medium-Type IPv4 (1)";
  const preferences = [...new Set(usable.map((a) => a.preference ?? 0))].sort((x, y) => x - y);
  const ranked = preferences.some((p) => p >= PREFERENCE_LEVELS);
  const tunnels: GroupTunnel[] = [];
  for (const a of usable) {
    const peer = endpoint(a.serverEndpoint);
    if (!peer)
      return `tag ${a.tag}: Tunnel-Server-Endpoint ${JSON.stringify(a.serverEndpoint ?? "")} is not an IPv4 address`;
    const p = a.preference ?? 0;
    tunnels.push({
      peer,
      preference: ranked ? Math.min(preferences.indexOf(p), PREFERENCE_LEVELS - 1) : p,
      maxSessions: policy.radiusGroup.maxSessions,
      ...(a.assignmentId !== undefined ? { assignmentId: a.assignmentId } : {}),
      ...(a.password !== undefined ? { secret: a.password } : {}),
      ...(a.clientAuthId !== undefined ? { clientAuthId: a.clientAuthId } : {}),
      ...(a.serverAuthId !== undefined ? { serverAuthId: a.serverAuthId } : {}),
    });
  }
  const group: TunnelGroup = {
    name: `radius:${name}`,
    tunnels,
    weightedLoadBalancing: policy.radiusGroup.weightedLoadBalancing,
    failoverWithinPreference: policy.radiusGroup.failoverWithinPreference,
    ...(policy.radiusGroup.proxyAvps !== undefined ? { proxyAvps: policy.radiusGroup.proxyAvps } : {}),
  };
  return groupProblem(group) ?? group;
}

/** Tunnel-Server-Endpoint (RFC 2868 §3.4): a dotted IPv4 address, optionally ":port". */
function endpoint(text: string | undefined): { address: string; port: number } | undefined {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(text?.trim() ?? "");
  if (!m) return undefined;
  const address = m[1] as string;
  if (address.split(".").some((o) => Number(o) > 255)) return undefined;
  const port = m[2] !== undefined ? Number(m[2]) : L2TP_PORT;
  return port >= 1 && port <= 65535 ? { address, port } : undefined;
}
