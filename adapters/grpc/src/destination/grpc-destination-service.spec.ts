import { EventEmitter } from 'node:events';
import { type ClientReadableStream, credentials, type ServerWritableStream, type ServiceError, status } from '@grpc/grpc-js';
import { destination } from '@weft/contracts';
import { type Endpoint, makeEndpoint, parseAuthority, unwrap } from '@weft/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ControlServerStream } from '../control-client/control-server-stream.js';
import { type ControlPlaneTruth, newTruth, TestControlPlane } from '../control-client/control-plane.spec-helper.js';
import { endpointUpdateFromWire } from './endpoint-from-wire.js';
import { EndpointStreamWriter } from './endpoint-stream-writer.js';

const web = unwrap(parseAuthority('web.shop:8080'));
const a = endpoint('10.0.0.1:8080');
const b = endpoint('10.0.0.2:8080');
const c = endpoint('10.0.0.3:8080');

function endpoint(address: string): Endpoint {
  return unwrap(makeEndpoint({ address, labels: { pod: address } }));
}

/** A stream read by a plain generated client: its messages and how it ended. */
class Reader<W> {
  readonly messages: W[] = [];
  error: ServiceError | undefined;

  constructor(readonly call: ClientReadableStream<W>) {
    call.on('data', (message: W) => this.messages.push(message));
    call.on('error', (error: ServiceError) => (this.error = error));
  }

  async received(count: number): Promise<void> {
    await vi.waitFor(() => expect(this.messages.length).toBeGreaterThanOrEqual(count), { timeout: 2_000 });
  }

  async failed(): Promise<ServiceError> {
    await vi.waitFor(() => expect(this.error).toBeDefined(), { timeout: 2_000 });
    return this.error as ServiceError;
  }
}

describe('GrpcDestinationService', () => {
  let truth: ControlPlaneTruth;
  let plane: TestControlPlane;
  let client: destination.DestinationClient;

  beforeEach(async () => {
    truth = newTruth();
    plane = await TestControlPlane.start(truth);
    client = new destination.DestinationClient(plane.address, credentials.createInsecure());
  });

  afterEach(async () => {
    client.close();
    await plane.stop();
  });

  const get = (path: string, contextToken = '') => new Reader(client.get({ path, contextToken }));
  const getProfile = (path: string) => new Reader(client.getProfile({ path, contextToken: '' }));

  it.each([
    ['web.shop', 'path', 'has no port'],
    ['web shop:80', 'path', 'whitespace'],
  ])('refuses path %j with INVALID_ARGUMENT naming the field', async (path, field, words) => {
    for (const reader of [get(path), getProfile(path)]) {
      const error = await reader.failed();
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(error.details).toContain(`GetDestination.${field} ${JSON.stringify(path)}`);
      expect(error.details).toContain(words);
    }
    expect(truth.endpoints.watcherCount() + truth.profiles.watcherCount()).toBe(0);
  });

  it('refuses a context token that is not a JSON object, naming the field', async () => {
    const error = await get('web.shop:8080', 'shop/checkout').failed();
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toContain('GetDestination.context_token');
  });

  it('sends a first message at once: does_not_exist for an unknown name, reset for a known one', async () => {
    truth.endpoints.setEndpoints(web, [a]);
    const unknown = get('api.shop:8080');
    const known = get('web.shop.svc.cluster.local:8080');
    await unknown.received(1);
    await known.received(1);
    expect(unknown.messages).toEqual([{ kind: { $case: 'doesNotExist', value: {} } }]);
    expect(endpointUpdateFromWire(known.messages[0] ?? {})).toEqual({ ok: true, value: { kind: 'reset', endpoints: [a] } });
  });

  it('never sends a change twice, whatever discovery repeats', async () => {
    truth.endpoints.setEndpoints(web, [a]);
    const reader = get('web.shop:8080');
    await reader.received(1);
    truth.endpoints.publishRaw(web, { kind: 'add', endpoints: [a] });
    truth.endpoints.publishRaw(web, { kind: 'reset', endpoints: [a] });
    truth.endpoints.publishRaw(web, { kind: 'remove', addresses: [c.address] });
    truth.endpoints.setEndpoints(web, [a, b]);
    await reader.received(2);
    truth.endpoints.deleteService(web);
    truth.endpoints.publishRaw(web, { kind: 'doesNotExist' });
    truth.endpoints.setEndpoints(web, [c]);
    await reader.received(4);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reader.messages.map((message) => endpointUpdateFromWire(message))).toEqual([
      { ok: true, value: { kind: 'reset', endpoints: [a] } },
      { ok: true, value: { kind: 'add', endpoints: [b] } },
      { ok: true, value: { kind: 'doesNotExist' } },
      { ok: true, value: { kind: 'reset', endpoints: [c] } },
    ]);
  });

  it('sends the default profile first and a profile only when it changes', async () => {
    const reader = getProfile('books.library:8080');
    await reader.received(1);
    expect(reader.messages[0]?.fullyQualifiedName).toBe('books.library.svc.cluster.local');
    expect(reader.messages[0]?.routes).toEqual([]);
    const books = unwrap(parseAuthority('books.library:8080'));
    truth.profiles.setProfile(books, { ...defaultProfile(), opaqueProtocol: false });
    truth.profiles.setProfile(books, { ...defaultProfile(), opaqueProtocol: true });
    await reader.received(2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reader.messages.map((message) => message.opaqueProtocol)).toEqual([false, true]);
  });

  it('ends a profile stream with FAILED_PRECONDITION rather than send a profile proxies would refuse', async () => {
    const books = unwrap(parseAuthority('books.library:8080'));
    const broken = { name: 'broken', condition: { pathRegex: '/books/(' }, responseClasses: [], isRetryable: false };
    truth.profiles.setProfile(books, { ...defaultProfile(), opaqueProtocol: false, routes: [broken] });
    const error = await getProfile('books.library:8080').failed();
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(error.details).toContain('"broken"');
    await vi.waitFor(() => expect(truth.profiles.watcherCount()).toBe(0));
  });

  it('closes its watch when the client cancels', async () => {
    truth.endpoints.setEndpoints(web, [a]);
    const endpoints = get('web.shop:8080');
    const profile = getProfile('web.shop:8080');
    await endpoints.received(1);
    await profile.received(1);
    expect(truth.endpoints.watcherCount(web)).toBe(1);
    expect(plane.destination.openStreams).toBe(2);
    endpoints.call.cancel();
    profile.call.cancel();
    await vi.waitFor(() => expect(truth.endpoints.watcherCount() + truth.profiles.watcherCount()).toBe(0));
    expect(plane.destination.openStreams).toBe(0);
    expect(plane.destinationEvents.filter((event) => event.event === 'destination-stream-ended')).toEqual([
      expect.objectContaining({ rpc: 'Get', reason: 'cancelled', target: 'web.shop.svc.cluster.local:8080' }),
      expect.objectContaining({ rpc: 'GetProfile', reason: 'cancelled' }),
    ]);
  });

  it('ends every stream with UNAVAILABLE on close, and refuses new ones', async () => {
    const reader = get('web.shop:8080');
    await reader.received(1);
    plane.destination.close();
    expect((await reader.failed()).code).toBe(status.UNAVAILABLE);
    expect(truth.endpoints.watcherCount()).toBe(0);
    expect((await get('web.shop:8080').failed()).code).toBe(status.UNAVAILABLE);
  });
});

function defaultProfile() {
  return {
    fullyQualifiedName: 'books.library.svc.cluster.local',
    routes: [],
    retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 },
    dstOverrides: [],
  };
}

/** A server call whose client reads only when told. */
class SlowCall extends EventEmitter {
  readonly written: destination.Update[] = [];
  full = false;
  cancelled = false;

  write(message: destination.Update): boolean {
    this.written.push(message);
    return !this.full;
  }

  drain(): void {
    this.full = false;
    this.emit('drain');
  }
}

describe('EndpointStreamWriter', () => {
  it('holds back changes while the client is slow, then sends their sum once it drains', () => {
    const call = new SlowCall();
    const writer = new EndpointStreamWriter(
      new ControlServerStream(call as unknown as ServerWritableStream<unknown, destination.Update>, () => undefined),
    );
    call.full = true;
    writer.offer({ kind: 'reset', endpoints: [a] });
    for (const endpoints of [[a, b], [b], [b, c], [c, a], [a, c]]) writer.offer({ kind: 'add', endpoints });
    writer.offer({ kind: 'remove', addresses: [a.address] });
    expect(call.written).toHaveLength(1);
    call.drain();
    expect(call.written.map((message) => endpointUpdateFromWire(message))).toEqual([
      { ok: true, value: { kind: 'reset', endpoints: [a] } },
      { ok: true, value: { kind: 'remove', addresses: [a.address] } },
      { ok: true, value: { kind: 'add', endpoints: [b, c] } },
    ]);
  });
});
