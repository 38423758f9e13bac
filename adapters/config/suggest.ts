/**
 * "Did you mean …?" for configuration keys and AVP names. A person who types `secrett`, `hostname`,
 * `host-name` or `hello` (for `helloSeconds`) should be told the one spelling the file accepts.
 */

/** Lower case without "-", "_" and spaces: `Host-Name`, `host_name` and `hostName` compare equal. */
function fold(word: string): string {
  return word.toLowerCase().replace(/[-_\s]/g, "");
}

/** Edit distance (insert, delete, substitute, swap of neighbours) between two short words. */
export function editDistance(a: string, b: string): number {
  // Keys are short (under 40 characters), so the full table is cheap; inputs from a file are bounded
  // by the caller (suggestions are only asked for names of at most 64 characters).
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        d[(i - 1) * cols + j] + 1,
        d[i * cols + j - 1] + 1,
        d[(i - 1) * cols + j - 1] + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[(i - 2) * cols + j - 2] + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1];
}

/**
 * The known name a person most likely meant by `word`, or undefined when none is close: the same
 * name in another case or with dashes/underscores, then a known name that starts with the word
 * (`hello` → `helloSeconds`), then the nearest by edit distance within about a third of its length.
 */
export function closestName(word: string, known: readonly string[]): string | undefined {
  if (word.length === 0 || word.length > 64) return undefined;
  const w = fold(word);
  const exact = known.find((k) => fold(k) === w);
  if (exact !== undefined) return exact;
  if (w.length >= 3) {
    const prefixed = known.filter((k) => fold(k).startsWith(w));
    if (prefixed.length === 1) return prefixed[0];
  }
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(w.length / 3)) + 1;
  for (const k of known) {
    const distance = editDistance(w, fold(k));
    if (distance < bestDistance) {
      best = k;
      bestDistance = distance;
    }
  }
  return best;
}
