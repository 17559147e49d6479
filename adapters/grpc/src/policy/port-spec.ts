// PortSpec: the InboundServerPolicies request read and checked (which workload, which port), and written by clients.
import type { policy } from '@weft/contracts';
import { err, ok, type PolicyWorkloadRef, type Result } from '@weft/core';
import { InvalidWireMessageError } from '../control-client/invalid-wire-message-error.js';

/** Workload documents longer than this are refused: the document names a workload, it carries no payload. */
export const MAX_WORKLOAD_LENGTH = 4_096;

export interface PortRequest {
  readonly workload: PolicyWorkloadRef;
  readonly port: number;
}

/** Reads `workload` as {"ns": "<namespace>", "name": "<instance>"} (other fields are ignored) and `port` as 1-65535. */
export function readPortSpec(spec: policy.PortSpec): Result<PortRequest, InvalidWireMessageError> {
  const { workload: text, port } = spec;
  const fail = (reason: string) => err(new InvalidWireMessageError('workload', text.slice(0, 80), reason));
  const example = 'send e.g. {"ns":"shop","name":"web-6c8d"}';
  if (text.length > MAX_WORKLOAD_LENGTH) return fail(`is ${text.length} characters long; at most ${MAX_WORKLOAD_LENGTH} are read`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail(`is not JSON; ${example}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail(`is not a JSON object; ${example}`);
  const { ns, name } = parsed as Record<string, unknown>;
  if (typeof ns !== 'string' || ns === '') return fail(`has no "ns" (the namespace or project) as text; ${example}`);
  if (typeof name !== 'string' || name === '') return fail(`has no "name" (the pod, container or process instance) as text; ${example}`);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    return err(new InvalidWireMessageError('port', String(port), 'is not a port from 1 to 65535'));
  }
  return ok({ workload: { namespace: ns, name }, port });
}

/** The request a client sends to watch `port` of `workload`. */
export function portSpecFor(workload: PolicyWorkloadRef, port: number): policy.PortSpec {
  return { workload: JSON.stringify({ ns: workload.namespace, name: workload.name }), port };
}
