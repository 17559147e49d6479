// GrpcDestinationService: the control plane's Destination service (Get, GetProfile) over the core discovery ports.
import { type ServerWritableStream, status } from '@grpc/grpc-js';
import { destination } from '@weft/contracts';
import {
  type Authority,
  type DiscoverEndpoints,
  type DiscoverProfile,
  formatAuthority,
  type ParseAuthorityOptions,
  type Subscription,
} from '@weft/core';
import { type ControlStreamEnd, ControlServerStream, ControlServerStreams } from '../control-client/control-server-stream.js';
import { WholeStateWriter } from '../control-client/whole-state-writer.js';
import { readDestinationRequest } from './destination-request.js';
import { EndpointStreamWriter } from './endpoint-stream-writer.js';
import { checkedServiceProfileToWire } from './profile-to-wire.js';

export type DestinationRpc = 'Get' | 'GetProfile';

export type DestinationServiceEvent =
  | { readonly event: 'destination-stream-started'; readonly rpc: DestinationRpc; readonly peer: string; readonly target: string }
  | { readonly event: 'destination-stream-refused'; readonly rpc: DestinationRpc; readonly peer: string; readonly reason: string }
  | {
      readonly event: 'destination-stream-ended';
      readonly rpc: DestinationRpc;
      readonly peer: string;
      readonly target: string;
      readonly reason: ControlStreamEnd;
    };

export interface GrpcDestinationServiceOptions {
  readonly endpoints: DiscoverEndpoints;
  readonly profiles: DiscoverProfile;
  /** How request paths are read; must match the discovery adapters' cluster domain and default namespace. */
  readonly authorityOptions?: ParseAuthorityOptions;
  readonly log?: (event: DestinationServiceEvent) => void;
}

/**
 * Add it to a grpc-js Server with `server.addService(service.definition, service.implementation)`. Each stream holds
 * one watch on the discovery port, closed when the client cancels or the stream ends. Requests with a bad path or
 * context token are refused with INVALID_ARGUMENT naming the field. close() ends every stream with UNAVAILABLE (the
 * proxies keep their state and reconnect); call it before shutting the gRPC server down.
 */
export class GrpcDestinationService {
  readonly definition = destination.DestinationService;
  readonly implementation: destination.DestinationServer;
  private readonly streams = new ControlServerStreams();
  private readonly log: (event: DestinationServiceEvent) => void;

  constructor(private readonly options: GrpcDestinationServiceOptions) {
    this.log = options.log ?? (() => undefined);
    this.implementation = {
      get: (call) => this.serveEndpoints(call),
      getProfile: (call) => this.serveProfile(call),
    };
  }

  /** How many Get and GetProfile streams are open. */
  get openStreams(): number {
    return this.streams.size;
  }

  close(): void {
    this.streams.shutdown('the control plane is shutting down; keep the current state and reconnect');
  }

  private serveEndpoints(call: ServerWritableStream<destination.GetDestination, destination.Update>): void {
    this.serve(call, 'Get', (stream, target) => {
      const writer = new EndpointStreamWriter(stream);
      return this.options.endpoints.watch(target, (update) => writer.offer(update));
    });
  }

  private serveProfile(call: ServerWritableStream<destination.GetDestination, destination.DestinationProfile>): void {
    this.serve(call, 'GetProfile', (stream, target) => {
      const writer = new WholeStateWriter(stream, checkedServiceProfileToWire);
      return this.options.profiles.watch(target, (profile) => writer.offer(profile));
    });
  }

  /** Checks the request, then keeps a watch open for the life of the stream. */
  private serve<W>(
    call: ServerWritableStream<destination.GetDestination, W>,
    rpc: DestinationRpc,
    watch: (stream: ControlServerStream<W>, target: Authority) => Subscription,
  ): void {
    const peer = call.getPeer();
    const refuse = (code: status, reason: string): void => {
      this.log({ event: 'destination-stream-refused', rpc, peer, reason });
      call.emit('error', { code, details: reason });
    };
    if (this.streams.isClosed) return refuse(status.UNAVAILABLE, 'the control plane is shutting down; reconnect later');
    const request = readDestinationRequest(call.request, this.options.authorityOptions);
    if (!request.ok) return refuse(status.INVALID_ARGUMENT, request.error.describeRequestField('GetDestination'));
    const target = formatAuthority(request.value.target);
    const stream: ControlServerStream<W> = new ControlServerStream(call, (reason) => {
      this.streams.delete(stream);
      this.log({ event: 'destination-stream-ended', rpc, peer, target, reason });
    });
    this.streams.add(stream);
    this.log({ event: 'destination-stream-started', rpc, peer, target });
    stream.holdWatch(watch(stream, request.value.target));
    // The client may have left before the handler ran.
    stream.endIfClientGone();
  }
}
