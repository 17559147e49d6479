// The Identity gRPC service: Certify requests in, leaf and chain out, rate-limited per identity, each refusal its status.
import { type sendUnaryData, type Server, type ServerUnaryCall, status } from '@grpc/grpc-js';
import { identity } from '@weft/contracts';
import {
  type CertifyRateLimiterOptions,
  CertifyRateLimiter,
  CertifyRefusal,
  type CertifyWorkloadRefusal,
  type Clock,
  err,
  InvalidIdentityError,
  type IssuedCertificate,
  redactToken,
  type Result,
  type WorkloadCertifier,
} from '@weft/core';
import { certifyRequestFromWire } from './certify-request-translator.js';
import { certifyResponseToWire } from './certify-response-translator.js';
import { certifyRefusalToStatus } from './certify-status-translator.js';

export type IdentityServiceEvent =
  | {
      readonly event: 'identity-certified';
      readonly identity: string;
      readonly peer: string;
      readonly serial: string;
      /** ISO 8601. */
      readonly notAfter: string;
    }
  | {
      readonly event: 'identity-refused';
      readonly identity: string;
      readonly peer: string;
      /** The gRPC status name, e.g. "UNAUTHENTICATED". */
      readonly status: string;
      /** The refusal's class and code, e.g. "TokenRefusal/expired". */
      readonly refusal: string;
      readonly reason: string;
    }
  | { readonly event: 'identity-failed'; readonly identity: string; readonly peer: string; readonly reason: string };

export interface IdentityServiceOptions {
  /** Time for the rate limiter. */
  readonly clock: Clock;
  /**
   * Token bucket per caller address, checked before the token is: it keeps one source from flooding the token
   * validator and the CA. PEER_CERTIFY_RATE_LIMIT (burst 200, then 20 per second) for what is not given; local mode
   * starts every proxy from 127.0.0.1, so the burst covers a whole mesh starting at once. The per-identity limit
   * sits in IdentityIssuer, charged only after the token has proven the identity.
   */
  readonly rateLimit?: Partial<CertifyRateLimiterOptions>;
  /** One event per call: the audit log of issuances and refusals. Never carries the token. */
  readonly log?: (event: IdentityServiceEvent) => void;
}

type CertifyCall = ServerUnaryCall<identity.CertifyRequest, identity.CertifyResponse>;
type CertifyCallback = sendUnaryData<identity.CertifyResponse>;

// Requested identities are client input: logs keep a bounded prefix of them.
const MAX_LOGGED_IDENTITY = 256;

/** The default per-caller limit: a burst of 200 requests, then one more every 50 ms. */
export const PEER_CERTIFY_RATE_LIMIT: Pick<CertifyRateLimiterOptions, 'burst' | 'refillIntervalMs'> = { burst: 200, refillIntervalMs: 50 };

/** The Identity service implementation over `certifier` (the control plane's IdentityIssuer). */
export function identityService(certifier: WorkloadCertifier, options: IdentityServiceOptions): identity.IdentityServer {
  const handler = new CertifyHandler(certifier, options);
  return { certify: (call: CertifyCall, callback: CertifyCallback) => void handler.handle(call, callback) };
}

/** Adds the Identity service to a grpc-js server that the caller binds and starts. */
export function serveIdentity(server: Server, certifier: WorkloadCertifier, options: IdentityServiceOptions): void {
  server.addService(identity.IdentityService, identityService(certifier, options));
}

class CertifyHandler {
  private readonly limiter: CertifyRateLimiter;
  private readonly log: (event: IdentityServiceEvent) => void;

  constructor(
    private readonly certifier: WorkloadCertifier,
    private readonly options: IdentityServiceOptions,
  ) {
    this.limiter = new CertifyRateLimiter({ ...PEER_CERTIFY_RATE_LIMIT, ...options.rateLimit });
    this.log = options.log ?? (() => undefined);
  }

  async handle(call: CertifyCall, callback: CertifyCallback): Promise<void> {
    const peer = call.getPeer();
    const requested = call.request.identity.slice(0, MAX_LOGGED_IDENTITY);
    // For redaction only: whatever the bytes are, any copy of them in a message is replaced.
    const tokenText = call.request.token.toString('utf8');
    try {
      const outcome = await this.certify(call.request, peer);
      if (outcome.ok) {
        const response = certifyResponseToWire(outcome.value);
        const { serial, notAfter } = outcome.value;
        this.log({ event: 'identity-certified', identity: requested, peer, serial, notAfter: new Date(notAfter).toISOString() });
        callback(null, response);
        return;
      }
      const refused = certifyRefusalToStatus(outcome.error, tokenText);
      const refusal = `${outcome.error.name}/${refusalCode(outcome.error)}`;
      this.log({ event: 'identity-refused', identity: requested, peer, status: status[refused.code], refusal, reason: refused.details });
      callback(refused);
    } catch (error) {
      // A bug or a broken authority: the caller learns only that it may retry; the log has the cause.
      const reason = redactToken(error instanceof Error ? error.message : String(error), tokenText);
      this.log({ event: 'identity-failed', identity: requested, peer, reason });
      callback({ code: status.INTERNAL, details: 'the control plane failed to certify this request; retry later' });
    }
  }

  private async certify(wire: identity.CertifyRequest, peer: string): Promise<Result<IssuedCertificate, CertifyWorkloadRefusal>> {
    const limited = this.rateLimit(peer);
    if (limited !== undefined) return err(limited);
    const request = certifyRequestFromWire(wire);
    if (!request.ok) return request;
    return this.certifier.certify(request.value);
  }

  // Keyed by the caller's address without its port ("127.0.0.1:50123" → "127.0.0.1", "[::1]:50123" → "[::1]").
  private rateLimit(peer: string): CertifyRefusal | undefined {
    const source = peer.replace(/:\d+$/, '');
    const decision = this.limiter.tryAcquire(source, this.options.clock.now());
    if (decision.granted) return undefined;
    const seconds = Math.ceil(decision.retryAfterMs / 1_000);
    return new CertifyRefusal('rate-limited', `too many certificate requests from ${source}; retry in ${seconds} s or later`);
  }
}

function refusalCode(refusal: CertifyWorkloadRefusal): string {
  return refusal instanceof InvalidIdentityError ? refusal.part : refusal.code;
}
