import { credentials, type ServiceError, status } from '@grpc/grpc-js';
import { policy } from '@weft/contracts';
import type { InboundServerPolicy } from '@weft/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ControlPlaneTruth, newTruth, TestControlPlane } from '../control-client/control-plane.spec-helper.js';
import { inboundPolicyFromWire } from './inbound-policy-from-wire.js';
import { portSpecFor } from './port-spec.js';

const web = { namespace: 'shop', name: 'web-0' };

const withQuery: InboundServerPolicy = {
  port: 8080,
  protocol: 'HTTP/1',
  server: { kind: 'Server', name: 'web-http' },
  authorizations: [],
  httpRoutes: [{ name: 'search', matches: [{ queryParams: [{ type: 'Exact', name: 'q', value: 'x' }] }], authorizations: [] }],
  audit: false,
};

describe('GrpcInboundPolicyService', () => {
  let truth: ControlPlaneTruth;
  let plane: TestControlPlane;
  let client: policy.InboundServerPoliciesClient;

  beforeEach(async () => {
    truth = newTruth();
    plane = await TestControlPlane.start(truth);
    client = new policy.InboundServerPoliciesClient(plane.address, credentials.createInsecure());
  });

  afterEach(async () => {
    client.close();
    await plane.stop();
  });

  function getPort(spec: policy.PortSpec): Promise<policy.Server> {
    return new Promise((resolve, reject) => client.getPort(spec, (error, response) => (error ? reject(error) : resolve(response))));
  }

  function watchPort(spec: policy.PortSpec) {
    const call = client.watchPort(spec);
    const reader = { call, messages: [] as policy.Server[], error: undefined as ServiceError | undefined };
    call.on('data', (message: policy.Server) => reader.messages.push(message));
    call.on('error', (error: ServiceError) => (reader.error = error));
    return reader;
  }

  it('answers GetPort with the current policy and leaves no watch behind', async () => {
    const answer = await getPort(portSpecFor(web, 8080));
    expect(inboundPolicyFromWire(answer, 8080)).toEqual({ ok: true, value: truth.policies.defaultPolicy(8080) });
    expect(truth.policies.watcherCount()).toBe(0);
  });

  it.each([
    [{ workload: '{"ns":"shop"}', port: 8080 }, 'PortSpec.workload'],
    [{ workload: 'web-0', port: 8080 }, 'PortSpec.workload'],
    [{ workload: '{"ns":"shop","name":"web-0"}', port: 0 }, 'PortSpec.port'],
  ])('refuses %j with INVALID_ARGUMENT naming the field', async (spec, field) => {
    await expect(getPort(spec)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining(field) });
    const reader = watchPort(spec);
    await vi.waitFor(() => expect(reader.error?.code).toBe(status.INVALID_ARGUMENT));
    expect(reader.error?.details).toContain(field);
  });

  it('streams the whole policy on each change, once, and closes its watch when the client cancels', async () => {
    const reader = watchPort(portSpecFor(web, 8080));
    await vi.waitFor(() => expect(reader.messages).toHaveLength(1));
    truth.policies.setPolicy(web, 8080, truth.policies.defaultPolicy(8080));
    truth.policies.setPolicy(web, 8080, { ...truth.policies.defaultPolicy(8080), protocol: 'opaque' });
    await vi.waitFor(() => expect(reader.messages).toHaveLength(2));
    expect(reader.messages[1]?.protocol).toEqual({ kind: { $case: 'opaque', value: {} } });
    expect(truth.policies.watcherCount(web, 8080)).toBe(1);
    reader.call.cancel();
    await vi.waitFor(() => expect(truth.policies.watcherCount()).toBe(0));
    expect(plane.policy.openStreams).toBe(0);
  });

  it('ends the call with FAILED_PRECONDITION for a policy the wire cannot carry, naming the field', async () => {
    truth.policies.setPolicy(web, 8080, withQuery);
    await expect(getPort(portSpecFor(web, 8080))).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: expect.stringContaining('routes[0].matches[0]'),
    });
    const reader = watchPort(portSpecFor(web, 8080));
    await vi.waitFor(() => expect(reader.error?.code).toBe(status.FAILED_PRECONDITION));
    expect(reader.messages).toEqual([]);
    await vi.waitFor(() => expect(truth.policies.watcherCount()).toBe(0));
  });
});
