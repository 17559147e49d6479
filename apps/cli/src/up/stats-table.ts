// Renders the live figures of each service: an aligned table for a terminal, or one plain line per service for logs.
import type { ServiceFigures } from './inbound-stats.js';

export interface ServiceRow {
  /** `<namespace>/<name>`. */
  readonly service: string;
  readonly figures: ServiceFigures;
  /** Each instance's name and state, e.g. ["web-0", "up"]. */
  readonly instances: readonly (readonly [string, string])[];
}

const HEADER = ['SERVICE', 'SUCCESS', 'RPS', 'P50', 'P95', 'P99', 'TCP', 'MTLS', 'INSTANCES'] as const;
/** Columns aligned to the right (numbers); the others to the left. */
const RIGHT = new Set([1, 2, 3, 4, 5, 6, 7]);

/** The table's lines: a header, then one line per service; figures not known yet show as "-". */
export function renderStatsTable(rows: readonly ServiceRow[]): string[] {
  const cells = [[...HEADER], ...rows.map((row) => [row.service, ...figureCells(row.figures), instancesCell(row)])];
  const widths = HEADER.map((_, column) => Math.max(...cells.map((line) => (line[column] ?? '').length)));
  return cells.map((line) =>
    line
      .map((cell, column) => (column === line.length - 1 ? cell : RIGHT.has(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** One line per service, `key=value` pairs, for logs and terminals that are not interactive. */
export function renderStatsLines(rows: readonly ServiceRow[], time: string): string[] {
  return rows.map((row) => {
    const [success, rps, p50, p95, p99, tcp, mtls] = figureCells(row.figures);
    const figures = `success=${success} rps=${rps} p50=${p50} p95=${p95} p99=${p99} tcp=${tcp} mtls=${mtls}`;
    return `[${time}] ${row.service} ${figures} instances: ${instancesCell(row)}`;
  });
}

function figureCells(figures: ServiceFigures): string[] {
  return [
    percent(figures.successRate, 2),
    figures.requestsPerSecond === undefined ? '-' : figures.requestsPerSecond.toFixed(1),
    latency(figures.p50Ms),
    latency(figures.p95Ms),
    latency(figures.p99Ms),
    figures.openConnections === undefined ? '-' : String(Math.round(figures.openConnections)),
    percent(figures.mtlsShare, 0),
  ];
}

function instancesCell(row: ServiceRow): string {
  return row.instances.map(([name, state]) => `${name} ${state}`).join(', ');
}

export function percent(share: number | undefined, digits: number): string {
  return share === undefined ? '-' : `${(share * 100).toFixed(digits)}%`;
}

/** "0.8ms", "3.5ms", "42ms", "1.25s". */
export function latency(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 10) return `${ms.toFixed(1)}ms`;
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  return `${(ms / 1_000).toFixed(2)}s`;
}
