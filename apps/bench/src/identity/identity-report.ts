// The report's identity sections: goals, certificate issuance, mTLS handshakes, two-hop mTLS latency and TCP throughput, with commands and notes.
import { PEER_CERTIFY_RATE_LIMIT } from '@weft/adapter-grpc';
import type { BenchReportInput } from '../bench-report.js';
import { medianMetric, metricPerRun, outcomesOf, pooledHistogram, runRemarks } from '../bench-results.js';
import { formatDeltaMs, formatFigure, formatRatio, NO_FIGURE, renderMarkdownTable, type TableColumn } from '../markdown-table.js';
import { difference } from '../statistics.js';
import { IDENTITY_SAMPLE_EVERY_MS, identityBenchSettings } from './identity-bench-settings.js';
import { IDENTITY_ROWS, IDENTITY_SCENARIO_ROWS, type IdentityScenarioId } from './identity-scenario-ids.js';

/** QUALITY.md's goals for these figures. */
export const CERT_ISSUANCE_GOAL_PER_CORE = 1_000;
export const TWO_HOP_P99_GOAL_MS = 2;

const ROW_LABELS: Readonly<Record<string, string>> = {
  [IDENTITY_ROWS.ca]: 'X.509 CA (certify in-process)',
  [IDENTITY_ROWS.grpc]: 'control plane Certify over gRPC',
  [IDENTITY_ROWS.handshakes]: 'Weft inbound port (mTLS)',
  [IDENTITY_ROWS.direct]: 'direct',
  [IDENTITY_ROWS.twoHop]: 'Weft, two hops with mTLS',
  [IDENTITY_ROWS.haproxyTwoHop]: 'HAProxy, two hops with mTLS',
};

/** The two-hop sections' paragraph on the HAProxy pair. */
const HAPROXY_PAIR_TEXT = `With haproxy among the contenders, the same load also goes through two HAProxy processes (\`nbthread 1\` each, on the proxy core)
set up as the mesh's proxies are: TLS 1.3 only, leaves for the same two identities from the same issuer, each side verifying the other's
chain against the mesh's trust anchors, the client side checking the server's identity name (\`verifyhost\`) and sending it as SNI.`;

const right = (title: string): TableColumn => ({ title, align: 'right' });

/** Reads one identity scenario's figures. */
class IdentityReader {
  constructor(
    private readonly input: BenchReportInput,
    readonly id: IdentityScenarioId,
  ) {}

  get ran(): boolean {
    return this.input.results[this.id] !== undefined;
  }

  median(row: string, metric: string): number | undefined {
    return medianMetric(this.input.results, this.id, row, metric);
  }

  /** Each run's value, "failed" for a failed run. */
  perRun(row: string, metric: string, decimals: number): string {
    const outcomes = outcomesOf(this.input.results, this.id, row);
    const values = metricPerRun(this.input.results, this.id, row, metric);
    return values.map((value, index) => (outcomes[index]?.ok === false ? 'failed' : formatFigure(value, decimals))).join(' / ') || NO_FIGURE;
  }

  /** The table rows of this scenario, with the run notes and errors under it. */
  table(columns: readonly TableColumn[], cells: (row: string) => string[]): string {
    const measured = IDENTITY_SCENARIO_ROWS[this.id].filter((row) => outcomesOf(this.input.results, this.id, row).length > 0);
    const rows = measured.map((row) => [ROW_LABELS[row] ?? row, ...cells(row)]);
    const remarks = measured.flatMap((row) => runRemarks(this.input.results, this.id, row).map((remark) => `${ROW_LABELS[row] ?? row}, ${remark}`));
    return `${renderMarkdownTable(columns, rows)}${remarks.length === 0 ? '' : `\n\n${remarks.map((remark) => `- ${remark}`).join('\n')}`}`;
  }

  /** The command lines this scenario started in the first run, as a code block. */
  commands(): string {
    const lines = this.input.identityCommands?.[this.id] ?? [];
    return lines.length === 0 ? '' : `\n\nCommands (first run; temporary paths and ports change every run):\n\n\`\`\`\n${lines.join('\n')}\n\`\`\``;
  }
}

/** "met" / "not met" for a figure against its goal, or NO_FIGURE without a figure. */
export function goalVerdict(value: number | undefined, goal: number, better: 'higher' | 'lower'): string {
  if (value === undefined || !Number.isFinite(value)) return NO_FIGURE;
  return (better === 'higher' ? value >= goal : value <= goal) ? 'met' : 'not met';
}

function goalsSection(input: BenchReportInput, readers: Readonly<Record<IdentityScenarioId, IdentityReader>>): string {
  const issuance = readers['cert-issuance'];
  const handshakes = readers['mtls-handshakes'];
  const twoHop = readers['mtls-two-hop-latency'];
  const twoHopTcp = readers['mtls-two-hop-tcp'];
  const caPerCore = issuance.median(IDENTITY_ROWS.ca, 'perCpuSecond');
  const grpcPerCore = issuance.median(IDENTITY_ROWS.grpc, 'perCpuSecond');
  const addedP99 = difference(twoHop.median(IDENTITY_ROWS.twoHop, 'p99Ms'), twoHop.median(IDENTITY_ROWS.direct, 'p99Ms'));
  const haproxyAddedP99 = difference(twoHop.median(IDENTITY_ROWS.haproxyTwoHop, 'p99Ms'), twoHop.median(IDENTITY_ROWS.direct, 'p99Ms'));
  // The HAProxy pair's figure in the same runs, when it ran: what this host allows a native pair.
  const besideHaproxy = (figure: string, haproxy: number | undefined): string => (haproxy === undefined ? figure : `${figure} (HAProxy pair ${formatDeltaMs(haproxy)})`);
  const notRun = (reader: IdentityReader, value: () => string): string => (reader.ran ? value() : 'not run');
  const rate = formatFigure(input.options.rate);
  const rows = [
    [
      'certificates issued per second per core (verify CSR + sign), X.509 CA',
      `>= ${formatFigure(CERT_ISSUANCE_GOAL_PER_CORE)}`,
      notRun(issuance, () => `${formatFigure(caPerCore)} per CPU-second`),
      notRun(issuance, () => goalVerdict(caPerCore, CERT_ISSUANCE_GOAL_PER_CORE, 'higher')),
    ],
    [
      'the same through Certify over gRPC (token check, rate limit, gRPC), per control-plane core',
      'none (the whole path, for context)',
      notRun(issuance, () => `${formatFigure(grpcPerCore)} per CPU-second`),
      'no goal',
    ],
    [
      'full TLS 1.3 mutual handshakes per second on one proxy inbound port',
      'none (reported)',
      notRun(handshakes, () =>
        `${formatFigure(handshakes.median(IDENTITY_ROWS.handshakes, 'perSecond'))}/s; ${formatFigure(handshakes.median(IDENTITY_ROWS.handshakes, 'perCpuSecond'))} per proxy CPU-second`,
      ),
      'no goal',
    ],
    [
      `two hops with mTLS between proxies at ${rate} RPS, p99 over direct`,
      `<= +${TWO_HOP_P99_GOAL_MS} ms`,
      notRun(twoHop, () => besideHaproxy(formatDeltaMs(addedP99), haproxyAddedP99)),
      notRun(twoHop, () => goalVerdict(addedP99, TWO_HOP_P99_GOAL_MS, 'lower')),
    ],
    [
      'opaque TCP through two hops with mTLS, one connection, ratio to direct',
      'none (reported)',
      notRun(twoHopTcp, () => `${formatRatio(tcpRatioToDirect(twoHopTcp))} (${formatFigure(twoHopTcp.median(IDENTITY_ROWS.twoHop, 'gbps'), 2)} Gbit/s)`),
      'no goal',
    ],
  ];
  const quick = input.options.quick
    ? '\n\nThis was a `--quick` run: loops of about a second on processes just started, whose code is still being compiled, after short warm-ups. Its figures show that the scenarios work, not what Weft can do.'
    : '';
  return `### Identity and mTLS: goals

Medians of ${input.options.runs} run(s). "Per CPU-second" divides the work by the CPU time the process doing it used (user + system, all its threads, from \`/proc\` or \`process.cpuUsage()\`), so it stays readable when another process takes part of the core.${quick}

${renderMarkdownTable([{ title: 'figure' }, { title: 'goal (QUALITY.md)' }, right('Weft'), { title: 'verdict' }], rows)}`;
}

function issuanceSection(input: BenchReportInput, reader: IdentityReader): string {
  const settings = identityBenchSettings(input.options);
  const columns = [{ title: 'path' }, ...['per CPU-second (median)', 'runs', 'per second, wall', 'CPU seconds', 'issued', 'failed'].map(right)];
  return `### Certificate issuance

- **X.509 CA**: \`identity/cert-issuance-main.js ca\`, one Node process pinned to the proxy core, loads the run's issuer into an
  \`X509CertificateAuthority\` and calls \`certify()\` on ${settings.caCsrCount} pre-made ECDSA P-256 CSRs in turn (each call reads the CSR,
  checks its signature and key, and signs a 24 h leaf), ${settings.caConcurrency} calls in flight (the CSR check runs on libuv's pool),
  after ${formatFigure(settings.caWarmupCount)} warm-up calls; at most ${formatFigure(settings.caMaxCount)} calls or ${formatFigure(settings.durationMs)} ms.
- **Certify over gRPC**: \`weft-control --identity-dir\` pinned to the proxy core; \`cert-issuance-main.js grpc\` on the load core calls it through
  \`GrpcIdentityClient\` over loopback h2c, ${settings.grpcConcurrency} calls in flight, each with a signed token and a CSR for its identity. The control
  plane allows an identity ${settings.grpcCallsPerIdentity} calls at once, so the calls are spread over fresh identities (keys, CSRs and tokens made before
  the clock starts); after ${formatFigure(settings.grpcWarmupCount)} warm-up calls on identities of their own; at most ${formatFigure(settings.grpcMaxCount)} calls or
  ${formatFigure(settings.durationMs)} ms. The control plane also limits each caller address (a burst of ${formatFigure(PEER_CERTIFY_RATE_LIMIT.burst)}, then one per
  ${PEER_CERTIFY_RATE_LIMIT.refillIntervalMs} ms) and every call comes from 127.0.0.1, so this row stays within one burst: a few hundred milliseconds of work,
  the control plane's code still warming up, so read it as an order of magnitude. Per CPU-second divides by the control plane's CPU time during
  the measured calls, which the helper reads from \`/proc/<pid>/stat\` (10 ms ticks) before and after them.
- Both rows: "per CPU-second" is the goal's "per core"; the wall rate is lower whenever the core is shared or the process waits.

${reader.table(columns, (row) => [
  formatFigure(reader.median(row, 'perCpuSecond')),
  reader.perRun(row, 'perCpuSecond', 0),
  formatFigure(reader.median(row, 'perSecond')),
  formatFigure(reader.median(row, 'cpuSeconds'), 2),
  formatFigure(reader.median(row, 'issued')),
  formatFigure(reader.median(row, 'failed')),
])}${reader.commands()}`;
}

function handshakesSection(input: BenchReportInput, reader: IdentityReader): string {
  const settings = identityBenchSettings(input.options);
  const row = IDENTITY_ROWS.handshakes;
  const columns = [{ title: 'target' }, ...['handshakes/s (median)', 'runs', 'per proxy CPU-second', 'proxy CPU (cores)', 'handshake p50 ms', 'handshake p99 ms', 'failed', 'proxy RSS MB'].map(right)];
  return `### Full mTLS handshakes

A Weft proxy with a real identity (\`weft-control --identity-dir\` certifies it; it serves only once it holds its leaf), started through its
launcher and pinned to the proxy core, requiring mTLS (\`all-authenticated\`), its inbound port forwarding opaque sessions to the loopback TCP sink.
\`identity/mtls-handshake-main.js\` on the load core opens new connections, ${settings.handshakeConcurrency} at a time: TLS 1.3 only, SNI = the proxy's identity, ALPN
\`transport.weft.io/v1\`, its own P-256 leaf from the same CA, no session resumption (a full handshake each time, certificates verified both
ways); then a transport header for an opaque session, 16 bytes, and a half-close; a session counts once the sink's byte count comes back.
After ${formatFigure(settings.handshakeWarmupCount)} warm-up sessions; at most ${formatFigure(settings.handshakeMaxCount)} sessions or ${formatFigure(settings.durationMs)} ms. The client does as
much TLS work as the proxy: with the proxy under about 0.9 cores the client was the limit, and "per proxy CPU-second" is the proxy's own figure.
The run fails unless the proxy's \`tcp_open_total{direction="inbound",tls="true"}\` names the client's identity.

${reader.table(columns, () => [
  formatFigure(reader.median(row, 'perSecond')),
  reader.perRun(row, 'perSecond', 0),
  formatFigure(reader.median(row, 'perCpuSecond')),
  formatFigure(reader.median(row, 'cpuCores'), 2),
  formatFigure(reader.median(row, 'handshakeP50Ms'), 2),
  formatFigure(reader.median(row, 'handshakeP99Ms'), 2),
  formatFigure(reader.median(row, 'failed')),
  formatFigure(reader.median(row, 'rssMb'), 1),
])}${reader.commands()}`;
}

function twoHopSection(input: BenchReportInput, reader: IdentityReader): string {
  const o = input.options;
  const columns = [
    { title: 'path' },
    ...['p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', '+p50 vs direct', '+p99 vs direct', 'pooled p99 ms', 'achieved RPS', 'client / server proxy CPU', 'mTLS connections', 'send lag p99 ms'].map(
      right,
    ),
  ];
  const delta = (row: string, metric: string): string =>
    row === IDENTITY_ROWS.direct ? NO_FIGURE : formatDeltaMs(difference(reader.median(row, metric), reader.median(IDENTITY_ROWS.direct, metric)));
  const pooled = (row: string): string => formatFigure((pooledHistogram(input.results, reader.id, row)?.percentileUs(99) ?? Number.NaN) / 1_000, 3);
  const cpu = (row: string): string =>
    row === IDENTITY_ROWS.direct ? 'no proxy' : `${formatFigure(reader.median(row, 'cpuCores'), 3)} / ${formatFigure(reader.median(row, 'serverCpuCores'), 3)}`;
  return `### Two hops with mTLS at a fixed ${formatFigure(o.rate)} RPS

The open-loop generator of the one-hop latency table (${o.latencyConnections} keep-alive connections, ${formatFigure(o.durationMs)} ms after ${formatFigure(o.latencyWarmupMs)} ms of warm-up) against
the backend directly, and through client proxy -> mTLS -> server proxy -> backend, one after the other in the same run (the order alternates
between runs). \`weft-control --orchestrator file\` serves a mesh file in which the backend is a meshed instance of \`bench.default\` behind the
server proxy's inbound port; the client proxy takes that endpoint from the control plane (\`WEFT_PROXY_CONTROL_ADDR\`), with its TLS identity,
so it opens TLS 1.3 to the server proxy (both certified by the control plane) and sends each HTTP/1.1 session with a transport header. The
server proxy requires mTLS (\`all-authenticated\`). Both proxies share the proxy core; the generator, nginx and the control plane are on the load
core. The run fails unless the server proxy's metrics name the client's identity with \`tls="true"\`; "mTLS connections" is how many it
counted over the warm-up and the measured run, to set against the requests sent (many requests per connection when the client proxy
reuses its connections to the peer). ${HAPROXY_PAIR_TEXT}

${reader.table(columns, (row) => [
  formatFigure(reader.median(row, 'p50Ms'), 3),
  formatFigure(reader.median(row, 'p90Ms'), 3),
  formatFigure(reader.median(row, 'p99Ms'), 3),
  formatFigure(reader.median(row, 'p999Ms'), 3),
  formatFigure(reader.median(row, 'maxMs'), 3),
  delta(row, 'p50Ms'),
  delta(row, 'p99Ms'),
  pooled(row),
  formatFigure(reader.median(row, 'achievedRps')),
  cpu(row),
  meshedConnectionsCell(reader, row),
  formatFigure(reader.median(row, 'sendLagP99Ms'), 3),
])}${reader.commands()}`;
}

/** A two-hop TCP row's median throughput over the direct row's (Weft's row unless another is named). */
function tcpRatioToDirect(reader: IdentityReader, row: string = IDENTITY_ROWS.twoHop): number | undefined {
  const direct = reader.median(IDENTITY_ROWS.direct, 'gbps');
  const twoHop = reader.median(row, 'gbps');
  return direct === undefined || twoHop === undefined || direct === 0 ? undefined : twoHop / direct;
}

/** Only Weft's server proxy reports its mTLS connections. */
function meshedConnectionsCell(reader: IdentityReader, row: string): string {
  return row === IDENTITY_ROWS.twoHop ? formatFigure(reader.median(row, 'meshedConnections')) : NO_FIGURE;
}


function twoHopTcpSection(input: BenchReportInput, reader: IdentityReader): string {
  const columns = [{ title: 'path' }, ...['Gbit/s (median)', 'runs', 'vs direct', 'client / server proxy CPU (cores)', 'client / server proxy RSS MB', 'mTLS connections'].map(right)];
  const pair = (row: string, client: string, server: string, decimals: number): string =>
    row === IDENTITY_ROWS.direct ? 'no proxy' : `${formatFigure(reader.median(row, client), decimals)} / ${formatFigure(reader.median(row, server), decimals)}`;
  return `### Opaque TCP through two hops with mTLS

The source and sink of the opaque TCP table (one connection: ${formatFigure(input.options.tcpMegabytes)} MiB in 256 KiB writes, a half-close, the sink's byte
count back; after a 16 MiB warm-up push) straight to the sink, and through client proxy -> mTLS -> server proxy -> sink, one after the
other in the same run (the order alternates between runs). The control plane serves a mesh file in which the sink is a meshed instance of
\`bench.default\`, its port declared \`opaque\`, behind the server proxy's inbound port; the client proxy's listener for the service finds the
source's bytes are not HTTP and relays them as an opaque session over TLS 1.3 to the server proxy (both certified by the control plane),
which requires mTLS (\`all-authenticated\`) and relays them to the sink. Both proxies share the proxy core, so their CPU adds up to at
most one core; the source, the sink and the control plane are on the load core. CPU and RSS are sampled every ${IDENTITY_SAMPLE_EVERY_MS} ms over
both pushes. The run fails unless the server proxy's metrics name the client's identity with \`tls="true"\`. ${HAPROXY_PAIR_TEXT}

${reader.table(columns, (row) => [
  formatFigure(reader.median(row, 'gbps'), 2),
  reader.perRun(row, 'gbps', 2),
  row === IDENTITY_ROWS.direct ? '1.00x' : formatRatio(tcpRatioToDirect(reader, row)),
  pair(row, 'cpuCores', 'serverCpuCores', 2),
  pair(row, 'rssLoadMb', 'serverRssLoadMb', 1),
  meshedConnectionsCell(reader, row),
])}${reader.commands()}`;
}

/** The identity sections for the scenarios that ran, goals first; none when none ran. */
export function renderIdentitySections(input: BenchReportInput): string[] {
  const readers = {
    'cert-issuance': new IdentityReader(input, 'cert-issuance'),
    'mtls-handshakes': new IdentityReader(input, 'mtls-handshakes'),
    'mtls-two-hop-latency': new IdentityReader(input, 'mtls-two-hop-latency'),
    'mtls-two-hop-tcp': new IdentityReader(input, 'mtls-two-hop-tcp'),
  } as const;
  if (!Object.values(readers).some((reader) => reader.ran)) return [];
  return [
    goalsSection(input, readers),
    ...(readers['cert-issuance'].ran ? [issuanceSection(input, readers['cert-issuance'])] : []),
    ...(readers['mtls-handshakes'].ran ? [handshakesSection(input, readers['mtls-handshakes'])] : []),
    ...(readers['mtls-two-hop-latency'].ran ? [twoHopSection(input, readers['mtls-two-hop-latency'])] : []),
    ...(readers['mtls-two-hop-tcp'].ran ? [twoHopTcpSection(input, readers['mtls-two-hop-tcp'])] : []),
  ];
}
