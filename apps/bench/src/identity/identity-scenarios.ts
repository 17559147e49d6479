// The identity scenarios: certificate issuance, mTLS handshakes on a proxy's inbound port, and two-hop mTLS latency and TCP throughput against direct.
import { identityName, type WorkloadIdentity } from '@weft/core';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchOptions } from '../bench-options.js';
import type { RunOutcome } from '../bench-results.js';
import type { RunningContender } from '../contender.js';
import type { ProcessSupervisor, ToolRun } from '../process-supervisor.js';
import { clockTicks, sampleProcessTree, startSampler, summarizeSamples } from '../process-stats.js';
import { h1LatencyScenario, type ScenarioContext, tcpThroughputScenario } from '../scenarios.js';
import { benchMeshFile } from './bench-mesh-file.js';
import { parseIssuanceReport } from './cert-issuance.js';
import { type RunningControlPlaneProcess, startControlPlaneProcess } from './control-plane-process.js';
import { freeLoopbackPorts } from './free-loopback-ports.js';
import { IDENTITY_SAMPLE_EVERY_MS, type IdentityBenchSettings, identityBenchSettings } from './identity-bench-settings.js';
import { IDENTITY_ROWS, IDENTITY_SCENARIO_IDS, type IdentityScenarioId, identityScenarioRows } from './identity-scenario-ids.js';
import { type IdentityProxyLaunch, type RunningIdentityProxy, startIdentityProxy } from './identity-proxy.js';
import { type RunningHaproxyTwoHop, startHaproxyTwoHop } from './haproxy-two-hop.js';
import { fetchProxyMetrics, meshedInboundConnections } from './meshed-connections.js';
import { benchWorkload, createMeshIdentityMaterial, type MeshIdentityMaterial } from './mesh-identity-material.js';
import { parseHandshakeReport } from './mtls-handshakes.js';
import type { WeftProxyBuild } from '../weft-proxy-build.js';

/** The server side's workload (the proxy in front of the backend or the sink) and the client side's. */
export const SERVER_WORKLOAD = benchWorkload('bench');
export const CLIENT_WORKLOAD = benchWorkload('bench-client');
/** The server proxy requires mTLS: only meshed clients get in, and authorization runs on every connection. */
const SERVER_INBOUND_POLICY = 'all-authenticated';

export interface IdentityBenchDeps {
  readonly options: BenchOptions;
  readonly supervisor: ProcessSupervisor;
  readonly loadCpu: number | undefined;
  readonly proxyCpu: number | undefined;
  /** apps/bench/dist: the helpers are in its identity/ folder. */
  readonly helperDir: string;
  readonly repoRoot: string;
  /** The proxy build the harness runs (bundle or dist). */
  readonly proxyBuild: WeftProxyBuild;
  /** The run's temporary folder (removed by the harness). */
  readonly root: string;
  readonly backendHttp1Port: number;
  readonly sinkPort: number;
  /** The context the HTTP scenarios get, for the open-loop latency runs. */
  readonly latencyContext: ScenarioContext;
  recordConfig(title: string, text: string): void;
}

/** A scenario's outcome per row, e.g. { 'x509-ca': ..., 'control-grpc': ... }. */
export type IdentityOutcomes = Readonly<Record<string, RunOutcome>>;

interface RunContext {
  readonly deps: IdentityBenchDeps;
  readonly settings: IdentityBenchSettings;
  readonly material: MeshIdentityMaterial;
  /** A fresh folder for this scenario run. */
  readonly workDir: string;
  /** 0-based; rotates the order of rows so none always goes first. */
  readonly run: number;
  /** Ports this scenario run already uses or hands out, so no two of its processes get the same one. */
  readonly takenPorts: Set<number>;
}

/** Above this many cores the two proxies sharing the proxy core queue for it, and the latency says so. */
const SHARED_CORE_BUSY = 0.8;

function failure(error: unknown): RunOutcome {
  return { ok: false, error: error instanceof Error ? error.message : String(error) };
}

function toolFailed(run: ToolRun): string | undefined {
  if (run.timedOut) return `timed out: ${run.commandLine}`;
  if (run.code !== 0) return `exit ${run.code}: ${run.commandLine}: ${(run.stderr || run.stdout).trim().slice(-500)}`;
  return undefined;
}

/** CPU seconds a process tree has used so far, or undefined once it is gone. */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  const sample = pid === undefined ? undefined : sampleProcessTree(pid);
  return sample === undefined ? undefined : sample.cpuTicks / clockTicks();
}

/** `rows` rotated by `run`, so each gets to go first in turn. */
function rotate<T>(rows: readonly T[], run: number): T[] {
  return rows.map((_, index) => rows[(index + run) % rows.length] as T);
}

/** A helper's time limit: its measured time, warm-up and set-up (key generation), plus slack. */
function helperTimeoutMs(settings: IdentityBenchSettings): number {
  return settings.durationMs + 120_000;
}

async function withControlPlane<T>(context: RunContext, cpu: number | undefined, meshFile: string | undefined, use: (control: RunningControlPlaneProcess) => Promise<T>): Promise<T> {
  const { deps } = context;
  const [grpcPort, adminPort] = (await freeLoopbackPorts(2, context.takenPorts)) as [number, number];
  const control = await startControlPlaneProcess({
    repoRoot: deps.repoRoot,
    supervisor: deps.supervisor,
    cpu,
    grpcPort,
    adminPort,
    identityDir: context.material.dir,
    ...(meshFile === undefined ? {} : { meshFile }),
  });
  try {
    return await use(control);
  } finally {
    await control.stop();
  }
}

// ---- cert-issuance ----

async function caIssuance(context: RunContext): Promise<RunOutcome> {
  const { deps, settings } = context;
  const run = await deps.supervisor.run(
    {
      label: 'cert-issuance (x509-ca)',
      command: process.execPath,
      args: [
        join(deps.helperDir, 'identity', 'cert-issuance-main.js'),
        ...['ca', '--identity-dir', context.material.dir, '--max-count', String(settings.caMaxCount), '--duration-ms', String(settings.durationMs)],
        ...['--warmup-count', String(settings.caWarmupCount), '--concurrency', String(settings.caConcurrency), '--csr-count', String(settings.caCsrCount)],
      ],
      cpu: deps.proxyCpu,
    },
    helperTimeoutMs(settings),
  );
  return issuanceOutcome(run, 'certify calls failed');
}

async function grpcIssuance(context: RunContext): Promise<RunOutcome> {
  const { deps, settings } = context;
  return withControlPlane(context, deps.proxyCpu, undefined, async (control) => {
    if (control.pid === undefined) return failure('the control plane has no pid to measure');
    const run = await deps.supervisor.run(
      {
        label: 'cert-issuance (control-grpc)',
        command: process.execPath,
        args: [
          join(deps.helperDir, 'identity', 'cert-issuance-main.js'),
          ...['grpc', '--identity-dir', context.material.dir, '--addr', control.grpcAddr, '--max-count', String(settings.grpcMaxCount)],
          ...['--duration-ms', String(settings.durationMs), '--warmup-count', String(settings.grpcWarmupCount), '--concurrency', String(settings.grpcConcurrency)],
          ...['--calls-per-identity', String(settings.grpcCallsPerIdentity), '--control-pid', String(control.pid)],
        ],
        cpu: deps.loadCpu,
      },
      helperTimeoutMs(settings),
    );
    return issuanceOutcome(run, 'Certify calls were refused or failed');
  });
}

/** The helper's report as a row: issued per wall second, and per CPU-second of the process that signed. */
function issuanceOutcome(run: ToolRun, failedWhat: string): RunOutcome {
  const problem = toolFailed(run);
  if (problem !== undefined) return failure(problem);
  const parsed = parseIssuanceReport(run.stdout);
  if (!parsed.ok) return failure(parsed.error.reason);
  const report = parsed.value;
  return {
    ok: true,
    metrics: {
      issued: report.issued,
      failed: report.failed,
      perSecond: report.issued / report.seconds,
      cpuSeconds: report.cpuSeconds,
      perCpuSecond: report.cpuSeconds === undefined || report.cpuSeconds === 0 ? undefined : report.issued / report.cpuSeconds,
    },
    notes: report.failed > 0 ? [`${report.failed} ${failedWhat}, the first: ${report.firstError ?? 'unknown'}`] : [],
  };
}

async function certIssuance(context: RunContext): Promise<IdentityOutcomes> {
  const outcomes: Record<string, RunOutcome> = {};
  const rows: [string, (context: RunContext) => Promise<RunOutcome>][] = [
    [IDENTITY_ROWS.ca, caIssuance],
    [IDENTITY_ROWS.grpc, grpcIssuance],
  ];
  for (const [row, measure] of rotate(rows, context.run)) {
    try {
      outcomes[row] = await measure(context);
    } catch (error) {
      outcomes[row] = failure(error);
    }
  }
  return outcomes;
}

// ---- proxies with identity ----

interface IdentityProxySpec {
  readonly label: string;
  readonly workload: WorkloadIdentity;
  readonly inboundAppPort: number;
  readonly upstreamListenPort?: number;
}

interface StartedIdentityProxy extends RunningIdentityProxy {
  readonly adminPort: number;
  readonly inboundPort: number;
}

async function startProxy(context: RunContext, control: RunningControlPlaneProcess, spec: IdentityProxySpec, ports?: readonly number[]): Promise<StartedIdentityProxy> {
  const { deps, material } = context;
  const [outbound, inbound, tap, admin] = (ports ?? (await freeLoopbackPorts(4, context.takenPorts))) as [number, number, number, number];
  const tokenFile = join(context.workDir, `${spec.workload.serviceAccount}.token`);
  material.writeToken(spec.workload, tokenFile);
  const launch: IdentityProxyLaunch = {
    serviceAccount: spec.workload.serviceAccount,
    tokenFile,
    trustAnchorsFile: material.trustAnchorsFile,
    controlAddr: control.grpcAddr,
    ports: { outbound, inbound, tap, admin },
    inboundAppPort: spec.inboundAppPort,
    defaultInboundPolicy: SERVER_INBOUND_POLICY,
    ...(spec.upstreamListenPort === undefined ? {} : { upstreamListenPort: spec.upstreamListenPort }),
  };
  const proxy = await startIdentityProxy(launch, {
    repoRoot: deps.repoRoot,
    build: deps.proxyBuild,
    supervisor: deps.supervisor,
    cpu: deps.proxyCpu,
    nodePath: process.execPath,
    nodeFlags: deps.options.weftNodeFlags,
    label: spec.label,
    recordConfig: deps.recordConfig,
  });
  return { ...proxy, adminPort: admin, inboundPort: inbound };
}

/**
 * How many inbound mTLS connections from the client identity the server proxy counted; an error when none, since the
 * row would then not measure mTLS at all.
 */
async function meshedConnections(server: StartedIdentityProxy): Promise<{ count: number } | { error: string }> {
  const client = identityName(CLIENT_WORKLOAD);
  const count = meshedInboundConnections(await fetchProxyMetrics(server.adminPort), client);
  if (count > 0) return { count };
  return { error: `the server proxy's /metrics count no inbound tcp_open_total with tls="true" and client_id="${client}": the traffic was not mTLS` };
}

// ---- mtls-handshakes ----

async function mtlsHandshakes(context: RunContext): Promise<IdentityOutcomes> {
  const { deps, settings, material, workDir } = context;
  const row = IDENTITY_ROWS.handshakes;
  try {
    return await withControlPlane(context, deps.loadCpu, undefined, async (control) => {
      const server = await startProxy(context, control, { label: 'weft (mTLS inbound)', workload: SERVER_WORKLOAD, inboundAppPort: deps.sinkPort });
      try {
        const credentials = await material.issueLeaf(CLIENT_WORKLOAD);
        const [certFile, keyFile] = [join(workDir, 'client.crt'), join(workDir, 'client.key')];
        writeFileSync(certFile, credentials.certificateChainPem);
        writeFileSync(keyFile, credentials.privateKeyPem, { mode: 0o600 });
        const sampler = server.pid === undefined ? undefined : startSampler(server.pid, IDENTITY_SAMPLE_EVERY_MS);
        const before = cpuSecondsOf(server.pid);
        const run = await deps.supervisor.run(
          {
            label: 'mtls-handshake',
            command: process.execPath,
            args: [
              join(deps.helperDir, 'identity', 'mtls-handshake-main.js'),
              ...['--port', String(server.inboundPort), '--server-name', identityName(SERVER_WORKLOAD), '--target-port', String(deps.sinkPort)],
              ...['--cert-file', certFile, '--key-file', keyFile, '--ca-file', material.trustAnchorsFile],
              ...['--max-count', String(settings.handshakeMaxCount), '--duration-ms', String(settings.durationMs)],
              ...['--warmup-count', String(settings.handshakeWarmupCount), '--concurrency', String(settings.handshakeConcurrency)],
            ],
            cpu: deps.loadCpu,
          },
          helperTimeoutMs(settings),
        );
        const after = cpuSecondsOf(server.pid);
        const load = summarizeSamples(sampler?.stop() ?? [], clockTicks());
        const problem = toolFailed(run);
        if (problem !== undefined) return { [row]: failure(problem) };
        const parsed = parseHandshakeReport(run.stdout);
        if (!parsed.ok) return { [row]: failure(parsed.error.reason) };
        const report = parsed.value;
        const meshed = await meshedConnections(server);
        if ('error' in meshed) return { [row]: failure(meshed.error) };
        const proxyCpu = before === undefined || after === undefined ? undefined : after - before;
        const handled = report.sessions + report.warmupSessions;
        return {
          [row]: {
            ok: true,
            metrics: {
              perSecond: report.sessions / report.seconds,
              sessions: report.sessions,
              failed: report.failed,
              handshakeP50Ms: report.handshakeP50Ms,
              handshakeP99Ms: report.handshakeP99Ms,
              cpuCores: load.cpuCores,
              perCpuSecond: proxyCpu === undefined || proxyCpu === 0 ? undefined : handled / proxyCpu,
              rssMb: load.maxRssMb,
              meshedConnections: meshed.count,
            },
            notes: report.failed > 0 ? [`${report.failed} sessions failed, the first: ${report.firstError ?? 'unknown'}`] : [],
          },
        };
      } finally {
        await server.stop();
      }
    });
  } catch (error) {
    return { [row]: failure(error) };
  }
}

// ---- mtls-two-hop-latency and mtls-two-hop-tcp ----

/** What one two-hop scenario sends, where the server proxy delivers it, and how each row is measured. */
interface TwoHopLoad {
  readonly scenario: IdentityScenarioId;
  /** Names the mesh file and the proxies in the report's configs, e.g. "HTTP/1.1". */
  readonly name: string;
  /** The backend (nginx) or the TCP sink: the direct row's target and the server proxy's app. */
  readonly backendPort: number;
  readonly protocol: 'http1' | 'opaque';
  /** How the HAProxy pair relays the same load. */
  readonly haproxyMode: 'http' | 'tcp';
  measureDirect(target: RunningContender): Promise<RunOutcome>;
  /** The load through a pair of proxies; `serverPid` is the server side's, sampled beside the client side. */
  measureThroughPair(client: RunningContender, serverPid: number | undefined): Promise<RunOutcome>;
}

/**
 * The control plane serves a mesh file in which the backend is a meshed instance behind the server proxy; the client
 * proxy learns that endpoint, with its identity, from the control plane. The direct row and the row through both
 * proxies run one after the other, the order alternating between runs.
 */
async function twoHop(context: RunContext, load: TwoHopLoad): Promise<IdentityOutcomes> {
  const { deps, workDir } = context;
  const serverPorts = await freeLoopbackPorts(4, context.takenPorts);
  const [listenPort] = (await freeLoopbackPorts(1, context.takenPorts)) as [number];
  const meshFile = join(workDir, 'mesh.yaml');
  const meshText = benchMeshFile({ backendPort: load.backendPort, serverInboundPort: serverPorts[1] as number, protocol: load.protocol });
  writeFileSync(meshFile, meshText);
  deps.recordConfig(`mTLS two hops, ${load.name}: mesh.yaml served by weft-control`, meshText);
  try {
    return await withControlPlane(context, deps.loadCpu, meshFile, async (control) => {
      const server = await startProxy(
        context,
        control,
        { label: `weft (server side, ${load.name})`, workload: SERVER_WORKLOAD, inboundAppPort: load.backendPort },
        serverPorts,
      );
      let client: StartedIdentityProxy | undefined;
      try {
        client = await startProxy(context, control, {
          label: `weft (client side, ${load.name})`,
          workload: CLIENT_WORKLOAD,
          inboundAppPort: load.backendPort,
          upstreamListenPort: listenPort,
        });
        const direct: RunningContender = { port: load.backendPort, pid: undefined, stop: () => Promise.resolve() };
        const throughProxies: RunningContender = { port: listenPort, pid: client.pid, stop: () => Promise.resolve() };
        const rows: [string, () => Promise<RunOutcome>][] = [
          [IDENTITY_ROWS.direct, () => load.measureDirect(direct)],
          [IDENTITY_ROWS.twoHop, async () => withMeshedConnections(await load.measureThroughPair(throughProxies, server.pid), server)],
        ];
        if (deps.options.contenders.includes('haproxy')) rows.push([IDENTITY_ROWS.haproxyTwoHop, () => throughHaproxyPair(context, load)]);
        const outcomes: Record<string, RunOutcome> = {};
        for (const [row, measure] of rotate(rows, context.run)) outcomes[row] = await measure();
        return outcomes;
      } finally {
        await client?.stop();
        await server.stop();
      }
    });
  } catch (error) {
    return Object.fromEntries(identityScenarioRows(load.scenario, deps.options.contenders).map((row) => [row, failure(error)]));
  }
}

/**
 * The HAProxy row: the pair is started for its own measurement (leaves for the same two workloads from the mesh's issuer,
 * both sides on the proxy core) and stopped after it, so a pair that fails to start fails this row alone.
 */
async function throughHaproxyPair(context: RunContext, load: TwoHopLoad): Promise<RunOutcome> {
  let pair: RunningHaproxyTwoHop | undefined;
  try {
    pair = await startHaproxyPair(context, load);
    return await load.measureThroughPair(pair.client, pair.serverPid);
  } catch (error) {
    return failure(error);
  } finally {
    await pair?.stop();
  }
}

async function startHaproxyPair(context: RunContext, load: TwoHopLoad): Promise<RunningHaproxyTwoHop> {
  const { deps, material } = context;
  const [clientListen, serverListen] = (await freeLoopbackPorts(2, context.takenPorts)) as [number, number];
  return startHaproxyTwoHop({
    supervisor: deps.supervisor,
    cpu: deps.proxyCpu,
    workDir: context.workDir,
    mode: load.haproxyMode,
    ports: { clientListen, serverListen, target: load.backendPort },
    trustAnchorsFile: material.trustAnchorsFile,
    client: await material.issueLeaf(CLIENT_WORKLOAD),
    server: await material.issueLeaf(SERVER_WORKLOAD),
    serverName: identityName(SERVER_WORKLOAD),
    recordConfig: (title, text) => deps.recordConfig(title, text),
  });
}

/** A row through both Weft proxies: the outcome fails unless the server proxy counted mTLS connections from the client's identity. */
async function withMeshedConnections(outcome: RunOutcome, server: StartedIdentityProxy): Promise<RunOutcome> {
  if (!outcome.ok) return outcome;
  const meshed = await meshedConnections(server);
  if ('error' in meshed) return failure(meshed.error);
  return { ...outcome, metrics: { ...outcome.metrics, meshedConnections: meshed.count } };
}

/** Adds the server side's figures, and a note when the pair crowded the core it shares, to a row's outcome. */
function withServerLoad(outcome: RunOutcome, metrics: Readonly<Record<string, number | undefined>>, clientCores: number | undefined, serverCores: number | undefined): RunOutcome {
  if (!outcome.ok) return outcome;
  return { ...outcome, metrics: { ...outcome.metrics, ...metrics }, notes: [...outcome.notes, ...crowdedCore(clientCores, serverCores)] };
}

function crowdedCore(clientCores: number | undefined, serverCores: number | undefined): string[] {
  const together = (clientCores ?? 0) + (serverCores ?? 0);
  return together > SHARED_CORE_BUSY ? [`the two proxies together used ${together.toFixed(2)} of the one core they share: the figures include waiting for it`] : [];
}

/** The open-loop generator at a fixed rate; the server proxy's CPU and RSS are sampled beside the client's. */
function latencyLoad(context: RunContext): TwoHopLoad {
  const { deps } = context;
  return {
    scenario: 'mtls-two-hop-latency',
    name: 'HTTP/1.1',
    backendPort: deps.backendHttp1Port,
    protocol: 'http1',
    haproxyMode: 'http',
    measureDirect: (target) => h1LatencyScenario.run(deps.latencyContext, target),
    async measureThroughPair(client, serverPid) {
      const sampler = serverPid === undefined ? undefined : startSampler(serverPid, IDENTITY_SAMPLE_EVERY_MS, deps.options.latencyWarmupMs);
      const outcome = await h1LatencyScenario.run(deps.latencyContext, client);
      const serverLoad = summarizeSamples(sampler?.stop() ?? [], clockTicks());
      const clientCores = outcome.ok ? outcome.metrics['cpuCores'] : undefined;
      return withServerLoad(outcome, { serverCpuCores: serverLoad.cpuCores, serverRssLoadMb: serverLoad.maxRssMb }, clientCores, serverLoad.cpuCores);
    },
  };
}

/** The opaque TCP source pushing into the sink (one connection); both proxies' CPU and RSS are sampled over the pushes. */
function tcpLoad(context: RunContext): TwoHopLoad {
  const { deps } = context;
  return {
    scenario: 'mtls-two-hop-tcp',
    name: 'opaque TCP',
    backendPort: deps.sinkPort,
    protocol: 'opaque',
    haproxyMode: 'tcp',
    measureDirect: (target) => tcpThroughputScenario.run(deps.latencyContext, target),
    async measureThroughPair(client, serverPid) {
      const samplers = [client.pid, serverPid].map((pid) => (pid === undefined ? undefined : startSampler(pid, IDENTITY_SAMPLE_EVERY_MS)));
      const outcome = await tcpThroughputScenario.run(deps.latencyContext, client);
      const [clientLoad, serverLoad] = samplers.map((sampler) => summarizeSamples(sampler?.stop() ?? [], clockTicks()));
      return withServerLoad(
        outcome,
        { cpuCores: clientLoad?.cpuCores, serverCpuCores: serverLoad?.cpuCores, rssLoadMb: clientLoad?.maxRssMb, serverRssLoadMb: serverLoad?.maxRssMb },
        clientLoad?.cpuCores,
        serverLoad?.cpuCores,
      );
    },
  };
}

const RUNNERS: Readonly<Record<IdentityScenarioId, (context: RunContext) => Promise<IdentityOutcomes>>> = {
  'cert-issuance': certIssuance,
  'mtls-handshakes': mtlsHandshakes,
  'mtls-two-hop-latency': (context) => twoHop(context, latencyLoad(context)),
  'mtls-two-hop-tcp': (context) => twoHop(context, tcpLoad(context)),
};

/** Why the identity scenarios did not run although chosen, or undefined when they run. */
export function identityScenariosSkipped(options: Pick<BenchOptions, 'contenders' | 'scenarios'>): string | undefined {
  const chosen = IDENTITY_SCENARIO_IDS.filter((id) => options.scenarios.includes(id));
  if (chosen.length === 0 || options.contenders.includes('weft')) return undefined;
  return `${chosen.join(', ')} not run: they measure Weft's identity and mTLS, and weft is not among --contenders`;
}

/** Runs the chosen identity scenarios once per run of the harness; the mesh identity is made on first use. */
export class IdentityBench {
  /** The command lines each scenario started in the first run. */
  readonly commands: Partial<Record<IdentityScenarioId, string[]>> = {};
  private material: Promise<MeshIdentityMaterial> | undefined;

  constructor(private readonly deps: IdentityBenchDeps) {}

  /** The chosen identity scenarios, in order; none when Weft is left out of the run. */
  get scenarios(): IdentityScenarioId[] {
    const { options } = this.deps;
    if (identityScenariosSkipped(options) !== undefined) return [];
    return IDENTITY_SCENARIO_IDS.filter((id) => options.scenarios.includes(id));
  }

  /** Runs every chosen scenario once; `record` gets each row's outcome. */
  async runOnce(run: number, record: (id: IdentityScenarioId, row: string, outcome: RunOutcome) => void): Promise<void> {
    for (const id of this.scenarios) {
      const firstCommand = this.deps.supervisor.commandLog.length;
      let outcomes: IdentityOutcomes;
      try {
        this.material ??= createMeshIdentityMaterial(join(this.deps.root, 'identity'));
        const material = await this.material;
        const workDir = mkdtempSync(join(this.deps.root, `${id}-`));
        const takenPorts = new Set([this.deps.backendHttp1Port, this.deps.sinkPort]);
        outcomes = await RUNNERS[id]({ deps: this.deps, settings: identityBenchSettings(this.deps.options), material, workDir, run, takenPorts });
      } catch (error) {
        outcomes = Object.fromEntries(identityScenarioRows(id, this.deps.options.contenders).map((row) => [row, failure(error)]));
      }
      if (run === 0) this.commands[id] = this.deps.supervisor.commandLog.slice(firstCommand);
      for (const [row, outcome] of Object.entries(outcomes)) record(id, row, outcome);
    }
  }
}
