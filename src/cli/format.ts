/** Plain-text output: aligned tables and a progress bar, no dependencies. */

/** A value as a table cell: empty for null and undefined. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value as string | number | boolean);
  return text.replace(/\s+/g, ' ');
}

/** Columns padded to their widest cell, two spaces apart; one line per row. */
export function table(headers: string[], rows: unknown[][]): string {
  const cells = rows.map((row) => headers.map((_header, index) => cell(row[index])));
  const widths = headers.map((header, index) =>
    Math.max(header.length, ...cells.map((row) => row[index]?.length ?? 0)),
  );
  const line = (row: string[]) =>
    row
      .map((text, index) => text.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

/** `label  value` lines with the labels aligned. */
export function keyValues(pairs: Array<[string, unknown]>): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${cell(value)}`.trimEnd()).join('\n') + '\n';
}

/** `3h 2m 5s`. */
export function duration(seconds: number): string {
  const whole = Math.floor(seconds);
  const parts: string[] = [];
  const days = Math.floor(whole / 86_400);
  const hours = Math.floor((whole % 86_400) / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  if (days) parts.push(`${days}d`);
  if (hours) parts.push(`${hours}h`);
  if (minutes) parts.push(`${minutes}m`);
  parts.push(`${whole % 60}s`);
  return parts.join(' ');
}

/** A one-line progress bar redrawn with \r: `[#######.............]  7/20 label`. */
export function progressLine(done: number, total: number, label = '', width = 24): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  const count = `${String(done).padStart(String(total).length)}/${total}`;
  return `\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count} ${label}`.trimEnd();
}
