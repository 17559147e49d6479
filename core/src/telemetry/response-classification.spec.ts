import { describe, expect, it } from 'vitest';
import { classifyResponse, GRPC_STATUS_NAMES, parseGrpcStatus } from './response-classification.js';

describe('classifyResponse', () => {
  it.each([
    [200, 'success'],
    [302, 'success'],
    [404, 'success'],
    [429, 'success'],
    [499, 'success'],
    [500, 'failure'],
    [503, 'failure'],
    [504, 'failure'],
  ] as const)('HTTP %d is a %s', (httpStatus, expected) => {
    expect(classifyResponse({ httpStatus })).toBe(expected);
  });

  it('judges gRPC by grpc-status, not by the HTTP 200 it rides on', () => {
    expect(classifyResponse({ httpStatus: 200, grpcStatus: 0 })).toBe('success');
    expect(classifyResponse({ httpStatus: 200, grpcStatus: 14 })).toBe('failure');
    expect(classifyResponse({ httpStatus: 200, grpcStatus: 5 })).toBe('failure');
  });

  it('counts a stream error as a failure even after a good status', () => {
    expect(classifyResponse({ httpStatus: 200, error: 'stream reset' })).toBe('failure');
    expect(classifyResponse({})).toBe('failure');
  });

  it('lets a route response class override the defaults', () => {
    expect(classifyResponse({ httpStatus: 404, routeSaysFailure: true })).toBe('failure');
    expect(classifyResponse({ httpStatus: 503, routeSaysFailure: false })).toBe('success');
  });
});

describe('parseGrpcStatus', () => {
  it('reads plain codes and ignores anything else', () => {
    expect(parseGrpcStatus('0')).toBe(0);
    expect(parseGrpcStatus(' 14 ')).toBe(14);
    expect(parseGrpcStatus(undefined)).toBeUndefined();
    expect(parseGrpcStatus('UNAVAILABLE')).toBeUndefined();
    expect(parseGrpcStatus('-1')).toBeUndefined();
    expect(parseGrpcStatus('1e3')).toBeUndefined();
  });

  it('names all seventeen codes', () => {
    expect(GRPC_STATUS_NAMES).toHaveLength(17);
    expect(GRPC_STATUS_NAMES[14]).toBe('UNAVAILABLE');
  });
});
