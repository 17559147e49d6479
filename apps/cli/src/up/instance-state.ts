// The state of a launched instance as the live table shows it, from the states of its app and its proxy.
import type { ChildState } from './supervised-child.js';

export interface InstanceProcesses {
  readonly app: { readonly state: ChildState; readonly restarts: number };
  /** Absent for an instance without a proxy. */
  readonly proxy?: { readonly state: ChildState; readonly restarts: number; readonly ready: boolean };
}

/**
 * "up" when the app runs and the proxy runs and is ready; else what is wrong, the app first: "restarting (app, 3
 * restarts)", "proxy not ready", "stopped". A restart count is shown while it is not 0, so a crash loop is visible.
 */
export function describeInstanceState(processes: InstanceProcesses): string {
  const { app, proxy } = processes;
  const restarts = app.restarts + (proxy?.restarts ?? 0);
  const count = restarts === 0 ? '' : `, ${restarts} restart${restarts === 1 ? '' : 's'}`;
  if (app.state === 'restarting') return `restarting (app${count})`;
  if (proxy?.state === 'restarting') return `restarting (proxy${count})`;
  if (app.state !== 'running' || (proxy !== undefined && proxy.state !== 'running')) return app.state === 'running' ? (proxy?.state ?? 'stopped') : app.state;
  if (proxy !== undefined && !proxy.ready) return `proxy not ready${count === '' ? '' : ` (${count.slice(2)})`}`;
  return count === '' ? 'up' : `up (${count.slice(2)})`;
}
