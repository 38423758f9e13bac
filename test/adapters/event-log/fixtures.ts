/** Envelopes and helpers for event-log tests (no bun:test import: the crash child process uses it too). */
import type { Envelope, MachineKind } from "../../../events/envelope.ts";

/** `count` envelopes of `node` from seq `from`, one ms apart from `time0`, cycling through the machine kinds. */
export function makeEnvelopes(node: string, from: number, count: number, time0 = 1_000): Envelope[] {
  const kinds: MachineKind[] = ["system", "destination", "tunnel", "session"];
  return Array.from({ length: count }, (_, i) => {
    const seq = from + i;
    const machine = kinds[seq % 4] as MachineKind;
    const path =
      machine === "system"
        ? {}
        : machine === "destination"
          ? { destination: "127.0.0.1:1701" }
          : machine === "tunnel"
            ? { destination: "127.0.0.1:1701", tunnel: 1 + (seq % 100) }
            : { destination: "127.0.0.1:1701", tunnel: 1 + (seq % 100), session: 1 + (seq % 1000) };
    return {
      v: 1,
      node,
      seq,
      time: time0 + seq,
      path,
      machine,
      from: seq === 1 ? null : `s${seq - 1}`,
      to: `s${seq}`,
      cause: seq % 2 ? "rx.ICRQ" : "close",
      data: { n: seq },
    } satisfies Envelope;
  });
}

/** Collects an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
