// planNameLookup: what a name resolver answers without a lookup (IP addresses, invalid names, localhost), else the name to look up.
import { dnsNameProblem } from '../shared/dns-name.js';
import { err, ok, type Result } from '../shared/result.js';
import { NameResolutionError, type ResolvedName } from './resolve-name.port.js';

/** Either the answer, found without a lookup, or the name to look up: lowercase, without a trailing dot. */
export type NameLookupPlan =
  | { readonly kind: 'answered'; readonly result: Result<ResolvedName, NameResolutionError> }
  | { readonly kind: 'lookup'; readonly name: string };

/**
 * An IP address answers itself, and localhost and the names under it answer 127.0.0.1 and ::1 (RFC 6761), both
 * for `fixedTtlMs`; a host that is not a DNS name fails as 'invalid'. DNS compares names without regard to case,
 * and "name." is the absolute form of "name", so the name to look up is lowercased and loses its trailing dot.
 * `isIpAddress` is the platform's test of IP text (the adapter's, so that it accepts what its resolver does).
 */
export function planNameLookup(host: string, fixedTtlMs: number, isIpAddress: (host: string) => boolean): NameLookupPlan {
  if (isIpAddress(host)) return { kind: 'answered', result: ok({ addresses: [host], ttlMs: fixedTtlMs }) };
  const name = host.toLowerCase().replace(/\.$/, '');
  const problem = dnsNameProblem(name);
  if (problem !== undefined) {
    const reason = `host name ${problem}; write a DNS name such as "api.example.com" or an IP address`;
    return { kind: 'answered', result: err(new NameResolutionError('invalid', host, reason)) };
  }
  if (name === 'localhost' || name.endsWith('.localhost')) {
    return { kind: 'answered', result: ok({ addresses: ['127.0.0.1', '::1'], ttlMs: fixedTtlMs }) };
  }
  return { kind: 'lookup', name };
}
