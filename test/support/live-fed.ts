/**
 * A LiveSource fed by hand, for the live tree's tests and benches: `hand` gives it a batch of envelopes
 * as a recorder's feed would. Its nodes have no live actors to seed from, and it never reads a log (the
 * fold does not; test/adapters/inspector/live.test.ts). It starts watching on its first request or
 * subscription, as a real one does.
 */
import { LiveSource } from "../../adapters/inspector/index.ts";
import type { Envelope } from "../../events/envelope.ts";
import type { EventLog } from "../../events/port.ts";
import type { EnvelopeFeed } from "../../events/recorder.ts";

export function liveFedByHand(nodes: readonly string[]): {
  live: LiveSource;
  hand: (batch: readonly Envelope[]) => void;
} {
  let listener: (batch: readonly Envelope[]) => void = () => {};
  const feed: EnvelopeFeed = {
    watch(l) {
      listener = l;
      return () => {};
    },
    handedSeq: () => 0,
    entered: () => undefined,
  };
  const live = new LiveSource(
    {} as EventLog,
    feed,
    nodes.map((name) => ({ name, liveActors: function* () {} })),
  );
  return { live, hand: (batch) => listener(batch) };
}
