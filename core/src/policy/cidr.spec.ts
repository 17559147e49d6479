import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cidrContains,
  cidrFromAddress,
  cidrIncludes,
  formatCidr,
  formatIpAddress,
  InvalidCidrError,
  InvalidIpAddressError,
  parseCidr,
  parseIpAddress,
  unmapIpAddress,
  type Cidr,
  type IpAddress,
} from './cidr.js';
import { unwrap } from '../shared/result.js';

const cidr = (text: string): Cidr => unwrap(parseCidr(text));

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['192.168.1.0/24', '192.168.1.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['fd00::/8', 'fd00::/8'],
    ['::/0', '::/0'],
    ['FD00::/8', 'fd00::/8'],
    ['2001:db8:0:0:0:0:0:0/32', '2001:db8::/32'],
    ['10.1.2.3', '10.1.2.3/32'],
    ['::1', '::1/128'],
    ['  172.16.0.0/12 ', '172.16.0.0/12'],
    ['::ffff:10.0.0.0/104', '::ffff:10.0.0.0/104'],
  ])('reads %j as %s', (text, formatted) => {
    expect(formatCidr(cidr(text))).toBe(formatted);
  });

  it('clears host bits, reading 10.1.2.3/8 as the network 10.0.0.0/8', () => {
    expect(cidr('10.1.2.3/8')).toEqual(cidr('10.0.0.0/8'));
    expect(formatCidr(cidr('fd12:3456::1/16'))).toBe('fd12::/16');
    expect(formatCidr(cidr('10.255.255.255/12'))).toBe('10.240.0.0/12');
  });

  it.each([
    ['', 'is empty'],
    ['10.0.0.0/33', 'prefix length "33"'],
    ['fd00::/129', 'prefix length "129"'],
    ['10.0.0.0/-1', 'prefix length "-1"'],
    ['10.0.0.0/08', 'prefix length "08"'],
    ['10.0.0.0/', 'nothing after "/"'],
    ['10.0.0.0/8/9', 'more than one "/"'],
    ['10.0.0/8', 'bad address'],
    ['010.0.0.0/8', 'leading zero'],
    ['10.0.0.256/32', 'above 255'],
    ['fd00:::1/64', 'bad address'],
    ['1::2::3/64', 'bad address'],
    ['fe80::1%eth0/64', 'zone'],
    ['fd00::g/64', 'bad address'],
    ['example.com/8', 'bad address'],
  ])('refuses %j with an error naming it (%s)', (text, words) => {
    const result = parseCidr(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidCidrError);
    expect(result.error.kind).toBe('CIDR');
    expect(result.error.input).toBe(text);
    expect(result.error.toString()).toContain(`invalid CIDR ${JSON.stringify(text)}`);
    expect(result.error.reason).toContain(words);
  });
});

describe('parseIpAddress', () => {
  it('reads both families into bytes', () => {
    expect(unwrap(parseIpAddress('10.1.2.3'))).toEqual({ family: 4, bytes: [10, 1, 2, 3] });
    expect(unwrap(parseIpAddress('::ffff:1.2.3.4')).bytes).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4]);
    expect(unwrap(parseIpAddress('2001:db8::ff00:42:8329')).bytes.slice(10)).toEqual([0xff, 0x00, 0x00, 0x42, 0x83, 0x29]);
  });

  it.each(['', '1.2.3', '01.2.3.4', '1.2.3.4.5', ':::', 'fe80::1%lo', 'gg::1'])('refuses %j naming it', (text) => {
    const result = parseIpAddress(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidIpAddressError);
    expect(result.error.input).toBe(text);
    expect(result.error.toString()).toContain(`invalid IP address ${JSON.stringify(text)}`);
  });

  it('formats IPv6 the RFC 5952 way', () => {
    expect(formatIpAddress(unwrap(parseIpAddress('2001:DB8:0:0:1:0:0:1')))).toBe('2001:db8::1:0:0:1');
    expect(formatIpAddress(unwrap(parseIpAddress('::ffff:0a01:0203')))).toBe('::ffff:10.1.2.3');
  });
});

describe('cidrContains', () => {
  it('matches addresses inside the block and no others', () => {
    expect(cidrContains(cidr('10.0.0.0/8'), '10.255.1.2')).toBe(true);
    expect(cidrContains(cidr('10.0.0.0/8'), '11.0.0.0')).toBe(false);
    expect(cidrContains(cidr('100.64.0.0/10'), '100.127.255.255')).toBe(true);
    expect(cidrContains(cidr('100.64.0.0/10'), '100.128.0.0')).toBe(false);
    expect(cidrContains(cidr('fd00::/8'), 'fd12:3456::1')).toBe(true);
    expect(cidrContains(cidr('fd00::/8'), 'fe80::1')).toBe(false);
    expect(cidrContains(cidr('10.1.2.3'), '10.1.2.3')).toBe(true);
    expect(cidrContains(cidr('10.1.2.3'), '10.1.2.4')).toBe(false);
  });

  it('never matches an address of the other family', () => {
    expect(cidrContains(cidr('::/0'), '10.1.2.3')).toBe(false);
    expect(cidrContains(cidr('0.0.0.0/0'), 'fd00::1')).toBe(false);
  });

  it('matches IPv4-mapped IPv6 addresses against IPv4 blocks', () => {
    expect(cidrContains(cidr('10.0.0.0/8'), '::ffff:10.1.2.3')).toBe(true);
    expect(cidrContains(cidr('10.0.0.0/8'), '::ffff:11.1.2.3')).toBe(false);
    expect(cidrContains(cidr('0.0.0.0/0'), '::ffff:1.2.3.4')).toBe(true);
  });

  it('matches a mapped address only as the IPv4 address it stands for, never against other IPv6 blocks', () => {
    expect(cidrContains(cidr('::/0'), '::ffff:10.1.2.3')).toBe(false);
    expect(cidrContains(cidr('::/0'), '::ffff:a01:203')).toBe(false);
    expect(cidrContains(cidr('::/80'), '::ffff:10.1.2.3')).toBe(false);
    expect(cidrContains(cidr('::/0'), '::10.1.2.3')).toBe(true); // IPv4-compatible, not mapped: plain IPv6
  });

  it('reads blocks inside ::ffff:0:0/96 as IPv4 blocks', () => {
    expect(cidrContains(cidr('::ffff:10.0.0.0/104'), '10.1.2.3')).toBe(true);
    expect(cidrContains(cidr('::ffff:10.0.0.0/104'), '::ffff:10.1.2.3')).toBe(true);
    expect(cidrContains(cidr('::ffff:10.0.0.0/104'), '11.1.2.3')).toBe(false);
    expect(cidrContains(cidr('::ffff:0:0/96'), '203.0.113.9')).toBe(true);
    expect(cidrIncludes(cidr('0.0.0.0/0'), cidr('::ffff:10.0.0.0/104'))).toBe(true);
    expect(cidrIncludes(cidr('::ffff:10.0.0.0/104'), cidr('10.1.0.0/16'))).toBe(true);
    expect(cidrIncludes(cidr('::/0'), cidr('::ffff:10.0.0.0/104'))).toBe(false);
  });

  it('unmaps IPv4-mapped addresses and leaves the others alone', () => {
    expect(unmapIpAddress(unwrap(parseIpAddress('::ffff:a00:5')))).toEqual({ family: 4, bytes: [10, 0, 0, 5] });
    expect(unmapIpAddress(unwrap(parseIpAddress('10.0.0.5')))).toEqual({ family: 4, bytes: [10, 0, 0, 5] });
    expect(unmapIpAddress(unwrap(parseIpAddress('::fffe:a00:5'))).family).toBe(6);
  });

  it('matches nothing for text that is not an address', () => {
    expect(cidrContains(cidr('0.0.0.0/0'), 'localhost')).toBe(false);
    expect(cidrContains(cidr('::/0'), '')).toBe(false);
  });

  it('tells whether one block holds another', () => {
    expect(cidrIncludes(cidr('10.0.0.0/8'), cidr('10.1.0.0/16'))).toBe(true);
    expect(cidrIncludes(cidr('10.1.0.0/16'), cidr('10.0.0.0/8'))).toBe(false);
    expect(cidrIncludes(cidr('10.0.0.0/8'), cidr('11.0.0.0/16'))).toBe(false);
    expect(cidrIncludes(cidr('::/0'), cidr('10.0.0.0/8'))).toBe(false);
  });

  it('refuses to build a block with an impossible prefix', () => {
    expect(() => cidrFromAddress(unwrap(parseIpAddress('10.0.0.1')), 33)).toThrow(RangeError);
  });
});

describe('CIDR properties', () => {
  const address: fc.Arbitrary<IpAddress> = fc.oneof(
    fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }).map((bytes) => ({ family: 4 as const, bytes })),
    fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 }).map((bytes) => ({ family: 6 as const, bytes })),
  );
  const block = address.chain((ip) =>
    fc.integer({ min: 0, max: ip.family === 4 ? 32 : 128 }).map((prefix) => cidrFromAddress(ip, prefix)),
  );
  const bit = (bytes: readonly number[], index: number): number => ((bytes[index >> 3] ?? 0) >> (7 - (index & 7))) & 1;

  // An address that keeps the block's first `prefixLength` bits and takes every other bit from `host`.
  function withPrefixOf(network: Cidr, host: readonly number[]): IpAddress {
    const bytes = network.bytes.map((_, byteIndex) => {
      let byte = 0;
      for (let b = 0; b < 8; b++) {
        const index = byteIndex * 8 + b;
        byte = (byte << 1) | (index < network.prefixLength ? bit(network.bytes, index) : bit(host, index));
      }
      return byte;
    });
    return { family: network.family, bytes };
  }

  it('a block contains its own network address', () => {
    fc.assert(fc.property(block, (network) => cidrContains(network, formatIpAddress(network))));
  });

  it('a block contains every address that shares its prefix bits', () => {
    fc.assert(
      fc.property(block, fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 }), (network, host) => {
        const inside = withPrefixOf(network, host);
        return cidrContains(network, inside) && cidrContains(network, formatIpAddress(inside));
      }),
    );
  });

  it('a block never contains an address that differs in a prefix bit', () => {
    const nonEmptyPrefix = block.filter((network) => network.prefixLength > 0);
    fc.assert(
      fc.property(nonEmptyPrefix, fc.nat(), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 }), (network, n, host) => {
        const flip = n % network.prefixLength;
        const inside = withPrefixOf(network, host);
        const bytes = inside.bytes.map((byte, i) => (i === flip >> 3 ? byte ^ (0x80 >> (flip & 7)) : byte));
        return !cidrContains(network, { family: network.family, bytes });
      }),
    );
  });

  it('a block holds a mapped IPv4 address exactly when it holds the plain one', () => {
    const v4 = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 });
    const mappedBlock = fc
      .tuple(v4, fc.integer({ min: 80, max: 128 }))
      .map(([bytes, prefix]) => cidrFromAddress({ family: 6, bytes: [...new Array<number>(10).fill(0), 255, 255, ...bytes] }, prefix));
    fc.assert(
      fc.property(fc.oneof(block, mappedBlock), v4, (network, bytes) => {
        const plain = cidrContains(network, { family: 4, bytes });
        expect(cidrContains(network, `::ffff:${bytes.join('.')}`)).toBe(plain);
        const [a = 0, b = 0, c = 0, d = 0] = bytes;
        expect(cidrContains(network, `::ffff:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`)).toBe(plain);
      }),
    );
  });

  it('parse(format(x)) is x, for blocks and addresses', () => {
    fc.assert(
      fc.property(block, (network) => {
        expect(parseCidr(formatCidr(network))).toEqual({ ok: true, value: network });
      }),
    );
    fc.assert(
      fc.property(address, (ip) => {
        expect(parseIpAddress(formatIpAddress(ip))).toEqual({ ok: true, value: ip });
      }),
    );
  });
});
