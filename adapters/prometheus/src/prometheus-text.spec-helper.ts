// Test helpers: a strict parser of the Prometheus text format (what a scrape reads), and `promtool check metrics`.
import { spawnSync } from 'node:child_process';

export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface ParsedFamily {
  readonly name: string;
  /** From the TYPE line; undefined when there was none (untyped). */
  type: string | undefined;
  help: string | undefined;
  readonly samples: ParsedSample[];
}

export interface ParsedExposition {
  readonly families: readonly ParsedFamily[];
  readonly samples: readonly ParsedSample[];
}

export class ExpositionParseError extends Error {
  constructor(
    readonly lineNumber: number,
    readonly line: string,
    reason: string,
  ) {
    super(`line ${lineNumber}: ${reason}: ${JSON.stringify(line)}`);
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT = /^[+-]?(?:inf|nan|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)$/i;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

/**
 * Parses the text exposition format as Prometheus does, and refuses what it refuses: bad names or escapes, a second
 * HELP or TYPE for a family, a TYPE after the family's samples, a family that comes back after another one, the same
 * series twice, a histogram bucket without `le`, a missing final newline.
 */
export function parseExposition(text: string): ParsedExposition {
  if (text.length > 0 && !text.endsWith('\n')) throw new ExpositionParseError(0, text.slice(-40), 'no newline at the end');
  const parser = new ExpositionParser();
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, index) => parser.line(line, index + 1));
  return { families: parser.families, samples: parser.families.flatMap((family) => family.samples) };
}

/** The sum of the samples named `name` whose labels include `labels`; undefined when none matches. */
export function sumSamples(
  exposition: ParsedExposition,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  let total: number | undefined;
  for (const sample of exposition.samples) {
    if (sample.name !== name) continue;
    if (!Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) continue;
    total = (total ?? 0) + sample.value;
  }
  return total;
}

class ExpositionParser {
  readonly families: ParsedFamily[] = [];
  private current: ParsedFamily | undefined;
  private readonly seriesSeen = new Set<string>();
  private lineNumber = 0;
  private text = '';

  line(text: string, lineNumber: number): void {
    this.lineNumber = lineNumber;
    this.text = text;
    if (/^[ \t]*$/.test(text)) return;
    // Only blanks and tabs separate tokens; a HELP text may hold any other character, line separators included.
    const meta = /^#[ \t]*(HELP|TYPE)[ \t]+(.*)$/s.exec(text);
    if (meta) this.meta(meta[1] as 'HELP' | 'TYPE', meta[2] as string);
    else if (!text.startsWith('#')) this.sample(text);
  }

  private meta(keyword: 'HELP' | 'TYPE', rest: string): void {
    const name = METRIC_NAME.exec(rest)?.[0];
    if (name === undefined) this.fail(`${keyword} without a valid metric name`);
    const argument = rest.slice(name.length).replace(/^[ \t]+/, '');
    const family = this.familyNamed(name);
    if (keyword === 'HELP') {
      if (family.help !== undefined) this.fail(`second HELP for ${name}`);
      family.help = unescape(argument, '\\n', (reason) => this.fail(reason));
      return;
    }
    if (!TYPES.has(argument)) this.fail(`unknown type ${argument}`);
    if (family.type !== undefined) this.fail(`second TYPE for ${name}`);
    if (family.samples.length > 0) this.fail(`TYPE for ${name} after its samples`);
    family.type = argument;
  }

  private sample(text: string): void {
    const name = METRIC_NAME.exec(text)?.[0];
    if (name === undefined) this.fail('a sample without a valid metric name');
    let rest = text.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) [labels, rest] = this.labels(rest.slice(1));
    const fields = /^[ \t]+(\S+)(?:[ \t]+(-?\d+))?[ \t]*$/.exec(rest);
    if (!fields || !FLOAT.test(fields[1] as string)) this.fail('a sample value that is not a number');
    const family = this.familyOf(name);
    if (family.type === 'histogram' && name.endsWith('_bucket') && labels['le'] === undefined) this.fail('a bucket without le');
    const key = `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
    if (this.seriesSeen.has(key)) this.fail(`the series ${name} twice`);
    this.seriesSeen.add(key);
    family.samples.push({ name, labels, value: Number(normalizeFloat(fields[1] as string)) });
  }

  /** Reads `name="value",...}` and returns the labels and what follows the closing brace. */
  private labels(input: string): [Record<string, string>, string] {
    const labels: Record<string, string> = {};
    let rest = input;
    while (!rest.startsWith('}')) {
      const name = LABEL_NAME.exec(rest)?.[0];
      if (name === undefined || rest[name.length] !== '=' || rest[name.length + 1] !== '"') this.fail('a malformed label');
      if (name in labels) this.fail(`the label ${name} twice`);
      const [value, after] = this.quoted(rest.slice(name.length + 2));
      labels[name] = value;
      rest = after.startsWith(',') ? after.slice(1) : after;
      if (!rest.startsWith('}') && after === rest) this.fail('labels not separated by a comma');
    }
    return [labels, rest.slice(1)];
  }

  /** Reads a label value up to its closing quote, undoing the three escapes the format has. */
  private quoted(input: string): [string, string] {
    for (let i = 0; i < input.length; i++) {
      if (input[i] === '\\') i++;
      else if (input[i] === '"') return [unescape(input.slice(0, i), '\\n"', (reason) => this.fail(reason)), input.slice(i + 1)];
    }
    this.fail('an unterminated label value');
  }

  private familyNamed(name: string): ParsedFamily {
    if (this.current?.name === name) return this.current;
    if (this.families.some((family) => family.name === name)) this.fail(`${name} again after another family`);
    this.current = { name, type: undefined, help: undefined, samples: [] };
    this.families.push(this.current);
    return this.current;
  }

  private familyOf(sampleName: string): ParsedFamily {
    const current = this.current;
    if (current && (SUFFIXES[current.type ?? 'untyped'] ?? ['']).some((suffix) => `${current.name}${suffix}` === sampleName)) return current;
    return this.familyNamed(sampleName);
  }

  private fail(reason: string): never {
    throw new ExpositionParseError(this.lineNumber, this.text, reason);
  }
}

/** Undoes backslash escapes; `allowed` lists the characters that may follow a backslash (`n` meaning line feed). */
function unescape(text: string, allowed: string, fail: (reason: string) => never): string {
  return text.replace(/\\(.?)/g, (_, next: string) => {
    if (next === '' || !allowed.includes(next)) fail(`the escape \\${next}`);
    return next === 'n' ? '\n' : next;
  });
}

function normalizeFloat(text: string): string {
  const lower = text.toLowerCase();
  if (lower.endsWith('inf')) return lower.startsWith('-') ? '-Infinity' : 'Infinity';
  return lower.endsWith('nan') ? 'NaN' : text;
}

export type PromtoolResult =
  | { readonly installed: false }
  | { readonly installed: true; readonly exitCode: number; readonly problems: readonly string[] };

/** Runs the real `promtool check metrics` with `text` on stdin; exit 0 is clean, 3 lint problems, 1 unparseable. */
export function promtoolCheckMetrics(text: string): PromtoolResult {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return { installed: false };
  if (run.error) throw run.error;
  const problems = `${run.stdout}${run.stderr}`.split('\n').filter((line) => line.trim() !== '');
  return { installed: true, exitCode: run.status ?? -1, problems };
}
