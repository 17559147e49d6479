import { describe, expect, it } from 'vitest';
import { eraseLines, LiveView } from './live-view.js';

describe('LiveView', () => {
  it('redraws the table in place in a terminal, keeping events above it', () => {
    const out: string[] = [];
    const view = new LiveView((line) => out.push(line), true);
    view.table(['a1', 'a2']);
    view.table(['b1', 'b2', 'b3']);
    view.event('crashed');
    expect(out).toEqual(['a1', 'a2', `${eraseLines(2)}b1`, 'b2', 'b3', `${eraseLines(3)}crashed`, 'b1', 'b2', 'b3']);
    expect(eraseLines(3)).toBe('\x1b[3A\x1b[J');
  });

  it('prints everything as it comes elsewhere', () => {
    const out: string[] = [];
    const view = new LiveView((line) => out.push(line), false);
    view.table(['a1']);
    view.event('crashed');
    view.table(['b1']);
    expect(out).toEqual(['a1', 'crashed', 'b1']);
  });

  it('leaves the last table alone once released', () => {
    const out: string[] = [];
    const view = new LiveView((line) => out.push(line), true);
    view.table(['a1']);
    view.release();
    view.event('stopping');
    expect(out).toEqual(['a1', 'stopping']);
  });
});
