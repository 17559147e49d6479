// Response classification: whether a finished HTTP or gRPC exchange counts as a success or a failure.
export type Classification = 'success' | 'failure';

/** The gRPC status code names, by number, as they appear in `grpc-status`. */
export const GRPC_STATUS_NAMES: readonly string[] = Object.freeze([
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED',
  'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
]);

export interface ResponseOutcome {
  /** The HTTP status, absent when the stream failed before a response head arrived. */
  readonly httpStatus?: number;
  /** The gRPC status from the trailers (or a trailers-only response), when the exchange was gRPC. */
  readonly grpcStatus?: number;
  /** Set when the exchange ended in an error (reset, timeout, connection lost) rather than a clean end of stream. */
  readonly error?: string;
  /** The verdict of a matching route response class, which overrides the defaults below. */
  readonly routeSaysFailure?: boolean;
}

/**
 * Errors are failures. A route's response class decides next. gRPC exchanges are judged by their
 * grpc-status (anything but OK fails, whatever the HTTP status), others by HTTP status (5xx fails).
 */
export function classifyResponse(outcome: ResponseOutcome): Classification {
  if (outcome.error !== undefined) return 'failure';
  if (outcome.routeSaysFailure !== undefined) return outcome.routeSaysFailure ? 'failure' : 'success';
  if (outcome.grpcStatus !== undefined) return outcome.grpcStatus === 0 ? 'success' : 'failure';
  if (outcome.httpStatus === undefined) return 'failure';
  return outcome.httpStatus >= 500 ? 'failure' : 'success';
}

/** Reads a `grpc-status` header value; anything but a plain non-negative integer is treated as absent. */
export function parseGrpcStatus(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,3}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}
