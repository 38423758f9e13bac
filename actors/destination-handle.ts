/**
 * A destination (a peer: its address and port) as the node runs it: the destination machine's actor,
 * its tunnels, placement of calls on them (LAC), admission of tunnels from it (LNS), and the requests
 * waiting for a test tunnel after a lockout.
 */
import { type AdminState, type Cause, cause } from "../machines/common.ts";
import {
  type DestinationEmitted,
  type destinationMachine,
  hasRoomFor,
  preferredOver,
  type TunnelLoad,
} from "../machines/destination.ts";
import type { systemMachine } from "../machines/system.ts";
import type { TunnelOutput } from "../machines/tunnel.ts";
import { GeneralError } from "../protocol/l2tp/result.ts";
import { CdnResult } from "../protocol/l2tp/result-codes.ts";
import type { ResolvedProfile } from "./config.ts";
import type { PeerAddress } from "./ports.ts";
import { INSUFFICIENT_RESOURCES, type NodeRuntime, type SessionRequest } from "./runtime.ts";
import type { Supervised } from "./supervisor.ts";
import {
  type SessionHandle,
  type TunnelHandle,
  type TunnelOwner,
  TunnelHandle as Tunnels,
} from "./tunnel-actor.ts";

/** What the operator does to a lockout: clear it, or run its test now. */
export type LockoutAction = "clear" | "test";

/** What a DestinationHandle needs from its node. */
export interface TunnelOwnerRegistry {
  readonly rt: NodeRuntime;
  readonly destinations: Map<string, DestinationHandle>;
  readonly system: Supervised<typeof systemMachine>;
  readonly systemAdmin: AdminState;
  admitsNewWork(): boolean;
  nextRequestId(): number;
  destinationEnded(d: DestinationHandle): void;
}

/** One live destination: its actor, tunnels, and the requests waiting for its test tunnel. */
export class DestinationHandle implements TunnelOwner {
  readonly key: string;
  readonly peer: PeerAddress;
  readonly profile: ResolvedProfile | undefined;
  readonly tunnels = new Map<number, TunnelHandle>();
  /** Requests held until the test tunnel is established (after a lockout). */
  readonly queued = new Map<number, SessionRequest>();
  /** Requests asked of the destination machine and not answered yet. */
  readonly pending = new Map<number, SessionRequest>();
  node!: Supervised<typeof destinationMachine>;
  /** When the destination last entered `lockedOut` (the operator's "locked out until"). */
  lockedOutAt: number | undefined;
  /** Tunnel-Assignment-Id (RFC 2868) of the tunnels opened for one, by tunnel id (tunnel selection reads it). */
  readonly assignments = new Map<number, string>();
  readonly #owner: TunnelOwnerRegistry;
  /** The peer's tunnels in their handshake, each with the release of its half-open count. */
  readonly #handshakes = new Map<number, () => void>();
  /** Whether a tunnel with this peer was ever established (a peer that never authenticated leaves no entry). */
  #everEstablished = false;
  /** What a request's new tunnel is for (Tunnel-Assignment-Id, profile), until the tunnel is opened. */
  readonly #newTunnelFor = new Map<number, PlaceHow>();
  #admitVerdict: Cause | null = null;

  constructor(
    owner: TunnelOwnerRegistry,
    key: string,
    peer: PeerAddress,
    profile: ResolvedProfile | undefined,
  ) {
    this.#owner = owner;
    this.key = key;
    this.peer = peer;
    this.profile = profile;
    const rt = owner.rt;
    const path = { system: rt.config.name, destination: key };
    owner.destinations.set(key, this);
    rt.supervisor.spawn({
      level: "destination",
      key,
      path,
      machine: rt.machines.destination,
      input: {
        path,
        peer,
        ...optional("maxSessionsPerTunnel", profile?.maxSessionsPerTunnel ?? rt.config.maxSessionsPerTunnel),
        ...optional("maxTunnels", profile?.maxTunnels ?? rt.config.maxTunnels),
        ...optional("lockoutMs", profile?.lockoutMs ?? rt.config.lockoutMs),
        ...optional("closeTimeoutMs", rt.config.destinationCloseTimeoutMs),
        ...optional("idleMs", rt.config.destinationIdleMs),
      },
      parent: owner.system,
      wire: (actor, self) => {
        this.node = self;
        const l = <E>(fn: (e: E) => void) => rt.supervisor.listener(self, fn);
        type Of<T extends DestinationEmitted["type"]> = DestinationEmitted & { type: T };
        actor.on(
          "placeOn",
          l((e: Of<"placeOn">) => {
            const r = this.take(e.requestId);
            if (r) this.placeOn(r, e.tunnelId);
          }),
        );
        actor.on(
          "openTunnel",
          l((e: Of<"openTunnel">) => this.openTunnel(e.requestId, e.test)),
        );
        actor.on(
          "queue",
          l((e: Of<"queue">) => {
            const r = this.take(e.requestId);
            if (r) this.queued.set(r.id, r);
          }),
        );
        actor.on(
          "refuse",
          l((e: Of<"refuse">) => {
            if (this.#admitting === e.requestId) {
              this.#admitVerdict = e.cause;
              return;
            }
            this.take(e.requestId)?.onEnded(undefined, e.cause);
          }),
        );
        actor.on(
          "admitted",
          l(() => {}),
        );
        actor.on(
          "retryQueued",
          l(() => {
            const again = [...this.queued.values()];
            this.queued.clear();
            // A group call chooses again: its Tunnel-Assignment-Id may not share the test tunnel (nor
            // another id's), and a RADIUS group's tunnel brings its own secret. It chooses once this
            // reaction is over, one call after the other, so that each sees the tunnel the one before
            // it opened (calls of one id share it).
            const groupCalls: SessionRequest[] = [];
            for (const r of again) {
              if (r.reselect) groupCalls.push(r);
              else this.place(r);
            }
            if (groupCalls.length > 0) {
              queueMicrotask(() => {
                for (const r of groupCalls) rt.supervisor.guard(self, () => r.reselect?.());
              });
            }
          }),
        );
        actor.on(
          "refuseQueued",
          l((e: Of<"refuseQueued">) => {
            // Emitted on entering lockedOut (and closing, after which the time no longer matters).
            this.lockedOutAt = rt.clock.now();
            this.failQueued(e.cause);
          }),
        );
        actor.on(
          "closeTunnels",
          l((e: Of<"closeTunnels">) => {
            for (const t of [...this.tunnels.values()]) t.send({ type: "close", cause: e.cause });
          }),
        );
      },
      onEnd: () => owner.destinationEnded(this),
    });
    if (!owner.system.ending) owner.system.actor.send({ type: "destinationOpened", destination: key });
  }

  #admitting = 0;

  /** Sends an event to the destination actor, unless it has ended. */
  send(event: Parameters<Supervised<typeof destinationMachine>["actor"]["send"]>[0]): void {
    if (!this.node.ending) this.node.actor.send(event);
  }

  /**
   * The operator clears the lockout ("clear") or runs its test tunnel now ("test"), as JUNOSe's
   * `clear|test l2tp destination lockout`; false when the destination is not locked out.
   */
  lockout(action: LockoutAction): boolean {
    if (this.node.ending) return false;
    const state = this.node.actor.getSnapshot().value;
    if (state !== "lockedOut" && state !== "probing") return false;
    this.send({ type: action === "clear" ? "clearLockout" : "testLockout" });
    return true;
  }

  /** LNS: may a tunnel from this peer be made? Null when yes, else why not. */
  admit(): Cause | null {
    if (this.node.ending) return cause("refused", `destination ${this.key} has ended`);
    const requestId = this.#owner.nextRequestId();
    this.#admitting = requestId;
    this.#admitVerdict = null;
    this.node.actor.send({ type: "admit", requestId });
    this.#admitting = 0;
    return this.#admitVerdict;
  }

  /**
   * LAC: asks the destination machine where the request goes; `how` is a tunnel selection's answer
   * (machines/tunnel-selection.ts): this tunnel, or a new one (for a Tunnel-Assignment-Id, or as the
   * last resort of a group whose destinations are all locked out).
   */
  place(request: SessionRequest, how?: PlaceHow): void {
    if (this.node.ending) {
      request.onEnded(undefined, cause("refused", `destination ${this.key} has ended`));
      return;
    }
    if (how?.tunnelId !== undefined) {
      this.placeOn(request, how.tunnelId);
      return;
    }
    if (how) {
      this.#newTunnelFor.set(request.id, how);
      this.pending.set(request.id, request);
      this.node.actor.send({
        type: "place",
        requestId: request.id,
        tunnels: this.loads(),
        newTunnel: true,
        ...(how.lastResort ? { lastResort: true } : {}),
      });
      this.#newTunnelFor.delete(request.id);
      return;
    }
    // The machine's `hasRoom` → `placeOn` answer, read from its state: while it is available and
    // enabled, a tunnel with room is chosen by the same rule (tunnelWithRoom) without an XState step per
    // call. Opening a tunnel, queueing and refusing are the machine's to decide.
    const snap = this.node.actor.getSnapshot();
    if (snap.context.admin === "enabled" && (snap.value as { available?: unknown }).available !== undefined) {
      const max = snap.context.maxSessionsPerTunnel;
      let best: TunnelHandle | undefined;
      for (const t of this.tunnels.values()) {
        // Full or closing tunnels first, before the load view reads the tunnel's snapshot.
        if (t.sessions.size >= max || t.phase === "closing" || t.phase === "closed") continue;
        if (!hasRoomFor(t.load, max)) continue;
        if (!best || preferredOver(t.load, best.load)) best = t;
      }
      if (best) {
        if (!this.createSession(best, request)) {
          request.onEnded(undefined, cause("refused", `tunnel ${best.id} to ${this.key} has no room`));
        }
        return;
      }
    }
    // The answer (placeOn, openTunnel, queue or refuse) takes the request out of `pending`. It comes at
    // once, or, when asked from inside the destination's own reaction, when the event leaves its mailbox.
    this.pending.set(request.id, request);
    this.node.actor.send({ type: "place", requestId: request.id, tunnels: this.loads() });
  }

  /** Fails every request waiting for the test tunnel (and any not answered yet). */
  failQueued(why: Cause): void {
    const waiting = [...this.queued.values()];
    this.queued.clear();
    if (this.node.ending) {
      waiting.push(...this.pending.values());
      this.pending.clear();
    }
    for (const r of waiting) r.onEnded(undefined, why);
  }

  private loads(): TunnelLoad[] {
    const loads: TunnelLoad[] = [];
    for (const t of this.tunnels.values()) {
      if (t.phase === "closed") continue;
      const l = t.load;
      loads.push({
        tunnelId: l.tunnelId,
        phase: l.phase,
        sessions: l.sessions,
        admin: l.admin,
        test: l.test,
      });
    }
    return loads;
  }

  /** Takes a request out of `pending` (it is being answered). */
  private take(requestId: number): SessionRequest | undefined {
    const r = this.pending.get(requestId);
    this.pending.delete(requestId);
    return r;
  }

  private placeOn(r: SessionRequest, tunnelId: number): void {
    const t = this.tunnels.get(tunnelId);
    if (!t || !this.createSession(t, r)) {
      r.onEnded(undefined, cause("refused", `tunnel ${tunnelId} to ${this.key} has no room`));
    }
  }

  private openTunnel(requestId: number | undefined, test: boolean): void {
    const rt = this.#owner.rt;
    const how = requestId !== undefined ? this.#newTunnelFor.get(requestId) : undefined;
    const t = Tunnels.spawn(rt, this, {
      role: "initiator",
      peer: this.peer,
      transport: rt.defaultTransport,
      profile: how?.profile ?? this.profile,
      test,
    });
    const r = requestId !== undefined ? this.take(requestId) : undefined;
    if (t && how?.assignmentId !== undefined) this.assignments.set(t.id, how.assignmentId);
    if (!t) {
      r?.onEnded(undefined, cause("refused", "no tunnel id left"));
      return;
    }
    this.send({ type: "tunnelOpened", tunnelId: t.id, test });
    if (r && !this.createSession(t, r)) r.onEnded(undefined, cause("internal", "no session id left"));
    t.open();
  }

  private createSession(t: TunnelHandle, r: SessionRequest): SessionHandle | undefined {
    return t.createSession(r.call === "outgoing" ? "lns-outgoing" : "lac-incoming", r);
  }

  // --- TunnelOwner ----------------------------------------------------------------------------------

  /** A tunnel the peer asked for started its handshake; `release` uncounts it as half-open. */
  handshakeStarted(t: TunnelHandle, release: () => void): void {
    this.#handshakes.set(t.id, release);
  }

  /** The tunnel left its handshake (established or ended): no longer half-open. */
  private handshakeOver(t: TunnelHandle): boolean {
    const release = this.#handshakes.get(t.id);
    if (!release) return false;
    this.#handshakes.delete(t.id);
    release();
    return true;
  }

  tunnelEstablished(t: TunnelHandle): void {
    this.#everEstablished = true;
    // The peer authenticated: its tunnel retransmits as much as any other from now on.
    if (this.handshakeOver(t)) t.channel.limitRetransmits(undefined);
    this.send({ type: "tunnelEstablished", tunnelId: t.id, test: t.test });
  }

  tunnelEnded(t: TunnelHandle, output: TunnelOutput): void {
    if (this.tunnels.get(t.id) === t) {
      this.tunnels.delete(t.id);
      this.assignments.delete(t.id);
    }
    const peerOpened = this.handshakeOver(t) || t.role === "responder";
    this.send({ type: "tunnelEnded", tunnelId: t.id, test: t.test, output, peerOpened });
    // A peer that never completed a tunnel with us leaves nothing behind: no entry idling for 600 s.
    if (
      peerOpened &&
      !this.#everEstablished &&
      this.tunnels.size === 0 &&
      this.pending.size === 0 &&
      this.queued.size === 0
    ) {
      this.send({ type: "close", cause: cause("refused", `peer ${this.key} never completed a tunnel`) });
    }
  }

  /** While the destination machine holds it locked out: since when (`lockedOutAt`) and until when (ms). */
  lockoutWindow(): { since: number; until: number } | undefined {
    const snap = this.node.actor.getSnapshot();
    if (this.node.ending || snap.value !== "lockedOut") return undefined;
    const since = this.lockedOutAt ?? this.#owner.rt.clock.now();
    return { since, until: since + snap.context.lockoutMs };
  }

  refusesCalls(t: TunnelHandle): Cause | null {
    if (!this.#owner.admitsNewWork()) {
      // RFC 2661 §4.4.2: CDN result 4, no facilities available (a temporary condition): call again later.
      return cause("refused", INSUFFICIENT_RESOURCES, {
        result: CdnResult.noFacilitiesTemporary,
        message: INSUFFICIENT_RESOURCES,
      });
    }
    if (this.#owner.system.ending || this.#owner.systemAdmin !== "enabled") {
      return cause("refused", `system is ${this.#owner.systemAdmin}`, {
        result: CdnResult.noFacilitiesTemporary,
        message: "system not accepting calls",
      });
    }
    const d = this.node.actor.getSnapshot().context.admin;
    if (this.node.ending || d !== "enabled") {
      return cause("refused", `destination ${this.key} is ${d}`, {
        result: CdnResult.noFacilitiesTemporary,
        message: "destination not accepting calls",
      });
    }
    const ta = t.node.actor.getSnapshot().context.admin;
    if (ta !== "enabled")
      return cause("refused", `tunnel ${t.id} is ${ta}`, {
        result: CdnResult.noFacilitiesTemporary,
        message: "tunnel not accepting calls",
      });
    // The peer's tunnel is at the most sessions we take on one tunnel: RFC 2661 §4.4.2 General Error 7,
    // "try another": a LAC that knows other destinations (a tunnel group) places the call there.
    const max = this.node.actor.getSnapshot().context.maxSessionsPerTunnel;
    if (t.sessions.size >= max) {
      const message = `try another: tunnel ${t.id} has its max of ${max} sessions`;
      return cause("refused", message, {
        result: CdnResult.generalError,
        error: GeneralError.tryAnother,
        message,
      });
    }
    return null;
  }
}

/** A tunnel selection's answer for one request (machines/tunnel-selection.ts). */
export interface PlaceHow {
  /** Put it on this tunnel. */
  tunnelId?: number;
  /** Otherwise a new tunnel, for this Tunnel-Assignment-Id. */
  assignmentId?: string;
  /** Every destination of the group is locked out: this one is tried once more. */
  lastResort?: boolean;
  /** The new tunnel's secret and host names (a RADIUS group's), instead of the destination's profile. */
  profile?: ResolvedProfile;
}

/** Requests waiting in any destination (placement asked, or queued behind a test tunnel). */
export function pendingRequests(destinations: Map<string, DestinationHandle>): number {
  let n = 0;
  for (const d of destinations.values()) n += d.pending.size + d.queued.size;
  return n;
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}
