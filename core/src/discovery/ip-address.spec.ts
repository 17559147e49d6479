import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimalProblem, formatIpBytes, parseIp, parseIpBytes } from './ip-address.js';

describe('decimalProblem', () => {
  it.each<[string, number, ReturnType<typeof decimalProblem>]>([
    ['0', 255, undefined],
    ['255', 255, undefined],
    ['65535', 65_535, undefined],
    ['256', 255, 'too large'],
    ['1000', 255, 'too large'],
    ['08', 32, 'leading zero'],
    ['00', 255, 'leading zero'],
    ['', 255, 'not a number'],
    ['-1', 255, 'not a number'],
    ['+1', 255, 'not a number'],
    ['1e2', 255, 'not a number'],
    [' 1', 255, 'not a number'],
  ])('reads %j against max %d as %s', (text, max, problem) => {
    expect(decimalProblem(text, max)).toBe(problem);
  });
});

describe('parseIpBytes', () => {
  it('reads both families into bytes, keeping an IPv4-mapped address as IPv6', () => {
    expect(parseIpBytes('10.1.2.3')).toEqual({ family: 4, bytes: [10, 1, 2, 3] });
    expect(parseIpBytes('::1')).toEqual({ family: 6, bytes: [...new Array<number>(15).fill(0), 1] });
    const mapped = [...new Array<number>(10).fill(0), 0xff, 0xff, 10, 0, 0, 5];
    expect(parseIpBytes('::ffff:10.0.0.5')).toEqual({ family: 6, bytes: mapped });
    expect(parseIpBytes('::FFFF:a00:5')).toEqual({ family: 6, bytes: mapped });
  });

  it.each(['', '1.2.3', '01.2.3.4', '1.2.3.256', 'fe80::1%eth0', '1::2::3', 'web'])('refuses %j as parseIp does', (text) => {
    const bytes = parseIpBytes(text);
    const canonical = parseIp(text);
    expect('problem' in bytes && 'problem' in canonical && bytes.problem).toBe('problem' in canonical && canonical.problem);
  });

  it('agrees with parseIp: formatIpBytes of the bytes is the canonical text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
        const bytes = parseIpBytes(text);
        const canonical = parseIp(text);
        if ('problem' in bytes || 'problem' in canonical) throw new Error(`${text} should read`);
        expect(bytes.family).toBe(canonical.family);
        expect(formatIpBytes(bytes.bytes)).toBe(canonical.ip);
      }),
    );
  });
});

describe('formatIpBytes', () => {
  it('writes dotted quads and RFC 5952 text', () => {
    expect(formatIpBytes([192, 0, 2, 1])).toBe('192.0.2.1');
    expect(formatIpBytes([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1])).toBe('2001:db8::1');
    expect(formatIpBytes([...new Array<number>(10).fill(0), 0xff, 0xff, 1, 2, 3, 4])).toBe('::ffff:1.2.3.4');
  });
});
