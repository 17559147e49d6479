import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInitPortError } from './init-argument-error.js';
import {
  chunkForMultiport,
  formatMultiportList,
  MULTIPORT_MAX_SLOTS,
  multiportSlots,
  normalisePortRanges,
  parsePort,
  parsePortList,
  type PortRange,
} from './port-list.js';

const FLAG = '--skip-inbound-ports';

/** The ports a list of ranges covers, as sorted disjoint non-adjacent intervals (cheap to compare for big ranges). */
function portSet(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  const merged: PortRange[] = [];
  for (const range of sorted) {
    const previous = merged.at(-1);
    if (previous !== undefined && range.first <= previous.last + 1) {
      merged[merged.length - 1] = { first: previous.first, last: Math.max(previous.last, range.last) };
    } else merged.push(range);
  }
  return merged;
}

const port = fc.integer({ min: 1, max: 65_535 });
const range = fc.tuple(port, port).map(([a, b]): PortRange => ({ first: Math.min(a, b), last: Math.max(a, b) }));
const single = port.map((p): PortRange => ({ first: p, last: p }));
const ranges = fc.array(fc.oneof(single, range, single), { maxLength: 60 });

describe('parsePort', () => {
  it('reads ports 1-65535', () => {
    expect(parsePort('--inbound-port', '1')).toEqual({ ok: true, value: 1 });
    expect(parsePort('--inbound-port', ' 65535 ')).toEqual({ ok: true, value: 65_535 });
  });

  it.each(['0', '65536', '-1', 'http', '', '42.0', '0x10'])('refuses %j, naming the flag and the value', (text) => {
    const result = parsePort('--inbound-port', text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidInitPortError);
    expect(result.error.input).toBe(text);
    expect(result.error.flag).toBe('--inbound-port');
    expect(result.error.message).toContain(`--inbound-port ${JSON.stringify(text)}`);
    expect(result.error.message).toContain('1 to 65535');
  });
});

describe('parsePortList', () => {
  it('reads single ports and ranges written with "-" or ":"', () => {
    expect(parsePortList(FLAG, '4290, 4291,8000-8100,9000:9001')).toEqual({
      ok: true,
      value: [
        { first: 4290, last: 4290 },
        { first: 4291, last: 4291 },
        { first: 8000, last: 8100 },
        { first: 9000, last: 9001 },
      ],
    });
  });

  it('reads empty text as no ports', () => {
    expect(parsePortList(FLAG, '')).toEqual({ ok: true, value: [] });
  });

  it('sorts the list and merges overlapping ranges, keeping adjacent single ports apart', () => {
    expect(parsePortList(FLAG, '9000,80-90,85-100,81,101')).toEqual({
      ok: true,
      value: [
        { first: 80, last: 100 },
        { first: 101, last: 101 },
        { first: 9000, last: 9000 },
      ],
    });
  });

  it('refuses a reversed range and shows how to write it', () => {
    const result = parsePortList(FLAG, '80,9000-8000');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidInitPortError);
    expect(result.error.input).toBe('9000-8000');
    expect(result.error.message).toBe(`${FLAG} "9000-8000": is a reversed range; write the lower port first, e.g. "8000-9000"`);
  });

  it.each([
    ['80,,81', ''],
    ['80,http', 'http'],
    ['70000', '70000'],
    ['80-', '80-'],
    ['1-2-3', '1-2-3'],
    ['0-10', '0-10'],
  ])('refuses %j at the entry %j', (text, entry) => {
    const result = parsePortList(FLAG, text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidInitPortError);
    expect(result.error.input).toBe(entry);
    expect(result.error.message).toContain(`${FLAG} ${JSON.stringify(entry)}`);
  });

  it('covers exactly the ports written, whatever their order and overlaps', () => {
    fc.assert(
      fc.property(ranges.filter((list) => list.length > 0), (list) => {
        const text = list.map((r) => (r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`)).join(',');
        const parsed = parsePortList(FLAG, text);
        expect(parsed.ok && portSet(parsed.value)).toEqual(portSet(list));
      }),
    );
  });
});

describe('chunkForMultiport', () => {
  it('puts at most 15 slots in a rule, a range taking two', () => {
    const singles = (from: number, to: number): PortRange[] =>
      Array.from({ length: to - from + 1 }, (_, i) => ({ first: from + i, last: from + i }));
    expect(chunkForMultiport(singles(1, 16)).map(formatMultiportList)).toEqual(['1,2,3,4,5,6,7,8,9,10,11,12,13,14,15', '16']);
    const withRange = [{ first: 1, last: 5 }, ...singles(6, 19)];
    expect(chunkForMultiport(withRange).map(formatMultiportList)).toEqual(['1:5,6,7,8,9,10,11,12,13,14,15,16,17,18', '19']);
  });

  it('makes no rule for no ports', () => {
    expect(chunkForMultiport([])).toEqual([]);
  });

  it('splits any list into non-empty rules of at most 15 slots that together hold exactly the listed ports, in order', () => {
    fc.assert(
      fc.property(ranges, (list) => {
        const normalised = normalisePortRanges(list);
        const chunks = chunkForMultiport(normalised);
        for (const chunk of chunks) {
          expect(chunk.length).toBeGreaterThan(0);
          expect(chunk.reduce((sum, r) => sum + multiportSlots(r), 0)).toBeLessThanOrEqual(MULTIPORT_MAX_SLOTS);
        }
        expect(chunks.flat()).toEqual(normalised);
        expect(portSet(chunks.flat())).toEqual(portSet(list));
      }),
    );
  });

  it('uses no more rules than needed: every rule but the last is too full for the next entry', () => {
    fc.assert(
      fc.property(ranges, (list) => {
        const chunks = chunkForMultiport(normalisePortRanges(list));
        chunks.slice(0, -1).forEach((chunk, index) => {
          const next = chunks[index + 1]?.[0] as PortRange;
          const used = chunk.reduce((sum, r) => sum + multiportSlots(r), 0);
          expect(used + multiportSlots(next)).toBeGreaterThan(MULTIPORT_MAX_SLOTS);
        });
      }),
    );
  });
});

describe('formatMultiportList', () => {
  it('writes ranges with ":" as iptables-save prints them', () => {
    expect(formatMultiportList([{ first: 80, last: 80 }, { first: 8000, last: 8100 }])).toBe('80,8000:8100');
  });
});
