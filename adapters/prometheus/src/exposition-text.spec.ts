import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderExpositionFamily } from './exposition-text.js';
import { ExpositionParseError, parseExposition } from './prometheus-text.spec-helper.js';

describe('renderExpositionFamily', () => {
  it('writes any help text and label value so that a strict parser reads back the same strings', () => {
    // The format cannot carry leading blanks in HELP text, nor the sign of zero; everything else must survive.
    const helpText = fc.string({ unit: 'grapheme' }).map((text) => text.replace(/^[ \t]+/, ''));
    const sampleValue = fc.double().filter((x) => !Object.is(x, -0));
    fc.assert(
      fc.property(helpText, fc.string({ unit: 'grapheme' }), sampleValue, (help, value, sample) => {
        const text = renderExpositionFamily({
          name: 'request_total',
          help,
          type: 'counter',
          samples: [{ name: 'request_total', labels: { authority: value, direction: 'inbound' }, value: sample }],
        });
        const [family] = parseExposition(text).families;
        expect(family?.help).toBe(help);
        expect(family?.samples[0]?.labels).toEqual({ authority: value, direction: 'inbound' });
        expect(family?.samples[0]?.value).toBe(sample);
      }),
    );
  });

  it('writes NaN and infinities the way Prometheus spells them', () => {
    const text = renderExpositionFamily({
      name: 'x',
      help: 'h',
      type: 'gauge',
      samples: [-Infinity, Infinity, Number.NaN].map((value, i) => ({ name: 'x', labels: { i }, value })),
    });
    expect(text).toBe('# HELP x h\n# TYPE x gauge\nx{i="0"} -Inf\nx{i="1"} +Inf\nx{i="2"} NaN\n');
  });
});

describe('parseExposition (test helper)', () => {
  it.each([
    ['a bad escape', 'x{a="\\t"} 1\n'],
    ['an unterminated value', 'x{a="b} 1\n'],
    ['a second TYPE', '# TYPE x counter\n# TYPE x counter\nx 1\n'],
    ['a family that comes back', 'x 1\ny 1\nx{a="b"} 2\n'],
    ['the same series twice', 'x{a="b",c="d"} 1\nx{c="d",a="b"} 2\n'],
    ['a bucket without le', '# TYPE h histogram\nh_bucket 1\n'],
    ['a value that is not a number', 'x 1,5\n'],
    ['a missing final newline', 'x 1'],
    ['a TYPE after the samples', 'x 1\n# TYPE x counter\n'],
  ])('refuses %s', (_, text) => {
    expect(() => parseExposition(text)).toThrow(ExpositionParseError);
  });

  it('reads histogram samples into their family and comments, blank lines and timestamps as Prometheus does', () => {
    const parsed = parseExposition('# a comment\n# TYPE h histogram\nh_bucket{le="+Inf",} 2\n\nh_sum 3.5 1700000000000\nh_count 2\n');
    expect(parsed.families).toHaveLength(1);
    expect(parsed.samples.map((s) => [s.name, s.value])).toEqual([['h_bucket', 2], ['h_sum', 3.5], ['h_count', 2]]);
  });
});
