/**
 * The subscriber simulator: in-process subscribers, each a real PPP client (the shared endpoint,
 * machines/ppp/endpoint.ts, role "client": LCP, PAP or CHAP, IPCP, Echo-Reply, Terminate) on an
 * AccessLine to the LAC. For tests, the lab and the benchmarks. Timers run on the given Clock.
 */
import type { Clock } from "../../actors/ports.ts";
import type { PppCause } from "../../machines/ppp/disconnect.ts";
import {
  PPP_DEFAULTS,
  type PppContext,
  type PppEffect,
  type PppSettings,
  pppFrame,
  pppStart,
  pppStep,
} from "../../machines/ppp/endpoint.ts";
import { frameHeader, frameProtocol, payloadAt } from "../../protocol/ppp/frame.ts";
import { PppProtocol } from "../../protocol/ppp/numbers.ts";
import type { Access, AccessLine } from "./index.ts";

/** Who a simulated subscriber is. */
export interface SubscriberOptions {
  user: string;
  password: string;
  /** The protocols it accepts (default CHAP and PAP). */
  authProtocols?: readonly ("chap" | "pap")[];
  callingNumber?: string;
}

/** A simulated subscriber's view of its link. */
export interface SimulatedSubscriber {
  readonly id: string;
  /** Resolves with its IPCP address once IP may flow. */
  readonly up: Promise<string>;
  /** Resolves with why the link ended (the LNS's Terminate, a refusal, our hang-up). */
  readonly ended: Promise<PppCause>;
  /** The PPP client's context now (phase, automata, address). */
  context(): PppContext;
  /** IPv4 packets received from the network. */
  readonly received: Uint8Array[];
  /** Sends an IPv4 packet; false before IPCP is up. */
  sendIp(packet: Uint8Array): boolean;
  /** Hangs up politely: LCP Terminate-Request (RFC 1661 §3.7). */
  hangUp(): void;
}

/** In-process subscribers, each on a line of its own. */
export class SubscriberSimulator implements Access {
  readonly #clock: Clock;
  #handler: ((line: AccessLine) => void) | undefined;
  #next = 1;
  #magic = 0x5eed0001;
  readonly #settings = new Map<string, PppSettings>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  onLine(handler: (line: AccessLine) => void): void {
    this.#handler = handler;
  }

  /** A new subscriber dials in: its line goes to the LAC, and its PPP client starts. */
  dial(options: SubscriberOptions): SimulatedSubscriber {
    const id = `sim:${this.#next++}`;
    const settings = this.settingsOf(options);
    this.#magic = (Math.imul(this.#magic, 1_103_515_245) + 12_345) >>> 0 || 1;
    const client = new SimulatedClient(id, settings, this.#magic, this.#clock, options.callingNumber);
    if (!this.#handler) throw new Error("SubscriberSimulator: no LAC listens (onLine was not called)");
    this.#handler(client.lacSide);
    client.start();
    return client;
  }

  /**
   * A client's PPP settings, one object for all the subscribers that dial alike (the lab's thousands):
   * the endpoint only reads them, and a copy of the defaults per subscriber was ~400 bytes each.
   */
  private settingsOf(options: SubscriberOptions): PppSettings {
    const authProtocols = options.authProtocols ?? ["chap", "pap"];
    const key = `${options.user}\0${options.password}\0${authProtocols.join(",")}`;
    let settings = this.#settings.get(key);
    if (!settings) {
      settings = {
        ...PPP_DEFAULTS,
        role: "client",
        hostName: options.user,
        user: options.user,
        password: options.password,
        authProtocols,
      };
      this.#settings.set(key, settings);
    }
    return settings;
  }
}

/** One subscriber: the PPP client and both ends of its line. */
class SimulatedClient implements SimulatedSubscriber {
  readonly id: string;
  readonly up: Promise<string>;
  readonly ended: Promise<PppCause>;
  readonly received: Uint8Array[] = [];
  readonly lacSide: AccessLine;
  #c: PppContext | undefined;
  readonly #settings: PppSettings;
  readonly #magic: number;
  readonly #clock: Clock;
  readonly #timers = new Map<string, unknown>();
  #toLac: ((frame: Uint8Array) => void) | undefined;
  /** What the LAC sent before the client started: on the line, not lost (the client reads it once up). */
  #early: Uint8Array[] | undefined;
  #lineDown: (() => void) | undefined;
  #closed = false;
  #resolveUp!: (address: string) => void;
  #resolveEnded!: (why: PppCause) => void;

  constructor(id: string, settings: PppSettings, magic: number, clock: Clock, callingNumber?: string) {
    this.id = id;
    this.#settings = settings;
    this.#magic = magic;
    this.#clock = clock;
    this.up = new Promise((r) => {
      this.#resolveUp = r;
    });
    this.ended = new Promise((r) => {
      this.#resolveEnded = r;
    });
    this.lacSide = {
      id,
      ...(callingNumber !== undefined ? { callingNumber } : {}),
      send: (frame) => this.fromLac(frame),
      onFrame: (handler) => {
        this.#toLac = handler;
      },
      onDown: (handler) => {
        this.#lineDown = handler;
      },
      close: () => this.hangUpLine(),
    };
  }

  start(): void {
    const out: PppEffect[] = [];
    this.#c = pppStart(
      { path: { system: this.id, ppp: true }, settings: this.#settings, magic: this.#magic },
      out,
    );
    this.run(out);
    const early = this.#early;
    this.#early = undefined;
    for (const frame of early ?? []) this.fromLac(frame);
  }

  context(): PppContext {
    return this.#c as PppContext;
  }

  sendIp(packet: Uint8Array): boolean {
    if (this.#c?.ipcp !== "opened" || this.#closed) return false;
    this.#toLac?.(pppFrame(PppProtocol.IPv4, packet));
    return true;
  }

  hangUp(): void {
    this.step({
      type: "close",
      cause: { code: 3, protocol: PppProtocol.LCP, direction: 1, message: "the subscriber hung up" },
    });
  }

  private fromLac(frame: Uint8Array): void {
    if (this.#closed) return;
    if (!this.#c) {
      // The LAC answers the line before the client has started (dial hands the line over first).
      this.#early ??= [];
      this.#early.push(frame.slice());
      return;
    }
    const header = frameHeader(frame);
    if (header < 0) return;
    const protocol = frameProtocol(header);
    // A copy: the frame is the sender's (frame.ts says why not a view).
    const payload = frame.slice(payloadAt(0, header));
    if (protocol === PppProtocol.IPv4) {
      this.received.push(payload);
      return;
    }
    this.step({ type: "frame", protocol, payload });
  }

  private step(event: Parameters<typeof pppStep>[1]): void {
    if (!this.#c || this.#c.ended) return;
    const out: PppEffect[] = [];
    this.#c = pppStep(this.#c, event, out);
    this.run(out);
  }

  private run(out: PppEffect[]): void {
    for (const e of out) {
      switch (e.type) {
        case "send":
          if (!this.#closed) this.#toLac?.(pppFrame(e.protocol, e.payload));
          break;
        case "schedule": {
          const old = this.#timers.get(e.timer);
          if (old !== undefined) this.#clock.clearTimeout(old);
          this.#timers.set(
            e.timer,
            this.#clock.setTimeout(() => {
              this.#timers.delete(e.timer);
              this.step({ type: e.timer });
            }, e.ms),
          );
          break;
        }
        case "cancel": {
          const old = this.#timers.get(e.timer);
          if (old !== undefined) this.#clock.clearTimeout(old);
          this.#timers.delete(e.timer);
          break;
        }
        case "up":
          this.#resolveUp(e.address);
          break;
        case "finished":
          this.end(e.cause);
          break;
        default:
          break;
      }
    }
  }

  /** The LAC took the line down. */
  private hangUpLine(): void {
    if (this.#closed) return;
    this.step({
      type: "lowerDown",
      cause: { code: 0, protocol: 0, direction: 0, message: "the LAC closed the line" },
    });
    this.end(this.#c?.cause ?? { code: 0, protocol: 0, direction: 0, message: "the LAC closed the line" });
  }

  private end(why: PppCause): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers.values()) this.#clock.clearTimeout(t);
    this.#timers.clear();
    this.#resolveEnded(why);
    this.#lineDown?.();
  }
}
