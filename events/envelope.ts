/**
 * The one envelope every recorded event travels in: which node wrote it and in what order (a gapless
 * per-node sequence), when, which actor of the tree (system → destination → tunnel → session) changed,
 * from which state to which, because of which XState event, and which context fields changed.
 *
 * `events/schema.ts` is the codec of this shape (versioning, redaction of secrets, binary as hex).
 */

/** The envelope format version written by this code; a reader refuses any other. */
export const ENVELOPE_VERSION = 1;

/**
 * Which level of the tree an event belongs to (docs/ARCHITECTURE.md, "The four levels"), or a session's
 * PPP link ("ppp": its path is its session's).
 */
export type MachineKind = "system" | "destination" | "tunnel" | "session" | "ppp" | "subscriber";

/** Every machine kind, top level first (a LAC's subscriber is a level of its own under the system). */
export const MACHINE_KINDS: readonly MachineKind[] = [
  "system",
  "destination",
  "tunnel",
  "session",
  "ppp",
  "subscriber",
];

/**
 * Where the actor sits below its node (the system is the node itself): the destination's "address:port",
 * our local tunnel id and our local session id, each present down to the actor's own level.
 */
export interface EnvelopePath {
  destination?: string;
  tunnel?: number;
  session?: number;
  /**
   * A LAC's subscriber (its Access line's id): its own level under the system, never with a
   * destination (its call's destination, tunnel and session are in its data once placed).
   */
  subscriber?: string;
}

/** One recorded state transition (or context change) of one actor. */
export interface Envelope {
  /** Format version, always ENVELOPE_VERSION. */
  v: 1;
  /** The node (system) that recorded it; also names its sequence. */
  node: string;
  /** Position in this node's log: 1, 2, 3 … without gaps. */
  seq: number;
  /** When it happened, in ms on the recording node's clock (never decreasing within a node). */
  time: number;
  path: EnvelopePath;
  machine: MachineKind;
  /** The state before, serialised (see stateValueToString); null for the actor's first snapshot. */
  from: string | null;
  /** The state after, serialised. */
  to: string;
  /** The type of the XState event that caused it ("rx.SCCRP", "close", "xstate.init" …). */
  cause: string;
  /** The context fields that changed (all of them on the first snapshot); secrets are redacted at encode. */
  data: Record<string, unknown>;
}

/**
 * Node names become a NATS subject token (`l2tp.<node>.<machine>`) and a directory name of the file
 * log, so they are restricted to what is safe in both.
 */
export const NODE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Why `node` cannot name a node, or null when it can. */
export function nodeNameProblem(node: string): string | null {
  if (NODE_NAME_PATTERN.test(node)) return null;
  return `node name '${node}' must be 1-64 letters, digits, '-' or '_' (it names a NATS subject token and a directory)`;
}

/**
 * An XState state value as one string: "established", "closing.waitAck" for nested states, and
 * "up.(ipcp.opened,lcp.opened)" for parallel regions (keys sorted, so the string is stable).
 */
export function stateValueToString(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || typeof value !== "object") return String(value);
  const keys = Object.keys(value).sort();
  const parts = keys.map((key) => {
    const child = (value as Record<string, unknown>)[key];
    if (
      child === undefined ||
      (typeof child === "object" && child !== null && Object.keys(child).length === 0)
    ) {
      return key;
    }
    return `${key}.${stateValueToString(child)}`;
  });
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(",")})`;
}

/** The machine kind implied by a path: the deepest level it names (`ppp` marks a session's PPP link). */
export function machineOfPath(path: EnvelopePath & { ppp?: boolean }): MachineKind {
  if (path.ppp === true) return "ppp";
  if (path.subscriber !== undefined) return "subscriber";
  if (path.session !== undefined) return "session";
  if (path.tunnel !== undefined) return "tunnel";
  if (path.destination !== undefined) return "destination";
  return "system";
}
