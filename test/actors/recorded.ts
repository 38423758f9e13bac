/**
 * Recorded nodes for takeover tests: a node of the lab that records every transition to a log and can be
 * killed at once (its socket and timers go silent, as after kill -9), and a standby restored from it.
 */
import type { NodeConfig } from "../../actors/config.ts";
import { createNode, type L2tpNode, type NodeDeps } from "../../actors/node.ts";
import type { Clock, Transport } from "../../actors/ports.ts";
import type { restorePlan } from "../../actors/restore.ts";
import type { MemoryEventLog } from "../../adapters/event-log/memory.ts";
import { SeededRandom } from "../../adapters/random/seeded.ts";
import { createRecorder, pathOfNode, type Recorder } from "../../events/recorder.ts";
import { LAC, type Lab, LNS, lacConfig, lnsConfig } from "./lab.ts";

/** More configuration and ports for a recorded node (PPP, AAA …). */
export interface RecordedExtra {
  config?: Partial<NodeConfig>;
  deps?: Partial<NodeDeps>;
}

/** The HELLO interval of recorded nodes: short, so that a takeover is seen by HELLOs soon. */
export const HELLO_MS = 2000;

/** A clock whose timers all stop at once (a process killed with -9 runs nothing more). */
export class KillableClock implements Clock {
  readonly #inner: Clock;
  readonly #handles = new Set<unknown>();
  #dead = false;
  constructor(inner: Clock) {
    this.#inner = inner;
  }
  now(): number {
    return this.#inner.now();
  }
  setTimeout(fn: () => void, ms: number): unknown {
    if (this.#dead) return undefined;
    const handle = this.#inner.setTimeout(() => {
      this.#handles.delete(handle);
      if (!this.#dead) fn();
    }, ms);
    this.#handles.add(handle);
    return handle;
  }
  clearTimeout(handle: unknown): void {
    this.#handles.delete(handle);
    this.#inner.clearTimeout(handle);
  }
  kill(): void {
    this.#dead = true;
    for (const h of this.#handles) this.#inner.clearTimeout(h);
    this.#handles.clear();
  }
}

/** An LNS on the lab's network that records to `log`; `kill()` makes it silent at once. */
export function recordedLns(
  lab: Lab,
  log: MemoryEventLog,
  restore?: ReturnType<typeof restorePlan>,
  extra: RecordedExtra = {},
) {
  return recordedNode(lab, log, "lns", restore, extra);
}

/** A node of the lab (the standard LAC or LNS) that records to `log`; `kill()` makes it silent at once. */
export function recordedNode(
  lab: Lab,
  log: MemoryEventLog,
  side: "lac" | "lns",
  restore?: ReturnType<typeof restorePlan>,
  extra: RecordedExtra = {},
) {
  const clock = new KillableClock(lab.clock);
  let node: L2tpNode | undefined;
  const recorder: Recorder = createRecorder({
    node: side,
    clock: lab.clock,
    log,
    pathOf: pathOfNode(() => node),
  });
  const at = side === "lns" ? LNS : LAC;
  const config =
    side === "lns"
      ? lnsConfig({ channel: { helloIntervalMs: HELLO_MS }, ...extra.config })
      : lacConfig({ channel: { helloIntervalMs: HELLO_MS }, ...extra.config });
  const transport: Transport = lab.net.bind(at.address, at.port);
  let alive = true;
  node = createNode(config, {
    clock,
    random: new SeededRandom(restore ? 2 : 1),
    inspect: recorder.inspect,
    onWiringError: (error, path) => lab.wiringErrors.push({ error, path }),
    transport: {
      local: transport.local,
      send: (p, to) => {
        if (alive) transport.send(p, to);
      },
      onReceive: (h) =>
        transport.onReceive((p, f) => {
          if (alive) h(p, f);
        }),
      close: () => transport.close(),
    },
    ...(restore ? { restore } : {}),
    ...extra.deps,
  });
  return {
    node,
    recorder,
    async kill() {
      alive = false;
      clock.kill();
      recorder.stop();
      await transport.close();
    },
  };
}
