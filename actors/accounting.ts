/**
 * The RFC 2866 accounting of one session, from its Start to its Stop, whatever the session is: an
 * LNS's PPP link and a LAC's subscriber terminated here (`PppLinkCore`, actors/ppp-link.ts), or a LAC's
 * tunnelled subscriber, whose frames its relay counts (actors/lac-access.ts). One place counts
 * Acct-Session-Time and schedules the Interim-Updates, so that every kind of session follows the same
 * rules and none of them leaves a timer behind when it ends.
 */
import type { Aaa, AccountingRecord, Authorization, SessionCounters } from "./aaa.ts";
import type { Clock } from "./ports.ts";

/** The node's accounting settings (config `accounting:`), the same for every kind of session. */
export interface AccountingSettings {
  enabled?: boolean;
  /** An unanswered Accounting-Start ends the session (default false: it is retried and counted). */
  required?: boolean;
  /** Interim-Update period; 0 or absent: none (unless AAA gives Acct-Interim-Interval). */
  interimMs?: number;
}

/**
 * The Interim-Update period in ms, 0 for none: RADIUS Acct-Interim-Interval (RFC 2869 §5.16, seconds)
 * wins over the node's setting, since the server is the one that receives them.
 */
export function interimPeriodMs(
  authorization: Authorization | undefined,
  settings: AccountingSettings | undefined,
): number {
  return (authorization?.acctInterimInterval ?? 0) * 1000 || settings?.interimMs || 0;
}

/** What an accounted session gives its accounting. */
export interface AccountedSession {
  aaa: Aaa;
  clock: Clock;
  /** A record of the session as it is now (its address, Class, tunnel), without time or counters. */
  record(status: AccountingRecord["status"]): AccountingRecord;
  /** Its octets and packets each way so far (in: from the subscriber, RFC 2866 §5.3, §5.4). */
  counters(): SessionCounters;
  /** A request got no answer after every retry of the adapter (the session's owner counts it). */
  unanswered(): void;
}

/** The accounting of one session: Acct-Session-Time counts from its creation. */
export class SessionAccounting {
  readonly #session: AccountedSession;
  readonly #started: number;
  #interim: unknown;
  #stopped = false;

  constructor(session: AccountedSession) {
    this.#session = session;
    this.#started = session.clock.now();
  }

  /** Sends the Start; true when it was answered (an unanswered one is counted). */
  start(): Promise<boolean> {
    return this.#send(this.#session.record("start"));
  }

  /**
   * An Interim-Update (RFC 2866 §5.1, status 3) with the time and the counters so far every `periodMs`
   * (0: none) until `stop`. An unanswered one is counted and ends nothing: the next carries the totals.
   */
  interim(periodMs: number): void {
    if (periodMs <= 0 || this.#stopped) return;
    const clock = this.#session.clock;
    const tick = (): void => {
      this.#interim = undefined;
      if (this.#stopped) return;
      void this.#send(this.#withTotals(this.#session.record("interim")));
      this.#interim = clock.setTimeout(tick, periodMs);
    };
    this.#interim = clock.setTimeout(tick, periodMs);
  }

  /** Once: the interims end and the Stop goes with the final time and counters and why (RFC 2866 §5.10). */
  stop(terminateCause: number): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#interim !== undefined) this.#session.clock.clearTimeout(this.#interim);
    this.#interim = undefined;
    const record = this.#withTotals(this.#session.record("stop"));
    record.terminateCause = terminateCause;
    void this.#send(record);
  }

  #withTotals(record: AccountingRecord): AccountingRecord {
    const s = this.#session;
    record.sessionTime = Math.max(0, Math.round((s.clock.now() - this.#started) / 1000));
    record.counters = s.counters();
    return record;
  }

  #send(record: AccountingRecord): Promise<boolean> {
    return this.#session.aaa.account(record).then((result) => {
      if (!result.ok) this.#session.unanswered();
      return result.ok;
    });
  }
}
