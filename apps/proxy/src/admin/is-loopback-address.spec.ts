import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLoopbackAddress } from './is-loopback-address.js';

describe('isLoopbackAddress', () => {
  it.each(['127.0.0.1', '127.5.5.5', '127.255.255.255', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::ffff:7f00:1'])(
    'accepts the loopback peer %s',
    (ip) => {
      expect(isLoopbackAddress(ip)).toBe(true);
    },
  );

  it.each(['10.0.0.1', '::ffff:10.0.0.1', '0.0.0.0', '::', '128.0.0.1', '126.255.255.255', '::2', 'fe80::1', 'localhost', '', '127.0.0.1.evil', '127.0.0.01'])(
    'refuses %j',
    (ip) => {
      expect(isLoopbackAddress(ip)).toBe(false);
    },
  );

  it('accepts every IPv4 address whose first octet is 127, plain or IPv4-mapped, and no other', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(octet, octet, octet, octet, fc.boolean(), (a, b, c, d, mapped) => {
        const ip = `${mapped ? '::ffff:' : ''}${a}.${b}.${c}.${d}`;
        expect(isLoopbackAddress(ip)).toBe(a === 127);
      }),
    );
  });
});
