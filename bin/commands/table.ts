/**
 * A plain-text table sized to the terminal: columns as wide as their widest cell, two spaces apart;
 * when the whole is wider than the terminal, the widest columns give way first and their cells are cut
 * with "…" (never below a few characters, so a very narrow terminal wraps rather than loses every column).
 */

/** The narrowest a column is cut to. */
const MIN_WIDTH = 4;
const GAP = "  ";

/** Lays out `rows` under `headers` within `width` characters (Infinity: no limit, as in a pipe). */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  width = Infinity,
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP.length * (widths.length - 1);
  while (total() > width) {
    let widest = 0;
    for (let i = 1; i < widths.length; i++) if ((widths[i] ?? 0) > (widths[widest] ?? 0)) widest = i;
    if ((widths[widest] ?? 0) <= MIN_WIDTH) break;
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => fit(cell ?? "", widths[i] ?? 0, i === cells.length - 1))
      .join(GAP)
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join("\n")}\n`;
}

function fit(cell: string, width: number, last: boolean): string {
  if (cell.length > width) return `${cell.slice(0, Math.max(0, width - 1))}…`;
  return last ? cell : cell.padEnd(width);
}

/** A duration the way an operator reads uptime: 45s, 12m05s, 3h04m, 2d05h. */
export function durationText(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const two = (n: number) => String(n).padStart(2, "0");
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor((s % 86_400) / 3600))}h`;
}
