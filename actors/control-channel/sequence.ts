/**
 * Sequence number arithmetic of the control channel (RFC 2661 §5.8): Ns and Nr are 16-bit and wrap,
 * so every comparison is modulo 2^16, and "less than" means "within the 32768 values before".
 */

/** Sequence numbers wrap at 2^16. */
export const SEQUENCE_MODULUS = 0x1_0000;

/** `a + n` modulo 2^16. */
export function seqAdd(a: number, n: number): number {
  return (a + n) & 0xffff;
}

/** How far `b` is ahead of `a`, counting forward modulo 2^16 (0 … 65535). */
export function seqDistance(a: number, b: number): number {
  return (b - a) & 0xffff;
}

/** RFC 2661 §5.8: `a` is less than `b` when it lies within the 32768 values before `b` (modulo 2^16). */
export function seqLess(a: number, b: number): boolean {
  const d = (b - a) & 0xffff;
  return d !== 0 && d <= 0x8000;
}
