/**
 * Format a number for a table cell with `digits` decimals; an em dash for `NaN`/missing.
 *
 * @example
 * cell(3.14159, 2); // '3.14'
 */
export function cell(value: number | undefined, digits = 1): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return value.toFixed(digits);
}

/**
 * A ratio such as `2.3×`; an em dash when either side is missing.
 *
 * @example
 * times(46, 20); // '2.30×'
 */
export function times(value: number | undefined, reference: number | undefined, digits = 2): string {
  if (value === undefined || reference === undefined || !Number.isFinite(value) || !(reference > 0))
    return '—';
  return `${(value / reference).toFixed(digits)}×`;
}

/**
 * A share in percent.
 *
 * @example
 * percent(0.734); // '73 %'
 */
export function percent(share: number | undefined): string {
  if (share === undefined || !Number.isFinite(share)) return '—';
  return `${Math.round(share * 100)} %`;
}

/**
 * A markdown table from a header and rows of cells.
 *
 * @example
 * markdownTable(['a', 'b'], [['1', '2']]);
 */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
