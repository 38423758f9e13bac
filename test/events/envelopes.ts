/** Hand-written envelopes for the events tests, numbered as one node's recorder numbers them. */
import type { Envelope, EnvelopePath, MachineKind } from "../../events/envelope.ts";

/** Writes envelopes of `node`: `ev` makes the next one (seq 1, 2, 3 …), `restart` numbers from 1 again. */
export function envelopesOf(node: string) {
  let seq = 0;
  const ev = (
    time: number,
    machine: MachineKind,
    path: EnvelopePath,
    from: string | null,
    to: string,
    cause: string,
    data: Record<string, unknown> = {},
  ): Envelope => ({ v: 1, node, seq: ++seq, time, path, machine, from, to, cause, data });
  const restart = (): void => {
    seq = 0;
  };
  return { ev, restart };
}
