// ControlMetrics: weft-control's own Prometheus series (gRPC calls and streams, certificates, mesh file reloads) on a private registry.
import type { IdentityServiceEvent } from '@weft/adapter-grpc';
import { registerNodeProcessMetrics } from '@weft/adapter-prometheus';
import { Counter, Gauge, Registry } from 'prom-client';

/** What became of a new version of the mesh file: applied, or refused (bad content, or no file) with the last good one kept. */
export type MeshFileReloadResult = 'applied' | 'invalid' | 'missing';

export interface ControlMetricsOptions {
  /** Whether the registry also carries the Node process metrics (`process_*`, `nodejs_*`); default true. */
  readonly processMetrics?: boolean;
}

/** The streaming RPCs of the control plane, given a zero series at start so that dashboards see them before any stream. */
const STREAMING_RPCS = [
  { service: 'destination', rpc: 'Get' },
  { service: 'destination', rpc: 'GetProfile' },
  { service: 'policy', rpc: 'WatchPort' },
] as const;

/**
 * Label values stay bounded: `service` and `rpc` come from the methods the server registers, `code` from the gRPC
 * status names and the refusal codes of the core, `result` from MeshFileReloadResult.
 */
export class ControlMetrics {
  /** Never the global registry: several control planes may run in one process (tests, `weft up` in-process). */
  readonly registry = new Registry();
  readonly contentType: string = Registry.PROMETHEUS_CONTENT_TYPE;
  private readonly streams: Gauge<'service' | 'rpc'>;
  private readonly requests: Counter<'service' | 'rpc' | 'code'>;
  private readonly issued: Counter;
  private readonly refusals: Counter<'code'>;
  private readonly reloads: Counter<'result'>;
  private readonly meshFileValid: Gauge;

  constructor(options: ControlMetricsOptions = {}) {
    const registers = [this.registry];
    this.streams = new Gauge({
      name: 'control_grpc_streams',
      help: 'Server-streaming calls open now (Destination Get and GetProfile, Policy WatchPort), one per watching proxy and target.',
      labelNames: ['service', 'rpc'],
      registers,
    });
    for (const labels of STREAMING_RPCS) this.streams.set(labels, 0);
    this.requests = new Counter({
      name: 'control_grpc_requests_total',
      help: 'gRPC calls ended, by the status they ended with (a stream counts when it ends; CANCELLED when the client left).',
      labelNames: ['service', 'rpc', 'code'],
      registers,
    });
    this.issued = new Counter({ name: 'control_certificates_issued_total', help: 'Leaf certificates issued by Certify.', registers });
    this.refusals = new Counter({
      name: 'control_certify_refusals_total',
      help: 'Certify calls refused, by reason: rate-limited, token-expired, identity-not-proven, internal...',
      labelNames: ['code'],
      registers,
    });
    this.reloads = new Counter({
      name: 'control_mesh_file_reloads_total',
      help: 'New versions of the mesh file seen after start: applied, or refused (invalid, missing) keeping the last good one.',
      labelNames: ['result'],
      registers: [],
    });
    this.meshFileValid = new Gauge({
      name: 'control_mesh_file_valid',
      help: '1 while the mesh file on disk is the configuration served, 0 while it is invalid or missing (the last good one is served).',
      registers: [],
    });
    if (options.processMetrics ?? true) registerNodeProcessMetrics(this.registry);
  }

  /** Adds the mesh file series (only the file orchestrator has a file). */
  watchMeshFile(): void {
    if (this.registry.getSingleMetric('control_mesh_file_reloads_total') !== undefined) return;
    this.registry.registerMetric(this.reloads);
    this.registry.registerMetric(this.meshFileValid);
    for (const result of ['applied', 'invalid', 'missing'] as const) this.reloads.inc({ result }, 0);
  }

  streamOpened(service: string, rpc: string): void {
    this.streams.inc({ service, rpc });
  }

  streamClosed(service: string, rpc: string): void {
    this.streams.dec({ service, rpc });
  }

  /** A call ended with `code`, the gRPC status name ("OK", "UNAVAILABLE"...). */
  callEnded(service: string, rpc: string, code: string): void {
    this.requests.inc({ service, rpc, code });
  }

  /** Counts what the Identity service reports of each Certify call. */
  identityEvent(event: IdentityServiceEvent): void {
    if (event.event === 'identity-certified') this.issued.inc();
    else this.refusals.inc({ code: event.event === 'identity-failed' ? 'internal' : refusalCode(event.refusal) });
  }

  meshFileReloaded(result: MeshFileReloadResult): void {
    this.reloads.inc({ result });
    this.meshFileValid.set(result === 'applied' ? 1 : 0);
  }

  /** Whether the mesh file on disk is the configuration served (e.g. again, once an invalid edit is undone). */
  setMeshFileValid(valid: boolean): void {
    this.meshFileValid.set(valid ? 1 : 0);
  }

  /** The exposition text, as /metrics serves it. */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * "TokenRefusal/expired" → "token-expired", "CertifyRefusal/rate-limited" → "rate-limited",
 * "InvalidIdentityError/namespace" → "invalid-namespace": token refusals and identity parts share words with each other.
 */
function refusalCode(refusal: string): string {
  const [kind = '', code = 'unknown'] = refusal.split('/');
  if (kind === 'TokenRefusal') return `token-${code}`;
  if (kind === 'InvalidIdentityError') return `invalid-${code}`;
  return code;
}
