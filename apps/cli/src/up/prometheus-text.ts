// Reads the samples of a Prometheus text exposition (what a proxy's /metrics serves); comments are skipped.

export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Every sample line of `text`; a line that cannot be read is skipped, so one odd series never hides the rest. */
export function parsePrometheusText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const sample = parseSampleLine(line);
    if (sample !== undefined) samples.push(sample);
  }
  return samples;
}

function parseSampleLine(line: string): MetricSample | undefined {
  const name = SAMPLE_NAME.exec(line)?.[0];
  if (name === undefined) return undefined;
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    const read = readLabels(rest.slice(1), labels);
    if (read === undefined) return undefined;
    rest = read;
  }
  const [valueText] = rest.trim().split(/\s+/);
  const value = parseValue(valueText ?? '');
  return value === undefined ? undefined : { name, labels, value };
}

/** Reads `a="x",b="y"}` into `labels`; the text after the closing brace, or undefined when malformed. */
function readLabels(text: string, labels: Record<string, string>): string | undefined {
  let rest = text.trimStart();
  while (!rest.startsWith('}')) {
    const name = LABEL_NAME.exec(rest)?.[0];
    if (name === undefined) return undefined;
    rest = rest.slice(name.length).trimStart();
    if (!rest.startsWith('="')) return undefined;
    let value = '';
    let at = 2;
    for (; at < rest.length && rest[at] !== '"'; at++) {
      if (rest[at] === '\\') {
        const next = rest[++at];
        value += next === 'n' ? '\n' : (next ?? '');
      } else {
        value += rest[at];
      }
    }
    if (at >= rest.length) return undefined;
    labels[name] = value;
    rest = rest.slice(at + 1).trimStart();
    if (rest.startsWith(',')) rest = rest.slice(1).trimStart();
    else if (!rest.startsWith('}')) return undefined;
  }
  return rest.slice(1);
}

function parseValue(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  if (text === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return undefined;
  return Number(text);
}
