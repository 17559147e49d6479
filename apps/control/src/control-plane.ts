// Starts weft-control: the container for the chosen orchestrator and identity backend, the gRPC server and the admin server.
import { systemModule } from '@weft/adapter-system';
import { controlPlaneServicesModule, GrpcDestinationService, GrpcInboundPolicyService } from '@weft/adapter-grpc';
import type { IssuerEvent } from '@weft/adapter-x509';
import { type CertifyRateLimiterOptions, Clock, IdentityIssuer } from '@weft/core';
import type { Container, ContainerModule } from 'inversify';
import { type AdminServer, startAdminServer } from './admin-server.js';
import { type ControlArgs, resolveTrustDomain } from './control-args.js';
import { createControlContainer } from './control-container.js';
import { type ControlGrpcServer, startControlGrpcServer } from './control-grpc-server.js';
import type { ControlLog } from './control-log.js';
import { ControlMetrics } from './control-metrics.js';
import { grpcMetricsInterceptor } from './grpc-metrics-interceptor.js';
import { identityBackend } from './identity-backend.js';
import type { MeshFileWatchTimings } from './mesh-file-orchestrator.js';
import { prepareOrchestrator } from './orchestrator-modules.js';
import { OrchestratorReadiness } from './orchestrator-readiness.js';

export type { ControlLog } from './control-log.js';

export interface ControlPlaneOptions {
  /** Clock and randomness; systemModule() when absent. */
  readonly platformModules?: readonly ContainerModule[];
  /** Per-caller-address limit on Certify calls, checked before the token; PEER_CERTIFY_RATE_LIMIT when absent. */
  readonly rateLimit?: Partial<CertifyRateLimiterOptions>;
  /** Per-identity limit, charged once the token has proven the identity; DEFAULT_CERTIFY_RATE_LIMIT when absent. */
  readonly identityRateLimit?: Partial<CertifyRateLimiterOptions>;
  /** How often the issuer files are read for changes; 5 s when absent. */
  readonly issuerPollIntervalMs?: number;
  /** How the mesh file is watched (file orchestrator); the file adapter's defaults when absent. */
  readonly meshFileWatch?: MeshFileWatchTimings;
  /** Whether /metrics carries the Node process metrics; default true. */
  readonly processMetrics?: boolean;
  /** How long close() lets unary calls in flight finish before it drops connections; 5 s when absent. */
  readonly closeGraceMs?: number;
  readonly log?: ControlLog;
}

export interface RunningControlPlane {
  readonly container: Container;
  readonly grpcPort: number;
  readonly admin: AdminServer;
  /** The trust domain certified: --trust-domain, or the mesh file's. */
  readonly trustDomain: string;
  readonly metrics: ControlMetrics;
  /**
   * Marks the control plane not ready, ends every Destination and Policy stream with UNAVAILABLE (proxies keep their
   * state and reconnect), stops the gRPC server (unary calls in flight get the grace period), the admin server, the
   * issuer poller and the mesh file watch. Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/**
 * /ready answers 200 only once the gRPC server listens, the authority has an issuer valid now and the orchestrator's
 * source of truth (the mesh file) was loaded; it turns 503 again while the issuer is missing or expired, and on close.
 * A trust anchors file that cannot be read, or a mesh file with errors, fails the start naming the file (and, for the
 * mesh file, each error's line, column and field).
 */
export async function startControlPlane(args: ControlArgs, options: ControlPlaneOptions = {}): Promise<RunningControlPlane> {
  const log = options.log ?? (() => undefined);
  const metrics = new ControlMetrics(options.processMetrics === undefined ? {} : { processMetrics: options.processMetrics });
  const orchestrator = await prepareOrchestrator({
    args,
    metrics,
    log,
    ...(options.meshFileWatch !== undefined && { meshFileWatch: options.meshFileWatch }),
  });
  const trustDomain = resolveTrustDomain(args, orchestrator.trustSource);
  const backend = await identityBackend(
    { ...args, trustDomain },
    {
      onIssuerEvent: (event) => logIssuerEvent(log, event),
      ...(options.issuerPollIntervalMs !== undefined && { issuerPollIntervalMs: options.issuerPollIntervalMs }),
    },
  );
  const container = createControlContainer(
    [
      ...(options.platformModules ?? [systemModule()]),
      ...orchestrator.modules(backend.ports),
      ...backend.modules,
      controlPlaneServicesModule({
        log: ({ event, ...fields }) => log(event, fields),
        ...(orchestrator.authorityOptions !== undefined && { authorityOptions: orchestrator.authorityOptions }),
      }),
    ],
    { trustDomain, ...(options.identityRateLimit !== undefined && { identityRateLimit: options.identityRateLimit }) },
  );
  const stopBackground = async (): Promise<void> => {
    backend.close(container);
    // Runs the adapters' deactivation: the mesh file watch stops.
    await container.unbindAllAsync();
  };
  let admin: AdminServer | undefined;
  let grpc: ControlGrpcServer | undefined;
  let readiness: OrchestratorReadiness | undefined;
  try {
    // Resolving the orchestrator's readiness starts its source of truth (the file adapter reads and watches the file).
    readiness = container.isBound(OrchestratorReadiness) ? container.get<OrchestratorReadiness>(OrchestratorReadiness) : undefined;
    const services = [container.get(GrpcDestinationService), container.get(GrpcInboundPolicyService)];
    const issuer = container.get(IdentityIssuer);
    admin = await startAdminServer(args.adminAddr.ip, args.adminAddr.port, { metrics });
    grpc = await startControlGrpcServer({
      address: args.grpcAddr,
      certifier: issuer,
      clock: container.get<Clock>(Clock),
      ...(options.rateLimit !== undefined && { rateLimit: options.rateLimit }),
      ...(options.closeGraceMs !== undefined && { closeGraceMs: options.closeGraceMs }),
      services,
      interceptors: [grpcMetricsInterceptor(metrics)],
      log: (event) => {
        metrics.identityEvent(event);
        const { event: name, ...fields } = event;
        log(name, fields);
      },
    });
  } catch (error) {
    await admin?.close();
    await stopBackground();
    throw error;
  }
  const running = { admin, grpc };
  admin.addReadinessCheck(() => (running.grpc.listening ? undefined : 'the gRPC server is stopping'));
  admin.addReadinessCheck(() => (backend.issuerLoaded(container) ? undefined : 'no issuer valid now is loaded'));
  if (readiness !== undefined) admin.addReadinessCheck(() => readiness.notReadyReason());
  admin.setReady(true);
  log('started', {
    orchestrator: args.orchestrator,
    trustDomain,
    admin: `${admin.address.address}:${admin.address.port}`,
    grpcPort: grpc.port,
    ...orchestrator.description,
    ...backend.description,
  });
  let closing: Promise<void> | undefined;
  return {
    container,
    grpcPort: grpc.port,
    admin,
    trustDomain,
    metrics,
    close: () =>
      (closing ??= (async () => {
        running.admin.setReady(false);
        await running.grpc.close();
        await running.admin.close();
        await stopBackground();
      })()),
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
