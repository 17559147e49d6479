// GrpcInboundPolicyService: the control plane's InboundServerPolicies service (GetPort, WatchPort) over DiscoverInboundPolicy.
import { type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, status } from '@grpc/grpc-js';
import { policy } from '@weft/contracts';
import type { DiscoverInboundPolicy, InboundServerPolicy, Subscription } from '@weft/core';
import { type ControlStreamEnd, ControlServerStream, ControlServerStreams } from '../control-client/control-server-stream.js';
import { WholeStateWriter } from '../control-client/whole-state-writer.js';
import { inboundPolicyToWire } from './inbound-policy-to-wire.js';
import { readPortSpec } from './port-spec.js';

export type PolicyRpc = 'GetPort' | 'WatchPort';

export type InboundPolicyServiceEvent =
  | { readonly event: 'policy-stream-started'; readonly peer: string; readonly target: string }
  | { readonly event: 'policy-request-refused'; readonly rpc: PolicyRpc; readonly peer: string; readonly reason: string }
  | { readonly event: 'policy-stream-ended'; readonly peer: string; readonly target: string; readonly reason: ControlStreamEnd };

export interface GrpcInboundPolicyServiceOptions {
  readonly policies: DiscoverInboundPolicy;
  readonly log?: (event: InboundPolicyServiceEvent) => void;
}

/**
 * Add it to a grpc-js Server with `server.addService(service.definition, service.implementation)`. WatchPort holds one
 * watch on the port for the life of the stream and sends the whole policy on every change, never the same one twice;
 * GetPort answers with the first policy the port gives. A bad workload or port is refused with INVALID_ARGUMENT
 * naming the field; a policy the wire cannot carry (see inboundPolicyToWire) ends the call with FAILED_PRECONDITION.
 * close() ends every stream with UNAVAILABLE.
 */
export class GrpcInboundPolicyService {
  readonly definition = policy.InboundServerPoliciesService;
  readonly implementation: policy.InboundServerPoliciesServer;
  private readonly streams = new ControlServerStreams();
  private readonly log: (event: InboundPolicyServiceEvent) => void;

  constructor(private readonly options: GrpcInboundPolicyServiceOptions) {
    this.log = options.log ?? (() => undefined);
    this.implementation = {
      getPort: (call, callback) => this.getPort(call, callback),
      watchPort: (call) => this.watchPort(call),
    };
  }

  /** How many WatchPort streams are open. */
  get openStreams(): number {
    return this.streams.size;
  }

  close(): void {
    this.streams.shutdown('the control plane is shutting down; keep enforcing the current policy and reconnect');
  }

  private getPort(call: ServerUnaryCall<policy.PortSpec, policy.Server>, callback: sendUnaryData<policy.Server>): void {
    const peer = call.getPeer();
    const spec = readPortSpec(call.request);
    if (!spec.ok) {
      const reason = spec.error.describeRequestField('PortSpec');
      this.log({ event: 'policy-request-refused', rpc: 'GetPort', peer, reason });
      return callback({ code: status.INVALID_ARGUMENT, details: reason });
    }
    const state: { answered: boolean; subscription?: Subscription } = { answered: false };
    const answer = (current: InboundServerPolicy): void => {
      if (state.answered) return;
      state.answered = true;
      state.subscription?.close();
      const wire = inboundPolicyToWire(current);
      if (wire.ok) callback(null, wire.value);
      else callback({ code: status.FAILED_PRECONDITION, details: `the control plane cannot send this policy: ${wire.error.toString()}` });
    };
    call.on('cancelled', () => {
      state.answered = true;
      state.subscription?.close();
    });
    const subscription = this.options.policies.watch(spec.value.workload, spec.value.port, answer);
    // The first policy may have come (and been answered) before watch() returned.
    if (state.answered) subscription.close();
    else state.subscription = subscription;
  }

  private watchPort(call: ServerWritableStream<policy.PortSpec, policy.Server>): void {
    const peer = call.getPeer();
    const refuse = (code: status, reason: string): void => {
      this.log({ event: 'policy-request-refused', rpc: 'WatchPort', peer, reason });
      call.emit('error', { code, details: reason });
    };
    if (this.streams.isClosed) return refuse(status.UNAVAILABLE, 'the control plane is shutting down; reconnect later');
    const spec = readPortSpec(call.request);
    if (!spec.ok) return refuse(status.INVALID_ARGUMENT, spec.error.describeRequestField('PortSpec'));
    const { workload, port } = spec.value;
    const target = `${workload.namespace}/${workload.name}:${port}`;
    const stream: ControlServerStream<policy.Server> = new ControlServerStream(call, (reason) => {
      this.streams.delete(stream);
      this.log({ event: 'policy-stream-ended', peer, target, reason });
    });
    this.streams.add(stream);
    this.log({ event: 'policy-stream-started', peer, target });
    const writer = new WholeStateWriter(stream, inboundPolicyToWire);
    stream.holdWatch(this.options.policies.watch(workload, port, (current) => writer.offer(current)));
    stream.endIfClientGone();
  }
}
