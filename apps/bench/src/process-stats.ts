// Memory (VmRSS) and CPU time of a process and its children, read from /proc, and sampled while load runs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** VmRSS in kB from the text of /proc/<pid>/status; undefined if the line is missing (a zombie). */
export function parseVmRssKb(status: string): number | undefined {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) : undefined;
}

/**
 * RssAnon in kB: the private, anonymous part of RSS (heap, stacks, malloc), without the file-backed pages of the
 * executable and libraries that every process running the same binary shares.
 */
export function parseRssAnonKb(status: string): number | undefined {
  const match = /^RssAnon:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) : undefined;
}

/** utime + stime in clock ticks from the text of /proc/<pid>/stat (fields 14 and 15, counted after the command name). */
export function parseCpuTicks(stat: string): number | undefined {
  const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [utime, stime] = [Number(afterName[11]), Number(afterName[12])];
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The pid and, recursively, the pids of its children (nginx's master and worker). */
export function processTree(pid: number): number[] {
  const children = (readProc(`/proc/${pid}/task/${pid}/children`) ?? '').split(' ').filter((id) => id.trim() !== '');
  return [pid, ...children.flatMap((child) => processTree(Number(child)))];
}

export interface ProcessSample {
  readonly atMs: number;
  readonly rssKb: number;
  /** RssAnon summed over the tree; 0 where the kernel does not report it. */
  readonly anonKb: number;
  readonly cpuTicks: number;
}

/** RSS and CPU ticks summed over the process tree; undefined once the process is gone. */
export function sampleProcessTree(pid: number): ProcessSample | undefined {
  let rssKb = 0;
  let anonKb = 0;
  let cpuTicks = 0;
  for (const id of processTree(pid)) {
    const status = readProc(`/proc/${id}/status`) ?? '';
    const rss = parseVmRssKb(status);
    const ticks = parseCpuTicks(readProc(`/proc/${id}/stat`) ?? '');
    if (rss === undefined || ticks === undefined) {
      if (id === pid) return undefined;
      continue;
    }
    rssKb += rss;
    anonKb += parseRssAnonKb(status) ?? 0;
    cpuTicks += ticks;
  }
  return { atMs: performance.now(), rssKb, anonKb, cpuTicks };
}

let clockTicksPerSecond: number | undefined;

/** CLK_TCK, the unit of /proc/<pid>/stat times (100 on Linux unless configured otherwise). */
export function clockTicks(): number {
  if (clockTicksPerSecond === undefined) {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    clockTicksPerSecond = Number.isFinite(value) && value > 0 ? value : 100;
  }
  return clockTicksPerSecond;
}

export interface LoadProfile {
  readonly maxRssMb: number | undefined;
  /** Peak RssAnon. */
  readonly maxAnonMb: number | undefined;
  /** CPU cores used on average between the first and last sample. */
  readonly cpuCores: number | undefined;
}

/** Peak RSS and mean CPU use over samples taken while load ran. */
export function summarizeSamples(samples: readonly ProcessSample[], ticksPerSecond: number): LoadProfile {
  if (samples.length === 0) return { maxRssMb: undefined, maxAnonMb: undefined, cpuCores: undefined };
  const maxRssMb = Math.max(...samples.map((sample) => sample.rssKb)) / 1024;
  const maxAnonMb = Math.max(...samples.map((sample) => sample.anonKb)) / 1024;
  const first = samples[0] as ProcessSample;
  const last = samples[samples.length - 1] as ProcessSample;
  const seconds = (last.atMs - first.atMs) / 1_000;
  const cpuCores = seconds > 0 ? (last.cpuTicks - first.cpuTicks) / ticksPerSecond / seconds : undefined;
  return { maxRssMb, maxAnonMb, cpuCores };
}

/** Samples a process tree every `intervalMs` from `startAfterMs` until stopped; bounded by `maxSamples`. */
export function startSampler(pid: number, intervalMs: number, startAfterMs = 0, maxSamples = 10_000): { stop(): ProcessSample[] } {
  const samples: ProcessSample[] = [];
  const take = (): void => {
    const sample = sampleProcessTree(pid);
    if (sample && samples.length < maxSamples) samples.push(sample);
  };
  let interval: NodeJS.Timeout | undefined;
  const delay = setTimeout(() => {
    take();
    interval = setInterval(take, intervalMs);
  }, startAfterMs);
  return {
    stop: () => {
      clearTimeout(delay);
      if (interval !== undefined) clearInterval(interval);
      return samples;
    },
  };
}
