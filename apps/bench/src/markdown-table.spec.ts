import { describe, expect, it } from 'vitest';
import { formatDeltaMs, formatFigure, formatRatio, renderMarkdownTable } from './markdown-table.js';

describe('renderMarkdownTable', () => {
  it('pads columns to the widest cell and marks right-aligned ones', () => {
    const text = renderMarkdownTable([{ title: 'contender' }, { title: 'RPS', align: 'right' }], [
      ['direct', '54,000'],
      ['HAProxy', '26,000'],
    ]);
    expect(text).toBe(
      ['| contender |    RPS |', '|-----------|-------:|', '| direct    | 54,000 |', '| HAProxy   | 26,000 |'].join('\n'),
    );
  });

  it('escapes pipes and fills missing cells, so a row never breaks the table', () => {
    const text = renderMarkdownTable([{ title: 'a' }, { title: 'b' }], [['x|y']]);
    expect(text.split('\n')[2]).toBe('| x\\|y |     |');
  });
});

describe('figure formatting', () => {
  it('formats numbers, ratios and signed milliseconds, with a dash for missing ones', () => {
    expect(formatFigure(53952.53)).toBe('53,953');
    expect(formatFigure(0.12345, 3)).toBe('0.123');
    expect(formatFigure(undefined)).toBe('—');
    expect(formatRatio(0.5123)).toBe('0.51x');
    expect(formatRatio(undefined)).toBe('—');
    expect(formatDeltaMs(0.25)).toBe('+0.250 ms');
    expect(formatDeltaMs(-1.5)).toBe('-1.500 ms');
  });
});
