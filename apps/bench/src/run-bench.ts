// Runs every scenario against every contender, side by side and interleaved, then stops every process it started.
import { get } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchOptions, ScenarioId } from './bench-options.js';
import type { BenchResults, RunOutcome } from './bench-results.js';
import { commandContender, directContender, haproxyContender, httpProxyContender, nginxContender } from './builtin-contenders.js';
import type { Contender, RunningContender } from './contender.js';
import type { IdentityScenarioId } from './identity/identity-scenario-ids.js';
import { IdentityBench, identityScenariosSkipped } from './identity/identity-scenarios.js';
import { PropagationBench, propagationScenariosSkipped } from './control/propagation-bench.js';
import { freeLoopbackPort, LOOPBACK, waitForLoopbackPort } from './loopback-port.js';
import { ProcessSupervisor } from './process-supervisor.js';
import { BACKEND_BODY, nginxBackendConfig } from './proxy-configs.js';
import { type Scenario, type ScenarioContext, SCENARIOS } from './scenarios.js';
import { weftContender } from './weft-contender.js';
import { type WeftProxyBuild, weftProxyBuild } from './weft-proxy-build.js';

export interface BenchRun {
  readonly contenders: readonly Contender[];
  readonly results: BenchResults;
  /** How processes were pinned, in words. */
  readonly pinning: string;
  /** The command lines of the first run, in order. */
  readonly commands: readonly string[];
  /** The command lines of each identity scenario in the first run. */
  readonly identityCommands: Partial<Record<IdentityScenarioId, readonly string[]>>;
  /** The command lines endpoint-propagation started in the first run. */
  readonly propagationCommands: readonly string[];
  /** Each generated config file once, with a title. */
  readonly configs: readonly { readonly title: string; readonly text: string }[];
}

export interface BenchIo {
  /** Progress lines. */
  log(line: string): void;
}

/** The contenders the options name, in their order; a command named `weft` stands in for the built-in Weft. */
export function selectContenders(options: BenchOptions, helperDir: string, proxyBuild: WeftProxyBuild): Contender[] {
  const commands = options.commands.map(commandContender);
  const weft = weftContender({ repoRoot: resolve(helperDir, '../../..'), build: proxyBuild, nodeFlags: options.weftNodeFlags, nodePath: process.execPath });
  const builtIn = [directContender, haproxyContender, nginxContender, httpProxyContender(helperDir), weft];
  const all = [...builtIn.filter((contender) => !commands.some((command) => command.name === contender.name)), ...commands];
  return options.contenders.flatMap((name) => all.filter((contender) => contender.name === name));
}

interface Cpus {
  readonly load: number | undefined;
  readonly proxy: number | undefined;
}

function chooseCpus(options: BenchOptions): { cpus: Cpus; pinning: string } {
  const cores = availableParallelism();
  if (!options.pin) return { cpus: { load: undefined, proxy: undefined }, pinning: 'none (--no-pin)' };
  if (cores < 2) return { cpus: { load: undefined, proxy: undefined }, pinning: `none (only ${cores} core)` };
  return {
    cpus: { load: 0, proxy: 1 },
    pinning: 'taskset: load generators, the nginx backend and the TCP sink on CPU 0; the proxy under test on CPU 1',
  };
}

/** Runs the whole benchmark; every started process is stopped and the temporary directory removed, even on failure. */
export async function runBench(options: BenchOptions, helperDir: string, io: BenchIo): Promise<BenchRun> {
  const supervisor = new ProcessSupervisor();
  const root = mkdtempSync(join(tmpdir(), 'weft-bench-'));
  // If the process exits mid-run (Ctrl-C ends it through process.exit), nothing it started may survive it.
  const killOnExit = (): void => {
    supervisor.killAllNow();
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  const { cpus, pinning } = chooseCpus(options);
  const proxyBuild = weftProxyBuild(resolve(helperDir, '../../..'), options.weftBuild, join(root, 'weft-proxy-bundle'));
  const contenders = selectContenders(options, helperDir, proxyBuild);
  const configs = new Map<string, string>();
  const results: Partial<Record<ScenarioId, Record<string, RunOutcome[]>>> = {};
  let commands: string[] = [];
  let identity: IdentityBench | undefined;
  let propagation: PropagationBench | undefined;
  try {
    const backend = await startBackend(supervisor, root, cpus.load, configs);
    const sinkPort = await startTcpSink(supervisor, helperDir, cpus.load);
    const context: ScenarioContext = { options, supervisor, loadCpu: cpus.load, helperDir };
    const scenarios = SCENARIOS.filter((scenario) => options.scenarios.includes(scenario.id));
    const recordConfig = (title: string, text: string): void => {
      if (!configs.has(title)) configs.set(title, text);
    };
    identity = new IdentityBench({ options, supervisor, loadCpu: cpus.load, proxyCpu: cpus.proxy, helperDir, repoRoot: resolve(helperDir, '../../..'), proxyBuild, root, backendHttp1Port: backend.http1, sinkPort, latencyContext: context, recordConfig });
    const skipped = identityScenariosSkipped(options);
    if (skipped !== undefined) io.log(skipped);
    propagation = new PropagationBench({ options, supervisor, loadCpu: cpus.load, proxyCpu: cpus.proxy, helperDir, repoRoot: resolve(helperDir, '../../..'), root, takenPorts: [backend.http1, backend.h2c, sinkPort], recordConfig });
    const propagationSkipped = propagationScenariosSkipped(options);
    if (propagationSkipped !== undefined) io.log(propagationSkipped);
    for (let run = 0; run < options.runs; run += 1) {
      // Rotate the order each run, so no contender always runs first (or last) on a machine that drifts.
      const order = contenders.map((_, index) => contenders[(index + run) % contenders.length] as Contender);
      for (const scenario of scenarios) {
        for (const contender of order) {
          if (!contender.modes.includes(scenario.mode)) continue;
          const upstreamPort = scenario.mode === 'tcp' ? sinkPort : scenario.mode === 'h2c' ? backend.h2c : backend.http1;
          const outcome = await measure(scenario, contender, { root, cpus, supervisor, configs, upstreamPort, backendHttp1Port: backend.http1, context });
          ((results[scenario.id] ??= {})[contender.name] ??= []).push(outcome);
          io.log(`run ${run + 1}/${options.runs} ${scenario.id} ${contender.label}: ${describeOutcome(outcome)}`);
        }
      }
      // Weft's identity and mTLS scenarios: their own processes and rows (apps/bench/src/identity).
      await identity.runOnce(run, (id, row, outcome) => {
        ((results[id] ??= {})[row] ??= []).push(outcome);
        io.log(`run ${run + 1}/${options.runs} ${id} ${row}: ${describeOutcome(outcome)}`);
      });
      // The control plane's endpoint propagation to 100 subscribers (apps/bench/src/control).
      await propagation.runOnce(run, (id, row, outcome) => {
        ((results[id] ??= {})[row] ??= []).push(outcome);
        io.log(`run ${run + 1}/${options.runs} ${id} ${row}: ${describeOutcome(outcome)}`);
      });
      if (run === 0) commands = [...supervisor.commandLog];
    }
  } finally {
    await supervisor.stopAll();
    process.removeListener('exit', killOnExit);
    rmSync(root, { recursive: true, force: true });
  }
  return { contenders, results, pinning, commands, identityCommands: identity?.commands ?? {}, propagationCommands: propagation?.commands ?? [], configs: [...configs].map(([title, text]) => ({ title, text })) };
}

interface MeasureDeps {
  readonly root: string;
  readonly cpus: Cpus;
  readonly supervisor: ProcessSupervisor;
  readonly configs: Map<string, string>;
  readonly upstreamPort: number;
  readonly backendHttp1Port: number;
  readonly context: ScenarioContext;
}

/** Starts the contender fresh for one scenario run, measures, and stops it whatever happens. */
async function measure(scenario: Scenario, contender: Contender, deps: MeasureDeps): Promise<RunOutcome> {
  const workDir = mkdtempSync(join(deps.root, `${contender.name}-`));
  let running: RunningContender;
  try {
    running = await contender.start({
      mode: scenario.mode,
      listenPort: await freeLoopbackPort(),
      upstreamPort: deps.upstreamPort,
      backendHttp1Port: deps.backendHttp1Port,
      workDir,
      cpu: deps.cpus.proxy,
      supervisor: deps.supervisor,
      recordConfig: (title, text) => {
        if (!deps.configs.has(title)) deps.configs.set(title, text);
      },
    });
  } catch (error) {
    return { ok: false, error: `could not start: ${error instanceof Error ? error.message : String(error)}` };
  }
  try {
    return await scenario.run(deps.context, running);
  } finally {
    await running.stop();
  }
}

function describeOutcome(outcome: RunOutcome): string {
  if (!outcome.ok) return `FAILED ${outcome.error}`;
  const figures = Object.entries(outcome.metrics)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${Number(value).toFixed(name.endsWith('Ms') ? 3 : 1)}`);
  return [...figures, ...outcome.notes].join(' ');
}

async function startBackend(supervisor: ProcessSupervisor, root: string, cpu: number | undefined, configs: Map<string, string>): Promise<{ http1: number; h2c: number }> {
  const dir = join(root, 'backend');
  mkdirSync(dir);
  const ports = { http1: await freeLoopbackPort(), h2c: await freeLoopbackPort() };
  const text = nginxBackendConfig(dir, ports);
  writeFileSync(join(dir, 'nginx.conf'), text);
  configs.set('backend: nginx', text);
  const child = supervisor.start({ label: 'nginx backend', command: 'nginx', args: ['-e', 'stderr', '-p', dir, '-c', join(dir, 'nginx.conf')], cpu });
  await waitForLoopbackPort(ports.h2c, child);
  await waitForLoopbackPort(ports.http1, child);
  await checkBackendBody(ports.http1);
  return ports;
}

function checkBackendBody(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    get(`http://${LOOPBACK}:${port}/`, { agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => (body === BACKEND_BODY ? resolve() : reject(new Error(`the backend answered ${JSON.stringify(body)}`))));
    }).on('error', reject);
  });
}

async function startTcpSink(supervisor: ProcessSupervisor, helperDir: string, cpu: number | undefined): Promise<number> {
  const port = await freeLoopbackPort();
  const child = supervisor.start({ label: 'tcp sink', command: process.execPath, args: [join(helperDir, 'tcp-throughput-main.js'), 'sink', '--port', String(port)], cpu });
  await waitForLoopbackPort(port, child);
  return port;
}
