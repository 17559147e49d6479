// GrpcIdentityClient: the proxy's WorkloadCertifier, calling the control plane's Identity service over gRPC.
import { type ChannelCredentials, type ChannelOptions, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { identity } from '@weft/contracts';
import {
  type CertifyWorkloadRefusal,
  type CertifyWorkloadRequest,
  err,
  formatSocketAddress,
  type IssuedCertificate,
  type Result,
  type SocketAddress,
  type WorkloadCertifier,
} from '@weft/core';
import { certifyRequestToWire } from './certify-request-translator.js';
import { issuedCertificateFromWire } from './certify-response-translator.js';
import { certifyRefusalFromStatus } from './certify-status-translator.js';

/** Where the control plane serves the Identity service unless told otherwise. */
export const DEFAULT_IDENTITY_ADDRESS: SocketAddress = { ip: '127.0.0.1', port: 8086 };

/** How long one Certify call may take, connection included, before it counts as 'unreachable'. */
export const DEFAULT_CERTIFY_DEADLINE_MS = 10_000;

export interface GrpcIdentityClientOptions {
  /** The control plane's gRPC address. */
  readonly address: SocketAddress;
  /** Per call; DEFAULT_CERTIFY_DEADLINE_MS when absent. */
  readonly deadlineMs?: number;
  /**
   * How to reach the control plane. Absent: plaintext HTTP/2 (h2c), acceptable only while the control plane listens
   * on loopback, as it does by default. This is the extension point for TLS to the control plane: pass
   * `credentials.createSsl(trustAnchorsPem)` (the proxy's bootstrap trust bundle) once the control plane serves TLS.
   */
  readonly credentials?: ChannelCredentials;
  /** Extra grpc-js channel options, e.g. keepalive settings. */
  readonly channelOptions?: ChannelOptions;
}

export class GrpcIdentityClient implements WorkloadCertifier {
  private readonly client: identity.IdentityClient;
  private readonly target: string;
  private readonly deadlineMs: number;

  constructor(options: GrpcIdentityClientOptions) {
    this.target = formatSocketAddress(options.address);
    this.deadlineMs = options.deadlineMs ?? DEFAULT_CERTIFY_DEADLINE_MS;
    this.client = new identity.IdentityClient(this.target, options.credentials ?? credentials.createInsecure(), {
      ...options.channelOptions,
    });
  }

  /**
   * Sends the request; resolves with the certificate (PEM) or the refusal. Never rejects: a control plane that is
   * down, slow or answers garbage is a retryable CertifyRefusal ('unreachable' or 'issuer-unavailable').
   */
  certify(request: CertifyWorkloadRequest): Promise<Result<IssuedCertificate, CertifyWorkloadRefusal>> {
    const wire = certifyRequestToWire(request);
    if (!wire.ok) return Promise.resolve(wire);
    return new Promise((resolve) => {
      const deadline = new Date(Date.now() + this.deadlineMs);
      const answer = (error: ServiceError | null, response: identity.CertifyResponse): void => {
        if (error !== null) resolve(err(certifyRefusalFromStatus(error, request, this.target)));
        else resolve(issuedCertificateFromWire(response));
      };
      try {
        this.client.certify(wire.value, new Metadata(), { deadline }, answer);
      } catch (error) {
        // grpc-js throws at once on a closed channel.
        const details = error instanceof Error ? error.message : String(error);
        answer({ code: status.UNAVAILABLE, details, metadata: new Metadata() } as ServiceError, identity.CertifyResponse.create());
      }
    });
  }

  /** Closes the channel; calls in flight end as 'unreachable'. */
  close(): void {
    this.client.close();
  }
}
