// Argument parsing for `weft identity` subcommands: `--flag VALUE`, `--flag=VALUE`, boolean switches, positionals.

/** A command-line mistake; the command prints it with its usage hint and exits 2. */
export class UsageError extends Error {
  override get name(): string {
    return 'UsageError';
  }
}

export interface ParsedArgs {
  readonly values: ReadonlyMap<string, string>;
  readonly switches: ReadonlySet<string>;
  readonly positionals: readonly string[];
}

export interface ArgSpec {
  /** Flags that take a value, without the leading "--". */
  readonly valued: readonly string[];
  /** Flags that take none. */
  readonly switches: readonly string[];
}

/** @throws UsageError naming the unknown flag, the flag without a value, or the flag given twice. */
export function parseArgs(args: readonly string[], spec: ArgSpec): ParsedArgs {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const [name = '', inline] = splitFlag(arg.slice(2));
    if (spec.switches.includes(name) && inline === undefined) {
      switches.add(name);
      continue;
    }
    if (!spec.valued.includes(name)) throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
    const value = inline ?? args[++i];
    if (value === undefined || value === '') throw new UsageError(`option --${name} needs a value`);
    if (values.has(name)) throw new UsageError(`option --${name} is given twice`);
    values.set(name, value);
  }
  return { values, switches, positionals };
}

function splitFlag(text: string): [string, string?] {
  const at = text.indexOf('=');
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** A span of time for people: "3649d 23h" (from 2 days on), "47h 59m", "59m 40s", "40s". */
export function humanDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1_000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const seconds = total % 60;
  if (ms >= 2 * DAY_MS) return `${days}d ${hours}h`;
  if (ms >= DAY_MS) return `${days * 24 + hours}h ${minutes}m`;
  if (ms >= HOUR_MS) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m ${seconds}s`;
  return `${seconds}s`;
}
