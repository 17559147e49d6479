import {
  type ClientReadableStream,
  credentials,
  Server,
  ServerCredentials,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DestinationProfile,
  DestinationClient,
  type DestinationServer,
  DestinationService,
  type GetDestination,
  Update,
} from './gen/weft/destination/v1/destination.js';
import {
  type CertifyRequest,
  type CertifyResponse,
  IdentityClient,
  type IdentityServer,
  IdentityService,
} from './gen/weft/identity/v1/identity.js';
import {
  InboundServerPoliciesClient,
  type InboundServerPoliciesServer,
  InboundServerPoliciesService,
  type PortSpec,
  Server as PolicyServer,
} from './gen/weft/policy/v1/policy.js';
import {
  type Header,
  type Match,
  ProxyDirection,
  TapClient,
  type TapEvent,
  type TapServer,
  TapService,
} from './gen/weft/tap/v1/tap.js';
import { durationFromMillis, millisFromDuration } from './protobuf-duration.js';

// One real grpc-js server on loopback hosts every service, as the control plane does on its single port.
const server = new Server();
const openStreams = new Set<{ end(): void }>();
let address = '';

/** Keeps a server stream open like a long-lived watch until the client cancels it or the suite ends. */
function holdOpen(call: { end(): void; on(event: 'cancelled', listener: () => void): unknown }): void {
  openStreams.add(call);
  call.on('cancelled', () => openStreams.delete(call));
}

function take<T>(stream: ClientReadableStream<T>, count: number): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    stream.on('data', (item: T) => {
      items.push(item);
      if (items.length === count) resolve(items);
    });
    stream.on('error', reject);
  });
}

function readToEnd<T>(stream: ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    stream.on('data', (item: T) => items.push(item));
    stream.on('end', () => resolve(items));
    stream.on('error', reject);
  });
}

// ---- destination ------------------------------------------------------------------------------------------

const webPath = 'web.shop.svc.cluster.local:8080';
const destinationRequests: GetDestination[] = [];

const firstEndpoints = Update.fromPartial({
  kind: {
    $case: 'reset',
    value: {
      metricLabels: { namespace: 'shop', service: 'web' },
      addrs: [
        {
          addr: { ip: '10.42.0.7', port: 8080 },
          weight: 10_000,
          metricLabels: { pod: 'web-1', zone: 'a' },
          tlsIdentity: {
            dnsName: 'web.shop.serviceaccount.identity.weft.cluster.local',
            spiffeUri: 'spiffe://cluster.local/ns/shop/sa/web',
            serverName: 'web.shop.serviceaccount.identity.weft.cluster.local',
          },
          protocolHint: { protocol: { $case: 'h2', value: {} }, opaqueTransport: { inboundPort: 4243 } },
        },
      ],
    },
  },
});

const laterEndpoint = Update.fromPartial({
  kind: {
    $case: 'add',
    value: { addrs: [{ addr: { ip: 'fd00::8', port: 8080 }, weight: 5_000, metricLabels: { pod: 'web-2' } }] },
  },
});

const webProfile: DestinationProfile = {
  fullyQualifiedName: 'web.shop.svc.cluster.local',
  opaqueProtocol: false,
  routes: [
    {
      name: 'GET /books/{id}',
      condition: {
        match: {
          $case: 'all',
          value: {
            matches: [
              { match: { $case: 'method', value: 'GET' } },
              { match: { $case: 'pathRegex', value: '/books/[^/]+' } },
            ],
          },
        },
      },
      responseClasses: [
        { condition: { match: { $case: 'status', value: { min: 500, max: 599 } } }, isFailure: true },
      ],
      isRetryable: true,
      timeout: durationFromMillis(1_500),
    },
  ],
  retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 10, ttl: durationFromMillis(10_000) },
  dstOverrides: [
    { authority: 'web-v1.shop.svc.cluster.local:8080', weight: 900 },
    { authority: 'web-v2.shop.svc.cluster.local:8080', weight: 100 },
  ],
};

const destinationImpl: DestinationServer = {
  get(call) {
    destinationRequests.push(call.request);
    if (call.request.path !== webPath) {
      call.write(Update.fromPartial({ kind: { $case: 'doesNotExist', value: {} } }));
      call.end();
      return;
    }
    call.write(firstEndpoints);
    call.write(laterEndpoint);
    holdOpen(call);
  },
  getProfile(call) {
    call.write(webProfile);
    holdOpen(call);
  },
};

// ---- identity ---------------------------------------------------------------------------------------------

const webIdentity = 'web.shop.serviceaccount.identity.weft.cluster.local';
const leafDer = Buffer.from([0x30, 0x82, 0x01, 0x0a, 0xde, 0xad]);
const issuerDer = Buffer.from([0x30, 0x82, 0x02, 0x0b, 0xbe, 0xef]);
const leafNotAfter = new Date('2030-01-02T03:04:05.678Z');

const identityImpl: IdentityServer = {
  certify(call, callback) {
    const { identity, token, certificateSigningRequest } = call.request;
    if (certificateSigningRequest.length === 0) {
      callback({ code: status.INVALID_ARGUMENT, details: 'certificate_signing_request is empty' });
    } else if (token.toString() !== 'token-of-web') {
      callback({ code: status.UNAUTHENTICATED, details: 'the token was not accepted' });
    } else if (identity !== webIdentity) {
      callback({ code: status.PERMISSION_DENIED, details: `the token proves ${webIdentity}, not ${identity}` });
    } else {
      callback(null, { leafCertificate: leafDer, intermediateCertificates: [issuerDer], validUntil: leafNotAfter });
    }
  },
};

// ---- policy -----------------------------------------------------------------------------------------------

const policyRequests: PortSpec[] = [];

const restrictedServer = PolicyServer.fromPartial({
  protocol: {
    kind: {
      $case: 'detect',
      value: {
        timeout: durationFromMillis(10_000),
        routes: [
          {
            metadata: { kind: 'HTTPRoute', name: 'admin' },
            matches: [
              {
                path: { kind: { $case: 'prefix', value: '/admin' } },
                method: 'POST',
                headers: [{ name: 'x-tenant', value: { $case: 'exact', value: 'blue' } }],
              },
            ],
            authorizations: [
              { authentication: { kind: { $case: 'meshTls', value: { identities: ['ops.shop.serviceaccount.identity.weft.cluster.local'] } } } },
            ],
          },
        ],
      },
    },
  },
  authorizations: [
    {
      networks: [{ cidr: '10.0.0.0/8', except: ['10.9.0.0/16'] }],
      authentication: {
        kind: { $case: 'meshTls', value: { suffixes: ['shop.serviceaccount.identity.weft.cluster.local'] } },
      },
      labels: { kind: 'authorizationpolicy', name: 'shop-only' },
    },
  ],
  labels: { kind: 'server', name: 'web-http' },
});

const openServer = PolicyServer.fromPartial({
  protocol: { kind: { $case: 'opaque', value: {} } },
  authorizations: [{ authentication: { kind: { $case: 'unauthenticated', value: {} } }, audit: true }],
  labels: { kind: 'default', name: 'audit' },
});

const policyImpl: InboundServerPoliciesServer = {
  getPort(call, callback) {
    policyRequests.push(call.request);
    callback(null, restrictedServer);
  },
  watchPort(call) {
    policyRequests.push(call.request);
    call.write(restrictedServer);
    // The policy changes once; the whole Server is sent again.
    setImmediate(() => call.write(openServer));
    holdOpen(call);
  },
};

// ---- tap --------------------------------------------------------------------------------------------------

interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/** The traffic a fake proxy sees; the tap implementation below reports the requests that match. */
const traffic: readonly SeenRequest[] = [
  { method: 'GET', path: '/books/1', status: 200 },
  { method: 'POST', path: '/orders', status: 201 },
  { method: 'GET', path: '/books/2', status: 404 },
  { method: 'GET', path: '/books/3', status: 200 },
  { method: 'GET', path: '/books/4', status: 200 },
];

function matches(match: Match | undefined, request: SeenRequest): boolean {
  const kind = match?.kind;
  if (kind === undefined) return true;
  switch (kind.$case) {
    case 'method':
      return request.method === kind.value;
    case 'pathPrefix':
      return request.path.startsWith(kind.value);
    default:
      throw new Error(`the test tap does not implement ${kind.$case}`);
  }
}

function tapEvents(request: SeenRequest, stream: bigint, headerNames: readonly string[]): TapEvent[] {
  const headers: Header[] = headerNames.includes('user-agent') ? [{ name: 'user-agent', value: 'curl/8' }] : [];
  const id = { base: 7, stream };
  const common = {
    source: { ip: '10.42.0.9', port: 50_000 },
    sourceLabels: { namespace: 'shop' },
    destination: { ip: '10.42.0.7', port: 8080 },
    destinationLabels: { pod: 'web-1' },
    routeLabels: {},
    direction: ProxyDirection.PROXY_DIRECTION_INBOUND,
  };
  return [
    {
      ...common,
      httpEvent: {
        $case: 'requestInit',
        value: { id, method: request.method, scheme: 'http', authority: 'web:8080', path: request.path, headers },
      },
    },
    {
      ...common,
      httpEvent: {
        $case: 'responseInit',
        value: { id, sinceRequestInit: durationFromMillis(3), httpStatus: request.status, headers: [] },
      },
    },
    {
      ...common,
      httpEvent: {
        $case: 'responseEnd',
        value: {
          id,
          sinceRequestInit: durationFromMillis(5),
          sinceResponseInit: durationFromMillis(2),
          responseBytes: 5_000_000_000n,
          eos: { $case: 'grpcStatusCode', value: 0 },
          trailers: [],
        },
      },
    },
  ];
}

const tapImpl: TapServer = {
  observe(call) {
    const { limit, match, extractHeaders } = call.request;
    if (limit === 0) {
      call.emit('error', { code: status.INVALID_ARGUMENT, details: 'limit must be at least 1' });
      return;
    }
    const observed = traffic.filter((request) => matches(match, request)).slice(0, limit);
    observed.forEach((request, index) => {
      for (const event of tapEvents(request, BigInt(index), extractHeaders)) call.write(event);
    });
    call.end();
  },
};

// ---- the server and its clients ---------------------------------------------------------------------------

let destinationClient: DestinationClient;
let identityClient: IdentityClient;
let policyClient: InboundServerPoliciesClient;
let tapClient: TapClient;

beforeAll(async () => {
  server.addService(DestinationService, destinationImpl);
  server.addService(IdentityService, identityImpl);
  server.addService(InboundServerPoliciesService, policyImpl);
  server.addService(TapService, tapImpl);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  address = `127.0.0.1:${port}`;
  destinationClient = new DestinationClient(address, credentials.createInsecure());
  identityClient = new IdentityClient(address, credentials.createInsecure());
  policyClient = new InboundServerPoliciesClient(address, credentials.createInsecure());
  tapClient = new TapClient(address, credentials.createInsecure());
});

afterAll(async () => {
  for (const client of [destinationClient, identityClient, policyClient, tapClient]) client.close();
  for (const call of openStreams) call.end();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

describe('Destination over grpc-js', () => {
  it('sends the full endpoint set first, then an incremental add', async () => {
    const stream = destinationClient.get({ path: webPath, contextToken: '{"ns":"shop","workload":"checkout"}' });
    const updates = await take(stream, 2);
    stream.cancel();

    expect(updates).toEqual([firstEndpoints, laterEndpoint]);
    const first = updates[0]?.kind;
    expect(first?.$case).toBe('reset');
    expect(first?.$case === 'reset' && first.value.addrs[0]?.protocolHint?.opaqueTransport?.inboundPort).toBe(4243);
    expect(destinationRequests).toContainEqual({ path: webPath, contextToken: '{"ns":"shop","workload":"checkout"}' });
  });

  it('answers an unknown name with does_not_exist as the first and only message', async () => {
    const updates = await readToEnd(destinationClient.get({ path: 'nope.shop.svc.cluster.local:80', contextToken: '' }));

    expect(updates).toEqual([{ kind: { $case: 'doesNotExist', value: {} } }]);
  });

  it('streams a profile whose route timeout, retry budget and traffic split survive the wire', async () => {
    const stream = destinationClient.getProfile({ path: webPath, contextToken: '' });
    const [profile] = await take(stream, 1);
    stream.cancel();

    const route = profile?.routes[0];
    expect(route?.timeout).toEqual({ seconds: 1n, nanos: 500_000_000 });
    expect(route?.timeout && millisFromDuration(route.timeout)).toBe(1_500);
    expect(route?.condition).toEqual(webProfile.routes[0]?.condition);
    expect(route?.responseClasses).toEqual(webProfile.routes[0]?.responseClasses);
    // retry_ratio is a 32-bit float on the wire.
    expect(profile?.retryBudget?.retryRatio).toBeCloseTo(0.2, 6);
    expect(profile?.retryBudget?.ttl).toEqual({ seconds: 10n, nanos: 0 });
    expect(profile?.dstOverrides).toEqual(webProfile.dstOverrides);
  });
});

describe('Identity over grpc-js', () => {
  function certify(request: CertifyRequest): Promise<CertifyResponse> {
    return new Promise((resolve, reject) => {
      identityClient.certify(request, (error: ServiceError | null, response?: CertifyResponse) =>
        error || !response ? reject(error) : resolve(response),
      );
    });
  }

  const goodRequest: CertifyRequest = {
    identity: webIdentity,
    token: Buffer.from('token-of-web'),
    certificateSigningRequest: Buffer.from([0x30, 0x81, 0x99]),
  };

  it('returns the leaf, the chain and the expiry for a proven identity', async () => {
    const response = await certify(goodRequest);

    expect(Buffer.from(response.leafCertificate)).toEqual(leafDer);
    expect(response.intermediateCertificates.map((der) => Buffer.from(der))).toEqual([issuerDer]);
    expect(response.validUntil).toEqual(leafNotAfter);
  });

  it.each([
    ['a bad token', { token: Buffer.from('stolen') }, status.UNAUTHENTICATED, 'token was not accepted'],
    ['an identity the token does not prove', { identity: 'db.shop.serviceaccount.identity.weft.cluster.local' }, status.PERMISSION_DENIED, 'not db.shop'],
    ['an empty CSR', { certificateSigningRequest: Buffer.alloc(0) }, status.INVALID_ARGUMENT, 'certificate_signing_request'],
  ])('refuses %s with its gRPC status code', async (_what, change, code, details) => {
    await expect(certify({ ...goodRequest, ...change })).rejects.toMatchObject({
      code,
      details: expect.stringContaining(details),
    });
  });
});

describe('InboundServerPolicies over grpc-js', () => {
  const portSpec: PortSpec = { workload: '{"ns":"shop","name":"web-1"}', port: 8080 };

  it('answers GetPort with the whole server policy', async () => {
    const server = await new Promise<PolicyServer>((resolve, reject) => {
      policyClient.getPort(portSpec, (error: ServiceError | null, response?: PolicyServer) =>
        error || !response ? reject(error) : resolve(response),
      );
    });

    expect(server).toEqual(restrictedServer);
    expect(policyRequests).toContainEqual(portSpec);
  });

  it('streams the current server first and the whole server again on a change', async () => {
    const stream = policyClient.watchPort(portSpec);
    const [first, second] = await take(stream, 2);
    stream.cancel();

    expect(first).toEqual(restrictedServer);
    expect(first?.protocol?.kind?.$case === 'detect' && first.protocol.kind.value.timeout).toEqual({ seconds: 10n, nanos: 0 });
    expect(second).toEqual(openServer);
    expect(second?.authorizations[0]?.audit).toBe(true);
  });
});

describe('Tap over grpc-js', () => {
  it('stops after `limit` requests, with three events each, and ends the stream cleanly', async () => {
    const events = await readToEnd(
      tapClient.observe({ limit: 2, match: { kind: { $case: 'method', value: 'GET' } }, extractHeaders: ['user-agent'] }),
    );

    expect(events.map((event) => event.httpEvent?.$case)).toEqual([
      'requestInit', 'responseInit', 'responseEnd',
      'requestInit', 'responseInit', 'responseEnd',
    ]);
    const paths = events.flatMap((event) => (event.httpEvent?.$case === 'requestInit' ? [event.httpEvent.value.path] : []));
    expect(paths).toEqual(['/books/1', '/books/2']);
    const last = events[5]?.httpEvent;
    expect(last?.$case === 'responseEnd' && last.value).toMatchObject({
      id: { base: 7, stream: 1n },
      responseBytes: 5_000_000_000n,
      eos: { $case: 'grpcStatusCode', value: 0 },
      sinceResponseInit: { seconds: 0n, nanos: 2_000_000 },
    });
    expect(events[0]?.httpEvent?.$case === 'requestInit' && events[0].httpEvent.value.headers).toEqual([
      { name: 'user-agent', value: 'curl/8' },
    ]);
    expect(events[0]?.direction).toBe(ProxyDirection.PROXY_DIRECTION_INBOUND);
  });

  it('refuses a limit of 0 with INVALID_ARGUMENT', async () => {
    await expect(readToEnd(tapClient.observe({ limit: 0, extractHeaders: [] }))).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
  });
});
