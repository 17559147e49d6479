// Turns a benchmark run into Markdown: goals, one table per scenario with ratios to direct and HAProxy, machine and commands.
import type { BenchOptions, ProxyScenarioId, ScenarioId } from './bench-options.js';
import { type BenchResults, medianMetric, metricPerRun, outcomesOf, pooledHistogram, runRemarks } from './bench-results.js';
import { COMMAND_PLACEHOLDERS, type ProxyMode } from './contender-command.js';
import type { MachineFacts } from './machine-facts.js';
import type { IdentityScenarioId } from './identity/identity-scenario-ids.js';
import { renderIdentitySections } from './identity/identity-report.js';
import { renderPropagationSections } from './control/propagation-report.js';
import { formatDeltaMs, formatFigure, formatRatio, NO_FIGURE, renderMarkdownTable, type TableColumn } from './markdown-table.js';
import { idleSettleMs, wrkSeconds } from './scenario-timing.js';
import { difference, ratio } from './statistics.js';

export interface ReportContender {
  readonly name: string;
  readonly label: string;
  readonly modes: readonly ProxyMode[];
  readonly setup: string;
}

/** A contender shown in every table without numbers, e.g. Weft before its HTTP path exists. */
export interface ReportPlaceholder {
  readonly label: string;
  readonly reason: string;
}

export interface BenchReportInput {
  readonly generatedAt: string;
  readonly options: BenchOptions;
  readonly contenders: readonly ReportContender[];
  readonly placeholders: readonly ReportPlaceholder[];
  readonly results: BenchResults;
  readonly machine: MachineFacts;
  readonly pinning: string;
  readonly commands: readonly string[];
  /** The command lines each identity scenario started in the first run, shown in its section. */
  readonly identityCommands?: Partial<Record<IdentityScenarioId, readonly string[]>>;
  /** The command lines endpoint-propagation started in the first run, shown in its section. */
  readonly propagationCommands?: readonly string[];
  readonly configs: readonly { readonly title: string; readonly text: string }[];
}

/** Why the Weft row is empty when a run leaves the built-in Weft contender out. */
export const WEFT_NOT_MEASURED = 'not measured in this run: weft was left out of --contenders';
/** The cell of a placeholder row or column. */
export const NOT_MEASURED = 'not measured';

const DIRECT = 'direct';

/** A logged command as a reader types it from the repository root: `node` for the harness's Node, paths relative to `cwd`. */
export function relativeCommand(command: string, execPath: string, cwd: string): string {
  return command.replaceAll(`${execPath} `, 'node ').replaceAll(`${cwd}/`, '');
}
const HAPROXY = 'haproxy';
const scenarioModes: Record<ProxyScenarioId, ProxyMode> = { 'h1-max': 'http1', 'h1-latency': 'http1', 'h1-hey': 'http1', 'h2c-max': 'h2c', 'tcp-throughput': 'tcp' };

/** Reads one scenario's figures for one contender. */
class Reader {
  constructor(
    private readonly input: BenchReportInput,
    readonly scenario: ProxyScenarioId,
  ) {}

  get ran(): boolean {
    return this.input.results[this.scenario] !== undefined;
  }

  median(contender: string, metric: string): number | undefined {
    return medianMetric(this.input.results, this.scenario, contender, metric);
  }

  /** Each run's value, "failed" for a failed run, e.g. "53,952 / 54,100 / failed". */
  perRun(contender: string, metric: string, decimals: number): string {
    const values = metricPerRun(this.input.results, this.scenario, contender, metric);
    const outcomes = outcomesOf(this.input.results, this.scenario, contender);
    return values.map((value, index) => (outcomes[index]?.ok === false ? 'failed' : formatFigure(value, decimals))).join(' / ') || NO_FIGURE;
  }

  ratioTo(contender: string, reference: string, metric: string): number | undefined {
    return ratio(this.median(contender, metric), this.median(reference, metric));
  }

  deltaTo(contender: string, reference: string, metric: string): number | undefined {
    return difference(this.median(contender, metric), this.median(reference, metric));
  }

  /** Whether the contender has the mode this scenario needs. */
  supports(contender: ReportContender): boolean {
    return contender.modes.includes(scenarioModes[this.scenario]);
  }

  remarks(): string[] {
    return this.input.contenders.flatMap((contender) =>
      runRemarks(this.input.results, this.scenario, contender.name).map((remark) => `${contender.label}, ${remark}`),
    );
  }
}

function table(input: BenchReportInput, reader: Reader, columns: readonly TableColumn[], row: (contender: ReportContender) => string[]): string {
  const rows = input.contenders.map((contender) =>
    reader.supports(contender) ? [contender.label, ...row(contender)] : [contender.label, `n/a (no ${scenarioModes[reader.scenario]} mode)`],
  );
  const placeholders = input.placeholders.map((placeholder) => [placeholder.label, NOT_MEASURED]);
  const remarks = reader.remarks();
  const notes = remarks.length === 0 ? '' : `\n\n${remarks.map((remark) => `- ${remark}`).join('\n')}`;
  return `${renderMarkdownTable(columns, [...rows, ...placeholders])}${notes}`;
}

const right = (title: string): TableColumn => ({ title, align: 'right' });

function goalsTable(input: BenchReportInput): string {
  const rate = formatFigure(input.options.rate);
  const proxies = input.contenders.filter((contender) => contender.name !== DIRECT);
  const max = new Reader(input, 'h1-max');
  const latency = new Reader(input, 'h1-latency');
  const h2 = new Reader(input, 'h2c-max');
  const tcp = new Reader(input, 'tcp-throughput');
  const cell = (reader: Reader, contender: ReportContender, value: () => string): string =>
    !reader.ran ? 'not run' : reader.supports(contender) ? value() : 'n/a';
  const rows: [string, string, (contender: ReportContender) => string][] = [
    ['HTTP/1.1 keep-alive max RPS, ratio to HAProxy', '>= 0.5x (stretch 0.75x)', (c) => cell(max, c, () => formatRatio(max.ratioTo(c.name, HAPROXY, 'rps')))],
    [
      `added latency at ${rate} RPS over direct, p50 / p99`,
      '<= +0.3 ms / <= +1 ms',
      (c) => cell(latency, c, () => `${formatDeltaMs(latency.deltaTo(c.name, DIRECT, 'p50Ms'))} / ${formatDeltaMs(latency.deltaTo(c.name, DIRECT, 'p99Ms'))}`),
    ],
    ['h2c max RPS, ratio to HAProxy (h2)', '>= 0.4x', (c) => cell(h2, c, () => formatRatio(h2.ratioTo(c.name, HAPROXY, 'rps')))],
    ['opaque TCP throughput, ratio to HAProxy (tcp)', '>= 0.7x', (c) => cell(tcp, c, () => formatRatio(tcp.ratioTo(c.name, HAPROXY, 'gbps')))],
    [
      `proxy RSS idle / at ${rate} RPS`,
      '<= 60 MB / <= 90 MB',
      (c) => cell(latency, c, () => `${formatFigure(latency.median(c.name, 'rssIdleMb'), 1)} / ${formatFigure(latency.median(c.name, 'rssLoadMb'), 1)} MB`),
    ],
  ];
  const columns = [{ title: 'figure' }, { title: 'goal (QUALITY.md)' }, ...proxies.map((c) => right(c.label)), ...input.placeholders.map((p) => ({ title: p.label }))];
  const placeholderCells = input.placeholders.map(() => NOT_MEASURED);
  const reasons = input.placeholders.map((placeholder) => `\n\n${placeholder.label}: ${placeholder.reason}.`).join('');
  return `${renderMarkdownTable(columns, rows.map(([figure, goal, value]) => [figure, goal, ...proxies.map(value), ...placeholderCells]))}${reasons}`;
}

function maxRpsSection(input: BenchReportInput): string {
  const reader = new Reader(input, 'h1-max');
  const o = input.options;
  const warmup = wrkSeconds(o.warmupMs, false);
  const columns = [{ title: 'contender' }, right('RPS (median)'), right('runs'), right('vs direct'), right('vs HAProxy'), right('wrk p99 ms'), right('proxy CPU (cores)'), right('proxy RSS MB')];
  return `### HTTP/1.1 keep-alive max RPS

\`wrk -t1 -c${o.wrkConnections} -d${wrkSeconds(o.durationMs, true)}s --latency\` after ${warmup > 0 ? `a ${warmup} s wrk warm-up` : 'no warm-up'}; closed loop, so it measures capacity, not latency. A proxy CPU well under 1 core means the proxy was not the bottleneck: wrk and the backend share CPU 0.

${table(input, reader, columns, (c) => [
  formatFigure(reader.median(c.name, 'rps')),
  reader.perRun(c.name, 'rps', 0),
  formatRatio(reader.ratioTo(c.name, DIRECT, 'rps')),
  formatRatio(reader.ratioTo(c.name, HAPROXY, 'rps')),
  formatFigure(reader.median(c.name, 'p99Ms'), 2),
  formatFigure(reader.median(c.name, 'cpuCores'), 2),
  formatFigure(reader.median(c.name, 'rssMb'), 1),
])}`;
}

function latencySection(input: BenchReportInput): string {
  const reader = new Reader(input, 'h1-latency');
  const o = input.options;
  const columns = [
    { title: 'contender' },
    ...['p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', '+p50 vs direct', '+p99 vs direct', 'p99 vs HAProxy', 'pooled p99 ms', 'achieved RPS', 'send lag p99 ms'].map(right),
  ];
  const pooled = (name: string): string => formatFigure((pooledHistogram(input.results, 'h1-latency', name)?.percentileUs(99) ?? Number.NaN) / 1_000, 3);
  return `### Latency at a fixed ${formatFigure(o.rate)} RPS (open loop)

apps/bench's own generator (one Node process, ${o.latencyConnections} keep-alive connections, ${formatFigure(o.durationMs)} ms measured after ${formatFigure(o.latencyWarmupMs)} ms of warm-up at the same rate, which a JIT runtime needs to reach the steady state of a long-running sidecar) sends request *i* at start + *i*/rate whatever happened before, and times each response from that intended send time, so a stall shows up in every request it delays (no coordinated omission). HdrHistogram-style buckets, under 1.6 % error. Medians over runs of each run's percentile; "pooled p99" merges every request of every run. The generator's own lateness (timer granularity, CPU contention: "send lag") is counted too, as it is the same for every contender: read the differences to direct.

${table(input, reader, columns, (c) => [
  formatFigure(reader.median(c.name, 'p50Ms'), 3),
  formatFigure(reader.median(c.name, 'p90Ms'), 3),
  formatFigure(reader.median(c.name, 'p99Ms'), 3),
  formatFigure(reader.median(c.name, 'p999Ms'), 3),
  formatFigure(reader.median(c.name, 'maxMs'), 3),
  formatDeltaMs(reader.deltaTo(c.name, DIRECT, 'p50Ms')),
  formatDeltaMs(reader.deltaTo(c.name, DIRECT, 'p99Ms')),
  formatRatio(reader.ratioTo(c.name, HAPROXY, 'p99Ms')),
  pooled(c.name),
  formatFigure(reader.median(c.name, 'achievedRps')),
  formatFigure(reader.median(c.name, 'sendLagP99Ms'), 3),
])}`;
}

function heySection(input: BenchReportInput): string {
  const reader = new Reader(input, 'h1-hey');
  const o = input.options;
  const perClient = Math.max(1, Math.round(o.rate / 10));
  const columns = [{ title: 'contender' }, ...['p50 ms', 'p90 ms', 'p99 ms', 'max ms', '+p50 vs direct', '+p99 vs direct', 'RPS'].map(right)];
  return `### Latency at a fixed ${formatFigure(o.rate)} RPS (hey)

\`hey -z ${o.durationMs}ms -q ${perClient} -c 10\` after a warm-up of the same form: a second opinion from a common tool. Each hey client waits for its answer before the next tick, so these are service times (coordinated omission not corrected), printed by hey to 0.1 ms.

${table(input, reader, columns, (c) => [
  formatFigure(reader.median(c.name, 'p50Ms'), 1),
  formatFigure(reader.median(c.name, 'p90Ms'), 1),
  formatFigure(reader.median(c.name, 'p99Ms'), 1),
  formatFigure(reader.median(c.name, 'maxMs'), 1),
  formatDeltaMs(reader.deltaTo(c.name, DIRECT, 'p50Ms')),
  formatDeltaMs(reader.deltaTo(c.name, DIRECT, 'p99Ms')),
  formatFigure(reader.median(c.name, 'rps')),
])}`;
}

function h2Section(input: BenchReportInput): string {
  const reader = new Reader(input, 'h2c-max');
  const o = input.options;
  const columns = [{ title: 'contender' }, ...['RPS (median)', 'runs', 'vs direct', 'vs HAProxy', 'mean ms', 'max ms'].map(right)];
  return `### HTTP/2 cleartext (h2c) max RPS

\`h2load -t1 -c${o.h2Clients} -m${o.h2Streams} -D ${o.durationMs}ms --warm-up-time ${o.warmupMs}ms\`, GET with prior knowledge: many concurrent streams on few connections, the shape of gRPC unary traffic. Direct and HAProxy speak h2 to the backend; nginx speaks HTTP/1.1 upstream.

${table(input, reader, columns, (c) => [
  formatFigure(reader.median(c.name, 'rps')),
  reader.perRun(c.name, 'rps', 0),
  formatRatio(reader.ratioTo(c.name, DIRECT, 'rps')),
  formatRatio(reader.ratioTo(c.name, HAPROXY, 'rps')),
  formatFigure(reader.median(c.name, 'meanMs'), 2),
  formatFigure(reader.median(c.name, 'maxMs'), 2),
])}`;
}

function tcpSection(input: BenchReportInput): string {
  const reader = new Reader(input, 'tcp-throughput');
  const columns = [{ title: 'contender' }, ...['Gbit/s (median)', 'runs', 'vs direct', 'vs HAProxy'].map(right)];
  return `### Opaque TCP throughput

One connection: a Node source writes ${formatFigure(input.options.tcpMegabytes)} MiB in 256 KiB writes and half-closes; a Node sink counts the bytes and answers with the count; timed from connect to that answer, after a 16 MiB warm-up push.

${table(input, reader, columns, (c) => [
  formatFigure(reader.median(c.name, 'gbps'), 2),
  reader.perRun(c.name, 'gbps', 2),
  formatRatio(reader.ratioTo(c.name, DIRECT, 'gbps')),
  formatRatio(reader.ratioTo(c.name, HAPROXY, 'gbps')),
])}`;
}

function memorySection(input: BenchReportInput): string {
  const latency = new Reader(input, 'h1-latency');
  const max = new Reader(input, 'h1-max');
  const rate = formatFigure(input.options.rate);
  const columns = [
    { title: 'contender' },
    ...['RSS idle MB', `RSS at ${rate} RPS MB`, 'anon idle / at load MB', 'RSS under wrk MB', `CPU at ${rate} RPS (cores)`, `RSS at ${rate} RPS vs HAProxy`].map(right),
  ];
  const rows = input.contenders.map((c) =>
    c.name === DIRECT
      ? [c.label, 'no proxy process']
      : [
          c.label,
          formatFigure(latency.median(c.name, 'rssIdleMb'), 1),
          formatFigure(latency.median(c.name, 'rssLoadMb'), 1),
          `${formatFigure(latency.median(c.name, 'anonIdleMb'), 1)} / ${formatFigure(latency.median(c.name, 'anonLoadMb'), 1)}`,
          formatFigure(max.median(c.name, 'rssMb'), 1),
          formatFigure(latency.median(c.name, 'cpuCores'), 3),
          formatRatio(latency.ratioTo(c.name, HAPROXY, 'rssLoadMb')),
        ],
  );
  const placeholders = input.placeholders.map((placeholder) => [placeholder.label, NOT_MEASURED]);
  return `### Proxy memory and CPU

VmRSS from \`/proc/<pid>/status\` summed over the proxy's process tree (nginx: master and worker): idle is read ${idleSettleMs(input.options)} ms after start, before any request; under load it is the peak of samples every 250 ms. CPU is utime + stime from \`/proc/<pid>/stat\` over the measured window. "anon" is RssAnon, the private part of RSS
(heap, malloc, stacks) without the file-backed pages of the executable: for a Node process about 45-50 MB of its RSS are the pages of the
\`node\` binary it touched, shared with every other process running the same binary.

${renderMarkdownTable(columns, [...rows, ...placeholders])}`;
}

/** The figures only: goals and one table per scenario that ran. */
export function renderBenchTables(input: BenchReportInput): string {
  const sections = [`### Goals\n\nMedians of ${input.options.runs} run(s); every ratio is within this one run.\n\n${goalsTable(input)}`];
  const ran = (id: ScenarioId): boolean => input.results[id] !== undefined;
  if (ran('h1-max')) sections.push(maxRpsSection(input));
  if (ran('h1-latency')) sections.push(latencySection(input));
  if (ran('h1-hey')) sections.push(heySection(input));
  if (ran('h2c-max')) sections.push(h2Section(input));
  if (ran('tcp-throughput')) sections.push(tcpSection(input));
  if (ran('h1-latency') || ran('h1-max')) sections.push(memorySection(input));
  sections.push(...renderIdentitySections(input));
  sections.push(...renderPropagationSections(input));
  return sections.join('\n\n');
}

/** Hand-written notes in docs/benchmarks.md sit between these markers; a new run keeps them as they are. */
export const NOTES_START = '<!-- notes: written by hand, kept as they are when npm run bench rewrites this file -->';
export const NOTES_END = '<!-- end of notes -->';

/** The hand-written notes of an earlier report, markers included, or undefined when it has none. */
export function keptNotes(previous: string | undefined): string | undefined {
  if (previous === undefined) return undefined;
  const start = previous.indexOf(NOTES_START);
  const end = previous.indexOf(NOTES_END, start);
  return start < 0 || end < 0 ? undefined : previous.slice(start, end + NOTES_END.length);
}

/** The whole docs/benchmarks.md; `notes` (from keptNotes) go right after the results. */
export function renderBenchReport(input: BenchReportInput, notes?: string): string {
  const o = input.options;
  const machine = renderMarkdownTable([{ title: 'fact' }, { title: 'value' }], input.machine.map(([fact, value]) => [fact, value]));
  const contenders = renderMarkdownTable(
    [{ title: 'contender' }, { title: 'setup' }],
    [...input.contenders.map((c) => [c.label, c.setup]), ...input.placeholders.map((p) => [p.label, p.reason])],
  );
  const configs = input.configs.map((config) => `<details><summary>${config.title}</summary>\n\n\`\`\`\n${config.text.trimEnd()}\n\`\`\`\n\n</details>`).join('\n\n');
  return `# Benchmarks

Generated by \`npm run bench${o.quick ? ' -- --quick' : ''}\` (apps/bench) on ${input.generatedAt}. Every contender runs side by side in the same run,
against the same loopback nginx backend (\`worker_processes 1\`, a 19-byte body), each started fresh for each scenario and stopped after it.
These machines are shared and noisy: read the ratios, not the absolute numbers. Setup: \`sudo scripts/setup-bench.sh\`.

## Results

${renderBenchTables(input)}
${notes === undefined ? '' : `\n${notes}\n`}
## How it was measured

${machine}

- Pinning: ${input.pinning}.
- Other work on the machine: see the load average and CPU pressure above; with CPU pressure well above 10 % the absolute numbers mean little and even the ratios move between runs.
- Runs: ${o.runs} per scenario and contender, interleaved (the contender order rotates each run); medians reported, every run listed.
- Durations: ${o.durationMs} ms measured after ${o.warmupMs} ms of warm-up (${o.latencyWarmupMs} ms before the fixed-rate latency runs); fixed rate ${o.rate} RPS; TCP ${o.tcpMegabytes} MiB.
- Traffic stays on 127.0.0.1; every load tool is bounded in time and killed if it overruns.

${contenders}

### Weft and other proxies

\`npm run bench\` builds \`@weft/proxy\` with the harness, bundles it with esbuild as its image does (\`scripts/docker/stage-image.mjs --apps proxy\`),
and starts it itself through its launcher \`apps/proxy/bin/weft-proxy\` (\`WEFT_PROXY_MAIN\` names the bundle; the Weft row above; its environment is under
"Generated configs"); \`--weft-build dist\` runs tsc's \`apps/proxy/dist\` tree instead. \`--weft-node-flags "FLAGS"\` adds Node/V8 flags to that process, e.g. \`--max-semi-space-size=2\`, or
\`--cpu-prof --cpu-prof-dir=DIR\` for a CPU profile of every Weft run, summarised by \`node apps/bench/dist/cpu-profile-main.js DIR/*.cpuprofile\`.

Any other proxy is a command that listens on a loopback port in front of an upstream: \`npm run bench -- --contender 'NAME[:modes]=COMMAND'\`,
where COMMAND may use ${Object.keys(COMMAND_PLACEHOLDERS).map((name) => `\`{${name}}\``).join(', ')} and modes are among http1, h2c, tcp (default all).
The harness starts it once per scenario and run, pinned like the others, waits for the port, checks one GET, measures, and stops its
process group. A command named \`weft\` stands in for the built-in Weft (another build, say).

### Commands (first run, exact; run from the repository root, \`node\` is the Node 24 of node_modules)

\`\`\`
${input.commands.join('\n')}
\`\`\`

### Generated configs

${configs}
`;
}
