import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dnsLabelProblem, dnsNameProblem, isDnsLabel } from './dns-name.js';

describe('isDnsLabel and dnsLabelProblem', () => {
  it.each(['a', 'web', 'web-2', '0', 'a--b', 'a'.repeat(63)])('accept %j', (label) => {
    expect(isDnsLabel(label)).toBe(true);
    expect(dnsLabelProblem(label)).toBeUndefined();
  });

  it.each([
    ['', 'is empty'],
    ['a'.repeat(64), 'is 64 characters; at most 63'],
    ['Web', 'has uppercase letters; write "web"'],
    ['-web', 'starts or ends with "-"'],
    ['web-', 'starts or ends with "-"'],
    ['we_b', 'characters other than a-z, 0-9 and "-"'],
    ['web.shop', 'characters other than'],
    ['wéb', 'characters other than'],
  ])('refuse %j (%s)', (label, words) => {
    expect(isDnsLabel(label)).toBe(false);
    expect(dnsLabelProblem(label)).toContain(words);
  });
});

describe('dnsNameProblem', () => {
  it.each(['cluster.local', 'a', 'api.example.com', `${'a'.repeat(63)}.b`])('accepts %j', (name) => {
    expect(dnsNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', 'is empty'],
    ['web..shop', 'empty label'],
    ['.web', 'empty label'],
    ['web.', 'empty label'],
    [`${'a.'.repeat(127)}ab`, 'is 256 characters; at most 253'],
    ['Cluster.Local', 'has uppercase letters; write "cluster.local"'],
    ['web.sh_op', 'has label "sh_op", which has characters other than'],
    [`${'a'.repeat(64)}.shop`, 'which is 64 characters; at most 63'],
    ['web.\u0000', 'label "\\u0000"'],
  ])('refuses %j (%s)', (name, words) => {
    expect(dnsNameProblem(name)).toContain(words);
  });

  it('accepts exactly the dot-joined labels that fit in 253 characters', () => {
    const label = fc.oneof(fc.stringMatching(/^[a-z0-9-]{0,64}$/), fc.string({ maxLength: 5 }));
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 6 }), (labels) => {
        const name = labels.join('.');
        const valid = name.length <= 253 && name.split('.').every(isDnsLabel);
        expect(dnsNameProblem(name) === undefined).toBe(valid);
      }),
    );
  });
});
