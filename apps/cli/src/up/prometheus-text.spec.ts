import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from './prometheus-text.js';

describe('parsePrometheusText', () => {
  it('reads samples with labels, escapes, special values and timestamps, skipping comments', () => {
    const text = [
      '# HELP response_total Responses ended.',
      '# TYPE response_total counter',
      'response_total{direction="inbound",tls="true",client_id="web.shop",classification="success",status_code="200"} 42',
      'response_latency_ms_bucket{direction="inbound",le="+Inf"} 7',
      'odd{path="a \\"quoted\\" \\\\ back\\nslash",empty=""} 1.5e3 1700000000000',
      'process_cpu_seconds_total 0.25',
      'nan_gauge NaN',
      '',
    ].join('\n');
    const samples = parsePrometheusText(text);
    expect(samples[0]).toEqual({
      name: 'response_total',
      labels: { direction: 'inbound', tls: 'true', client_id: 'web.shop', classification: 'success', status_code: '200' },
      value: 42,
    });
    expect(samples[1]).toEqual({ name: 'response_latency_ms_bucket', labels: { direction: 'inbound', le: '+Inf' }, value: 7 });
    expect(samples[2]).toEqual({ name: 'odd', labels: { path: 'a "quoted" \\ back\nslash', empty: '' }, value: 1500 });
    expect(samples[3]).toEqual({ name: 'process_cpu_seconds_total', labels: {}, value: 0.25 });
    expect(Number.isNaN(samples[4]?.value)).toBe(true);
    expect(samples).toHaveLength(5);
  });

  it('skips lines it cannot read and keeps the rest', () => {
    const samples = parsePrometheusText('good 1\nbad{label=unquoted} 2\nbroken{a="x" 3\nnovalue\nalso_good{a="b",} 4\n');
    expect(samples.map((sample) => sample.name)).toEqual(['good', 'also_good']);
  });
});
