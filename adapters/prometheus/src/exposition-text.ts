// Renders one metric family in the Prometheus text exposition format (version 0.0.4), escaping help and label values.
export type MetricFamilyType = 'counter' | 'gauge' | 'histogram';

export interface ExpositionSample {
  /** The sample's name: the family's, or for a histogram `<family>_bucket`, `_sum` or `_count`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

export interface ExpositionFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricFamilyType;
  readonly samples: readonly ExpositionSample[];
}

/** `# HELP`, `# TYPE` and every sample of the family, one per line, ending with a newline. */
export function renderExpositionFamily(family: ExpositionFamily): string {
  const lines = [`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`];
  for (const sample of family.samples) lines.push(renderSample(sample));
  return `${lines.join('\n')}\n`;
}

function renderSample(sample: ExpositionSample): string {
  const pairs = Object.entries(sample.labels).map(([name, value]) => `${name}="${escapeLabelValue(String(value))}"`);
  const labels = pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
  return `${sample.name}${labels} ${formatSampleValue(sample.value)}`;
}

/** In HELP text only backslash and line feed are escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** In label values backslash, double quote and line feed are escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Go's float syntax, which Prometheus parses: `NaN`, `+Inf`, `-Inf`, or a decimal/exponent number. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
