// The reference contenders: direct, HAProxy, nginx and http-proxy, plus any proxy given as a command (Weft is in weft-contender.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ContenderCommandSpec, expandContenderCommand } from './contender-command.js';
import type { Contender, ContenderStartContext, RunningContender } from './contender.js';
import { LOOPBACK, waitForLoopbackPort } from './loopback-port.js';
import type { ChildSpec } from './process-supervisor.js';
import { haproxyConfig, nginxProxyConfig } from './proxy-configs.js';

/** Starts a child, waits for its port, and stops it again if it never listens. */
export async function startListening(context: ContenderStartContext, spec: ChildSpec): Promise<RunningContender> {
  const child = context.supervisor.start({ ...spec, cpu: context.cpu });
  try {
    await waitForLoopbackPort(context.listenPort, child);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { port: context.listenPort, pid: child.pid, stop: () => child.stop() };
}

export const directContender: Contender = {
  name: 'direct',
  label: 'direct',
  modes: ['http1', 'h2c', 'tcp'],
  setup: 'no proxy: the load tool connects to the backend (or the TCP sink) itself',
  start: (context) => Promise.resolve({ port: context.upstreamPort, pid: undefined, stop: () => Promise.resolve() }),
};

export const haproxyContender: Contender = {
  name: 'haproxy',
  label: 'HAProxy',
  modes: ['http1', 'h2c', 'tcp'],
  setup: '`nbthread 1`; http mode with `option http-keep-alive` and `http-reuse always`; h2c mode is `proto h2` on both sides; tcp mode',
  start: (context) => {
    const text = haproxyConfig(context.listenPort, context.mode, context.upstreamPort);
    const file = join(context.workDir, 'haproxy.cfg');
    writeFileSync(file, text);
    context.recordConfig(`HAProxy (${context.mode})`, text);
    return startListening(context, { label: `haproxy (${context.mode})`, command: 'haproxy', args: ['-db', '-f', file] });
  },
};

export const nginxContender: Contender = {
  name: 'nginx',
  label: 'nginx',
  modes: ['http1', 'h2c'],
  setup: '`worker_processes 1`, upstream `keepalive 128`; h2c mode takes h2c from clients and speaks HTTP/1.1 upstream (nginx cannot proxy h2)',
  start: (context) => {
    if (context.mode === 'tcp') return Promise.reject(new Error('nginx contender has no tcp mode (needs the stream module)'));
    const text = nginxProxyConfig(context.workDir, context.listenPort, context.mode, context.backendHttp1Port);
    const file = join(context.workDir, 'nginx.conf');
    writeFileSync(file, text);
    context.recordConfig(`nginx (${context.mode})`, text);
    return startListening(context, { label: `nginx (${context.mode})`, command: 'nginx', args: ['-e', 'stderr', '-p', context.workDir, '-c', file] });
  },
};

/** http-proxy runs in its own Node process from the harness's build output (dist/http-proxy-main.js). */
export function httpProxyContender(helperDir: string): Contender {
  return {
    name: 'http-proxy',
    label: 'http-proxy',
    modes: ['http1'],
    setup: 'npm `http-proxy` 1.18 in a Node `http` server with a keep-alive `http.Agent` (maxSockets 128), one process',
    start: (context) =>
      startListening(context, {
        label: 'http-proxy',
        command: process.execPath,
        args: [join(helperDir, 'http-proxy-main.js'), '--port', String(context.listenPort), '--upstream-port', String(context.upstreamPort)],
      }),
  };
}

/** A proxy started by a shell command with placeholders; one named `weft` stands in for the built-in Weft (another build, say). */
export function commandContender(spec: ContenderCommandSpec): Contender {
  return {
    name: spec.name,
    label: spec.name === 'weft' ? 'Weft' : spec.name,
    modes: spec.modes,
    setup: `\`${spec.command}\``,
    start: (context) => {
      const command = expandContenderCommand(spec.command, {
        port: String(context.listenPort),
        upstream: `${LOOPBACK}:${context.upstreamPort}`,
        upstream_host: LOOPBACK,
        upstream_port: String(context.upstreamPort),
        mode: context.mode,
        dir: context.workDir,
      });
      return startListening(context, { label: `${spec.name} (${context.mode})`, command: 'sh', args: ['-c', `exec ${command}`] });
    },
  };
}
