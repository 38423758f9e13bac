/**
 * The AAA port: how a node authenticates a subscriber, learns what the subscriber is allowed (an
 * address, a pool, timeouts; on a LAC, where to tunnel), and accounts for the session. Adapters live in
 * `adapters/aaa/`: `local` (users from the config file) and `radius` (RFC 2865/2866/2868/3579, our own
 * codec in `protocol/radius/`).
 *
 * An adapter never throws and never rejects: every outcome, a server that does not answer included, is
 * a value, so that the PPP layer decides what a failure means (an unanswered accounting request never
 * ends a session unless accounting is required).
 */

/** What a subscriber presented (RFC 1334 PAP, RFC 1994 CHAP-MD5), from its own PPP or proxied by a LAC (RFC 2661 §4.4.5). */
export type Credentials =
  | { method: "pap"; user: string; password: Uint8Array }
  | {
      method: "chap";
      user: string;
      /** The CHAP Identifier of the challenge the response answers. */
      id: number;
      challenge: Uint8Array;
      /** The 16-byte MD5 response (RFC 1994 §4.1). */
      response: Uint8Array;
    }
  /** Proxy Authen Type 4 (no authentication), or a LAC that authenticates nobody: the user name only. */
  | { method: "none"; user: string };

/** One authentication request: the credentials and what the NAS knows of the call. */
export interface AuthRequest {
  credentials: Credentials;
  /** The L2TP Calling Number (RFC 2661 §4.4.5), sent as Calling-Station-Id. */
  callingNumber?: string;
  /** The L2TP Called Number, sent as Called-Station-Id. */
  calledNumber?: string;
  /** The LAC's address as the LNS sees it (Tunnel-Client-Endpoint, RFC 2868 §3.3). */
  tunnelClientEndpoint?: string;
  /** A number for the call on this NAS (NAS-Port), for example the local session id. */
  nasPort?: number;
}

/** RFC 2868 tunnel attributes of one tag: where a LAC tunnels the subscriber (issue 9's domain decision). */
export interface TunnelAssignment {
  /** The tag (1-31) that groups the attributes; 0 when untagged. */
  tag: number;
  /** Tunnel-Type (3 = L2TP). */
  type?: number;
  /** Tunnel-Medium-Type (1 = IPv4). */
  mediumType?: number;
  serverEndpoint?: string;
  clientEndpoint?: string;
  /** Tunnel-Password, decrypted (RFC 2868 §3.5). */
  password?: Uint8Array;
  /** Tunnel-Preference: lower is more preferred. */
  preference?: number;
  assignmentId?: string;
  clientAuthId?: string;
  serverAuthId?: string;
}

/** What an accepted subscriber is allowed (RADIUS reply attributes, or the local user's entry). */
export interface Authorization {
  /** Framed-IP-Address, dotted quad. */
  framedIpAddress?: string;
  /** Framed-Pool: the name of a local pool to take the address from. */
  framedPool?: string;
  /** Session-Timeout, seconds. */
  sessionTimeout?: number;
  /** Idle-Timeout, seconds. */
  idleTimeout?: number;
  /** Acct-Interim-Interval, seconds. */
  acctInterimInterval?: number;
  /** Class attributes, echoed in every accounting request (RFC 2865 §5.25). */
  class?: Uint8Array[];
  /** RFC 2868 tunnel attributes, grouped by tag. */
  tunnels?: TunnelAssignment[];
  /** Reply-Message, for a person. */
  replyMessage?: string;
}

/** The outcome of an authentication request. */
export type AuthResult =
  | { ok: true; authorization: Authorization }
  | {
      ok: false;
      /** `rejected`: the server said no; `unreachable`: no server answered in time; `error`: a local fault. */
      reason: "rejected" | "unreachable" | "error";
      message: string;
      replyMessage?: string;
    };

/** Octet and packet counters of a session, each way (from the subscriber's point of view: in = received from it). */
export interface SessionCounters {
  octetsIn: number;
  octetsOut: number;
  packetsIn: number;
  packetsOut: number;
}

/** RFC 2866 §5.10 Acct-Terminate-Cause values this product uses. */
export const AcctTerminateCause = {
  userRequest: 1,
  lostCarrier: 2,
  lostService: 3,
  idleTimeout: 4,
  sessionTimeout: 5,
  adminReset: 6,
  adminReboot: 7,
  portError: 8,
  nasError: 9,
  nasRequest: 10,
  nasReboot: 11,
  portUnneeded: 12,
  portPreempted: 13,
  portSuspended: 14,
  serviceUnavailable: 15,
  callback: 16,
  userError: 17,
  hostRequest: 18,
} as const;

/** One accounting request (RFC 2866). */
export interface AccountingRecord {
  /** Acct-Status-Type: Start (1), Interim-Update (3) or Stop (2). */
  status: "start" | "interim" | "stop";
  /** Acct-Session-Id: unique per session on this NAS. */
  sessionId: string;
  user: string;
  framedIpAddress?: string;
  callingNumber?: string;
  calledNumber?: string;
  tunnelClientEndpoint?: string;
  nasPort?: number;
  /** Echoed from the Access-Accept. */
  class?: Uint8Array[];
  /** Seconds since the session started (Acct-Session-Time); interim and stop. */
  sessionTime?: number;
  /** Interim and stop; the adapter splits large values into Gigawords (RFC 2869 §5.1). */
  counters?: SessionCounters;
  /** Stop only (RFC 2866 §5.10). */
  terminateCause?: number;
  /** On a LAC: the tunnel the session went into (RFC 2867 §3: its type, medium and both endpoints). */
  tunnel?: TunnelAssignment;
  /**
   * On a LAC: Acct-Tunnel-Connection (RFC 2867 §4.1), which names the call within its tunnel; with the
   * two endpoints it identifies the tunnelled session for auditing.
   */
  tunnelConnection?: string;
}

/** The outcome of an accounting request: answered, or given up after the adapter's retries. */
export type AccountingResult = { ok: true } | { ok: false; message: string };

/** Counters of an AAA adapter, for `show` and metrics. */
export interface AaaStats {
  accessRequests: number;
  accepts: number;
  rejects: number;
  /** Authentication requests no server answered. */
  authTimeouts: number;
  accountingRequests: number;
  accountingResponses: number;
  /** Accounting requests given up after every retry. */
  accountingTimeouts: number;
  retransmissions: number;
  /** Replies dropped as bad (wrong authenticator, truncated attribute, unknown code, no request), by reason. */
  badReplies: Record<string, number>;
}

/** Zeroed counters, the start of every adapter's `stats()`. */
export function newAaaStats(): AaaStats {
  return {
    accessRequests: 0,
    accepts: 0,
    rejects: 0,
    authTimeouts: 0,
    accountingRequests: 0,
    accountingResponses: 0,
    accountingTimeouts: 0,
    retransmissions: 0,
    badReplies: {},
  };
}

/** The AAA port. */
export interface Aaa {
  /** Authenticates (and authorises) a subscriber. Never rejects. */
  authenticate(request: AuthRequest): Promise<AuthResult>;
  /** Sends an accounting record, retrying as the adapter is configured. Never rejects. */
  account(record: AccountingRecord): Promise<AccountingResult>;
  stats(): AaaStats;
  /** Releases sockets and timers; pending requests resolve as unanswered. */
  close(): Promise<void>;
}
