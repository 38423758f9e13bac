/**
 * A call a LAC places with `openSession` (or an LNS with `call: "outgoing"`): the SessionRequest that
 * placement hands to a tunnel, and the caller's outcome, settled when the session is established or
 * fails (and, once established, when it ends).
 */
import type { ActorPath, Cause } from "../machines/common.ts";
import type { TunnelSelected } from "../machines/system.ts";
import type { GroupTunnel, TunnelGroup } from "../machines/tunnel-selection.ts";
import type { Avps } from "../protocol/l2tp/avps.ts";
import type { PeerAddress } from "./ports.ts";
import type { SessionRequest } from "./runtime.ts";
import type { SessionHandle } from "./tunnel-actor.ts";

/** What `openSession` asks for: a destination, or a tunnel group to choose one from. */
export type OpenSessionOptions = CallOptions &
  (
    | { destination: PeerAddress; group?: undefined }
    | {
        group: TunnelGroup;
        destination?: undefined;
        /**
         * Where each choice of the group call (and its reason) is recorded: a LAC's subscriber records
         * them as its own events (actors/lac-access.ts); default, the system's `selection`.
         */
        onSelection?: (selected: TunnelSelected) => void;
      }
  );

/** What every call carries. */
export interface CallOptions {
  /** `incoming` (default): we are the LAC placing a subscriber's call (ICRQ). `outgoing`: we are the LNS asking the LAC to dial (OCRQ). */
  call?: "incoming" | "outgoing";
  requestAvps?: Avps;
  connectAvps?: Avps;
}

/** The outcome of `openSession`. */
export type OpenSessionOutcome =
  | {
      ok: true;
      path: ActorPath;
      tunnelId: number;
      sessionId: number;
      peerTunnelId: number;
      peerSessionId: number;
      /** Our address and port of its tunnel (a LAC's Tunnel-Client-Endpoint, RFC 2868 §3.3). */
      local: PeerAddress;
      /** Resolves with the cause when the session ends. */
      ended: Promise<Cause>;
    }
  | { ok: false; cause: Cause };

/** Who places a call again when its tunnel lost a tie-breaker (the node). */
export interface CallPlacer {
  /** Places `call` once more; false when it may not (too many attempts, the node is closing). */
  replace(call: PlacedCall): boolean;
}

/**
 * A call placed with `openSession`: a SessionRequest whose answers settle the caller's promise. One
 * object with methods rather than closures, since a LAC keeps one per call for the call's life.
 */
export class PlacedCall implements SessionRequest {
  readonly id: number;
  readonly destination: PeerAddress;
  readonly call: "incoming" | "outgoing";
  /** The access side's AVPs for the call's messages, until it is established (then not kept: see onEstablished). */
  requestAvps?: Avps;
  connectAvps?: Avps;
  attempts = 0;
  readonly #node: CallPlacer;
  #resolve: ((outcome: OpenSessionOutcome) => void) | undefined;
  /** The outcome's `ended`, made when first asked for (a caller that never asks keeps no promise per call). */
  #ended: Promise<Cause> | undefined;
  #endedResolve: ((why: Cause) => void) | undefined;
  #endedCause: Cause | undefined;

  constructor(
    node: CallPlacer,
    id: number,
    options: OpenSessionOptions,
    resolve: (o: OpenSessionOutcome) => void,
  ) {
    this.#node = node;
    this.#resolve = resolve;
    this.id = id;
    // A group call's destination is its selection's (actors/tunnel-group.ts).
    const peer = options.destination ?? (options.group.tunnels[0] as GroupTunnel).peer;
    this.destination = { address: peer.address, port: peer.port };
    this.call = options.call ?? "incoming";
    if (options.requestAvps) this.requestAvps = options.requestAvps;
    if (options.connectAvps) this.connectAvps = options.connectAvps;
  }

  /** Resolves with the cause when the established call ends. */
  ended(): Promise<Cause> {
    if (!this.#ended) {
      const why = this.#endedCause;
      this.#ended = why
        ? Promise.resolve(why)
        : new Promise<Cause>((r) => {
            this.#endedResolve = r;
          });
    }
    return this.#ended;
  }

  onEstablished(s: SessionHandle): void {
    // Sent and acknowledged in the call's set-up: the proxy AVPs (a PAP password among them) are not
    // kept for the call's life.
    this.requestAvps = undefined;
    this.connectAvps = undefined;
    const resolve = this.#resolve;
    if (!resolve) return;
    this.#resolve = undefined;
    resolve(new Established(this, s));
  }

  onEnded(s: SessionHandle | undefined, why: Cause): void {
    const resolve = this.#resolve;
    if (!resolve) {
      // Settled: the call was up, its `ended` promise learns why it ended.
      this.#endedCause = why;
      this.#endedResolve?.(why);
      this.#endedResolve = undefined;
      return;
    }
    // RFC 2661 §4.4.3: our tunnel lost the tie-breaker; the call moves to the winner's tunnel.
    if (s && why.reason === "tie-breaker" && this.#node.replace(this)) return;
    this.#resolve = undefined;
    resolve({ ok: false, cause: why });
  }
}

/** The outcome of an established call (a class: an object literal with a getter is slow to make per call). */
class Established {
  readonly ok = true as const;
  readonly path: ActorPath;
  readonly tunnelId: number;
  readonly sessionId: number;
  readonly peerTunnelId: number;
  readonly peerSessionId: number;
  readonly local: PeerAddress;
  readonly #call: PlacedCall;

  constructor(call: PlacedCall, s: SessionHandle) {
    this.#call = call;
    this.path = s.node.path;
    this.tunnelId = s.tunnel.id;
    this.sessionId = s.id;
    this.peerTunnelId = s.tunnel.channel.peerTunnelId;
    this.peerSessionId = s.peerSessionId;
    this.local = s.tunnel.transport.local;
  }

  /** Resolves with the cause when the session ends. */
  get ended(): Promise<Cause> {
    return this.#call.ended();
  }
}

/**
 * The module's own hot code, which adapters/jit keeps out of JSC's top tier with what it exports (it
 * reaches nothing else: these are not exported to be used): functions, and classes with their methods.
 */
export const hotInternals: readonly unknown[] = [Established];
