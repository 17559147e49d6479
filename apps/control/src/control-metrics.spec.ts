import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ControlMetrics } from './control-metrics.js';
import { grpcMethodLabels } from './grpc-metrics-interceptor.js';

/** Runs the real `promtool check metrics` on `text`: exit 0 and no line of output is clean. */
function promtool(text: string): { installed: boolean; exitCode: number; problems: string[] } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return { installed: false, exitCode: -1, problems: [] };
  if (run.error) throw run.error;
  return { installed: true, exitCode: run.status ?? -1, problems: `${run.stdout}${run.stderr}`.split('\n').filter((line) => line.trim() !== '') };
}

function recordEverything(metrics: ControlMetrics): void {
  metrics.watchMeshFile();
  metrics.streamOpened('destination', 'Get');
  metrics.streamOpened('destination', 'Get');
  metrics.streamClosed('destination', 'Get');
  metrics.callEnded('destination', 'Get', 'CANCELLED');
  metrics.callEnded('identity', 'Certify', 'OK');
  metrics.identityEvent({ event: 'identity-certified', identity: 'web', peer: 'p', serial: '01', notAfter: '2026-01-01T00:00:00Z' });
  const refused = { event: 'identity-refused', identity: 'web', peer: 'p', status: 'UNAUTHENTICATED', reason: 'r' } as const;
  metrics.identityEvent({ ...refused, refusal: 'TokenRefusal/expired' });
  metrics.identityEvent({ ...refused, refusal: 'CertifyRefusal/rate-limited' });
  metrics.identityEvent({ ...refused, refusal: 'InvalidIdentityError/trust-domain' });
  metrics.identityEvent({ event: 'identity-failed', identity: 'web', peer: 'p', reason: 'boom' });
  metrics.meshFileReloaded('applied');
  metrics.meshFileReloaded('invalid');
}

describe('ControlMetrics', () => {
  it('passes promtool check metrics, process metrics included', async (context) => {
    const metrics = new ControlMetrics();
    recordEverything(metrics);
    const result = promtool(await metrics.metricsText());
    if (!result.installed) {
      const message = 'promtool is not installed: run `bash scripts/setup-system.sh` (Debian package prometheus)';
      if (process.env['CI'] === 'true') expect.fail(message);
      return context.skip(message);
    }
    expect(result.problems).toEqual([]);
    expect(result.exitCode).toBe(0);
  });

  it('counts streams, calls, certificates, refusals by reason and mesh file reloads', async () => {
    const metrics = new ControlMetrics({ processMetrics: false });
    recordEverything(metrics);
    const lines = (await metrics.metricsText()).split('\n').filter((line) => !line.startsWith('#') && line !== '');
    expect(lines).toEqual([
      'control_grpc_streams{service="destination",rpc="Get"} 1',
      'control_grpc_streams{service="destination",rpc="GetProfile"} 0',
      'control_grpc_streams{service="policy",rpc="WatchPort"} 0',
      'control_grpc_requests_total{service="destination",rpc="Get",code="CANCELLED"} 1',
      'control_grpc_requests_total{service="identity",rpc="Certify",code="OK"} 1',
      'control_certificates_issued_total 1',
      'control_certify_refusals_total{code="token-expired"} 1',
      'control_certify_refusals_total{code="rate-limited"} 1',
      'control_certify_refusals_total{code="invalid-trust-domain"} 1',
      'control_certify_refusals_total{code="internal"} 1',
      'control_mesh_file_reloads_total{result="applied"} 1',
      'control_mesh_file_reloads_total{result="invalid"} 1',
      'control_mesh_file_reloads_total{result="missing"} 0',
      'control_mesh_file_valid 0',
    ]);
  });

  it('has no mesh file series unless a mesh file is watched', async () => {
    const text = await new ControlMetrics({ processMetrics: false }).metricsText();
    expect(text).not.toContain('control_mesh_file');
    expect(text).toContain('control_certificates_issued_total 0');
  });
});

describe('grpcMethodLabels', () => {
  it.each([
    ['/weft.destination.v1.Destination/GetProfile', { service: 'destination', rpc: 'GetProfile' }],
    ['/weft.policy.v1.InboundServerPolicies/WatchPort', { service: 'policy', rpc: 'WatchPort' }],
    ['/weft.identity.v1.Identity/Certify', { service: 'identity', rpc: 'Certify' }],
    ['/grpc.health.v1.Health/Check', { service: 'grpc.health.v1.Health', rpc: 'Check' }],
  ])('labels %s', (path, labels) => {
    expect(grpcMethodLabels(path)).toEqual(labels);
  });
});
