// DnsResolveName: host names resolved through DNS (A and AAAA with their TTLs), TTLs kept within bounds, typed failures.
import { err, NameResolutionError, type NameResolutionErrorCode, ok, planNameLookup, type ResolvedName, type ResolveName, type Result } from '@weft/core';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

/** One address record and its TTL in seconds, as DNS gives it. */
export interface DnsAddressRecord {
  readonly address: string;
  readonly ttl: number;
}

/** The two queries DnsResolveName makes; a node:dns/promises Resolver is one. */
export interface DnsAddressLookup {
  resolve4(host: string, options: { ttl: true }): Promise<DnsAddressRecord[]>;
  resolve6(host: string, options: { ttl: true }): Promise<DnsAddressRecord[]>;
}

export interface DnsResolveNameOptions {
  /** DNS servers to ask, e.g. "10.96.0.10", "10.96.0.10:53" or "[::1]:5353"; default the host's (/etc/resolv.conf). */
  readonly servers?: readonly string[];
  /** Shortest TTL given out, in ms; shorter DNS TTLs are raised to it so a 0 s record cannot cause a query storm. Default 5 s. */
  readonly minTtlMs?: number;
  /** Longest TTL given out, in ms; longer DNS TTLs are cut to it so changes are seen within it. Default 60 s. */
  readonly maxTtlMs?: number;
  /** How long one try waits for a server's answer, in ms; default 2 s. */
  readonly timeoutMs?: number;
  /** How many times each server is tried; default 2. */
  readonly tries?: number;
  /** Makes the queries instead of a Resolver built from servers, timeoutMs and tries (which are then unused). */
  readonly lookup?: DnsAddressLookup;
}

export const DNS_DEFAULT_MIN_TTL_MS = 5_000;
export const DNS_DEFAULT_MAX_TTL_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 2_000;
const DEFAULT_TRIES = 2;
const NO_ADDRESSES = 'the name has no A or AAAA records';

const DNS_ERRORS: Readonly<Record<string, readonly [NameResolutionErrorCode, string]>> = {
  ENOTFOUND: ['not-found', 'the name does not exist (NXDOMAIN)'],
  ENODATA: ['not-found', NO_ADDRESSES],
  EBADNAME: ['invalid', 'the DNS resolver refused the name as malformed (EBADNAME)'],
  ETIMEOUT: ['unavailable', 'no DNS server answered in time (ETIMEOUT); check the servers and the network'],
  ESERVFAIL: ['unavailable', 'the DNS server failed to answer (SERVFAIL); try again later'],
  EREFUSED: ['unavailable', 'the DNS server refused the query (REFUSED); check that it serves this client'],
  ECONNREFUSED: ['unavailable', 'could not reach a DNS server (ECONNREFUSED); check the configured servers'],
};

/** The failure of one of the two queries: node's DNS error code, read into ours with a reason a user can act on. */
interface FamilyFailure {
  readonly ok: false;
  readonly dnsCode: string;
  readonly code: NameResolutionErrorCode;
  readonly reason: string;
}

type FamilyOutcome = { readonly ok: true; readonly records: readonly DnsAddressRecord[] } | FamilyFailure;

/**
 * Asks for the A and AAAA records of a name at once. An answer holds the addresses of both (IPv4 first) as soon as
 * one family has any, so a name with only A records, or an IPv6 query that times out, still resolves; its TTL is
 * the lowest of the records', kept within [minTtlMs, maxTtlMs]. IP addresses and localhost are answered without a
 * query (RFC 6761), with the longest TTL.
 */
export class DnsResolveName implements ResolveName {
  private readonly lookup: DnsAddressLookup;
  private readonly minTtlMs: number;
  private readonly maxTtlMs: number;

  constructor(options: DnsResolveNameOptions = {}) {
    this.minTtlMs = options.minTtlMs ?? DNS_DEFAULT_MIN_TTL_MS;
    this.maxTtlMs = options.maxTtlMs ?? DNS_DEFAULT_MAX_TTL_MS;
    checkOptions(options, this.minTtlMs, this.maxTtlMs);
    this.lookup = options.lookup ?? resolverFor(options);
  }

  async resolve(host: string): Promise<Result<ResolvedName, NameResolutionError>> {
    const plan = planNameLookup(host, this.maxTtlMs, (text) => isIP(text) !== 0);
    if (plan.kind === 'answered') return plan.result;
    const { name } = plan;
    const [v4, v6] = await Promise.all([
      query(() => this.lookup.resolve4(name, { ttl: true })),
      query(() => this.lookup.resolve6(name, { ttl: true })),
    ]);
    return this.combine(host, v4, v6);
  }

  private combine(host: string, v4: FamilyOutcome, v6: FamilyOutcome): Result<ResolvedName, NameResolutionError> {
    const records = [...(v4.ok ? v4.records : []), ...(v6.ok ? v6.records : [])];
    if (records.length > 0) {
      const addresses = [...new Set(records.map((record) => record.address))];
      const lowestTtlMs = Math.min(...records.map((record) => record.ttl * 1_000));
      return ok({ addresses, ttlMs: Math.min(Math.max(lowestTtlMs, this.minTtlMs), this.maxTtlMs) });
    }
    const failures = [v4, v6].filter((outcome): outcome is FamilyFailure => !outcome.ok);
    // A server that could not answer one family may know addresses of it: that is not "the name has none".
    const worst =
      failures.find((f) => f.code === 'unavailable') ?? failures.find((f) => f.code === 'invalid') ?? failures.find((f) => f.dnsCode === 'ENOTFOUND');
    return err(new NameResolutionError(worst?.code ?? 'not-found', host, worst?.reason ?? NO_ADDRESSES));
  }
}

/** Runs one query; a rejection becomes an outcome, so resolve() never rejects. */
async function query(run: () => Promise<readonly DnsAddressRecord[]>): Promise<FamilyOutcome> {
  try {
    const records = await run();
    return records.length > 0 ? { ok: true, records } : { ok: false, dnsCode: 'ENODATA', code: 'not-found', reason: NO_ADDRESSES };
  } catch (error) {
    return readDnsError(error);
  }
}

/** Maps node's DNS error codes (c-ares) to ours, with a reason a user can act on. */
function readDnsError(error: unknown): FamilyFailure {
  const dnsCode = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'EUNKNOWN';
  const known = DNS_ERRORS[dnsCode];
  if (known) return { ok: false, dnsCode, code: known[0], reason: known[1] };
  const detail = error instanceof Error ? `: ${error.message}` : '';
  return { ok: false, dnsCode, code: 'unavailable', reason: `the DNS query failed (${dnsCode}${detail})` };
}

function resolverFor(options: DnsResolveNameOptions): Resolver {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, tries: options.tries ?? DEFAULT_TRIES });
  if (options.servers === undefined) return resolver;
  try {
    resolver.setServers([...options.servers]);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new RangeError(`DnsResolveName: servers ${JSON.stringify(options.servers)} are not all "ip" or "ip:port": ${detail}`);
  }
  return resolver;
}

/** The options come from configuration; a value that cannot work is refused at start, naming the option. */
function checkOptions(options: DnsResolveNameOptions, minTtlMs: number, maxTtlMs: number): void {
  const positive = (name: string, value: number | undefined) => {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new RangeError(`DnsResolveName: ${name} ${value} is not a positive number of milliseconds`);
    }
  };
  positive('minTtlMs', minTtlMs);
  positive('maxTtlMs', maxTtlMs);
  positive('timeoutMs', options.timeoutMs);
  if (maxTtlMs < minTtlMs) throw new RangeError(`DnsResolveName: maxTtlMs ${maxTtlMs} is below minTtlMs ${minTtlMs}`);
  if (options.tries !== undefined && !(Number.isInteger(options.tries) && options.tries >= 1)) {
    throw new RangeError(`DnsResolveName: tries ${options.tries} is not a whole number of at least 1`);
  }
  if (options.servers !== undefined && options.servers.length === 0) {
    throw new RangeError('DnsResolveName: servers is empty; leave it out to use the host\'s DNS servers');
  }
}
