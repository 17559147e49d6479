// A grpc-js server interceptor that counts every call of the control plane by its end status, and its open streams.
import {
  ResponderBuilder,
  ServerInterceptingCall,
  type ServerInterceptor,
  ServerListenerBuilder,
  status,
} from '@grpc/grpc-js';
import type { ControlMetrics } from './control-metrics.js';

/** The `service` label of each gRPC service: the short names the proxies' control_* client metrics use too. */
const SERVICE_LABELS: Readonly<Record<string, string>> = {
  'weft.destination.v1.Destination': 'destination',
  'weft.policy.v1.InboundServerPolicies': 'policy',
  'weft.identity.v1.Identity': 'identity',
};

/** "/weft.destination.v1.Destination/Get" → { service: "destination", rpc: "Get" }; another service keeps its full name. */
export function grpcMethodLabels(path: string): { readonly service: string; readonly rpc: string } {
  const [, service = '', rpc = ''] = path.split('/');
  return { service: SERVICE_LABELS[service] ?? service, rpc };
}

/**
 * Each call is counted once, when it ends: with the status the server sends, or CANCELLED when the client leaves (or
 * the connection drops) first. Server-streaming calls are also counted as open from their start to their end.
 */
export function grpcMetricsInterceptor(metrics: ControlMetrics): ServerInterceptor {
  return (method, call) => {
    const { service, rpc } = grpcMethodLabels(method.path);
    const streaming = method.responseStream;
    let streamOpen = false;
    let ended = false;
    const end = (code: string): void => {
      if (ended) return;
      ended = true;
      if (streamOpen) metrics.streamClosed(service, rpc);
      streamOpen = false;
      metrics.callEnded(service, rpc, code);
    };
    const responder = new ResponderBuilder()
      .withStart((next) => {
        streamOpen = streaming && !ended;
        if (streamOpen) metrics.streamOpened(service, rpc);
        next(new ServerListenerBuilder().withOnCancel(() => end(status[status.CANCELLED])).build());
      })
      .withSendStatus((sent, next) => {
        end(status[sent.code] ?? String(sent.code));
        next(sent);
      })
      .build();
    return new ServerInterceptingCall(call, responder);
  };
}
