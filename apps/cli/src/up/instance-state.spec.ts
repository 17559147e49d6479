import { describe, expect, it } from 'vitest';
import { describeInstanceState } from './instance-state.js';

describe('describeInstanceState', () => {
  const running = { state: 'running' as const, restarts: 0 };

  it.each([
    [{ app: running, proxy: { ...running, ready: true } }, 'up'],
    [{ app: running }, 'up'],
    [{ app: running, proxy: { ...running, ready: false } }, 'proxy not ready'],
    [{ app: { state: 'restarting' as const, restarts: 2 }, proxy: { ...running, ready: true } }, 'restarting (app, 2 restarts)'],
    [{ app: running, proxy: { state: 'restarting' as const, restarts: 1, ready: false } }, 'restarting (proxy, 1 restart)'],
    [{ app: { state: 'running' as const, restarts: 3 }, proxy: { ...running, ready: true } }, 'up (3 restarts)'],
    [{ app: { state: 'stopping' as const, restarts: 0 }, proxy: { ...running, ready: true } }, 'stopping'],
    [{ app: running, proxy: { state: 'stopped' as const, restarts: 0, ready: false } }, 'stopped'],
  ])('%j reads %s', (processes, shown) => {
    expect(describeInstanceState(processes)).toBe(shown);
  });
});
