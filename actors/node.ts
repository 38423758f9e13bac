/**
 * A node: one running L2TP system (LAC, LNS, or both) wired from the pure machines, the control
 * channel, and the ports. The tree is system → destination → tunnel → session, every one a root
 * XState actor observed by the same `inspect` callback and linked to its parent by the supervisor.
 *
 * The router (`route`) reads only the header of a datagram (`peekIds`) and finds its tunnel by our
 * tunnel id in a Map. Tunnel id 0 is an SCCRQ (or a retransmission of one, or an early StopCCN): the
 * system finds or creates the destination, settles a tie-breaker, and creates the responder tunnel.
 * Under a flood, an SCCRQ over a half-open limit is refused from its header (`#refusedUnread`), and
 * those of peers no profile names are decoded a share per turn (`#waits`), established tunnels first.
 * Data messages go straight to the session's counters and the data handler, never through XState.
 * A destination's own wiring (placement, admission) is in destination-handle.ts, a placed call's in
 * placed-call.ts.
 */

import type { AnyActorRef, InspectionEvent } from "xstate";
import type { ActorPath } from "../machines/common.ts";
import { type AdminState, type Cause, cause } from "../machines/common.ts";
import { destinationMachine } from "../machines/destination.ts";
import { sessionLogic } from "../machines/session-logic.ts";
import { type SystemEmitted, systemMachine, type TunnelSelected } from "../machines/system.ts";
import { tieBreak, tunnelMachine } from "../machines/tunnel.ts";
import { groupProblem } from "../machines/tunnel-selection.ts";
import type { ControlHeader } from "../protocol/l2tp/header.ts";
import { peekIds } from "../protocol/l2tp/header.ts";
import {
  type ControlPacket,
  decodeControl,
  encodeControl,
  peekSccrqAssignedTunnelId,
  readdressControl,
  validateMessage,
} from "../protocol/l2tp/messages.ts";
import { GeneralError, type ProtocolError } from "../protocol/l2tp/result.ts";
import { StopCcnResult } from "../protocol/l2tp/result-codes.ts";
import type { Aaa } from "./aaa.ts";
import {
  destinationKey,
  matchProfile,
  type NodeConfig,
  type ResolvedProfile,
  resolveProfiles,
} from "./config.ts";
import type { DataPlane } from "./data-plane.ts";
import {
  DestinationHandle,
  type LockoutAction,
  type PlaceHow,
  pendingRequests,
  type TunnelOwnerRegistry,
} from "./destination-handle.ts";
import { HalfOpenTunnels, MAX_RETRANSMITS_UNAUTHENTICATED } from "./half-open.ts";
import {
  type CallPlacer,
  type OpenSessionOptions,
  type OpenSessionOutcome,
  PlacedCall,
} from "./placed-call.ts";
import type { Clock, PeerAddress, Random, Transport, TransportStats } from "./ports.ts";
import { PppService, type PppSnapshot, type PppStats } from "./ppp-link.ts";
import { type RestorePlan, sessionSnapshot, tunnelSnapshot } from "./restore.ts";
import {
  addChannelStats,
  type ChannelTotals,
  type DataHandler,
  INSUFFICIENT_RESOURCES,
  type Machines,
  type NodeRuntime,
  newChannelTotals,
  type RouterStats,
  type SessionRequest,
} from "./runtime.ts";
import { type Ending, type Supervised, Supervisor } from "./supervisor.ts";
import { stateName, type TunnelHandle, TunnelHandle as Tunnels } from "./tunnel-actor.ts";
import { GroupCall, type GroupPlacer } from "./tunnel-group.ts";
import { type Ended, EndedRecords, type SessionSnapshot, type TunnelSnapshot, tunnelView } from "./views.ts";

export type { LockoutAction } from "./destination-handle.ts";
export type { OpenSessionOptions, OpenSessionOutcome } from "./placed-call.ts";

/** The ports and hooks a node runs on. */
export interface NodeDeps {
  /** One bound socket, or several (the first carries tunnels we open). */
  transport: Transport | readonly Transport[];
  clock: Clock;
  random: Random;
  /** The one observer of every actor's inspection events. */
  inspect?: (event: InspectionEvent) => void;
  /** Data messages (T=0) of every session without a PPP link; counted whether or not a handler is set. */
  onData?: DataHandler;
  /** AAA for PPP authentication and accounting (adapters/aaa). */
  aaa?: Aaa;
  /** Where the IP of PPP links goes (adapters/dataplane); default: counted and dropped. */
  dataPlane?: DataPlane;
  /** Replacement machines (tests: a machine with an action that throws). */
  machines?: Partial<Machines>;
  /** Errors thrown by wiring callbacks and the router (default: console.error); the actor concerned is stopped. */
  onWiringError?: (error: unknown, path: ActorPath | undefined) => void;
  /**
   * Admission control, asked before a NEW tunnel (an SCCRQ) or session (an ICRQ or OCRQ, or a call we
   * place) is accepted: false refuses it for lack of resources (the event log cannot keep up). Tunnels
   * and sessions that exist are never touched. Without it, everything is admitted.
   */
  admit?: () => boolean;
  /**
   * Resume these recorded tunnels and sessions (a standby taking over, actors/restore.ts) before the
   * first datagram is read: same ids, same states, the control channels at the recorded Ns/Nr.
   */
  restore?: RestorePlan;
}

/** Which level an admin command is for. */
export type AdminTarget =
  | { level: "system" }
  | { level: "destination"; peer: PeerAddress }
  | { level: "tunnel"; tunnelId: number };

export type { PppLinkSnapshot, SessionSnapshot, TunnelSnapshot } from "./views.ts";

/** A destination in a snapshot. */
export interface DestinationSnapshot {
  key: string;
  address: string;
  port: number;
  state: string;
  admin: AdminState;
  lockouts: number;
  /** While locked out: when it will be tried again (clock ms). */
  lockedOutUntil?: number;
  /** Why the last tunnel to it failed. */
  lastFailure?: Cause;
  tunnels: TunnelSnapshot[];
}

/** The whole tree and the registries, for tests and the `show` command. */
export interface NodeSnapshot {
  /** The node's clock when the snapshot was taken (ms). */
  at: number;
  system: { state: string; admin: AdminState; ended: boolean };
  destinations: DestinationSnapshot[];
  registries: {
    /** Actors alive in the supervisor (system included). */
    liveActors: number;
    tunnels: number;
    tunnelsByPeer: number;
    destinations: number;
    sessions: number;
    pendingRequests: number;
    /** Tunnels peers asked for that are still in their handshake, and the source addresses they came from. */
    halfOpenTunnels: number;
    halfOpenAddresses: number;
    /** Tunnel-id-0 datagrams of unnamed peers waiting for a turn (a flood's backlog, `#waits`). */
    waitingSccrqs: number;
  };
  stats: RouterStats;
  /** Control-channel counters summed over every tunnel, live or ended (RFC 2661 §5.8). */
  channels: ChannelTotals;
  /** PPP counters, when the node runs PPP. */
  ppp?: PppSnapshot;
  /** Tunnels and sessions that ended within the destruct timeout (views.ts), when asked for. */
  ended?: { tunnels: Ended<TunnelSnapshot>[]; sessions: Ended<SessionSnapshot>[] };
  /** Each bound socket's counters (send errors among them), when its adapter keeps them. */
  sockets: ({ local: string } & TransportStats)[];
}

/** One live actor of a node's tree, as `liveActors` walks it. */
export interface LiveActor {
  readonly path: ActorPath;
  readonly snapshot: { value: unknown; context: unknown; status: string };
  /** The XState actor itself (what a recorder knows it by). */
  readonly ref: object;
}

/** A running node. */
export interface L2tpNode {
  readonly name: string;
  /** Places a call toward a destination: resolves when it is established, or failed with a cause. */
  openSession(options: OpenSessionOptions): Promise<OpenSessionOutcome>;
  /** Sets the admin state of the system, a destination, or a tunnel; false if there is no such thing. */
  setAdmin(target: AdminTarget, state: AdminState): boolean;
  /**
   * Clears a destination's lockout, or runs its lockout test now (a test tunnel at once): "done", or
   * why not ("not-locked-out", "no-destination").
   */
  lockout(peer: PeerAddress, action: LockoutAction): "done" | "not-locked-out" | "no-destination";
  /** Closes a destination (a StopCCN on each of its tunnels); false if there is none. */
  closeDestination(peer: PeerAddress, why?: Cause): boolean;
  /** Closes one tunnel (StopCCN; its sessions end with it, no CDN). */
  closeTunnel(tunnelId: number, why?: Cause): boolean;
  /** Closes one session (CDN). */
  closeSession(tunnelId: number, sessionId: number, why?: Cause): boolean;
  /** Sends a data message on an established session. */
  sendData(tunnelId: number, sessionId: number, payload: Uint8Array): boolean;
  /**
   * The tree and registries now. `sessions: false` leaves out the per-session lists; `ended: true` adds
   * the tunnels and sessions that ended within the destruct timeout.
   */
  snapshot(options?: { sessions?: boolean; ended?: boolean }): NodeSnapshot;
  /** Where an actor sits in the tree (for inspection events). */
  pathOf(actor: AnyActorRef): ActorPath | undefined;
  /**
   * Every live actor of the tree now, parents before children, with its path and XState snapshot: what
   * the live inspector starts from when a page opens (rather than folding the log since the start).
   */
  liveActors(): Generator<LiveActor>;
  /** Closes everything (a conversation: StopCCN per tunnel, then the hold); resolves when the system ended. */
  close(why?: Cause): Promise<Cause>;
  /** Resolves when the system actor ended. */
  readonly closed: Promise<Cause>;
  /** Records that the node is alive (a system event; a standby following the log watches for it). */
  heartbeat(): void;
  /** The supervisor of the node's tree (a LAC's subscribers are spawned in it, under `system`). */
  readonly supervisor: Supervisor;
  /** The system actor, the root of the tree. */
  readonly system: Supervised;
  /** The live counters of the node's PPP (undefined when it runs none): read without a snapshot. */
  readonly pppStats: Readonly<PppStats> | undefined;
  /** The node's PPP (config `ppp`): pools, keepalive, accounting; a LAC terminates subscribers here with it. */
  readonly ppp: PppService | undefined;
}

const DEFAULT_MACHINES: Machines = {
  system: systemMachine,
  destination: destinationMachine,
  tunnel: tunnelMachine,
  // The session machine's table, run without XState's interpreter (machines/session-logic.ts).
  session: sessionLogic,
};

/** RFC 2661 §4.4.2: StopCCN result 2 (general error), error 4 (insufficient resources). */
const INSUFFICIENT = {
  result: StopCcnResult.generalError,
  error: GeneralError.insufficientResources,
} as const;

/**
 * Tunnel-id-0 datagrams of peers no profile names by address (SCCRQs of wildcard or unknown peers) that
 * are decoded in one turn of the event loop; more wait for the next turn, so that a flood's burst is read
 * off the socket at once (a full receive buffer drops everyone's datagrams, and a lost control message
 * stalls its tunnel for a 1 s retransmission, RFC 2661 §5.8) and the messages of established tunnels
 * and configured peers, handled as they are read, go first. Refusals by a half-open limit cost nothing
 * to decode and do not count.
 */
const UNNAMED_SCCRQS_PER_TURN = 16;
/** The most such datagrams kept waiting (about 3 MiB); beyond it they are handled as they come. */
const MAX_WAITING_SCCRQS = 16_384;

/** Tie-breaker retries of one session before it fails. */
const MAX_PLACEMENTS = 4;

/** Creates and starts a node. */
export function createNode(config: NodeConfig, deps: NodeDeps): L2tpNode {
  return new Node(config, deps);
}

class Node implements L2tpNode, TunnelOwnerRegistry, CallPlacer, GroupPlacer {
  readonly name: string;
  readonly closed: Promise<Cause>;
  readonly rt: NodeRuntime;
  readonly destinations = new Map<string, DestinationHandle>();
  readonly system: Supervised<typeof systemMachine>;
  #nextRequestId = 1;
  #verdicts = new Map<number, (admitted: boolean, why?: Cause) => void>();
  #resolveClosed!: (c: Cause) => void;
  readonly #transports: readonly Transport[];
  readonly #reportError: (error: unknown, path: ActorPath | undefined) => void;
  readonly #admit: (() => boolean) | undefined;
  /** Tunnel-id-0 datagrams of unnamed peers waiting for a turn (UNNAMED_SCCRQS_PER_TURN), oldest first from `#waitingHead`. */
  #waiting: { packet: Uint8Array; from: PeerAddress; transport: Transport }[] = [];
  #waitingHead = 0;
  /** Such datagrams decoded in this turn; the turn ends when `#turnTimer` fires. */
  #decodedThisTurn = 0;
  #turnTimer: unknown;
  readonly #nextTurn = (): void => this.takeTurn();

  constructor(config: NodeConfig, deps: NodeDeps) {
    this.name = config.name;
    this.#admit = deps.admit;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#transports = Array.isArray(deps.transport) ? deps.transport : [deps.transport as Transport];
    if (this.#transports.length === 0) throw new Error("createNode: at least one transport is needed");
    const onWiringError = deps.onWiringError;
    this.#reportError = (error, path) =>
      onWiringError
        ? onWiringError(error, path)
        : console.error(`l2tp ${config.name}: wiring error`, path, error);
    const supervisor = new Supervisor({
      clock: deps.clock,
      ...(deps.inspect ? { inspect: deps.inspect } : {}),
      onWiringError: (error, where) => this.#reportError(error, where?.path),
    });
    this.rt = {
      config,
      profiles: resolveProfiles(config.destinations),
      clock: deps.clock,
      random: deps.random,
      supervisor,
      machines: { ...DEFAULT_MACHINES, ...deps.machines },
      tunnels: new Map(),
      tunnelsByPeer: new Map(),
      stats: {
        malformed: 0,
        undecodable: 0,
        unknownTunnel: 0,
        unknownSession: 0,
        invalidCallsRefused: 0,
        invalidUnanswerable: 0,
        dataDelivered: 0,
        dataUnknown: 0,
        refusedTunnels: 0,
        halfOpenRefused: 0,
        tieBreakerDrops: 0,
      },
      endedChannels: newChannelTotals(),
      ended: new EndedRecords(deps.clock, config.destructTimeoutMs, config.maxEndedRecords),
      halfOpen: new HalfOpenTunnels(config.maxHalfOpenTunnels, config.maxHalfOpenPerAddress),
      ...(deps.onData ? { onData: deps.onData } : {}),
      defaultTransport: this.#transports[0],
      recordsChannel: deps.inspect !== undefined,
    };
    if (config.ppp) {
      (this.rt as { ppp?: PppService }).ppp = new PppService(this.rt, config.ppp, deps.aaa, deps.dataPlane);
    }
    this.system = supervisor.spawn({
      level: "system",
      key: config.name,
      path: { system: config.name },
      machine: this.rt.machines.system,
      input: {
        path: { system: config.name },
        hostName: config.hostName,
        ...(config.systemCloseTimeoutMs !== undefined ? { closeTimeoutMs: config.systemCloseTimeoutMs } : {}),
      },
      wire: (actor, self) => {
        const l = <E>(fn: (e: E) => void) => supervisor.listener(self, fn);
        actor.on(
          "admitted",
          l((e: SystemEmitted & { type: "admitted" }) => this.#verdicts.get(e.requestId)?.(true)),
        );
        actor.on(
          "refuse",
          l((e: SystemEmitted & { type: "refuse" }) => this.#verdicts.get(e.requestId)?.(false, e.cause)),
        );
        actor.on(
          "closeDestinations",
          l((e: SystemEmitted & { type: "closeDestinations" }) => {
            for (const d of [...this.destinations.values()]) d.send({ type: "close", cause: e.cause });
          }),
        );
      },
      onEnd: (_self, ending) => this.#systemEnded(ending),
    });
    if (deps.restore) this.#restore(deps.restore);
    for (const t of this.#transports) t.onReceive((packet, from) => this.route(packet, from, t));
  }

  /** Resumes a recorded node's tunnels and sessions (failover; actors/restore.ts says what and why). */
  #restore(plan: RestorePlan): void {
    if (plan.admin !== "enabled") this.system.actor.send({ type: "admin", state: plan.admin });
    const system = this.rt.config.name;
    for (const rd of plan.destinations) {
      const profile = matchProfile(this.rt.profiles, rd.peer);
      const d = this.destination(rd.peer, profile);
      if (!d) continue;
      for (const rt of rd.tunnels) {
        const snapshot = tunnelSnapshot(rt, { system, destination: d.key, tunnel: rt.id }, profile);
        const t = Tunnels.spawn(this.rt, d, {
          role: rt.role,
          peer: rt.channel.peer,
          transport: this.transportAt(rt.channel.local),
          profile,
          test: false,
          restore: { id: rt.id, snapshot, ...rt.channel },
        });
        if (!t) continue;
        d.send({ type: "tunnelOpened", tunnelId: t.id, test: false });
        d.tunnelEstablished(t);
        for (const rs of rt.sessions) {
          const path = { system, destination: d.key, tunnel: t.id, session: rs.id };
          const s = t.restoreSession(rs.id, rs.kind, sessionSnapshot(rs, path), rs.peerSessionId);
          if (s && rs.ppp) this.rt.ppp?.restore(s, rs);
        }
      }
      if (rd.admin !== "enabled") d.send({ type: "admin", state: rd.admin });
    }
  }

  /** The socket bound at `local` (the one a recorded tunnel ran on), else the first. */
  private transportAt(local: PeerAddress | undefined): Transport {
    const found = local
      ? this.#transports.find((t) => t.local.address === local.address && t.local.port === local.port)
      : undefined;
    return found ?? this.rt.defaultTransport;
  }

  get ppp(): PppService | undefined {
    return this.rt.ppp;
  }

  get pppStats(): Readonly<PppStats> | undefined {
    return this.rt.ppp?.stats;
  }

  heartbeat(): void {
    if (!this.system.ending) this.system.actor.send({ type: "heartbeat", at: this.rt.clock.now() });
  }

  // --- API -------------------------------------------------------------------------------------------

  openSession(options: OpenSessionOptions): Promise<OpenSessionOutcome> {
    const group = options.group;
    if (group) {
      const problem = groupProblem(group);
      if (problem) return Promise.resolve({ ok: false, cause: cause("refused", problem) });
    }
    return new Promise((resolve) => {
      const call = new PlacedCall(this, this.#nextRequestId++, options, resolve);
      if (group) new GroupCall(this, group, call, options.onSelection).select();
      else this.place(call);
    });
  }

  /** A tunnel group's choice (actors/tunnel-group.ts) placed on its destination. */
  placeChosen(request: SessionRequest, how: PlaceHow): void {
    this.place(request, how);
  }

  recordSelection(selected: TunnelSelected): void {
    if (!this.system.ending) this.system.actor.send({ type: "tunnelSelected", ...selected });
  }

  /** A lost tie-breaker moves the call to the winner's tunnel (RFC 2661 §4.4.3), a few times at most. */
  replace(call: PlacedCall): boolean {
    if (call.attempts >= MAX_PLACEMENTS || this.system.ending) return false;
    this.place(call);
    return true;
  }

  setAdmin(target: AdminTarget, state: AdminState): boolean {
    const event = { type: "admin" as const, state };
    switch (target.level) {
      case "system":
        if (this.system.ending) return false;
        this.system.actor.send(event);
        return true;
      case "destination": {
        const d = this.destinations.get(destinationKey(target.peer));
        if (!d) return false;
        d.send(event);
        return true;
      }
      case "tunnel": {
        const t = this.rt.tunnels.get(target.tunnelId);
        if (!t) return false;
        t.send(event);
        return true;
      }
    }
  }

  lockout(peer: PeerAddress, action: LockoutAction): "done" | "not-locked-out" | "no-destination" {
    const d = this.destinations.get(destinationKey(peer));
    if (!d) return "no-destination";
    return d.lockout(action) ? "done" : "not-locked-out";
  }

  closeDestination(peer: PeerAddress, why = cause("admin", "destination closed by the operator")): boolean {
    const d = this.destinations.get(destinationKey(peer));
    if (!d) return false;
    d.send({ type: "close", cause: why });
    return true;
  }

  closeTunnel(tunnelId: number, why = cause("admin", "tunnel closed by the operator")): boolean {
    const t = this.rt.tunnels.get(tunnelId);
    if (!t) return false;
    t.send({ type: "close", cause: why });
    return true;
  }

  closeSession(
    tunnelId: number,
    sessionId: number,
    why = cause("admin", "session closed by the operator"),
  ): boolean {
    const s = this.rt.tunnels.get(tunnelId)?.sessions.get(sessionId);
    if (!s) return false;
    s.send({ type: "close", cause: why });
    return true;
  }

  sendData(tunnelId: number, sessionId: number, payload: Uint8Array): boolean {
    const t = this.rt.tunnels.get(tunnelId);
    const s = t?.sessions.get(sessionId);
    return !!(t && s && t.sendData(s, payload));
  }

  pathOf(actor: AnyActorRef): ActorPath | undefined {
    return this.rt.supervisor.pathOf(actor);
  }

  get supervisor(): Supervisor {
    return this.rt.supervisor;
  }

  *liveActors(): Generator<LiveActor> {
    for (const self of this.rt.supervisor.walk(this.system)) {
      yield { path: self.path, snapshot: self.actor.getSnapshot() as LiveActor["snapshot"], ref: self.actor };
    }
  }

  close(why = cause("admin", "node closed")): Promise<Cause> {
    if (!this.system.ending) this.system.actor.send({ type: "close", cause: why });
    return this.closed;
  }

  snapshot(options: { sessions?: boolean; ended?: boolean } = {}): NodeSnapshot {
    const withSessions = options.sessions !== false;
    const sys = this.system.actor.getSnapshot();
    let sessions = 0;
    const destinations: DestinationSnapshot[] = [];
    for (const d of this.destinations.values()) {
      const ds = d.node.actor.getSnapshot();
      const tunnels: TunnelSnapshot[] = [];
      for (const t of d.tunnels.values()) {
        sessions += t.sessions.size;
        tunnels.push(tunnelView(t, withSessions));
      }
      const state = stateName(ds.value);
      const destination: DestinationSnapshot = {
        key: d.key,
        address: d.peer.address,
        port: d.peer.port,
        state,
        admin: ds.context.admin,
        lockouts: ds.context.lockouts,
        tunnels,
      };
      if (state === "lockedOut" && d.lockedOutAt !== undefined)
        destination.lockedOutUntil = d.lockedOutAt + ds.context.lockoutMs;
      if (ds.context.lastFailure) destination.lastFailure = ds.context.lastFailure;
      destinations.push(destination);
    }
    return {
      at: this.rt.clock.now(),
      system: { state: stateName(sys.value), admin: sys.context.admin, ended: !!this.system.ending },
      destinations,
      registries: {
        liveActors: this.rt.supervisor.live,
        tunnels: this.rt.tunnels.size,
        tunnelsByPeer: this.rt.tunnelsByPeer.size,
        destinations: this.destinations.size,
        sessions,
        pendingRequests: pendingRequests(this.destinations),
        halfOpenTunnels: this.rt.halfOpen.total,
        halfOpenAddresses: this.rt.halfOpen.addresses,
        waitingSccrqs: this.#waiting.length - this.#waitingHead,
      },
      stats: { ...this.rt.stats },
      channels: this.#channelTotals(),
      ...(this.rt.ppp ? { ppp: this.rt.ppp.snapshot() } : {}),
      ...(options.ended ? { ended: this.rt.ended.list() } : {}),
      sockets: this.#transports.flatMap((t) =>
        t.stats ? [{ local: destinationKey(t.local), ...t.stats }] : [],
      ),
    };
  }

  /** The ended tunnels' channel counters plus the live ones'. */
  #channelTotals(): ChannelTotals {
    const totals = { ...this.rt.endedChannels };
    for (const t of this.rt.tunnels.values()) addChannelStats(totals, t.channel.stats());
    return totals;
  }

  // --- admission and placement --------------------------------------------------------------------

  /** Asks the system actor whether new work (a session or a tunnel) is admitted now. */
  private systemAdmits(what: "session" | "tunnel"): Cause | null {
    if (this.system.ending) return cause("refused", `system ${this.name} is closed`);
    // The machine's answer read from its state (its `enabled` guard): an event per call would cost a
    // whole XState step per session for no change of state. Refusals still go through the machine.
    const now = this.system.actor.getSnapshot();
    if (now.value === "running" && now.context.admin === "enabled") return null;
    let verdict: Cause | null | undefined;
    const requestId = this.#nextRequestId++;
    this.#verdicts.set(requestId, (ok, why) => {
      verdict = ok ? null : (why ?? cause("refused", "refused"));
    });
    this.system.actor.send({ type: "request", requestId, what });
    this.#verdicts.delete(requestId);
    if (verdict !== undefined) return verdict;
    // Asked from inside one of the system's own reactions: the event waits in its mailbox, so answer
    // from its current state (the same rule as the machine's `enabled` guard).
    const snap = this.system.actor.getSnapshot();
    return snap.value === "running" && snap.context.admin === "enabled"
      ? null
      : cause(
          "refused",
          `system ${this.name} is ${snap.value === "running" ? snap.context.admin : "closing"}`,
        );
  }

  /** Finds or creates the destination for a peer. */
  private destination(
    peer: PeerAddress,
    profile: ResolvedProfile | undefined,
  ): DestinationHandle | undefined {
    const key = destinationKey(peer);
    const existing = this.destinations.get(key);
    if (existing) return existing;
    if (this.system.ending) return undefined;
    const d = new DestinationHandle(this, key, peer, profile);
    return d.node.ending ? undefined : d;
  }

  /** LAC: places a request on a tunnel of its destination (or opens one), through the destination machine. */
  private place(request: SessionRequest, how?: PlaceHow): void {
    request.attempts++;
    const refused = this.systemAdmits("session");
    if (refused) {
      request.onEnded(undefined, refused);
      return;
    }
    if (!this.admitsNewWork()) {
      request.onEnded(undefined, cause("refused", `system ${this.name}: ${INSUFFICIENT_RESOURCES}`));
      return;
    }
    const profile = matchProfile(this.rt.profiles, request.destination);
    const d = this.destination(request.destination, profile);
    if (!d) {
      request.onEnded(undefined, cause("refused", `system ${this.name} is closing`));
      return;
    }
    d.place(request, how);
  }

  /** Whether the admission-control hook lets new tunnels and sessions in now (always without one). */
  admitsNewWork(): boolean {
    return this.#admit?.() ?? true;
  }

  /** A verdict holder for DestinationHandle.admit (shares the request-id space). */
  nextRequestId(): number {
    return this.#nextRequestId++;
  }

  // --- ingress --------------------------------------------------------------------------------------

  private route(packet: Uint8Array, from: PeerAddress, transport: Transport): void {
    try {
      const ids = peekIds(packet);
      const stats = this.rt.stats;
      if (!ids) {
        stats.malformed++;
        return;
      }
      const { isControl, tunnelId, sessionId } = ids;
      if (!isControl) {
        // Data (T=0): straight to the session, never through an XState queue.
        const t = this.rt.tunnels.get(tunnelId);
        const s = t?.sessions.get(sessionId);
        if (!t || !s) {
          stats.dataUnknown++;
          return;
        }
        // Data shows the peer is alive: no HELLO needed (RFC 2661 §6.5).
        t.channel.peerHeard();
        s.packetsIn++;
        s.bytesIn += packet.length;
        stats.dataDelivered++;
        if (s.ppp) s.ppp.receive(packet);
        else if (!this.rt.ppp?.keepEarly(s, packet)) this.rt.onData?.(s, packet);
        return;
      }
      if (tunnelId !== 0) {
        const t = this.rt.tunnels.get(tunnelId);
        if (!t) {
          stats.unknownTunnel++;
          return;
        }
        t.receive(packet, from);
        return;
      }
      this.routeTunnelZero(packet, from, transport);
    } catch (error) {
      // A bug in the wiring must not take the socket's receive loop down.
      this.#reportError(error, undefined);
    }
  }

  /** Tunnel id 0: an SCCRQ, a retransmission of one, or a StopCCN sent before our id was known (RFC 2661 §4.4.3). */
  private routeTunnelZero(packet: Uint8Array, from: PeerAddress, transport: Transport): void {
    const profile = matchProfile(this.rt.profiles, from);
    if (profile && profile.accept !== false && this.#refusedUnread(packet, from, transport, profile)) return;
    if (profile?.address === undefined && this.waits(packet, from, transport)) return;
    this.decodeTunnelZero(packet, from, transport, profile);
  }

  /**
   * True when a tunnel-id-0 datagram of an unnamed peer waits for a later turn: this turn has decoded
   * its share of them already, or older ones wait (UNNAMED_SCCRQS_PER_TURN says why).
   */
  private waits(packet: Uint8Array, from: PeerAddress, transport: Transport): boolean {
    if (this.#turnTimer === undefined) this.#turnTimer = this.rt.clock.setTimeout(this.#nextTurn, 0);
    const waiting = this.#waiting.length - this.#waitingHead;
    if (waiting === 0 && this.#decodedThisTurn < UNNAMED_SCCRQS_PER_TURN) {
      this.#decodedThisTurn++;
      return false;
    }
    if (waiting >= MAX_WAITING_SCCRQS) return false;
    this.#waiting.push({ packet, from, transport });
    return true;
  }

  /** A new turn: the oldest waiting datagrams get its share (the half-open limits refuse some unread). */
  private takeTurn(): void {
    this.#turnTimer = undefined;
    this.#decodedThisTurn = 0;
    const waiting = this.#waiting;
    while (this.#waitingHead < waiting.length && this.#decodedThisTurn < UNNAMED_SCCRQS_PER_TURN) {
      const { packet, from, transport } = waiting[this.#waitingHead];
      waiting[this.#waitingHead++] = undefined as never;
      if (this.system.ending) continue;
      try {
        const profile = matchProfile(this.rt.profiles, from);
        if (profile && profile.accept !== false && this.#refusedUnread(packet, from, transport, profile))
          continue;
        this.#decodedThisTurn++;
        this.decodeTunnelZero(packet, from, transport, profile);
      } catch (error) {
        this.#reportError(error, undefined);
      }
    }
    if (this.#waitingHead < waiting.length) {
      // A flood that never lets the list empty: drop what was taken, so that it does not grow.
      if (this.#waitingHead >= 4096) {
        waiting.splice(0, this.#waitingHead);
        this.#waitingHead = 0;
      }
      this.#turnTimer = this.rt.clock.setTimeout(this.#nextTurn, 0);
    } else {
      this.#waiting = [];
      this.#waitingHead = 0;
    }
  }

  /** A tunnel-id-0 datagram decoded and acted on. */
  private decodeTunnelZero(
    packet: Uint8Array,
    from: PeerAddress,
    transport: Transport,
    profile: ResolvedProfile | undefined,
  ): void {
    const decoded = decodeControl(packet, profile?.secretBytes ? { secret: profile.secretBytes } : undefined);
    if (!decoded.ok) {
      this.#invalidTunnelZero(decoded.error, from, transport, profile);
      return;
    }
    const { message } = decoded.value;
    if (!message) return; // a ZLB to tunnel 0 acknowledges nothing we keep
    const peerTunnelId = message.avps.assignedTunnelId;
    if (peerTunnelId) {
      const known = this.rt.tunnelsByPeer.get(`${destinationKey(from)}/${peerTunnelId}`);
      if (known) {
        known.receiveDecoded(decoded.value, from);
        return;
      }
    }
    if (message.type === "SCCRQ") this.incomingTunnel(decoded.value, from, transport, profile);
    else this.rt.stats.unknownTunnel++;
  }

  /**
   * Under a flood most SCCRQs come while a half-open limit is reached: those are refused from the header
   * and the Assigned Tunnel ID alone (peekSccrqAssignedTunnelId), with the limit's StopCCN 2/4 encoded
   * once, before anything is decoded or made for them. Only for a peer with no destination here: a peer
   * with one may be retransmitting the SCCRQ of a tunnel it has, or crossing ours (RFC 2661 §4.4.3),
   * which the full path below settles. True when refused.
   */
  #refusedUnread(
    packet: Uint8Array,
    from: PeerAddress,
    transport: Transport,
    profile: ResolvedProfile,
  ): boolean {
    const busy = this.rt.halfOpen.refuses(from.address, profile.address !== undefined);
    if (!busy) return false;
    const peerTunnelId = peekSccrqAssignedTunnelId(packet);
    if (peerTunnelId <= 0 || this.destinations.has(destinationKey(from))) return false;
    this.rt.stats.halfOpenRefused++;
    this.rt.stats.refusedTunnels++;
    const ns = (packet[8] << 8) | packet[9];
    transport.send(
      readdressControl(busy.stopCcn, { tunnelId: peerTunnelId, sessionId: 0, ns: 0, nr: (ns + 1) & 0xffff }),
      from,
    );
    return true;
  }

  /**
   * A tunnel-id-0 message that failed to decode. An SCCRQ whose header and Assigned Tunnel ID could
   * be read is refused with a StopCCN saying why (RFC 2661 §4.1: result 2, error 8 for an unknown
   * mandatory AVP); anything else has nobody to answer and is counted as undecodable.
   */
  #invalidTunnelZero(
    error: ProtocolError,
    from: PeerAddress,
    transport: Transport,
    profile: ResolvedProfile | undefined,
  ): void {
    const peerTunnelId = error.avps?.assignedTunnelId;
    if (error.messageType !== "SCCRQ" || !error.header || !peerTunnelId) {
      this.rt.stats.undecodable++;
      return;
    }
    // No state is kept: a retransmitted copy gets its own StopCCN, one datagram for one.
    const reply = { header: error.header, assignedTunnelId: peerTunnelId };
    if (!profile || profile.accept === false) {
      this.#refuseSccrq(reply, from, transport, {
        result: StopCcnResult.notAuthorized,
        message: `peer ${destinationKey(from)} is not configured`,
      });
      return;
    }
    this.#refuseSccrq(reply, from, transport, {
      result: error.resultCode ?? StopCcnResult.generalError,
      ...(error.errorCode !== undefined ? { error: error.errorCode } : {}),
      message: `${error.field}: ${error.reason}`.slice(0, 200),
    });
  }

  /** RFC 2661 §5.1, §7.2: an SCCRQ from a peer. */
  private incomingTunnel(
    packet: ControlPacket,
    from: PeerAddress,
    transport: Transport,
    profile: ResolvedProfile | undefined,
  ): void {
    const message = packet.message;
    if (!message) return;
    const sccrq = { header: packet.header, assignedTunnelId: message.avps.assignedTunnelId };
    if (!profile || profile.accept === false) {
      this.#refuseSccrq(sccrq, from, transport, {
        result: StopCcnResult.notAuthorized,
        message: `peer ${destinationKey(from)} is not configured`,
      });
      return;
    }
    // RFC 2661 §5.8: the SCCRQ opens the control channel, so its Ns is 0. Another Ns would be held by the
    // new tunnel's channel as out of order and never delivered: the tunnel would wait in idle for good.
    if (packet.header.ns !== 0) {
      this.#refuseSccrq(sccrq, from, transport, {
        result: StopCcnResult.generalError,
        error: GeneralError.valueOutOfRange,
        message: `SCCRQ with Ns ${packet.header.ns}: the first message of a control channel has Ns 0 (RFC 2661 §5.8)`,
      });
      return;
    }
    const invalid = validateMessage(message);
    if (invalid) {
      this.#refuseSccrq(sccrq, from, transport, {
        result: invalid.resultCode ?? StopCcnResult.generalError,
        ...(invalid.errorCode !== undefined ? { error: invalid.errorCode } : {}),
        message: `${invalid.field}: ${invalid.reason}`.slice(0, 200),
      });
      return;
    }
    // RFC 2661 §4.4.3: SCCRQs that crossed. Decide before anything changes, act after the winner exists.
    const existing = this.destinations.get(destinationKey(from));
    const losers: TunnelHandle[] = [];
    let bothLose = false;
    if (existing) {
      for (const t of existing.tunnels.values()) {
        if (t.role !== "initiator" || t.state !== "wait-ctl-reply") continue;
        const verdict = tieBreak(t.tieBreaker, message.avps.tieBreaker);
        if (verdict === "ours") {
          this.rt.stats.tieBreakerDrops++;
          return;
        }
        if (verdict === "theirs") losers.push(t);
        if (verdict === "neither") {
          losers.push(t);
          bothLose = true;
        }
      }
    }
    if (bothLose) {
      this.rt.stats.tieBreakerDrops++;
      for (const t of losers) t.send({ type: "tieBreakerLost", bothLost: true });
      return;
    }
    if (!this.admitsNewWork()) {
      // RFC 2661 §4.4.2: StopCCN result 2 (general error), error 4 (insufficient resources now).
      this.#refuseSccrq(sccrq, from, transport, { ...INSUFFICIENT, message: INSUFFICIENT_RESOURCES });
      return;
    }
    const refused = this.systemAdmits("tunnel");
    if (refused) {
      this.#refuseSccrq(sccrq, from, transport, { ...INSUFFICIENT, message: refused.message });
      return;
    }
    // Bounded before anything is made for the peer (RFC 2661 §4.4.2 StopCCN 2/4: insufficient resources).
    const busy = this.rt.halfOpen.refuses(from.address, profile.address !== undefined);
    if (busy) {
      this.rt.stats.halfOpenRefused++;
      this.#refuseSccrq(sccrq, from, transport, { ...INSUFFICIENT, message: busy.message });
      return;
    }
    const d = this.destination(from, profile);
    const admitted = d ? d.admit() : cause("refused", `system ${this.name} is closing`);
    if (!d || admitted) {
      this.#refuseSccrq(sccrq, from, transport, {
        ...INSUFFICIENT,
        message: admitted?.message ?? "refused",
      });
      return;
    }
    const t = Tunnels.spawn(this.rt, d, { role: "responder", peer: from, transport, profile, test: false });
    if (!t) {
      this.#refuseSccrq(sccrq, from, transport, { ...INSUFFICIENT, message: "no tunnel id left" });
      return;
    }
    // Counted like the tunnels we open: a destination with live tunnels is neither idle nor done closing.
    d.send({ type: "tunnelOpened", tunnelId: t.id, test: false });
    d.handshakeStarted(t, this.rt.halfOpen.open(from.address));
    t.channel.limitRetransmits(
      this.rt.config.maxRetransmitsUnauthenticated ?? MAX_RETRANSMITS_UNAUTHENTICATED,
    );
    t.receiveDecoded(packet, from);
    for (const loser of losers) loser.send({ type: "tieBreakerLost", bothLost: false });
  }

  /** A StopCCN for an SCCRQ we make no tunnel for: sent once, no state kept (RFC 2661 §5.1). */
  #refuseSccrq(
    sccrq: { header: ControlHeader; assignedTunnelId: number | undefined },
    from: PeerAddress,
    transport: Transport,
    resultCode: { result: number; error?: number; message?: string },
  ): void {
    this.rt.stats.refusedTunnels++;
    const reply = encodeControl(
      { tunnelId: sccrq.assignedTunnelId ?? 0, sessionId: 0, ns: 0, nr: (sccrq.header.ns + 1) & 0xffff },
      { type: "StopCCN", avps: { assignedTunnelId: 0, resultCode } },
    );
    transport.send(reply, from);
  }

  // --- endings --------------------------------------------------------------------------------------

  /** A destination ended: leave the registry, stop what it abandoned, tell the system. */
  destinationEnded(d: DestinationHandle): void {
    if (this.destinations.get(d.key) === d) this.destinations.delete(d.key);
    for (const t of [...d.tunnels.values()]) this.rt.supervisor.stopTree(t.node);
    d.failQueued(cause("refused", `destination ${d.key} ended`));
    if (!this.system.ending) this.system.actor.send({ type: "destinationEnded", destination: d.key });
  }

  #systemEnded(ending: Ending): void {
    this.rt.ppp?.close();
    if (this.#turnTimer !== undefined) this.rt.clock.clearTimeout(this.#turnTimer);
    this.#turnTimer = undefined;
    this.#waiting = [];
    this.#waitingHead = 0;
    for (const d of [...this.destinations.values()]) this.rt.supervisor.stopTree(d.node);
    // What is left under the system: a LAC's subscribers (actors/lac-access.ts) that have no call.
    for (const child of [...this.system.children.values()]) this.rt.supervisor.stopTree(child);
    for (const t of this.#transports) t.onReceive(() => {});
    const why =
      ending.kind === "done"
        ? (ending.output as { cause: Cause }).cause
        : cause(
            "internal",
            ending.kind === "error" ? `system failed: ${String(ending.error)}` : "system stopped",
          );
    this.#resolveClosed(why);
  }

  /** The admin state of the system. */
  get systemAdmin(): AdminState {
    return this.system.actor.getSnapshot().context.admin;
  }
}

/**
 * The module's own hot code, which adapters/jit keeps out of JSC's top tier with what it exports (it
 * reaches nothing else: these are not exported to be used): functions, and classes with their methods.
 */
export const hotInternals: readonly unknown[] = [Node];
