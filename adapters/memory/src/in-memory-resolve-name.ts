// InMemoryResolveName: host names answered from a table that tests change, with failures they can inject.
import { err, NameResolutionError, type NameResolutionErrorCode, ok, planNameLookup, type ResolvedName, type ResolveName, type Result } from '@weft/core';
import { injectable } from 'inversify';
import { isIP } from 'node:net';

/** The TTL of answers that need no table: IP addresses and localhost. */
export const IN_MEMORY_FIXED_ANSWER_TTL_MS = 60_000;

type Entry =
  | { readonly kind: 'answer'; readonly answer: ResolvedName }
  | { readonly kind: 'failure'; readonly code: NameResolutionErrorCode };

const FAILURE_REASONS: Readonly<Record<NameResolutionErrorCode, string>> = {
  'not-found': 'the name has no addresses',
  unavailable: 'the resolver could not get an answer (set to fail by the test)',
  invalid: 'the name was refused as invalid (set to fail by the test)',
};

/**
 * Names are keyed in lowercase without a trailing dot, as DNS compares them. An answer reflects the table at the
 * time of the call; resolve() never rejects. IP addresses answer themselves and localhost answers 127.0.0.1 and ::1
 * without touching the table, as DnsResolveName does.
 */
@injectable()
export class InMemoryResolveName implements ResolveName {
  private readonly names = new Map<string, Entry>();
  private readonly counts = new Map<string, number>();

  resolve(host: string): Promise<Result<ResolvedName, NameResolutionError>> {
    return Promise.resolve(this.answer(host));
  }

  /** Makes `host` answer `addresses` (IP addresses, at least one) for `ttlMs` (more than 0). */
  set(host: string, addresses: readonly string[], ttlMs: number): void {
    if (addresses.length === 0) throw new RangeError(`InMemoryResolveName.set: no addresses for ${host}; use remove() for a name without any`);
    const bad = addresses.find((address) => isIP(address) === 0);
    if (bad !== undefined) throw new RangeError(`InMemoryResolveName.set: ${JSON.stringify(bad)} is not an IP address`);
    if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) throw new RangeError(`InMemoryResolveName.set: TTL ${ttlMs} ms is not more than 0`);
    const unique = [...new Set(addresses)];
    const ordered = [...unique.filter((address) => isIP(address) === 4), ...unique.filter((address) => isIP(address) === 6)];
    this.names.set(keyOf(host), { kind: 'answer', answer: { addresses: ordered, ttlMs } });
  }

  /** Forgets `host`: it answers 'not-found' from now on. */
  remove(host: string): void {
    this.names.delete(keyOf(host));
  }

  /** Makes `host` fail with `code` until the next set() or remove(). */
  fail(host: string, code: NameResolutionErrorCode): void {
    this.names.set(keyOf(host), { kind: 'failure', code });
  }

  /** How many times `host` was looked up in the table (IP addresses, localhost and invalid hosts are not). */
  lookups(host: string): number {
    return this.counts.get(keyOf(host)) ?? 0;
  }

  private answer(host: string): Result<ResolvedName, NameResolutionError> {
    const plan = planNameLookup(host, IN_MEMORY_FIXED_ANSWER_TTL_MS, (text) => isIP(text) !== 0);
    if (plan.kind === 'answered') return plan.result;
    const { name } = plan;
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    const entry = this.names.get(name);
    if (entry === undefined) return err(new NameResolutionError('not-found', host, 'no such name'));
    if (entry.kind === 'failure') return err(new NameResolutionError(entry.code, host, FAILURE_REASONS[entry.code]));
    return ok(entry.answer);
  }
}

/** DNS compares names without regard to case, and "name." is the absolute form of "name". */
function keyOf(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}
