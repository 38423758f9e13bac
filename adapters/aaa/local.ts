/**
 * The local AAA adapter: subscribers from the config file (`aaa.local.users`), checked by PAP password
 * or CHAP-MD5 (RFC 1994 §2) in constant time; accounting kept in memory (counted, the last records
 * readable for tests and `show`). An unknown user is rejected like a wrong password, so that a
 * rejection does not tell which user names exist.
 */
import {
  type Aaa,
  type AaaStats,
  type AccountingRecord,
  type AccountingResult,
  type Authorization,
  type AuthRequest,
  type AuthResult,
  newAaaStats,
} from "../../actors/aaa.ts";
import { equalConstantTime } from "../../protocol/bytes.ts";
import { chapMd5Response } from "../../protocol/ppp/chap.ts";

/** One subscriber of the config file. */
export interface LocalUser {
  name: string;
  password: string;
  framedIpAddress?: string;
  framedPool?: string;
  sessionTimeout?: number;
  /** RFC 2865 §5.28 Idle-Timeout, seconds. */
  idleTimeout?: number;
}

/** How many accounting records are kept for reading (the oldest are dropped first). */
export const LOCAL_ACCOUNTING_KEPT = 1000;

const utf8 = new TextEncoder();

/** AAA from a list of users in memory. */
export class LocalAaa implements Aaa {
  private readonly users: ReadonlyMap<string, { password: Uint8Array; authorization: Authorization }>;
  private readonly kept: AccountingRecord[] = [];
  private readonly counters: AaaStats = newAaaStats();

  constructor(
    users: readonly LocalUser[],
    private readonly keep = LOCAL_ACCOUNTING_KEPT,
  ) {
    this.users = new Map(
      users.map((u) => [
        u.name,
        {
          password: utf8.encode(u.password),
          authorization: {
            ...(u.framedIpAddress !== undefined ? { framedIpAddress: u.framedIpAddress } : {}),
            ...(u.framedPool !== undefined ? { framedPool: u.framedPool } : {}),
            ...(u.sessionTimeout !== undefined ? { sessionTimeout: u.sessionTimeout } : {}),
            ...(u.idleTimeout !== undefined ? { idleTimeout: u.idleTimeout } : {}),
          },
        },
      ]),
    );
  }

  async authenticate(request: AuthRequest): Promise<AuthResult> {
    this.counters.accessRequests++;
    const { credentials } = request;
    const user = this.users.get(credentials.user);
    // An unknown user is checked against a dummy so that the time taken does not tell it apart.
    const password = user?.password ?? new Uint8Array(16);
    let matches: boolean;
    switch (credentials.method) {
      case "pap":
        matches = equalConstantTime(credentials.password, password);
        break;
      case "chap":
        matches = equalConstantTime(
          credentials.response,
          chapMd5Response(credentials.id, password, credentials.challenge),
        );
        break;
      case "none":
        matches = false;
        break;
    }
    if (!user || !matches) {
      this.counters.rejects++;
      return {
        ok: false,
        reason: "rejected",
        message: `local user ${JSON.stringify(credentials.user)} rejected`,
      };
    }
    this.counters.accepts++;
    return { ok: true, authorization: { ...user.authorization } };
  }

  async account(record: AccountingRecord): Promise<AccountingResult> {
    this.counters.accountingRequests++;
    this.counters.accountingResponses++;
    this.kept.push(record);
    if (this.kept.length > this.keep) this.kept.splice(0, this.kept.length - this.keep);
    return { ok: true };
  }

  /** The last accounting records, oldest first. */
  records(): readonly AccountingRecord[] {
    return [...this.kept];
  }

  stats(): AaaStats {
    return { ...this.counters, badReplies: {} };
  }

  async close(): Promise<void> {}
}
