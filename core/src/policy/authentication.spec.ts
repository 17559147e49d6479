import { describe, expect, it } from 'vitest';
import { allNetworks, intersectAuthorizedNetworks, networkMatches, type AuthorizedNetwork } from './authentication.js';
import { formatCidr, parseCidr, type Cidr } from './cidr.js';
import { unwrap } from '../shared/result.js';

const cidr = (text: string): Cidr => unwrap(parseCidr(text));
const net = (text: string, ...except: string[]): AuthorizedNetwork => ({ cidr: cidr(text), except: except.map(cidr) });
const show = (networks: readonly AuthorizedNetwork[]) =>
  networks.map((n) => [formatCidr(n.cidr), ...n.except.map(formatCidr)].join(' except '));

describe('networkMatches', () => {
  const office = { networks: [net('10.0.0.0/8', '10.9.0.0/16', '10.10.10.10'), net('fd00::/8')] };

  it('admits addresses inside a network and outside its exceptions', () => {
    expect(networkMatches(office, '10.1.2.3')).toBe(true);
    expect(networkMatches(office, '10.9.1.1')).toBe(false);
    expect(networkMatches(office, '10.10.10.10')).toBe(false);
    expect(networkMatches(office, '10.10.10.11')).toBe(true);
    expect(networkMatches(office, 'fd00::10')).toBe(true);
    expect(networkMatches(office, '192.168.0.1')).toBe(false);
    expect(networkMatches(office, '::ffff:10.1.2.3')).toBe(true);
  });

  it('admits nobody with no networks, and everybody with allNetworks', () => {
    expect(networkMatches({ networks: [] }, '10.1.2.3')).toBe(false);
    for (const ip of ['1.2.3.4', '::1', '2001:db8::1', '255.255.255.255']) expect(networkMatches({ networks: allNetworks }, ip)).toBe(true);
  });
});

describe('intersectAuthorizedNetworks', () => {
  it('meets nested blocks in the smaller one, keeping both sets of exceptions', () => {
    const both = intersectAuthorizedNetworks([net('10.0.0.0/8', '10.1.2.0/24')], [net('10.1.0.0/16', '10.1.3.0/24')]);
    expect(show(both)).toEqual(['10.1.0.0/16 except 10.1.3.0/24 except 10.1.2.0/24']);
  });

  it('drops disjoint blocks, other families, and blocks an exception swallows', () => {
    expect(intersectAuthorizedNetworks([net('10.0.0.0/8')], [net('192.168.0.0/16')])).toEqual([]);
    expect(intersectAuthorizedNetworks([net('10.0.0.0/8')], [net('fd00::/8')])).toEqual([]);
    expect(intersectAuthorizedNetworks([net('10.0.0.0/8', '10.1.0.0/16')], [net('10.1.2.0/24')])).toEqual([]);
  });

  it('with allNetworks gives back the other list', () => {
    expect(show(intersectAuthorizedNetworks(allNetworks, [net('fd00::/8'), net('10.0.0.0/8', '10.0.0.1')]))).toEqual([
      '10.0.0.0/8 except 10.0.0.1/32',
      'fd00::/8',
    ]);
  });

  it('admits exactly the addresses both lists admit', () => {
    const a = [net('10.0.0.0/8', '10.2.0.0/16'), net('192.168.0.0/16')];
    const b = [net('10.0.0.0/12', '10.3.3.0/24'), net('192.168.1.0/24')];
    const both = { networks: intersectAuthorizedNetworks(a, b) };
    for (const ip of ['10.1.1.1', '10.2.1.1', '10.3.3.3', '10.3.4.4', '10.200.0.1', '192.168.1.9', '192.168.2.9', '8.8.8.8']) {
      expect(networkMatches(both, ip)).toBe(networkMatches({ networks: a }, ip) && networkMatches({ networks: b }, ip));
    }
  });
});
