import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ControlArgs } from '../control-args.js';
import type { RunningControlPlane } from '../control-plane.js';
import { CONTROL_EXIT, runControl, type RunControlOptions } from '../run-control.js';

function fakePlane(steps: string[]): RunningControlPlane {
  return { close: async () => void steps.push('control-closed') } as unknown as RunningControlPlane;
}

function options(steps: string[], signals: EventEmitter, extra: Partial<RunControlOptions> = {}): RunControlOptions {
  return {
    signals,
    log: () => undefined,
    stdout: () => undefined,
    stderr: (text) => void steps.push(`stderr: ${text.trim()}`),
    start: async () => {
      steps.push('control-started');
      return fakePlane(steps);
    },
    startInjection: async (args: ControlArgs) => {
      steps.push(`injection-started ${args.sidecarImage}`);
      return { close: async () => void steps.push('injection-closed') };
    },
    ...extra,
  };
}

describe('runControl with the docker orchestrator', () => {
  it('starts injection after the control plane, and stops it first', async () => {
    const steps: string[] = [];
    const signals = new EventEmitter();
    const run = runControl(['--orchestrator', 'docker', '--sidecar-image', 'weft/proxy:t'], options(steps, signals));
    await expect.poll(() => steps).toContain('injection-started weft/proxy:t');
    signals.emit('SIGTERM');
    expect(await run).toBe(CONTROL_EXIT.stopped);
    expect(steps).toEqual(['control-started', 'injection-started weft/proxy:t', 'injection-closed', 'control-closed']);
  });

  it('injects nothing with --docker-inject false, nor with another orchestrator', async () => {
    for (const argv of [['--orchestrator', 'docker', '--docker-inject', 'false'], ['--orchestrator', 'memory']]) {
      const steps: string[] = [];
      const signals = new EventEmitter();
      const run = runControl(argv, options(steps, signals));
      await expect.poll(() => steps).toContain('control-started');
      signals.emit('SIGTERM');
      expect(await run).toBe(CONTROL_EXIT.stopped);
      expect(steps).toEqual(['control-started', 'control-closed']);
    }
  });

  it('fails the start, closing the control plane, when injection cannot start', async () => {
    const steps: string[] = [];
    const code = await runControl(
      ['--orchestrator', 'docker'],
      options(steps, new EventEmitter(), {
        startInjection: async () => {
          throw new Error('sidecar injection (--docker-inject, on by default) needs --identity-dir');
        },
      }),
    );
    expect(code).toBe(CONTROL_EXIT.startFailed);
    expect(steps).toEqual(['control-started', 'stderr: weft-control: sidecar injection (--docker-inject, on by default) needs --identity-dir', 'control-closed']);
  });
});
