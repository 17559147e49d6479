import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readPortNumber } from './port-number.js';

describe('readPortNumber', () => {
  it('reads every port from 1 to 65535 written plainly', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 65_535 }), (port) => readPortNumber(String(port)) === port));
  });

  it.each([
    ['080', 'port "080" has a leading zero; write 80'],
    ['0', 'port 0 is out of range; write a port from 1 to 65535'],
    ['000', 'port "000" has a leading zero; write a port from 1 to 65535'],
    ['65536', 'port 65536 is out of range; write a port from 1 to 65535'],
    ['99999999999999999999', 'port 99999999999999999999 is out of range; write a port from 1 to 65535'],
    ['http', 'port "http" is not a number; write a port from 1 to 65535'],
    ['-1', 'port "-1" is not a number; write a port from 1 to 65535'],
  ])('refuses %j: %s', (text, problem) => {
    expect(readPortNumber(text)).toEqual({ problem });
  });
});
