// Renders rows of cells as a GitHub-flavoured Markdown table with aligned columns, and formats the figures in it.

export type ColumnAlign = 'left' | 'right';

export interface TableColumn {
  readonly title: string;
  readonly align?: ColumnAlign;
}

/** A table whose columns are padded to the widest cell, so it reads well in a terminal too. */
export function renderMarkdownTable(columns: readonly TableColumn[], rows: readonly (readonly string[])[]): string {
  const cells = rows.map((row) => columns.map((_, index) => escapeCell(row[index] ?? '')));
  const titles = columns.map((column) => escapeCell(column.title));
  const widths = columns.map((_, index) => Math.max(3, titles[index]?.length ?? 0, ...cells.map((row) => row[index]?.length ?? 0)));
  const pad = (text: string, index: number): string =>
    columns[index]?.align === 'right' ? text.padStart(widths[index] as number) : text.padEnd(widths[index] as number);
  const line = (row: readonly string[]): string => `| ${row.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((width, index) => (columns[index]?.align === 'right' ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`;
  return [line(titles), rule, ...cells.map(line)].join('\n');
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** An absent figure. */
export const NO_FIGURE = '—';

/** A number with thousands separators and a fixed number of decimals; NO_FIGURE when undefined. */
export function formatFigure(value: number | undefined, decimals = 0): string {
  if (value === undefined || !Number.isFinite(value)) return NO_FIGURE;
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** A ratio as "0.52x"; NO_FIGURE when undefined. */
export function formatRatio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? NO_FIGURE : `${value.toFixed(2)}x`;
}

/** A signed difference in milliseconds as "+0.123 ms"; NO_FIGURE when undefined. */
export function formatDeltaMs(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return NO_FIGURE;
  return `${value >= 0 ? '+' : '-'}${Math.abs(value).toFixed(3)} ms`;
}
