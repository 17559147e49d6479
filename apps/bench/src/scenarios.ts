// The measured scenarios: wrk max RPS, fixed-rate latency (own open-loop generator and hey), h2load over h2c, opaque TCP.
import { get } from 'node:http';
import { join } from 'node:path';
import type { BenchOptions, ScenarioId } from './bench-options.js';
import type { RunOutcome } from './bench-results.js';
import type { ProxyMode } from './contender-command.js';
import type { RunningContender } from './contender.js';
import { LOOPBACK } from './loopback-port.js';
import { parseOpenLoopReport } from './open-loop-generator.js';
import { heyFailures, heySuccesses, parseHeyOutput } from './parse-hey-output.js';
import { h2loadFailures, parseH2loadOutput } from './parse-h2load-output.js';
import { parseWrkOutput, wrkFailures } from './parse-wrk-output.js';
import type { ProcessSupervisor, ToolRun } from './process-supervisor.js';
import { clockTicks, sampleProcessTree, startSampler, summarizeSamples } from './process-stats.js';
import { BACKEND_BODY } from './proxy-configs.js';
import { idleSettleMs, wrkSeconds } from './scenario-timing.js';

export interface ScenarioContext {
  readonly options: BenchOptions;
  readonly supervisor: ProcessSupervisor;
  /** CPU for load tools, or undefined when not pinning. */
  readonly loadCpu: number | undefined;
  /** Directory of the built helper scripts (open-loop-main.js, tcp-throughput-main.js). */
  readonly helperDir: string;
}

export interface Scenario {
  readonly id: ScenarioId;
  readonly mode: ProxyMode;
  run(context: ScenarioContext, target: RunningContender): Promise<RunOutcome>;
}

/** hey clients in the fixed-rate runs; hey's -q is per client, so each gets rate / heyClients. */
const heyClients = 10;
const sampleEveryMs = 250;
/** A generator whose own send lag p99 exceeds this was starved of CPU; such a run is flagged, not dropped. */
const starvedGeneratorMs = 5;

function url(port: number): string {
  return `http://${LOOPBACK}:${port}/`;
}

function failure(error: unknown): RunOutcome {
  return { ok: false, error: error instanceof Error ? error.message : String(error) };
}

function toolFailed(run: ToolRun): string | undefined {
  if (run.timedOut) return `timed out: ${run.commandLine}`;
  if (run.code !== 0) return `exit ${run.code}: ${run.commandLine}: ${(run.stderr || run.stdout).trim().slice(-500)}`;
  return undefined;
}

function failureNote(failures: number): string[] {
  return failures > 0 ? [`${failures} requests failed (non-2xx or socket errors)`] : [];
}

/** One GET through the target must return the backend's 19-byte body, or the numbers would measure an error page. */
function preflight(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = get(url(port), { agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () =>
        response.statusCode === 200 && body === BACKEND_BODY ? resolve() : reject(new Error(`preflight GET got ${response.statusCode} ${JSON.stringify(body.slice(0, 80))}`)),
      );
    });
    request.setTimeout(5_000, () => request.destroy(new Error('preflight GET timed out')));
    request.on('error', reject);
  });
}

function toolTimeout(options: BenchOptions, warmupMs = options.warmupMs): number {
  return warmupMs + options.durationMs + 20_000;
}

export const h1MaxScenario: Scenario = {
  id: 'h1-max',
  mode: 'http1',
  async run(context, target) {
    const { options, supervisor, loadCpu } = context;
    try {
      await preflight(target.port);
      const wrk = (seconds: number, latency: boolean) =>
        supervisor.run(
          { label: 'wrk', command: 'wrk', args: ['-t1', `-c${options.wrkConnections}`, `-d${seconds}s`, ...(latency ? ['--latency'] : []), url(target.port)], cpu: loadCpu },
          toolTimeout(options),
        );
      const warmup = wrkSeconds(options.warmupMs, false);
      if (warmup > 0) await wrk(warmup, false);
      const sampler = target.pid === undefined ? undefined : startSampler(target.pid, sampleEveryMs);
      const run = await wrk(wrkSeconds(options.durationMs, true), true);
      const load = summarizeSamples(sampler?.stop() ?? [], clockTicks());
      const problem = toolFailed(run);
      if (problem !== undefined) return failure(problem);
      const parsed = parseWrkOutput(run.stdout);
      if (!parsed.ok) return failure(parsed.error.reason);
      const failures = wrkFailures(parsed.value);
      return {
        ok: true,
        metrics: { rps: parsed.value.requestsPerSecond, p99Ms: parsed.value.latencyPercentilesMs['99'], failures, rssMb: load.maxRssMb, cpuCores: load.cpuCores },
        notes: failureNote(failures),
      };
    } catch (error) {
      return failure(error);
    }
  },
};

export const h1LatencyScenario: Scenario = {
  id: 'h1-latency',
  mode: 'http1',
  async run(context, target) {
    const { options, supervisor, loadCpu, helperDir } = context;
    try {
      await new Promise((resolve) => setTimeout(resolve, idleSettleMs(options)));
      const idle = target.pid === undefined ? undefined : sampleProcessTree(target.pid);
      await preflight(target.port);
      const sampler = target.pid === undefined ? undefined : startSampler(target.pid, sampleEveryMs, options.latencyWarmupMs);
      const run = await supervisor.run(
        {
          label: 'open-loop',
          command: process.execPath,
          args: [
            join(helperDir, 'open-loop-main.js'),
            ...['--url', url(target.port), '--rate', String(options.rate), '--duration-ms', String(options.durationMs)],
            ...['--warmup-ms', String(options.latencyWarmupMs), '--connections', String(options.latencyConnections)],
          ],
          cpu: loadCpu,
        },
        toolTimeout(options, options.latencyWarmupMs),
      );
      const load = summarizeSamples(sampler?.stop() ?? [], clockTicks());
      const problem = toolFailed(run);
      if (problem !== undefined) return failure(problem);
      const parsed = parseOpenLoopReport(run.stdout);
      if (!parsed.ok) return failure(parsed.error.reason);
      const { report, corrected, service, sendLag } = parsed.value;
      const ms = (us: number): number => us / 1_000;
      const shortfall = report.achievedRps < options.rate * 0.95 ? [`reached ${report.achievedRps.toFixed(0)} of ${options.rate} requests/s`] : [];
      const lagP99Ms = ms(sendLag.percentileUs(99));
      const starved = lagP99Ms > starvedGeneratorMs ? [`the generator itself sent late (send lag p99 ${lagP99Ms.toFixed(1)} ms): CPU 0 was busy with other work, so this run's tail is mostly noise`] : [];
      return {
        ok: true,
        metrics: {
          p50Ms: ms(corrected.percentileUs(50)),
          p90Ms: ms(corrected.percentileUs(90)),
          p99Ms: ms(corrected.percentileUs(99)),
          p999Ms: ms(corrected.percentileUs(99.9)),
          maxMs: ms(corrected.maxUs),
          serviceP50Ms: ms(service.percentileUs(50)),
          serviceP99Ms: ms(service.percentileUs(99)),
          sendLagP50Ms: ms(sendLag.percentileUs(50)),
          sendLagP99Ms: lagP99Ms,
          achievedRps: report.achievedRps,
          failures: report.failures,
          rssIdleMb: idle === undefined ? undefined : idle.rssKb / 1024,
          rssLoadMb: load.maxRssMb,
          anonIdleMb: idle === undefined ? undefined : idle.anonKb / 1024,
          anonLoadMb: load.maxAnonMb,
          cpuCores: load.cpuCores,
        },
        notes: [...failureNote(report.failures), ...shortfall, ...starved],
        histogram: report.corrected,
      };
    } catch (error) {
      return failure(error);
    }
  },
};

export const h1HeyScenario: Scenario = {
  id: 'h1-hey',
  mode: 'http1',
  async run(context, target) {
    const { options, supervisor, loadCpu } = context;
    const perClient = Math.max(1, Math.round(options.rate / heyClients));
    const hey = (ms: number) =>
      supervisor.run(
        { label: 'hey', command: 'hey', args: ['-z', `${ms}ms`, '-q', String(perClient), '-c', String(heyClients), url(target.port)], cpu: loadCpu },
        toolTimeout(options),
      );
    try {
      await preflight(target.port);
      if (options.warmupMs > 0) await hey(options.warmupMs);
      const run = await hey(options.durationMs);
      const problem = toolFailed(run);
      if (problem !== undefined) return failure(problem);
      const parsed = parseHeyOutput(run.stdout);
      if (!parsed.ok) return failure(parsed.error.reason);
      const result = parsed.value;
      const failures = heyFailures(result);
      return {
        ok: true,
        metrics: {
          rps: heySuccesses(result) / result.totalSeconds,
          p50Ms: result.latencyPercentilesMs['50'],
          p90Ms: result.latencyPercentilesMs['90'],
          p99Ms: result.latencyPercentilesMs['99'],
          maxMs: result.slowestMs,
          failures,
        },
        notes: failureNote(failures),
      };
    } catch (error) {
      return failure(error);
    }
  },
};

export const h2cMaxScenario: Scenario = {
  id: 'h2c-max',
  mode: 'h2c',
  async run(context, target) {
    const { options, supervisor, loadCpu } = context;
    const warmup = options.warmupMs > 0 ? ['--warm-up-time', `${options.warmupMs}ms`] : [];
    const run = await supervisor.run(
      {
        label: 'h2load',
        command: 'h2load',
        args: ['-t1', `-c${options.h2Clients}`, `-m${options.h2Streams}`, '-D', `${options.durationMs}ms`, ...warmup, url(target.port)],
        cpu: loadCpu,
      },
      toolTimeout(options),
    );
    const problem = toolFailed(run);
    if (problem !== undefined) return failure(problem);
    const parsed = parseH2loadOutput(run.stdout);
    if (!parsed.ok) return failure(parsed.error.reason);
    const result = parsed.value;
    if (result.protocol !== 'h2c') return failure(`h2load negotiated ${result.protocol ?? 'nothing'}, not h2c`);
    const failures = h2loadFailures(result);
    if (result.succeeded === 0) return failure('no request succeeded');
    return {
      ok: true,
      metrics: { rps: result.requestsPerSecond, meanMs: result.requestTimeMs.mean, maxMs: result.requestTimeMs.max, failures },
      notes: failureNote(failures),
    };
  },
};

export const tcpThroughputScenario: Scenario = {
  id: 'tcp-throughput',
  mode: 'tcp',
  async run(context, target) {
    const { options, supervisor, loadCpu, helperDir } = context;
    const bytes = options.tcpMegabytes * 1024 * 1024;
    const push = (count: number) =>
      supervisor.run(
        {
          label: 'tcp-source',
          command: process.execPath,
          args: [join(helperDir, 'tcp-throughput-main.js'), 'source', '--port', String(target.port), '--bytes', String(count), '--timeout-ms', '120000'],
          cpu: loadCpu,
        },
        130_000,
      );
    await push(Math.min(bytes, 16 * 1024 * 1024));
    const run = await push(bytes);
    const problem = toolFailed(run);
    if (problem !== undefined) return failure(problem);
    try {
      const result = JSON.parse(run.stdout) as { gigabitsPerSecond?: unknown; seconds?: unknown };
      if (typeof result.gigabitsPerSecond !== 'number' || typeof result.seconds !== 'number') return failure(`unexpected tcp-source output ${run.stdout.slice(0, 200)}`);
      return { ok: true, metrics: { gbps: result.gigabitsPerSecond, seconds: result.seconds }, notes: [] };
    } catch (error) {
      return failure(error);
    }
  },
};

export const SCENARIOS: readonly Scenario[] = [h1MaxScenario, h1LatencyScenario, h1HeyScenario, h2cMaxScenario, tcpThroughputScenario];
