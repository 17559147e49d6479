// The environment of a launched app: the caller's, PORT, the file's env, and each upstream's address variable.
import type { UpInstance } from './mesh-plan.js';
import type { InstancePorts } from './port-assignment.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * `base` (weft up's own environment, so PATH and the like carry over), then PORT=<app port> unless the file sets
 * PORT, then the file's env, then `<upstream env>=127.0.0.1:<local port>` for each upstream.
 */
export function appEnv(base: Env, instance: UpInstance, ports: InstancePorts): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) if (value !== undefined) env[name] = value;
  env['PORT'] = String(instance.appPort);
  Object.assign(env, instance.launch.env);
  for (const upstream of instance.upstreams) {
    const port = ports.upstreams[upstream.name];
    if (port !== undefined) env[upstream.env] = `127.0.0.1:${port}`;
  }
  return env;
}
