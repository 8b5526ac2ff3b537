// Columns as istioctl prints them (Go's tabwriter with padding 1): each column as wide as its widest cell plus
// one space, the last column unpadded.

export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd((widths[column] ?? 0) + 1)))
      .join('')
      .trimEnd();
  return `${all.map(line).join('\n')}\n`;
}
