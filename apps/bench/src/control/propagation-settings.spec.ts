import { FileMeshSource } from '@weft/adapter-file';
import { describe, expect, it } from 'vitest';
import { MESH_FILE_WATCH_DEFAULTS, propagationHelperTimeoutMs, propagationSettings } from './propagation-settings.js';

describe('propagationSettings', () => {
  it('keeps 100 subscribers and 1 s between changes; --quick makes fewer changes', () => {
    const full = propagationSettings({ quick: false });
    const quick = propagationSettings({ quick: true });
    expect(full).toMatchObject({ subscribers: 100, changes: 20, spacingMs: 1_000 });
    expect(quick).toMatchObject({ subscribers: 100, changes: 5, spacingMs: 1_000 });
    // The helper is killed only after every change has had its full time limit.
    const worst = (settings: typeof full): number =>
      settings.firstMessageTimeoutMs + (settings.warmupChanges + settings.changes) * (settings.spacingMs + settings.changeTimeoutMs) + settings.phaseSpreadMs;
    expect(propagationHelperTimeoutMs(full)).toBeGreaterThan(worst(full));
    expect(propagationHelperTimeoutMs(quick)).toBeLessThan(propagationHelperTimeoutMs(full));
  });
});

describe('MESH_FILE_WATCH_DEFAULTS', () => {
  it('are the timings of a FileMeshSource built without options, as weft-control builds it', () => {
    const source = new FileMeshSource({ path: '/nonexistent/mesh.yaml' });
    // Private fields, read only to catch the report drifting from the adapter's defaults.
    const timings = source as unknown as Record<keyof typeof MESH_FILE_WATCH_DEFAULTS, number>;
    expect({ debounceMs: timings.debounceMs, pollIntervalMs: timings.pollIntervalMs, settleMs: timings.settleMs }).toEqual(MESH_FILE_WATCH_DEFAULTS);
  });
});
