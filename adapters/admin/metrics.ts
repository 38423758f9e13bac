/**
 * `GET /metrics` of the admin API: a node's figures in the Prometheus text exposition format (0.0.4),
 * for a Prometheus server to scrape.
 *
 * Gauges are read from the node's snapshot at scrape time (objects by state, event-log lag and
 * backlog); counters are kept as things happen: setups and closes from the node's inspection events
 * (one observer beside the recorder, no change to the actors), control messages from the transport
 * (the Message Type read from the bytes, both directions). Labels take only bounded values (a state, a
 * role, a cause reason, a message type): never a tunnel id, a session id, a user or an address, so that
 * the number of series stays fixed however many subscribers come and go.
 *
 * Roles: a tunnel's is `initiator` or `responder` (who sent the SCCRQ); a session's is `lac` or `lns`
 * (which end of the call this node is).
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import type { InspectionEvent } from "xstate";
import type { AaaStats } from "../../actors/aaa.ts";
import type { NodeSnapshot } from "../../actors/node.ts";
import type { Clock, Transport } from "../../actors/ports.ts";
import type { RecorderStats } from "../../events/recorder.ts";
import type { Cause } from "../../machines/common.ts";
import { controlMessageTypeOf } from "../../protocol/l2tp/message-types.ts";

/** The content type of the Prometheus text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Upper bounds of the session setup histogram, seconds: a loopback setup to a slow RADIUS round trip. */
export const SETUP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] as const;

/** The counters and the observers that feed them. */
export interface NodeMetrics {
  /** The node's inspection events (with the recorder's, in `createNode`'s `inspect`). Never throws. */
  inspect(event: InspectionEvent): void;
  /** Counts the control messages `transport` sends and receives; returns it (wrapped in place). */
  countTransport<T extends Transport>(transport: T): T;
  /**
   * The text exposition of `snapshot` (PPP included when the node runs it) and the counters;
   * `eventLog` when the node records, `aaa` when it has an AAA adapter.
   */
  render(snapshot: NodeSnapshot, eventLog?: Readonly<RecorderStats>, aaa?: AaaStats): string;
}

type Labels = Record<string, string>;

/** A counter family: a count per label set. */
class CounterFamily {
  readonly values = new Map<string, { labels: Labels; value: number }>();
  add(labels: Labels, by = 1): void {
    const key = JSON.stringify(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }
}

/** Makes the metrics of one node; `clock` times the session setups. */
export function createNodeMetrics(clock: Clock): NodeMetrics {
  const tunnelSetups = new CounterFamily();
  const sessionSetups = new CounterFamily();
  const tunnelCloses = new CounterFamily();
  const sessionCloses = new CounterFamily();
  const messages = { rx: new Map<string, number>(), tx: new Map<string, number>() };
  const buckets = new Array<number>(SETUP_BUCKETS.length).fill(0);
  const histogram = { count: 0, sum: 0 };
  // Per actor, keyed by its ref so that an ended one is garbage: when it was first seen, whether its
  // setup was counted, whether its end was.
  const started = new WeakMap<object, number>();
  const established = new WeakSet<object>();
  const ended = new WeakSet<object>();

  const observeSetup = (seconds: number) => {
    histogram.count++;
    histogram.sum += seconds;
    for (let i = 0; i < SETUP_BUCKETS.length; i++)
      if (seconds <= (SETUP_BUCKETS[i] as number)) buckets[i] = (buckets[i] as number) + 1;
  };

  const inspect = (event: InspectionEvent): void => {
    if (event.type !== "@xstate.snapshot") return;
    const snapshot = event.snapshot as {
      status?: string;
      value?: unknown;
      context?: { path?: { tunnel?: number; session?: number }; role?: string; kind?: string; cause?: Cause };
    };
    const context = snapshot.context;
    // Only tunnels and sessions: their context carries a path with a tunnel id.
    if (context?.path?.tunnel === undefined) return;
    const actor = event.actorRef as object;
    if (ended.has(actor)) return;
    const isSession = context.path.session !== undefined;
    const role = isSession ? (context.kind?.startsWith("lac") ? "lac" : "lns") : (context.role ?? "");
    const now = clock.now();
    if (!started.has(actor)) started.set(actor, now);
    if (snapshot.value === "established" && !established.has(actor)) {
      established.add(actor);
      (isSession ? sessionSetups : tunnelSetups).add({ role, result: "established" });
      if (isSession) observeSetup((now - (started.get(actor) ?? now)) / 1000);
    }
    if (snapshot.status !== undefined && snapshot.status !== "active") {
      ended.add(actor);
      if (!established.has(actor)) (isSession ? sessionSetups : tunnelSetups).add({ role, result: "failed" });
      (isSession ? sessionCloses : tunnelCloses).add({ role, cause: context.cause?.reason ?? "none" });
    }
  };

  const count = (map: Map<string, number>, packet: Uint8Array) => {
    const type = controlMessageTypeOf(packet);
    if (type !== undefined) map.set(type, (map.get(type) ?? 0) + 1);
  };

  return {
    inspect(event) {
      try {
        inspect(event);
      } catch {
        // Metrics must never break the node: a malformed inspection event is simply not counted.
      }
    },
    countTransport(transport) {
      const send = transport.send.bind(transport);
      transport.send = (packet, to) => {
        count(messages.tx, packet);
        send(packet, to);
      };
      const onReceive = transport.onReceive.bind(transport);
      transport.onReceive = (handler) =>
        onReceive((packet, from) => {
          count(messages.rx, packet);
          handler(packet, from);
        });
      return transport;
    },
    render(snapshot, eventLog, aaa) {
      const out = new Exposition();
      out.family("l2tp_build_info", "gauge", "The engine's version and runtime (always 1).");
      out.sample("l2tp_build_info", { version: VERSION, runtime: RUNTIME }, 1);

      out.family("l2tp_destinations", "gauge", "Destinations (remote peers) by state.");
      for (const [[, state], n] of tally(snapshot.destinations, (d) => ["", topState(d.state)]))
        out.sample("l2tp_destinations", { state }, n);

      out.family("l2tp_tunnels", "gauge", "Tunnels by role (initiator, responder) and state.");
      const tunnels = snapshot.destinations.flatMap((d) => d.tunnels);
      for (const [[role, state], n] of tally(tunnels, (t) => [t.role, topState(t.state)]))
        out.sample("l2tp_tunnels", { role, state }, n);

      out.family("l2tp_sessions", "gauge", "Sessions by role (lac, lns) and state.");
      const sessions = tunnels.flatMap((t) => t.sessions);
      for (const [[role, state], n] of tally(sessions, (s) => [
        s.kind.startsWith("lac") ? "lac" : "lns",
        topState(s.state),
      ]))
        out.sample("l2tp_sessions", { role, state }, n);

      out.counters(
        "l2tp_tunnel_setups_total",
        "Tunnel setups by role and result (established, failed).",
        tunnelSetups,
      );
      out.counters(
        "l2tp_session_setups_total",
        "Session setups by role and result (established, failed).",
        sessionSetups,
      );

      out.family(
        "l2tp_session_setup_duration_seconds",
        "histogram",
        "Time from a session's creation to established.",
      );
      for (const [i, le] of SETUP_BUCKETS.entries())
        out.sample("l2tp_session_setup_duration_seconds_bucket", { le: String(le) }, buckets[i] as number);
      out.sample("l2tp_session_setup_duration_seconds_bucket", { le: "+Inf" }, histogram.count);
      out.sample("l2tp_session_setup_duration_seconds_sum", {}, histogram.sum);
      out.sample("l2tp_session_setup_duration_seconds_count", {}, histogram.count);

      out.counters("l2tp_tunnel_closes_total", "Tunnels ended, by role and cause.", tunnelCloses);
      out.counters("l2tp_session_closes_total", "Sessions ended, by role and cause.", sessionCloses);

      out.family(
        "l2tp_control_messages_total",
        "counter",
        "Control messages by direction (rx, tx) and type (ZLB included; retransmissions included).",
      );
      for (const direction of ["rx", "tx"] as const)
        for (const [type, n] of [...messages[direction]].sort())
          out.sample("l2tp_control_messages_total", { direction, type }, n);

      out.family(
        "l2tp_control_retransmissions_total",
        "counter",
        "Control messages sent again (RFC 2661 §5.8), every tunnel summed.",
      );
      out.sample("l2tp_control_retransmissions_total", {}, snapshot.channels.retransmitted);

      const st = snapshot.stats;
      const r = snapshot.registries;
      out.family(
        "l2tp_half_open_tunnels",
        "gauge",
        "Tunnels peers asked for that are still in their handshake.",
      );
      out.sample("l2tp_half_open_tunnels", {}, r.halfOpenTunnels);
      out.family(
        "l2tp_sccrqs_waiting",
        "gauge",
        "SCCRQs of peers no profile names, waiting for a turn (a flood's backlog; established tunnels go first).",
      );
      out.sample("l2tp_sccrqs_waiting", {}, r.waitingSccrqs);
      out.family(
        "l2tp_half_open_refused_total",
        "counter",
        "SCCRQs refused because a half-open limit was reached (StopCCN result 2, error 4).",
      );
      out.sample("l2tp_half_open_refused_total", {}, st.halfOpenRefused);
      out.family(
        "l2tp_malformed_packets_total",
        "counter",
        "Packets dropped by the router, by reason: not L2TPv2, undecodable, or for a tunnel or session we do not have.",
      );
      out.sample("l2tp_malformed_packets_total", { reason: "not_l2tpv2" }, st.malformed);
      out.sample("l2tp_malformed_packets_total", { reason: "undecodable" }, st.undecodable);
      out.sample("l2tp_malformed_packets_total", { reason: "unknown_tunnel" }, st.unknownTunnel);
      out.sample("l2tp_malformed_packets_total", { reason: "unknown_session" }, st.unknownSession);
      out.sample("l2tp_malformed_packets_total", { reason: "unknown_session_data" }, st.dataUnknown);

      const ppp = snapshot.ppp;
      if (ppp) {
        out.family("l2tp_ppp_links_up", "gauge", "PPP links whose IPCP is up (subscribers with an address).");
        out.sample("l2tp_ppp_links_up", {}, ppp.linksUp);
        out.family("l2tp_ppp_links_total", "counter", "PPP links created.");
        out.sample("l2tp_ppp_links_total", {}, ppp.links);
        out.family("l2tp_ppp_auth_total", "counter", "PPP authentications by result.");
        out.sample("l2tp_ppp_auth_total", { result: "accepted" }, ppp.authAccepted);
        out.sample("l2tp_ppp_auth_total", { result: "rejected" }, ppp.authRejected);
        out.family(
          "l2tp_ppp_events_total",
          "counter",
          "PPP events by kind (proxy LCP, renegotiation, failures).",
        );
        const events: Record<string, number> = {
          proxy_lcp: ppp.proxyLcp,
          lcp_renegotiated: ppp.lcpRenegotiated,
          no_address: ppp.noAddress,
          keepalive_failure: ppp.keepaliveFailures,
          echo_request_sent: ppp.echoRequestsSent,
          malformed_frame: ppp.malformedFrames,
          ip_before_up: ppp.ipBeforeUp,
          accounting_unanswered: ppp.accountingUnanswered,
        };
        for (const [event, n] of Object.entries(events)) out.sample("l2tp_ppp_events_total", { event }, n);
        // Pool names come from the config: a fixed, small set.
        out.family("l2tp_ppp_pool_addresses", "gauge", "Addresses of each pool, in use or free.");
        for (const p of ppp.pools) {
          out.sample("l2tp_ppp_pool_addresses", { pool: p.name, state: "in_use" }, p.inUse);
          out.sample("l2tp_ppp_pool_addresses", { pool: p.name, state: "free" }, p.size - p.inUse);
        }
        out.family("l2tp_ppp_pool_exhausted_total", "counter", "Times a pool had no address to give.");
        for (const p of ppp.pools) out.sample("l2tp_ppp_pool_exhausted_total", { pool: p.name }, p.exhausted);
      }

      if (aaa) {
        out.family("l2tp_aaa_requests_total", "counter", "AAA requests by kind (access, accounting).");
        out.sample("l2tp_aaa_requests_total", { kind: "access" }, aaa.accessRequests);
        out.sample("l2tp_aaa_requests_total", { kind: "accounting" }, aaa.accountingRequests);
        out.family("l2tp_aaa_responses_total", "counter", "AAA answers by result.");
        out.sample("l2tp_aaa_responses_total", { result: "accept" }, aaa.accepts);
        out.sample("l2tp_aaa_responses_total", { result: "reject" }, aaa.rejects);
        out.sample("l2tp_aaa_responses_total", { result: "accounting" }, aaa.accountingResponses);
        out.family("l2tp_aaa_timeouts_total", "counter", "AAA requests no server answered, by kind.");
        out.sample("l2tp_aaa_timeouts_total", { kind: "access" }, aaa.authTimeouts);
        out.sample("l2tp_aaa_timeouts_total", { kind: "accounting" }, aaa.accountingTimeouts);
        out.family("l2tp_aaa_retransmissions_total", "counter", "AAA requests sent again.");
        out.sample("l2tp_aaa_retransmissions_total", {}, aaa.retransmissions);
        out.family("l2tp_aaa_bad_replies_total", "counter", "AAA replies dropped as bad, by reason.");
        for (const [reason, n] of Object.entries(aaa.badReplies))
          out.sample("l2tp_aaa_bad_replies_total", { reason }, n);
      }

      if (eventLog) {
        out.family(
          "l2tp_event_log_lag_seconds",
          "gauge",
          "How long the oldest unstored event has waited for the event log.",
        );
        out.sample("l2tp_event_log_lag_seconds", {}, eventLog.lagMs / 1000);
        out.family("l2tp_event_log_backlog", "gauge", "Events recorded and not yet stored by the event log.");
        out.sample("l2tp_event_log_backlog", {}, eventLog.queued);
        out.family(
          "l2tp_event_log_backpressure",
          "gauge",
          "1 while new tunnels and sessions are refused because the event log cannot keep up.",
        );
        out.sample("l2tp_event_log_backpressure", {}, eventLog.backpressure ? 1 : 0);
        out.family("l2tp_event_log_events_total", "counter", "Events recorded by this node.");
        out.sample("l2tp_event_log_events_total", {}, eventLog.recorded);
      }
      return out.text();
    },
  };
}

/** The lines of one exposition, family by family. */
class Exposition {
  readonly #lines: string[] = [];
  family(name: string, type: "counter" | "gauge" | "histogram", help: string): void {
    this.#lines.push(
      `# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`,
      `# TYPE ${name} ${type}`,
    );
  }
  sample(name: string, labels: Labels, value: number): void {
    const entries = Object.entries(labels);
    const text = entries.length
      ? `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}`
      : "";
    this.#lines.push(`${name}${text} ${Number.isFinite(value) ? value : 0}`);
  }
  counters(name: string, help: string, family: CounterFamily): void {
    this.family(name, "counter", help);
    for (const { labels, value } of family.values.values()) this.sample(name, labels, value);
  }
  text(): string {
    return `${this.#lines.join("\n")}\n`;
  }
}

/**
 * How many items fall in each (role, state) pair, in a stable order. Counted in a Map per role: a scrape
 * of 20,000 sessions made no label object or key string per session (a JSON key per session tripled
 * the render's cost over the snapshot's, bench/operator).
 */
function tally<T>(items: readonly T[], pairOf: (item: T) => [string, string]): [[string, string], number][] {
  const byRole = new Map<string, Map<string, number>>();
  for (const item of items) {
    const [role, state] = pairOf(item);
    let byState = byRole.get(role);
    if (!byState) {
      byState = new Map();
      byRole.set(role, byState);
    }
    byState.set(state, (byState.get(state) ?? 0) + 1);
  }
  const out: [[string, string], number][] = [];
  for (const role of [...byRole.keys()].sort())
    for (const [state, n] of [...(byRole.get(role) as Map<string, number>)].sort(([a], [b]) =>
      a < b ? -1 : 1,
    ))
      out.push([[role, state], n]);
  return out;
}

/** The top state of a dotted state value: `available.used` → `available`. */
function topState(state: string): string {
  const dot = state.indexOf(".");
  return dot < 0 ? state : state.slice(0, dot);
}

const VERSION = (() => {
  try {
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    return String((JSON.parse(text) as { version?: string }).version ?? "unknown");
  } catch {
    return "unknown";
  }
})();

const RUNTIME = (() => {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.bun) return `bun ${versions.bun}`;
  if (versions.deno) return `deno ${versions.deno}`;
  return `node ${versions.node}`;
})();
