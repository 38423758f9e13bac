/** Hand-written envelopes for the events tests, numbered as one node's recorder numbers them. */
import type { Envelope, EnvelopePath, MachineKind } from "../../events/envelope.ts";

/** What `envelopesOf` gives: `ev` makes the next envelope of the node, `restart` numbers from 1 again. */
export interface EnvelopeWriter {
  ev(
    time: number,
    machine: MachineKind,
    path: EnvelopePath,
    from: string | null,
    to: string,
    cause: string,
    data?: Record<string, unknown>,
  ): Envelope;
  restart(): void;
}

/** Writes envelopes of `node`, with seq 1, 2, 3 … (from 1 again after `restart`). */
export function envelopesOf(node: string): EnvelopeWriter {
  let seq = 0;
  return {
    ev: (time, machine, path, from, to, cause, data = {}) => ({
      v: 1,
      node,
      seq: ++seq,
      time,
      path,
      machine,
      from,
      to,
      cause,
      data,
    }),
    restart: () => {
      seq = 0;
    },
  };
}
