/**
 * A LAC call for a tunnel group (E-series tunnel selection, machines/tunnel-selection.ts): the node's
 * destinations and tunnels read as the selection's view, each choice placed on its destination and
 * recorded with its reason (a system event, so that `replay` explains where a call went), and a call
 * that fails before it is established (its tunnel could not be set up, a CDN "try another") failed over.
 */
import type { Cause } from "../machines/common.ts";
import { hasRoomFor } from "../machines/destination.ts";
import type { TunnelSelected } from "../machines/system.ts";
import {
  type GroupTunnel,
  type LiveTunnel,
  newAttempt,
  recordFailure,
  type Selection,
  type SelectionView,
  selectTunnel,
  type TunnelGroup,
  triggersFailover,
} from "../machines/tunnel-selection.ts";
import type { Avps } from "../protocol/l2tp/avps.ts";
import { matchProfile, type ResolvedProfile } from "./config.ts";
import type { DestinationHandle, PlaceHow } from "./destination-handle.ts";
import type { PeerAddress } from "./ports.ts";
import type { NodeRuntime, SessionRequest } from "./runtime.ts";
import type { SessionHandle } from "./tunnel-actor.ts";

/** What a group call needs of its node. */
export interface GroupPlacer {
  readonly rt: NodeRuntime;
  readonly destinations: Map<string, DestinationHandle>;
  /** Places the request on the destination it names, as the selection said (system admission first). */
  placeChosen(request: SessionRequest, how: PlaceHow): void;
  /** Records a choice in the event log. */
  recordSelection(selected: TunnelSelected): void;
}

/** Tie-breaker losses (RFC 2661 §4.4.3) a group call is placed again after, before it fails. */
const MAX_PLACEMENTS = 4;

/** One subscriber's call through a tunnel group: a SessionRequest that chooses its destination. */
export class GroupCall implements SessionRequest {
  readonly id: number;
  readonly call = "incoming" as const;
  attempts = 0;
  /** The destination of the current choice. */
  destination: PeerAddress;
  readonly #placer: GroupPlacer;
  readonly #group: TunnelGroup;
  readonly #caller: SessionRequest;
  readonly #attempt = newAttempt();
  /** Where its choices are recorded (the caller's own actor, or the system's `selection`). */
  readonly #record: ((selected: TunnelSelected) => void) | undefined;
  #chosen: Selection | undefined;
  #established = false;

  constructor(
    placer: GroupPlacer,
    group: TunnelGroup,
    caller: SessionRequest,
    record?: (selected: TunnelSelected) => void,
  ) {
    this.#placer = placer;
    this.#group = group;
    this.#caller = caller;
    this.#record = record;
    this.id = caller.id;
    this.destination = caller.destination;
  }

  /**
   * The caller's AVPs for the call's messages (each new choice sends them again), read through: the
   * caller lets go of them once the call is established (actors/placed-call.ts).
   */
  get requestAvps(): Avps | undefined {
    return this.#caller.requestAvps;
  }

  get connectAvps(): Avps | undefined {
    return this.#caller.connectAvps;
  }

  /** Chooses where the call goes and places it there (or refuses it with the selection's cause). */
  select(): void {
    const s = selectTunnel(this.#group, selectionView(this.#placer), this.#attempt, this.#random);
    this.#chosen = s;
    const selected: TunnelSelected = {
      // The reason first: a timeline line shows the start of the data.
      reason: s.reason,
      requestId: this.id,
      group: this.#group.name,
      choice: s.kind,
      ...(s.kind !== "refuse" ? { destination: s.destination } : {}),
      ...(s.kind === "reuse" ? { tunnelId: s.tunnelId } : {}),
    };
    if (this.#record) this.#record(selected);
    else this.#placer.recordSelection(selected);
    if (s.kind === "refuse") {
      this.#caller.onEnded(undefined, s.cause);
      return;
    }
    this.destination = s.tunnel.peer;
    const profile = tunnelProfile(s.tunnel, matchProfile(this.#placer.rt.profiles, s.tunnel.peer));
    const how: PlaceHow =
      s.kind === "reuse"
        ? { tunnelId: s.tunnelId }
        : {
            ...(s.tunnel.assignmentId !== undefined ? { assignmentId: s.tunnel.assignmentId } : {}),
            ...(s.kind === "lastResort" ? { lastResort: true } : {}),
            ...(profile ? { profile } : {}),
          };
    this.#placer.placeChosen(this, how);
  }

  /** Queued behind a test tunnel that came up: chosen again with what is known now (actors/runtime.ts). */
  reselect(): void {
    this.select();
  }

  onEstablished(session: SessionHandle): void {
    this.#established = true;
    this.#caller.onEstablished(session);
  }

  onEnded(session: SessionHandle | undefined, why: Cause): void {
    if (!this.#established && this.#chosen && this.#chosen.kind !== "refuse") {
      // RFC 2661 §4.4.3: our tunnel lost the tie-breaker; the same choice again finds the winner's tunnel.
      if (session && why.reason === "tie-breaker" && this.attempts < MAX_PLACEMENTS) {
        this.select();
        return;
      }
      if (triggersFailover(why)) {
        recordFailure(this.#group, this.#attempt, this.#chosen);
        this.select();
        return;
      }
    }
    this.#caller.onEnded(session, why);
  }

  readonly #random = (): number => this.#placer.rt.random.uint32() / 2 ** 32;
}

/**
 * The profile of a new tunnel for a group's tunnel that brings its own secret or host names (RFC 2868
 * Tunnel-Password, Tunnel-Client-Auth-Id, Tunnel-Server-Auth-Id): those over the destination's profile.
 * Undefined when it brings none (the destination's profile applies).
 */
export function tunnelProfile(
  t: GroupTunnel,
  base: ResolvedProfile | undefined,
): ResolvedProfile | undefined {
  if (t.secret === undefined && t.clientAuthId === undefined && t.serverAuthId === undefined)
    return undefined;
  return {
    ...base,
    address: t.peer.address,
    port: t.peer.port,
    accept: false,
    ...(t.secret !== undefined ? { secret: t.secret, secretBytes: t.secret } : {}),
    ...(t.clientAuthId !== undefined ? { hostName: t.clientAuthId } : {}),
    ...(t.serverAuthId !== undefined ? { peerHostName: t.serverAuthId } : {}),
  };
}

/** The node's destinations and tunnels as tunnel selection reads them. */
function selectionView(placer: GroupPlacer): SelectionView {
  const { destinations } = placer;
  return {
    now: placer.rt.clock.now(),
    lockout: (key) => destinations.get(key)?.lockoutWindow(),
    eachTunnel: (key, visit) => {
      const d = destinations.get(key);
      if (!d) return;
      // One object, filled again for each tunnel (the view's contract): no object per tunnel per call.
      const live: LiveTunnel = {
        tunnelId: 0,
        sessions: 0,
        usable: false,
        established: false,
        assignmentId: undefined,
      };
      for (const t of d.tunnels.values()) {
        if (t.phase === "closed") continue;
        live.tunnelId = t.id;
        live.sessions = t.sessions.size;
        live.usable = hasRoomFor(t.load, Number.POSITIVE_INFINITY);
        live.established = t.phase === "established";
        live.assignmentId = d.assignments.get(t.id);
        visit(live);
      }
    },
  };
}
