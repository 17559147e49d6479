// Summarises V8 .cpuprofile files (node --cpu-prof): self time by function and by module, as Markdown tables.
import { err, ok, type Result } from '@weft/core';
import { renderMarkdownTable } from './markdown-table.js';
import { InvalidToolOutputError } from './tool-output-error.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

/** The parts of a .cpuprofile this summary reads. */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  /** Microseconds since the previous sample, one per sample. */
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  /** Function name and where it is, e.g. "writev (native)" or "record adapters/prometheus/dist/series-family.js:51". */
  readonly name: string;
  readonly module: string;
  readonly ms: number;
}

export interface CpuProfileSummary {
  readonly totalMs: number;
  /** Time the event loop waited for I/O or timers ("(idle)" samples). */
  readonly idleMs: number;
  /** Sorted by self time, largest first. */
  readonly functions: readonly SelfTime[];
  readonly modules: readonly { readonly module: string; readonly ms: number }[];
}

/** V8's pseudo-frames: not functions, but what the thread was doing. */
const PSEUDO_FRAMES = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** Checks the shape of a parsed .cpuprofile. */
export function readCpuProfile(data: unknown, source: string): Result<CpuProfile, InvalidToolOutputError> {
  const profile = data as Partial<CpuProfile> | null;
  if (profile === null || typeof profile !== 'object' || !Array.isArray(profile.nodes) || !Array.isArray(profile.samples) || !Array.isArray(profile.timeDeltas)) {
    return err(new InvalidToolOutputError(source, 'is not a V8 CPU profile (nodes, samples, timeDeltas); write one with node --cpu-prof'));
  }
  return ok(profile as CpuProfile);
}

/**
 * The module a frame belongs to: `node:*` built-ins as they are, an npm package by its name, a workspace file by its
 * path from the repository root, and frames without a script (syscalls such as writev, V8 builtins) as "(native)".
 */
export function moduleOf(url: string, functionName: string, repoRoot: string): string {
  if (PSEUDO_FRAMES.has(functionName) && url === '') return functionName;
  if (url === '') return '(native)';
  if (url.startsWith('node:')) return url;
  const path = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1] as string;
  const root = repoRoot.endsWith('/') ? repoRoot : `${repoRoot}/`;
  return path.startsWith(root) ? path.slice(root.length) : path;
}

/** Self time of every function and module over one or more profiles (several runs of the same process add up). */
export function summarizeCpuProfiles(profiles: readonly CpuProfile[], repoRoot: string): CpuProfileSummary {
  const functions = new Map<string, SelfTime>();
  const modules = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const profile of profiles) {
    const selfUs = new Map<number, number>();
    profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
    for (const node of profile.nodes) {
      const us = selfUs.get(node.id);
      if (us === undefined) continue;
      const { functionName, url, lineNumber } = node.callFrame;
      const module = moduleOf(url, functionName, repoRoot);
      const name = url === '' ? `${functionName || '(anonymous)'}${PSEUDO_FRAMES.has(functionName) ? '' : ' (native)'}` : `${functionName || '(anonymous)'} ${module}:${lineNumber + 1}`;
      totalUs += us;
      if (functionName === '(idle)') idleUs += us;
      const known = functions.get(name);
      functions.set(name, { name, module, ms: (known?.ms ?? 0) + us / 1_000 });
      modules.set(module, (modules.get(module) ?? 0) + us / 1_000);
    }
  }
  return {
    totalMs: totalUs / 1_000,
    idleMs: idleUs / 1_000,
    functions: [...functions.values()].sort((a, b) => b.ms - a.ms),
    modules: [...modules].map(([module, ms]) => ({ module, ms })).sort((a, b) => b.ms - a.ms),
  };
}

function share(ms: number, of: number): string {
  return of > 0 ? `${((100 * ms) / of).toFixed(1)} %` : '—';
}

/** Two Markdown tables, the top `top` functions and modules by self time, as shares of all time and of busy (non-idle) time. */
export function renderCpuProfileSummary(summary: CpuProfileSummary, top: number): string {
  const busyMs = summary.totalMs - summary.idleMs;
  const right = (title: string) => ({ title, align: 'right' as const });
  const columns = (first: string) => [{ title: first }, right('self ms'), right('% of all'), right('% of busy')];
  const cells = (name: string, ms: number) => [name, ms.toFixed(0), share(ms, summary.totalMs), name === '(idle)' ? '—' : share(ms, busyMs)];
  return [
    `Sampled ${(summary.totalMs / 1_000).toFixed(2)} s, of which idle (waiting in epoll) ${share(summary.idleMs, summary.totalMs)}.`,
    `Top ${top} functions by self time:\n\n${renderMarkdownTable(columns('function'), summary.functions.slice(0, top).map((f) => cells(f.name, f.ms)))}`,
    `By module:\n\n${renderMarkdownTable(columns('module'), summary.modules.slice(0, top).map((m) => cells(m.module, m.ms)))}`,
  ].join('\n\n');
}
