// ResolveName port: the IP addresses of a host name and how long they hold, for targets discovery does not know.
import type { Result } from '../shared/result.js';

/**
 * Why a host has no addresses: the name does not exist or has no A/AAAA records ('not-found'), the resolver
 * could not get an answer (server failure, timeout, no server; 'unavailable'), or the host is not a DNS name
 * nor an IP address ('invalid').
 */
export type NameResolutionErrorCode = 'not-found' | 'unavailable' | 'invalid';

/** A failed resolution; `input` is the host exactly as it was asked for, and the message names it. */
export class NameResolutionError extends Error {
  readonly kind = 'name';

  constructor(
    readonly code: NameResolutionErrorCode,
    /** The host, exactly as it was given to resolve(). */
    readonly input: string,
    /** What went wrong, in words a user can act on. */
    readonly reason: string,
  ) {
    super(`cannot resolve ${JSON.stringify(input)} (${code}): ${reason}`);
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** The answer for one host. */
export interface ResolvedName {
  /** IP addresses (IPv4 dotted quads, IPv6 text), IPv4 first, never empty, without duplicates. */
  readonly addresses: readonly string[];
  /** How long the answer may be used before asking again, in ms; always more than 0. */
  readonly ttlMs: number;
}

export const ResolveName = Symbol('ResolveName');

export interface ResolveName {
  /**
   * The addresses of `host`: a DNS name (any case, with or without a trailing dot) or an IP address, which is its
   * own answer without a lookup. "localhost" and names under ".localhost" are the loopback addresses (RFC 6761).
   * Never rejects: every failure is a NameResolutionError in the result.
   */
  resolve(host: string): Promise<Result<ResolvedName, NameResolutionError>>;
}
