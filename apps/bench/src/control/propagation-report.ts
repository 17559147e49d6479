// The report's control-plane section: an endpoint change reaching 100 subscribed proxy clients, its goal, verdict, what the delay holds and the commands.
import type { BenchReportInput } from '../bench-report.js';
import { medianMetric, metricPerRun, outcomesOf, pooledHistogram, runRemarks } from '../bench-results.js';
import { goalVerdict } from '../identity/identity-report.js';
import { formatFigure, NO_FIGURE, renderMarkdownTable, type TableColumn } from '../markdown-table.js';
import { PROPAGATION_OTHER_SERVICES } from './propagation-mesh-file.js';
import { PROPAGATION_ROW, type PropagationScenarioId } from './propagation-scenario-ids.js';
import { MESH_FILE_WATCH_DEFAULTS, propagationSettings } from './propagation-settings.js';

/** QUALITY.md's goal: an endpoint change reaches 100 subscribed proxies within this p99. */
export const PROPAGATION_P99_GOAL_MS = 200;

const SCENARIO: PropagationScenarioId = 'endpoint-propagation';
const ROW_LABEL = 'weft-control, file orchestrator';

const right = (title: string): TableColumn => ({ title, align: 'right' });

/** "met" / "not met" for the median p99 over runs; "not met" whenever a change failed to reach some subscriber. */
export function propagationVerdict(input: Pick<BenchReportInput, 'results'>): string {
  const missed = metricPerRun(input.results, SCENARIO, PROPAGATION_ROW, 'missed').reduce<number>((sum, value) => sum + (value ?? 0), 0);
  if (missed > 0) return `not met (${formatFigure(missed)} updates never arrived)`;
  return goalVerdict(medianMetric(input.results, SCENARIO, PROPAGATION_ROW, 'p99Ms'), PROPAGATION_P99_GOAL_MS, 'lower');
}

function figuresTable(input: BenchReportInput): string {
  const median = (metric: string): number | undefined => medianMetric(input.results, SCENARIO, PROPAGATION_ROW, metric);
  const outcomes = outcomesOf(input.results, SCENARIO, PROPAGATION_ROW);
  const perRun = metricPerRun(input.results, SCENARIO, PROPAGATION_ROW, 'p99Ms')
    .map((value, index) => (outcomes[index]?.ok === false ? 'failed' : formatFigure(value, 1)))
    .join(' / ');
  const pooled = pooledHistogram(input.results, SCENARIO, PROPAGATION_ROW);
  const columns = [
    { title: 'path' },
    ...['p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'p99 per run', 'pooled p99 ms', 'first subscriber ms', 'first, slowest change ms', 'spread ms', 'pairs', 'missed', 'control CPU s'].map(right),
  ];
  const cells = [
    ROW_LABEL,
    formatFigure(median('p50Ms'), 1),
    formatFigure(median('p90Ms'), 1),
    formatFigure(median('p99Ms'), 1),
    formatFigure(median('maxMs'), 1),
    perRun || NO_FIGURE,
    formatFigure(pooled === undefined ? undefined : pooled.percentileUs(99) / 1_000, 1),
    formatFigure(median('firstMs'), 1),
    formatFigure(median('firstMaxMs'), 1),
    formatFigure(median('spreadMs'), 1),
    formatFigure(median('pairs')),
    formatFigure(median('missed')),
    formatFigure(median('controlCpuSeconds'), 2),
  ];
  const remarks = runRemarks(input.results, SCENARIO, PROPAGATION_ROW).map((remark) => `- ${ROW_LABEL}, ${remark}`);
  return `${renderMarkdownTable(columns, [cells])}${remarks.length === 0 ? '' : `\n\n${remarks.join('\n')}`}`;
}

/** The section when endpoint-propagation ran; none otherwise. */
export function renderPropagationSections(input: BenchReportInput): string[] {
  if (input.results[SCENARIO] === undefined) return [];
  const settings = propagationSettings(input.options);
  const median = (metric: string): number | undefined => medianMetric(input.results, SCENARIO, PROPAGATION_ROW, metric);
  const goal = renderMarkdownTable(
    [{ title: 'figure' }, { title: 'goal (QUALITY.md)' }, right('Weft'), { title: 'verdict' }],
    [[`endpoint change reaching ${settings.subscribers} subscribed proxies, p99`, `<= ${PROPAGATION_P99_GOAL_MS} ms`, `${formatFigure(median('p99Ms'), 1)} ms`, propagationVerdict(input)]],
  );
  const quick = input.options.quick
    ? '\n\nThis was a `--quick` run: few changes on a control plane just started, so one slow pair moves the p99; it shows that the scenario works.'
    : '';
  const lines = input.propagationCommands ?? [];
  const commands = lines.length === 0 ? '' : `\n\nCommands (first run; temporary paths and ports change every run):\n\n\`\`\`\n${lines.join('\n')}\n\`\`\``;
  const watch = MESH_FILE_WATCH_DEFAULTS;
  return [
    `### Control plane: endpoint change reaching ${settings.subscribers} subscribed proxies

\`weft-control --orchestrator file --mesh-file mesh.yaml\` (the built \`apps/control/dist/main.js\`, X.509 identity from a fresh folder) is pinned to
the proxy core. \`control/endpoint-propagation-main.js\`, pinned to the load core, opens ${settings.subscribers} proxy-side subscriptions to
\`propagation.default.svc.cluster.local:80\`, each a \`ControlChannel\` (its own HTTP/2 connection) with a \`GrpcDiscoverEndpoints\`, as
${settings.subscribers} proxies would. Once all have their first message it applies ${settings.warmupChanges} warm-up change(s), not measured, then
${settings.changes} measured ones, ${formatFigure(settings.spacingMs)} ms apart on average (each write shifted by up to ${formatFigure(settings.phaseSpreadMs)} ms, a
golden-ratio sequence, so that the writes meet the control plane's file poll at every phase): each rewrites the file atomically (a temporary file renamed over
mesh.yaml) so that one instance of the service is replaced by another (one \`remove\` and one \`add\` on every stream; the file also holds
${PROPAGATION_OTHER_SERVICES} other services). A delay runs from the moment the rename returns to the moment a subscriber's listener gets the
\`add\` carrying the new instance, both read from \`performance.now()\` in the client process, which does the writes itself: one clock, no
alignment between processes. Percentiles are nearest-rank over every (change, subscriber) pair of a run (${formatFigure(settings.changes * settings.subscribers)} per
run), medians over runs; "pooled p99" merges every pair of every run (histogram, under 1.6 % error). A change that does not reach a
subscriber within ${formatFigure(settings.changeTimeoutMs)} ms counts as missed, ranks last, and fails the goal.

What a delay holds: the kernel's change event for the renamed file; the file adapter's debounce (weft-control keeps FileMeshSource's defaults:
**${watch.debounceMs} ms debounce** after the last change event before the file is read; a poll of the file's metadata every
${formatFigure(watch.pollIntervalMs)} ms as a fallback for a missed event, which leaves a debounce already under way alone; a ${watch.settleMs} ms settle that delays reporting an invalid file and never a
valid one); reading, YAML
parsing and schema checking the file; the diff per watched service; encoding and sending one update per stream over gRPC; and, in the
client process, decoding and delivery to the listener. "First subscriber" (median over changes of the quickest pair) is roughly the debounce
plus one read, parse, diff and send, and "first, slowest change" the same for the change that took longest (a change late for every
subscriber was held up in the control plane: a restarted debounce, a busy core); "spread" (median over changes of last minus first) is the fan-out to every stream plus the client
process handing ${settings.subscribers} messages to their listeners one after another on one event loop, which ${settings.subscribers} separate proxies
would do in parallel: an upper bound on that part. "control CPU s" is the control plane's CPU time over the whole client run; the
control plane's own count of applied edits (\`control_mesh_file_reloads_total{result="applied"}\`) must equal the edits written, or the run
says so.${quick}

${goal}

${figuresTable(input)}${commands}`,
  ];
}
