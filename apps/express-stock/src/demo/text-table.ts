/**
 * Columns padded to their widest cell, two spaces apart, a dashed line under the header: the
 * demo's tables as plain text, readable in any terminal and in CI logs.
 *
 * @example
 * console.log(formatTextTable(['strategy', 'final stock'], [['pubsub', '0']]));
 */
export function formatTextTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}
