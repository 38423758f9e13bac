/**
 * Output held to the end of an I/O burst. Bun reads a socket's waiting datagrams in one go but runs the
 * microtasks after each one, so a reply flushed at the next microtask leaves alone: a `sendto` per
 * received datagram, 20-30% of an LNS's JavaScript thread under load (README, bench/lns-load). A UDP
 * transport that holds what is sent while a burst is handled, and lets it out when the burst is done
 * (`setImmediate`), sends the burst's replies in one `sendmmsg`.
 *
 * Bun runs the timers already due before that burst's immediates, and a timer's work (a tunnel's 0 ms
 * session teardown, say) must not delay replies already made: the real clock calls `flushHeldOutput`
 * before every timer it fires, so held output leaves first, and the burst ends there.
 */

const held: (() => void)[] = [];
let bursting = false;

/** A datagram was received: output made from now to the burst's end is held (`outputHeld`). */
export function beginBurst(): void {
  if (bursting) return;
  bursting = true;
  setImmediate(flushHeldOutput);
}

/** True while received datagrams are being handled: a transport holds what it sends (`holdOutput`). */
export function inBurst(): boolean {
  return bursting;
}

/** Registers `flush` to let a transport's held output out at the burst's end or before the next timer. */
export function holdOutput(flush: () => void): void {
  held.push(flush);
}

/** Ends the burst: every flush registered since the last call runs, once. */
export function flushHeldOutput(): void {
  bursting = false;
  if (held.length === 0) return;
  const flushes = held.splice(0);
  for (const flush of flushes) flush();
}

/** True while some output is held (the clock's fast path). */
export function outputHeld(): boolean {
  return held.length > 0;
}
