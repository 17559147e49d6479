import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InvalidInputError } from '../shared/invalid-input-error.js';
import type { Result } from '../shared/result.js';
import {
  type Authority,
  formatAuthority,
  formatSocketAddress,
  InvalidAuthorityError,
  InvalidDefaultPortError,
  parseAuthority,
  parseSocketAddress,
} from './authority.js';

function service(name: string, namespace: string, port: number, domain = 'cluster.local'): Authority {
  return { kind: 'service', name, namespace, port, fqdn: `${name}.${namespace}.svc.${domain}` };
}

function expectRefused(result: Result<unknown, InvalidInputError>, input: string, reason?: RegExp): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.error).toBeInstanceOf(InvalidAuthorityError);
  expect(result.error.input).toBe(input);
  expect(result.error.toString()).toContain(`invalid authority ${JSON.stringify(input)}`);
  if (reason) expect(result.error.reason).toMatch(reason);
}

describe('parseAuthority', () => {
  it.each<[string, Authority]>([
    ['web', service('web', 'default', 80)],
    ['web:8080', service('web', 'default', 8080)],
    ['web.shop', service('web', 'shop', 80)],
    ['web.shop:8080', service('web', 'shop', 8080)],
    ['web.shop.svc', service('web', 'shop', 80)],
    ['web.shop.svc.cluster.local:9090', service('web', 'shop', 9090)],
    ['web.shop.svc.cluster.local.:9090', service('web', 'shop', 9090)],
    ['WEB.Shop.SVC.Cluster.Local', service('web', 'shop', 80)],
    ['web-2.a1:65535', service('web-2', 'a1', 65_535)],
    ['api.example.com:443', { kind: 'dns', host: 'api.example.com', port: 443 }],
    ['API.Example.COM.', { kind: 'dns', host: 'api.example.com', port: 80 }],
    ['web.shop.svc.other.domain:80', { kind: 'dns', host: 'web.shop.svc.other.domain', port: 80 }],
    ['web.shop.pod.cluster.local:80', { kind: 'dns', host: 'web.shop.pod.cluster.local', port: 80 }],
    ['1.2.3.4:80', { kind: 'ip', ip: '1.2.3.4', family: 4, port: 80 }],
    ['0.0.0.0', { kind: 'ip', ip: '0.0.0.0', family: 4, port: 80 }],
    ['255.255.255.255:1', { kind: 'ip', ip: '255.255.255.255', family: 4, port: 1 }],
    ['[::1]:8080', { kind: 'ip', ip: '::1', family: 6, port: 8080 }],
    ['[::1]', { kind: 'ip', ip: '::1', family: 6, port: 80 }],
    ['::1', { kind: 'ip', ip: '::1', family: 6, port: 80 }],
    ['fe80::1', { kind: 'ip', ip: 'fe80::1', family: 6, port: 80 }],
    ['::', { kind: 'ip', ip: '::', family: 6, port: 80 }],
    ['[2001:DB8:0:0:0:0:0:1]:443', { kind: 'ip', ip: '2001:db8::1', family: 6, port: 443 }],
    ['[2001:0db8:0000:0001:0000:0000:0000:0001]:1', { kind: 'ip', ip: '2001:db8:0:1::1', family: 6, port: 1 }],
    ['[2001:db8:0:0:1:0:0:1]:1', { kind: 'ip', ip: '2001:db8::1:0:0:1', family: 6, port: 1 }],
    ['[2001:db8:0:1:1:1:1:1]:1', { kind: 'ip', ip: '2001:db8:0:1:1:1:1:1', family: 6, port: 1 }],
    ['[::FFFF:10.0.0.1]:80', { kind: 'ip', ip: '::ffff:10.0.0.1', family: 6, port: 80 }],
    ['[::ffff:a00:1]:80', { kind: 'ip', ip: '::ffff:10.0.0.1', family: 6, port: 80 }],
    ['[64:ff9b::192.0.2.33]:80', { kind: 'ip', ip: '64:ff9b::c000:221', family: 6, port: 80 }],
  ])('reads %j', (input, expected) => {
    expect(parseAuthority(input)).toEqual({ ok: true, value: expected });
  });

  it('uses the given default namespace, cluster domain and port', () => {
    const options = { defaultNamespace: 'shop', clusterDomain: 'mesh.example.', defaultPort: 8080 };
    expect(parseAuthority('web', options)).toEqual({ ok: true, value: service('web', 'shop', 8080, 'mesh.example') });
    expect(parseAuthority('web.other.svc.mesh.example:81', options)).toEqual({
      ok: true,
      value: service('web', 'other', 81, 'mesh.example'),
    });
    expect(parseAuthority('web.other.svc.cluster.local', options)).toEqual({
      ok: true,
      value: { kind: 'dns', host: 'web.other.svc.cluster.local', port: 8080 },
    });
    expect(parseAuthority('[::1]', options)).toEqual({ ok: true, value: { kind: 'ip', ip: '::1', family: 6, port: 8080 } });
  });

  it.each<[string, RegExp]>([
    ['', /empty/],
    ['   ', /whitespace/],
    ['web .shop', /whitespace/],
    ['web:0', /port 0 is out of range/],
    ['web:65536', /port 65536 is out of range/],
    ['web:http', /port "http" is not a number/],
    ['web:-1', /not a number/],
    ['web:', /empty port/],
    [':80', /no host/],
    ['http://web', /scheme/],
    ['user@web', /user info/],
    ['web/path', /path/],
    ['web?q=1', /path, query/],
    [`${'a'.repeat(64)}.shop`, /64 characters; at most 63/],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`, /254 characters; at most 253/],
    ['-web.shop', /starts or ends with "-"/],
    ['web-.shop', /starts or ends with "-"/],
    ['we_b.shop', /characters other than/],
    ['wéb.shop', /characters other than/],
    ['web..shop', /empty label/],
    ['.web', /empty label/],
    ['web.shop..', /empty label/],
    ['01.2.3.4', /leading zero; write 1/],
    ['1.2.3.256:80', /above 255/],
    ['1.2.3', /4 parts, not 3/],
    ['1.2.3.4.5', /4 parts, not 5/],
    ['1.2.3.4.', /4 parts/],
    ['1234', /4 parts, not 1/],
    ['[::1', /without "]"/],
    ['[::1]80', /after "]"/],
    ['[::1]:0', /out of range/],
    ['[]:80', /no host/],
    ['[1.2.3.4]:80', /8 groups/],
    ['[web]:80', /not 1 to 4 hex digits/],
    ['1::2::3', /only once/],
    ['1:2:3:4:5:6:7', /8 groups, not 7/],
    ['1:2:3:4:5:6:7:8:9:10', /8 groups/],
    ['1:2:3:4::5:6:7:a', /at most 7/],
    ['12345::1', /not 1 to 4 hex digits/],
    ['fe80::1%eth0', /zone/],
    ['2001:db8:0:0:0:0:0:1:8080', /needs brackets; write "\[2001:db8:0:0:0:0:0:1\]:8080"/],
    ['::ffff:1.2.3.4:80', /needs brackets/],
    ['::1.2.3.04', /leading zero/],
  ])('refuses %j', (input, reason) => {
    expectRefused(parseAuthority(input), input, reason);
  });
});

describe('parseAuthority options and absolute names', () => {
  it.each([0, 99_999, -80, 8.5, Number.NaN])('refuses the defaultPort option %d with a typed error naming it', (defaultPort) => {
    const result = parseAuthority('web', { defaultPort });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidDefaultPortError);
    expect(result.error.input).toBe(String(defaultPort));
    expect(result.error.toString()).toContain(`invalid default port ${JSON.stringify(String(defaultPort))}`);
    expect(result.error.reason).toContain('from 1 to 65535');
  });

  it('accepts the defaultPort option at both ends of the port range', () => {
    expect(parseAuthority('web', { defaultPort: 1 })).toEqual({ ok: true, value: service('web', 'default', 1) });
    expect(parseAuthority('web', { defaultPort: 65_535 })).toEqual({ ok: true, value: service('web', 'default', 65_535) });
  });

  it.each<[string, RegExp]>([
    ['web:080', /port "080" has a leading zero; write 80/],
    ['web.shop:00443', /leading zero; write 443/],
    ['[::1]:08080', /leading zero; write 8080/],
    ['web:00', /leading zero; write a port from 1 to 65535/],
  ])('refuses the leading-zero port of %j, as Server ports do', (input, reason) => {
    expectRefused(parseAuthority(input), input, reason);
  });

  it('refuses a leading-zero port in a socket address too', () => {
    expectRefused(parseSocketAddress('10.0.0.1:080'), '10.0.0.1:080', /leading zero; write 80/);
  });

  it.each<[string, Authority]>([
    ['web.', { kind: 'dns', host: 'web', port: 80 }],
    ['WEB.:8080', { kind: 'dns', host: 'web', port: 8080 }],
    ['web.shop.', { kind: 'dns', host: 'web.shop', port: 80 }],
    ['web.shop.svc.:81', { kind: 'dns', host: 'web.shop.svc', port: 81 }],
    ['web.shop.svc.cluster.local.', service('web', 'shop', 80)],
  ])('reads the absolute name %j without completing it', (input, expected) => {
    expect(parseAuthority(input, { defaultNamespace: 'shop' })).toEqual({ ok: true, value: expected });
  });
});

describe('formatAuthority', () => {
  it.each<[Authority, string]>([
    [service('web', 'default', 8080), 'web.default.svc.cluster.local:8080'],
    [{ kind: 'ip', ip: '10.0.0.1', family: 4, port: 80 }, '10.0.0.1:80'],
    [{ kind: 'ip', ip: '::1', family: 6, port: 8080 }, '[::1]:8080'],
    [{ kind: 'dns', host: 'api.example.com', port: 443 }, 'api.example.com:443'],
    [{ kind: 'dns', host: 'example.com', port: 443 }, 'example.com.:443'],
    [{ kind: 'dns', host: 'web', port: 80 }, 'web.:80'],
    [{ kind: 'dns', host: 'web.shop.svc', port: 80 }, 'web.shop.svc.:80'],
  ])('writes %j as %s', (authority, text) => {
    expect(formatAuthority(authority)).toBe(text);
  });

  it('writes what parseAuthority reads back', () => {
    for (const text of ['web.shop:81', 'api.example.com', 'web.', 'example.com.:443', '10.1.2.3:9', '[FE80:0::0:1]:443', '::']) {
      const first = parseAuthority(text);
      if (!first.ok) throw first.error;
      expect(parseAuthority(formatAuthority(first.value))).toEqual(first);
    }
  });
});

describe('parseSocketAddress', () => {
  it.each([
    ['10.0.0.1:8080', { ip: '10.0.0.1', port: 8080 }],
    ['[::1]:80', { ip: '::1', port: 80 }],
    ['[2001:DB8::0:1]:443', { ip: '2001:db8::1', port: 443 }],
  ])('reads %j', (input, expected) => {
    expect(parseSocketAddress(input)).toEqual({ ok: true, value: expected });
    expect(formatSocketAddress(expected)).toBe(input.replace('DB8::0:', 'db8::'));
  });

  it.each<[string, RegExp]>([
    ['10.0.0.1', /no port/],
    ['[::1]', /no port/],
    ['::1', /no port/],
    ['web:80', /"web" is not an IP address/],
    ['web.shop.svc.cluster.local:80', /not an IP address/],
    ['10.0.0.256:80', /above 255/],
    ['10.0.0.1:0', /out of range/],
    ['', /empty/],
  ])('refuses %j', (input, reason) => {
    expectRefused(parseSocketAddress(input), input, reason);
  });
});

const labelArb = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
const portArb = fc.integer({ min: 1, max: 65_535 });
const hexGroupArb = fc.integer({ min: 0, max: 0xffff });

/** The ways people write the same IPv6 groups: full, zero-padded, upper case, compressed at one zero run. */
function ipv6Spellings(groups: readonly number[], at: number): string[] {
  const hex = groups.map((group) => group.toString(16));
  const spellings = [hex.join(':'), hex.map((group) => group.padStart(4, '0')).join(':'), hex.join(':').toUpperCase()];
  if (groups[at] === 0) {
    let end = at;
    while (end < 8 && groups[end] === 0) end++;
    spellings.push(`${hex.slice(0, at).join(':')}::${hex.slice(end).join(':')}`);
  }
  return spellings;
}

const ipv6GroupsArb = fc.array(fc.oneof(hexGroupArb, fc.constant(0)), { minLength: 8, maxLength: 8 });

describe('parseAuthority properties', () => {
  it('reads back what formatAuthority writes for services', () => {
    fc.assert(
      fc.property(labelArb, labelArb, portArb, fc.constantFrom('', '.svc', '.svc.cluster.local', '.svc.cluster.local.'), (name, ns, port, suffix) => {
        fc.pre(suffix !== '' || !/^[0-9]+$/.test(name + ns)); // all-digit "1.2" reads as a (bad) IPv4 address
        const parsed = parseAuthority(`${name}.${ns}${suffix}:${port}`);
        expect(parsed).toEqual({ ok: true, value: service(name, ns, port) });
        if (parsed.ok) expect(parseAuthority(formatAuthority(parsed.value))).toEqual(parsed);
      }),
    );
  });

  it('reads back what formatAuthority writes for IPv4', () => {
    fc.assert(
      fc.property(fc.ipV4(), portArb, (ip, port) => {
        const parsed = parseAuthority(`${ip}:${port}`);
        expect(parsed).toEqual({ ok: true, value: { kind: 'ip', ip, family: 4, port } });
        if (parsed.ok) expect(parseAuthority(formatAuthority(parsed.value))).toEqual(parsed);
      }),
    );
  });

  it('reads back what formatAuthority writes for IPv6, in canonical form whatever the input form', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV6(), ipv6GroupsArb.map((groups) => ipv6Spellings(groups, 0)[0] as string)), portArb, (text, port) => {
        const parsed = parseAuthority(`[${text}]:${port}`);
        expect(parsed.ok).toBe(true);
        if (!parsed.ok || parsed.value.kind !== 'ip') return;
        expect(parsed.value.family).toBe(6);
        expect(parsed.value.ip).toBe(parsed.value.ip.toLowerCase());
        expect(parsed.value.ip).not.toMatch(/(^|:)0[0-9a-f]/);
        expect(parseAuthority(formatAuthority(parsed.value))).toEqual(parsed);
        expect(parseAuthority(parsed.value.ip, { defaultPort: port })).toEqual(parsed);
      }),
    );
  });

  it('gives every spelling of one IPv6 address the same canonical text', () => {
    fc.assert(
      fc.property(ipv6GroupsArb, fc.nat(7), (groups, at) => {
        const ips = ipv6Spellings(groups, at).map((text) => {
          const parsed = parseAuthority(`[${text}]:1`);
          return parsed.ok && parsed.value.kind === 'ip' ? parsed.value.ip : parsed;
        });
        expect(new Set(ips).size).toBe(1);
        expect(typeof ips[0]).toBe('string');
      }),
    );
  });

  it('never throws, and every refusal is a typed error naming the input', () => {
    const alphabet = fc.constantFrom(...'ab09.-:[]/@%_ ZF'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: alphabet, maxLength: 40 })), (input) => {
        for (const result of [parseAuthority(input), parseSocketAddress(input)]) {
          if (result.ok) continue;
          expect(result.error).toBeInstanceOf(InvalidAuthorityError);
          expect(result.error.input).toBe(input);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
