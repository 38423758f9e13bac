/**
 * Drives a pure machine with plain events under a simulated clock and records what it emits.
 */
import { type Actor, type AnyStateMachine, createActor } from "xstate";
import { SimulatedClock } from "../../adapters/clock/simulated.ts";

/** A started actor, the clock behind its delays, and everything it emitted, in order. */
export interface Driven<M extends AnyStateMachine> {
  actor: Actor<M>;
  clock: SimulatedClock;
  emitted: Array<{ type: string; [key: string]: unknown }>;
  /** The emitted events of one type. */
  of(type: string): Array<{ type: string; [key: string]: unknown }>;
  /** The current state value as a dotted string ("closing.stop-sent"). */
  state(): string;
}

/** Starts `machine` with `input` on a fresh simulated clock. */
export function drive<M extends AnyStateMachine>(machine: M, input: unknown): Driven<M> {
  const clock = new SimulatedClock();
  const actor = createActor(machine, { input, clock } as never) as Actor<M>;
  const emitted: Driven<M>["emitted"] = [];
  actor.on("*", (e: { type: string }) => emitted.push(e as never));
  actor.start();
  return {
    actor,
    clock,
    emitted,
    of: (type) => emitted.filter((e) => e.type === type),
    state: () => dotted((actor.getSnapshot() as { value: unknown }).value),
  };
}

function dotted(value: unknown): string {
  if (typeof value === "string") return value;
  const [k, v] = Object.entries(value as Record<string, unknown>)[0];
  return `${k}.${dotted(v)}`;
}
