import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlChannel, GrpcDiscoverEndpoints } from '@weft/adapter-grpc';
import { type EndpointUpdate, parseAuthority, unwrap } from '@weft/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunningControlPlane } from './control-plane.js';
import { CONTROL_EXIT, runControl, type RunControlOptions } from './run-control.js';

const MINIMAL = readFileSync(new URL('../../../fixtures/meshes/minimal.yaml', import.meta.url), 'utf8');

/** A port free a moment ago: the flags take no port 0. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('runControl, as the weft-control process runs', () => {
  let dir = '';
  let meshFile = '';
  let signals: EventEmitter;
  let stdout: string[];
  let stderr: string[];
  let events: { event: string; fields: Record<string, unknown> }[];
  const cleanups: (() => void)[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-run-control-'));
    meshFile = join(dir, 'mesh.yaml');
    await writeFile(meshFile, MINIMAL);
    signals = new EventEmitter();
    stdout = [];
    stderr = [];
    events = [];
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  function options(extra: Partial<RunControlOptions> = {}): RunControlOptions {
    return {
      signals,
      log: (event, fields = {}) => void events.push({ event, fields }),
      stdout: (text) => void stdout.push(text),
      stderr: (text) => void stderr.push(text),
      processMetrics: false,
      ...extra,
    };
  }

  it('serves until SIGTERM, then ends the streams and stops within the bound, exiting 0', async () => {
    const [grpc, admin] = [await freePort(), await freePort()];
    const argv = ['--orchestrator', 'file', '--mesh-file', meshFile, '--grpc-addr', `127.0.0.1:${grpc}`, '--admin-addr', `127.0.0.1:${admin}`];
    const exit = runControl(argv, options());
    await vi.waitFor(() => expect(events.map((entry) => entry.event)).toContain('started'));

    const channel = new ControlChannel({ address: `127.0.0.1:${grpc}`, backoff: { initialMs: 20, maxMs: 200, jitter: 0.5 } });
    const endpoints = new GrpcDiscoverEndpoints(channel);
    cleanups.push(() => {
      endpoints.close();
      channel.close();
    });
    const updates: EndpointUpdate[] = [];
    endpoints.watch(unwrap(parseAuthority('web:8080')), (update) => updates.push(update));
    await vi.waitFor(() => expect(updates).toHaveLength(1));
    expect((await fetch(`http://127.0.0.1:${admin}/ready`)).status).toBe(200);

    const stoppingAt = Date.now();
    signals.emit('SIGTERM');
    expect(await exit).toBe(CONTROL_EXIT.stopped);
    expect(Date.now() - stoppingAt).toBeLessThan(2_000);
    expect(events.find((entry) => entry.event === 'stopping')?.fields).toMatchObject({ signal: 'SIGTERM' });
    expect(events.some((entry) => entry.event === 'destination-stream-ended' && entry.fields['reason'] === 'shutdown')).toBe(true);
    expect(events.at(-1)?.event).toBe('stopped');
    expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0);
    await expect(fetch(`http://127.0.0.1:${admin}/live`)).rejects.toThrow();
    // The client keeps what it had, to be served again by the next control plane.
    expect(updates).toHaveLength(1);
  });

  it('exits 2 on a mesh file with errors, printing each as file:line:column field', async () => {
    await writeFile(meshFile, MINIMAL.replace('ports: [8080]', 'ports: [80800]'));
    expect(await runControl(['--orchestrator', 'file', '--mesh-file', meshFile], options())).toBe(CONTROL_EXIT.startFailed);
    expect(stderr.join('')).toBe(
      `weft-control: mesh file ${meshFile} has an error; fix it and start again:\n` +
        `  ${meshFile}:6:13 services[0].ports[0]: is 80800; the largest allowed is 65535\n`,
    );
    expect(events.map((entry) => entry.event)).not.toContain('started');
  });

  it('exits 2 on a bad flag naming it, and 0 with the usage for --help', async () => {
    expect(await runControl(['--orchestrator', 'file'], options())).toBe(CONTROL_EXIT.startFailed);
    expect(stderr.join('')).toBe('weft-control: --orchestrator file needs --mesh-file <file>, the mesh.yaml to serve\n');
    expect(await runControl(['--help'], options())).toBe(CONTROL_EXIT.stopped);
    expect(stdout.join('')).toContain('--mesh-file <file>');
  });

  describe('when the stop does not finish', () => {
    const stuck = async (): Promise<RunningControlPlane> => ({ close: () => new Promise<void>(() => undefined) }) as unknown as RunningControlPlane;

    it('gives up after the stop timeout, exiting 1', async () => {
      const exit = runControl([], options({ start: stuck, stopTimeoutMs: 50 }));
      await vi.waitFor(() => expect(signals.listenerCount('SIGINT')).toBe(1));
      signals.emit('SIGINT');
      expect(await exit).toBe(CONTROL_EXIT.stopTimedOut);
      expect(events.at(-1)).toEqual({ event: 'stop-abandoned', fields: { reason: 'the stop took longer than 50 ms' } });
    });

    it('gives up at a second signal, exiting 1', async () => {
      const exit = runControl([], options({ start: stuck }));
      await vi.waitFor(() => expect(signals.listenerCount('SIGTERM')).toBe(1));
      signals.emit('SIGTERM');
      await vi.waitFor(() => expect(events.map((entry) => entry.event)).toContain('stopping'));
      signals.emit('SIGTERM');
      expect(await exit).toBe(CONTROL_EXIT.stopTimedOut);
      expect(events.at(-1)?.fields).toEqual({ reason: 'a second signal came before the stop was done' });
      expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0);
    });
  });
});
