import { describe, expect, it } from 'vitest';
import { InvalidWireMessageError } from '../control-client/invalid-wire-message-error.js';
import { portSpecFor, readPortSpec } from './port-spec.js';

describe('readPortSpec', () => {
  it('reads back what a client sends', () => {
    const workload = { namespace: 'shop', name: 'web-6c8d' };
    expect(readPortSpec(portSpecFor(workload, 8080))).toEqual({ ok: true, value: { workload, port: 8080 } });
  });

  it.each([
    ['{"ns":"shop"}', 8080, 'workload', /"name"/],
    ['{"name":"web"}', 8080, 'workload', /"ns"/],
    ['shop/web', 8080, 'workload', /not JSON/],
    ['["shop","web"]', 8080, 'workload', /not a JSON object/],
    ['{"ns":"shop","name":"web"}', 0, 'port', /1 to 65535/],
    ['{"ns":"shop","name":"web"}', 70_000, 'port', /1 to 65535/],
  ])('refuses workload %s port %d, naming the field', (workload, port, field, words) => {
    const read = readPortSpec({ workload, port });
    const error = read.ok ? undefined : read.error;
    expect(error).toBeInstanceOf(InvalidWireMessageError);
    expect(error?.field).toBe(field);
    expect(error?.input).toBe(field === 'port' ? String(port) : workload);
    expect(error?.describeRequestField('PortSpec')).toMatch(new RegExp(`^invalid PortSpec\\.${field} `));
    expect(error?.problem).toMatch(words);
  });
});
