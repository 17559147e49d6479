// SidecarMetrics: the control_sidecar_* series of injection, what it changed and what failed, on the control plane's registry.
import { Counter, type Registry } from 'prom-client';

export type SidecarChange = 'created' | 'adopted' | 'removed';
/** Where an injection failed: weft-init exited non-zero (or did not run), the sidecar was not made, or not removed. */
export type SidecarFailureStage = 'init' | 'create' | 'remove' | 'engine';

export interface SidecarMetrics {
  changed(change: SidecarChange): void;
  failed(stage: SidecarFailureStage): void;
}

/** The counters, registered on `registry` (once; a second call reuses them). */
export function sidecarMetrics(registry: Registry): SidecarMetrics {
  const changes = counter(registry, 'control_sidecar_changes_total', 'Sidecar proxies the Docker injector created, adopted (found running after a restart) or removed.', 'change');
  const failures = counter(
    registry,
    'control_sidecar_failures_total',
    'Injection steps that failed and are retried with backoff: init (weft-init exited non-zero), create, remove, engine.',
    'stage',
  );
  return {
    changed: (change) => changes.inc({ change }),
    failed: (stage) => failures.inc({ stage }),
  };
}

function counter<L extends string>(registry: Registry, name: string, help: string, label: L): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter({ name, help, labelNames: [label], registers: [registry] });
}
