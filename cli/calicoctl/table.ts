// calicoctl prints tables through Go's tabwriter: upper-case headers, columns padded to the widest
// cell plus three spaces, no borders. Long outputs stay greppable and `awk`-able.

/** The rows of `rows` under `headers`, columns aligned; one line per row, trailing blanks cut. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3)))
      .join('')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}
