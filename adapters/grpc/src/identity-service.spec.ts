import { X509Certificate } from 'node:crypto';
import { credentials, Server, ServerCredentials, type ServiceError, status } from '@grpc/grpc-js';
import { identity } from '@weft/contracts';
import {
  CertifyRateLimiter,
  CertifyRefusal,
  type CertifyWorkloadRequest,
  IdentityIssuer,
  identityName,
  InvalidIdentityError,
  TokenRefusal,
  type WorkloadCertifier,
  type WorkloadIdentity,
} from '@weft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CERTIFY_MESSAGE_BYTES } from './certify-request-translator.js';
import { GrpcIdentityClient } from './grpc-identity-client.js';
import {
  goodCsr,
  OpenSslCertificateAuthority,
  opensslCsr,
  TableTokenValidator,
  TestClock,
  Workdir,
} from './identity-test-pki.spec-helper.js';
import { type IdentityServiceEvent, serveIdentity } from './identity-service.js';

const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' };
const books: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'books' };
const webName = identityName(web);

interface Running {
  readonly port: number;
  readonly events: IdentityServiceEvent[];
  close(): Promise<void>;
}

async function startServer(certifier: WorkloadCertifier, burst = 1_000): Promise<Running> {
  const server = new Server({ 'grpc.max_receive_message_length': MAX_CERTIFY_MESSAGE_BYTES });
  const events: IdentityServiceEvent[] = [];
  serveIdentity(server, certifier, { clock: new TestClock(0), rateLimit: { burst }, log: (event) => events.push(event) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { port, events, close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

/** Calls Certify with the generated client, to see the status exactly as the wire carries it. */
function rawCertify(port: number, request: identity.CertifyRequest): Promise<ServiceError | identity.CertifyResponse> {
  const client = new identity.IdentityClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return new Promise((resolve) => {
    client.certify(request, (error, response) => {
      client.close();
      resolve(error ?? response);
    });
  });
}

function wire(request: CertifyWorkloadRequest): identity.CertifyRequest {
  return { identity: request.identityName, token: Buffer.from(request.token), certificateSigningRequest: Buffer.from(request.csr) };
}

describe('Identity service and GrpcIdentityClient over a real grpc-js channel', () => {
  let dir: Workdir;
  let authority: OpenSslCertificateAuthority;
  const tokens = new TableTokenValidator();
  let running: Running;
  let client: GrpcIdentityClient;
  const csrs: Record<string, Uint8Array> = {};

  beforeAll(async () => {
    dir = await Workdir.create();
    authority = await OpenSslCertificateAuthority.create(dir);
    running = await startServer(new IdentityIssuer(tokens, authority, { trustDomain: 'cluster.local' }));
    client = new GrpcIdentityClient({ address: { ip: '127.0.0.1', port: running.port }, deadlineMs: 5_000 });
    const [good, wrongName, withIp, rsa, p384] = await Promise.all([
      goodCsr(dir, web),
      opensslCsr(dir, { sans: [`DNS:${identityName(books)}`] }),
      opensslCsr(dir, { sans: [`DNS:${webName}`, 'IP:10.0.0.1'] }),
      opensslCsr(dir, { key: 'rsa', sans: [`DNS:${webName}`] }),
      opensslCsr(dir, { key: 'p384', sans: [`DNS:${webName}`] }),
    ]);
    Object.assign(csrs, { good, wrongName, withIp, rsa, p384 });
    const tampered = new Uint8Array(good);
    tampered[tampered.length - 5] = (tampered[tampered.length - 5] as number) ^ 1;
    csrs['tampered'] = tampered;
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await running?.close();
    await dir?.remove();
  });

  it('certifies a workload whose token proves its identity: leaf and chain as PEM, dates and serial from the leaf', async () => {
    const token = tokens.issue(web);
    const result = await client.certify({ identityName: webName, token, csr: csrs['good'] as Uint8Array });
    if (!result.ok) throw result.error;
    const leaf = new X509Certificate(result.value.leafPem);
    const issuer = new X509Certificate(result.value.chainPem[0] as string);
    expect(leaf.subjectAltName).toBe(`DNS:${webName}, URI:spiffe://cluster.local/ns/shop/sa/web`);
    expect(leaf.verify(issuer.publicKey)).toBe(true);
    expect(issuer.verify(new X509Certificate(authority.trustAnchorsPem()).publicKey)).toBe(true);
    expect(result.value.chainPem).toHaveLength(1);
    expect(result.value.notAfter).toBe(leaf.validToDate.getTime());
    expect(result.value.notBefore).toBe(leaf.validFromDate.getTime());
    expect(result.value.serial).toBe(leaf.serialNumber.toLowerCase());
    expect(running.events.at(-1)).toMatchObject({ event: 'identity-certified', identity: webName, serial: result.value.serial });
    expect(JSON.stringify(running.events)).not.toContain(token);
  }, 20_000);

  it('answers leaf and intermediates as DER with valid_until on the wire', async () => {
    const response = await rawCertify(running.port, wire({ identityName: webName, token: tokens.issue(web), csr: csrs['good'] as Uint8Array }));
    if ('code' in response) throw new Error(response.details);
    const leaf = new X509Certificate(response.leafCertificate);
    expect(response.intermediateCertificates.map((der) => new X509Certificate(der).subject)).toEqual(['CN=test issuer']);
    expect(response.validUntil?.getTime()).toBe(leaf.validToDate.getTime());
  }, 20_000);

  type Case = [
    name: string,
    request: () => CertifyWorkloadRequest,
    wireStatus: status,
    refusal: typeof CertifyRefusal | typeof TokenRefusal | typeof InvalidIdentityError,
    code: string,
    message: RegExp,
  ];
  const cases: Case[] = [
    ['a malformed identity', () => ({ identityName: 'web.shop', token: tokens.issue(web), csr: csrs['good'] as Uint8Array }),
      status.INVALID_ARGUMENT, InvalidIdentityError, 'form', /is not an identity name/],
    ['an identity of another trust domain', () => ({ identityName: 'web.shop.serviceaccount.identity.weft.example.org', token: tokens.issue(web), csr: csrs['good'] as Uint8Array }),
      status.INVALID_ARGUMENT, InvalidIdentityError, 'trust-domain', /not to this mesh's trust domain "cluster.local"/],
    ['bytes that are not a CSR', () => ({ identityName: webName, token: tokens.issue(web), csr: new TextEncoder().encode('not a csr') }),
      status.INVALID_ARGUMENT, CertifyRefusal, 'malformed-csr', /not DER PKCS#10/],
    ['a CSR whose signature does not verify', () => ({ identityName: webName, token: tokens.issue(web), csr: csrs['tampered'] as Uint8Array }),
      status.INVALID_ARGUMENT, CertifyRefusal, 'bad-signature', /proves no possession/],
    ['an unknown token', () => ({ identityName: webName, token: 'table.never-issued-token', csr: csrs['good'] as Uint8Array }),
      status.UNAUTHENTICATED, TokenRefusal, 'invalid', /no such token was issued/],
    ['an expired token', () => { const token = tokens.issue(web); tokens.expire(token); return { identityName: webName, token, csr: csrs['good'] as Uint8Array }; },
      status.UNAUTHENTICATED, TokenRefusal, 'expired', /token refused \(expired\): the token expired$/],
    ['no token', () => ({ identityName: webName, token: '', csr: csrs['good'] as Uint8Array }),
      status.UNAUTHENTICATED, TokenRefusal, 'invalid', /no token was sent/],
    ["a token of another workload", () => ({ identityName: webName, token: tokens.issue(books), csr: csrs['good'] as Uint8Array }),
      status.PERMISSION_DENIED, CertifyRefusal, 'identity-not-proven', /the token proves books\.shop\..*not the requested web\.shop/],
    ['a CSR naming another identity', () => ({ identityName: webName, token: tokens.issue(web), csr: csrs['wrongName'] as Uint8Array }),
      status.FAILED_PRECONDITION, CertifyRefusal, 'san-mismatch', /books\.shop.*is not the requested identity/],
    ['a CSR with an IP SAN', () => ({ identityName: webName, token: tokens.issue(web), csr: csrs['withIp'] as Uint8Array }),
      status.FAILED_PRECONDITION, CertifyRefusal, 'forbidden-san', /"10\.0\.0\.1".*IP address SAN/],
    ['an RSA key', () => ({ identityName: webName, token: tokens.issue(web), csr: csrs['rsa'] as Uint8Array }),
      status.FAILED_PRECONDITION, CertifyRefusal, 'unsupported-key', /"RSA": is not a supported key/],
    ['a P-384 key', () => ({ identityName: webName, token: tokens.issue(web), csr: csrs['p384'] as Uint8Array }),
      status.FAILED_PRECONDITION, CertifyRefusal, 'unsupported-key', /"ECDSA P-384"/],
  ];

  it.each(cases)('refuses %s with its status and the same refusal on the client', async (_name, makeRequest, wireStatus, refusal, code, message) => {
    const request = makeRequest();
    const onWire = await rawCertify(running.port, wire(request));
    if (!('code' in onWire)) throw new Error('certified');
    expect(status[onWire.code]).toBe(status[wireStatus]);
    expect(onWire.details).toMatch(message);
    if (request.token !== '') expect(onWire.details).not.toContain(request.token);

    const result = await client.certify(request);
    if (result.ok) throw new Error('certified');
    expect(result.error).toBeInstanceOf(refusal);
    expect(result.error instanceof InvalidIdentityError ? result.error.part : result.error.code).toBe(code);
    expect(result.error.message).toMatch(message);
    if (request.token !== '') expect(String(result.error)).not.toContain(request.token);
    expect(running.events.at(-1)).toMatchObject({ event: 'identity-refused', status: status[wireStatus] });
  }, 20_000);

  it('keeps the input and part of a malformed identity on the client, without doubling the prefix', async () => {
    const result = await client.certify({ identityName: 'web.shop', token: tokens.issue(web), csr: csrs['good'] as Uint8Array });
    if (result.ok) throw new Error('certified');
    expect(result.error).toBeInstanceOf(InvalidIdentityError);
    const error = result.error as InvalidIdentityError;
    expect(error.input).toBe('web.shop');
    expect(error.toString()).toBe(
      'invalid identity "web.shop": is not an identity name; write "<service-account>.<namespace>.serviceaccount.identity.weft.<trust-domain>"',
    );
  });

  it('refuses as UNAVAILABLE, retryable on the client, when the issuer or the token source is away', async () => {
    authority.issuerAvailable = false;
    try {
      const onWire = await rawCertify(running.port, wire({ identityName: webName, token: tokens.issue(web), csr: csrs['good'] as Uint8Array }));
      expect('code' in onWire && onWire.code).toBe(status.UNAVAILABLE);
      const result = await client.certify({ identityName: webName, token: tokens.issue(web), csr: csrs['good'] as Uint8Array });
      expect(result.ok || [(result.error as CertifyRefusal).code, (result.error as CertifyRefusal).retryable]).toEqual(['issuer-unavailable', true]);
    } finally {
      authority.issuerAvailable = true;
    }
    tokens.available = false;
    try {
      const result = await client.certify({ identityName: webName, token: 'table.any', csr: csrs['good'] as Uint8Array });
      expect(result.ok || result.error).toBeInstanceOf(TokenRefusal);
      expect(result.ok || (result.error as TokenRefusal).code).toBe('unavailable');
    } finally {
      tokens.available = true;
    }
  }, 20_000);

  it('refuses an oversized CSR: the client before sending, the server with INVALID_ARGUMENT, grpc-js beyond its message cap', async () => {
    const token = tokens.issue(web);
    const local = await client.certify({ identityName: webName, token, csr: new Uint8Array(5_000) });
    expect(local.ok || (local.error as CertifyRefusal).code).toBe('malformed-csr');
    expect(local.ok || local.error.message).toMatch(/5000 bytes long, over the 4096/);

    const midsize = await rawCertify(running.port, { identity: webName, token: Buffer.from(token), certificateSigningRequest: Buffer.alloc(5_000) });
    expect('code' in midsize && [midsize.code, midsize.details]).toEqual([status.INVALID_ARGUMENT, expect.stringMatching(/5000 bytes long/)]);

    const huge = await rawCertify(running.port, { identity: webName, token: Buffer.from(token), certificateSigningRequest: Buffer.alloc(1 << 20) });
    expect('code' in huge && huge.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it('refuses an oversized or non-UTF-8 token as UNAUTHENTICATED', async () => {
    const oversize = await rawCertify(running.port, { identity: webName, token: Buffer.alloc(9_000, 0x61), certificateSigningRequest: Buffer.from(csrs['good'] as Uint8Array) });
    expect('code' in oversize && [oversize.code, oversize.details]).toEqual([status.UNAUTHENTICATED, expect.stringMatching(/9000 bytes long, over the 8192/)]);
    const binary = await rawCertify(running.port, { identity: webName, token: Buffer.from([0xff, 0xfe, 0x00]), certificateSigningRequest: Buffer.from(csrs['good'] as Uint8Array) });
    expect('code' in binary && [binary.code, binary.details]).toEqual([status.UNAUTHENTICATED, expect.stringMatching(/not UTF-8/)]);
    const local = await client.certify({ identityName: webName, token: 'x'.repeat(9_000), csr: csrs['good'] as Uint8Array });
    expect(local.ok || local.error).toBeInstanceOf(TokenRefusal);
  });

  it('lets the issuer rate-limit an identity its token proved, which the client reports as retryable', async () => {
    const limiter = new CertifyRateLimiter({ burst: 1 });
    const issuer = new IdentityIssuer(tokens, authority, { trustDomain: 'cluster.local', rateLimit: { clock: new TestClock(0), limiter } });
    const limited = await startServer(issuer);
    const limitedClient = new GrpcIdentityClient({ address: { ip: '127.0.0.1', port: limited.port }, deadlineMs: 5_000 });
    try {
      const ask = () => limitedClient.certify({ identityName: webName, token: tokens.issue(web), csr: csrs['good'] as Uint8Array });
      expect((await ask()).ok).toBe(true);
      const second = await ask();
      if (second.ok) throw new Error('certified');
      expect((second.error as CertifyRefusal).code).toBe('rate-limited');
      expect((second.error as CertifyRefusal).retryable).toBe(true);
      expect(second.error.message).toContain(`${webName} asked for certificates too often`);
    } finally {
      limitedClient.close();
      await limited.close();
    }
  });
});

describe('Identity service limits and failures', () => {
  const request: CertifyWorkloadRequest = { identityName: webName, token: 'secret-token-value', csr: new Uint8Array([0x30, 0x00]) };
  const servers: Running[] = [];
  const clients: GrpcIdentityClient[] = [];

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  async function serve(certifier: WorkloadCertifier, burst?: number): Promise<GrpcIdentityClient> {
    const running = await startServer(certifier, burst);
    servers.push(running);
    const made = new GrpcIdentityClient({ address: { ip: '127.0.0.1', port: running.port }, deadlineMs: 1_000 });
    clients.push(made);
    return made;
  }

  const refusing: WorkloadCertifier = {
    certify: async () => ({ ok: false, error: new CertifyRefusal('san-mismatch', 'no') }),
  };

  it('rate-limits per caller address with RESOURCE_EXHAUSTED, whatever identity it asks for, reported as retryable', async () => {
    const limited = await serve(refusing, 1);
    expect((await limited.certify(request)).ok).toBe(false);
    for (const asked of [request, { ...request, identityName: identityName(books) }]) {
      const again = await limited.certify(asked);
      if (again.ok) throw new Error('certified');
      expect((again.error as CertifyRefusal).code).toBe('rate-limited');
      expect((again.error as CertifyRefusal).retryable).toBe(true);
      expect(again.error.message).toMatch(/too many certificate requests from 127\.0\.0\.1; retry in 1 s/);
    }
  });


  it("reports a control plane that is not listening as 'unreachable', naming its address", async () => {
    const probe = await startServer(refusing);
    await probe.close();
    const nowhere = new GrpcIdentityClient({ address: { ip: '127.0.0.1', port: probe.port }, deadlineMs: 2_000 });
    clients.push(nowhere);
    const result = await nowhere.certify(request);
    if (result.ok) throw new Error('certified');
    expect((result.error as CertifyRefusal).code).toBe('unreachable');
    expect((result.error as CertifyRefusal).retryable).toBe(true);
    expect(result.error.message).toContain(`127.0.0.1:${probe.port}`);
  });

  it("reports a call on a closed client as 'unreachable' instead of throwing", async () => {
    const closed = new GrpcIdentityClient({ address: { ip: '127.0.0.1', port: 1 } });
    closed.close();
    const result = await closed.certify(request);
    expect(result.ok || (result.error as CertifyRefusal).code).toBe('unreachable');
  });

  it("reports a control plane that does not answer within the deadline as 'unreachable'", async () => {
    const silent = await serve({ certify: () => new Promise(() => undefined) });
    const result = await silent.certify(request);
    expect(result.ok || [(result.error as CertifyRefusal).code, result.error.message]).toEqual([
      'unreachable',
      expect.stringMatching(/DEADLINE_EXCEEDED/),
    ]);
  });

  it('answers INTERNAL without details when the certifier throws, and keeps the token out of the log', async () => {
    const events: IdentityServiceEvent[] = [];
    const server = new Server();
    serveIdentity(server, { certify: async (r) => { throw new Error(`boom with ${r.token}`); } }, { clock: new TestClock(0), log: (e) => events.push(e) });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    servers.push({ port, events, close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) });
    const onWire = await rawCertify(port, wire(request));
    expect('code' in onWire && [onWire.code, onWire.details]).toEqual([status.INTERNAL, 'the control plane failed to certify this request; retry later']);
    expect(events).toEqual([{ event: 'identity-failed', identity: webName, peer: expect.any(String), reason: 'boom with [token]' }]);
  });

  it("refuses an answer whose leaf is not an X.509 certificate as 'issuer-unavailable'", async () => {
    const pem = '-----BEGIN WEFT MEMORY CERTIFICATE-----\ne30=\n-----END WEFT MEMORY CERTIFICATE-----\n';
    const broken = await serve({
      certify: async () => ({ ok: true, value: { leafPem: pem, chainPem: [], notBefore: 0, notAfter: 1, serial: '01' } }),
    });
    const result = await broken.certify(request);
    expect(result.ok || [(result.error as CertifyRefusal).code, result.error.message]).toEqual([
      'issuer-unavailable',
      expect.stringMatching(/leaf of 2 bytes that is not a DER X\.509 certificate/),
    ]);
  });
});
