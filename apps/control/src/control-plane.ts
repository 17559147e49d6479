// Starts weft-control: the container for the chosen orchestrator and identity backend, the gRPC server and the admin server.
import { systemModule } from '@weft/adapter-system';
import type { IssuerEvent } from '@weft/adapter-x509';
import { type CertifyRateLimiterOptions, Clock, IdentityIssuer } from '@weft/core';
import type { Container, ContainerModule } from 'inversify';
import { type AdminServer, startAdminServer } from './admin-server.js';
import type { ControlArgs } from './control-args.js';
import { createControlContainer } from './control-container.js';
import { type ControlGrpcServer, startControlGrpcServer } from './control-grpc-server.js';
import { identityBackend } from './identity-backend.js';
import { orchestratorModules } from './orchestrator-modules.js';

export type ControlLog = (event: string, fields?: Record<string, unknown>) => void;

export interface ControlPlaneOptions {
  /** Clock and randomness; systemModule() when absent. */
  readonly platformModules?: readonly ContainerModule[];
  /** Per-identity limit on Certify calls; DEFAULT_CERTIFY_RATE_LIMIT when absent. */
  readonly rateLimit?: Partial<CertifyRateLimiterOptions>;
  /** How often the issuer files are read for changes; 5 s when absent. */
  readonly issuerPollIntervalMs?: number;
  readonly log?: ControlLog;
}

export interface RunningControlPlane {
  readonly container: Container;
  readonly grpcPort: number;
  readonly admin: AdminServer;
  /** Marks the control plane not ready, then stops the gRPC server, the admin server and the issuer poller. */
  close(): Promise<void>;
}

/**
 * /ready answers 200 only once the gRPC server listens and the authority has an issuer valid now; it turns 503 again
 * while the issuer is missing or expired. A trust anchors file that cannot be read fails the start, naming the file.
 */
export async function startControlPlane(args: ControlArgs, options: ControlPlaneOptions = {}): Promise<RunningControlPlane> {
  const log = options.log ?? (() => undefined);
  const backend = await identityBackend(args, {
    onIssuerEvent: (event) => logIssuerEvent(log, event),
    ...(options.issuerPollIntervalMs !== undefined && { issuerPollIntervalMs: options.issuerPollIntervalMs }),
  });
  const container = createControlContainer(
    [...(options.platformModules ?? [systemModule()]), ...orchestratorModules(args.orchestrator, backend.ports), ...backend.modules],
    { trustDomain: args.trustDomain },
  );
  const stopBackground = (): void => backend.close(container);
  let admin: AdminServer | undefined;
  let grpc: ControlGrpcServer | undefined;
  try {
    const issuer = container.get(IdentityIssuer);
    admin = await startAdminServer(args.adminAddr.ip, args.adminAddr.port);
    grpc = await startControlGrpcServer({
      address: args.grpcAddr,
      certifier: issuer,
      clock: container.get<Clock>(Clock),
      ...(options.rateLimit !== undefined && { rateLimit: options.rateLimit }),
      log: ({ event, ...fields }) => log(event, fields),
    });
  } catch (error) {
    await admin?.close();
    stopBackground();
    throw error;
  }
  let serving = true;
  admin.addReadinessCheck(() => (serving ? undefined : 'the gRPC server is stopping'));
  admin.addReadinessCheck(() => (backend.issuerLoaded(container) ? undefined : 'no issuer valid now is loaded'));
  admin.setReady(true);
  log('started', {
    orchestrator: args.orchestrator,
    trustDomain: args.trustDomain,
    admin: `${admin.address.address}:${admin.address.port}`,
    grpcPort: grpc.port,
    ...backend.description,
  });
  const running = { admin, grpc };
  return {
    container,
    grpcPort: grpc.port,
    admin,
    close: async () => {
      serving = false;
      running.admin.setReady(false);
      await running.grpc.close();
      await running.admin.close();
      stopBackground();
    },
  };
}

function logIssuerEvent(log: ControlLog, event: IssuerEvent): void {
  if (event.type === 'loaded') {
    const { subject, serial, notAfter } = event.issuer;
    log('issuer-loaded', { subject, serial, notAfter: new Date(notAfter).toISOString(), file: event.certificateFile });
  } else {
    log('issuer-refused', { reason: event.error.message, keptIssuer: event.keptIssuer?.serial ?? null });
  }
}
