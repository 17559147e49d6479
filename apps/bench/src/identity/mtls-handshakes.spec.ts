import { decodeTransportHeader, TRANSPORT_HEADER_ALPN, transport } from '@weft/contracts';
import { identityName } from '@weft/core';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { benchWorkload, createMeshIdentityMaterial, type MeshIdentityMaterial, type WorkloadCredentials } from './mesh-identity-material.js';
import { type HandshakeLoopSettings, measureHandshakes, parseHandshakeReport } from './mtls-handshakes.js';

const SERVER = benchWorkload('bench');
const CLIENT = benchWorkload('bench-client');

interface SeenSession {
  readonly clientSan: string | undefined;
  readonly header: transport.TransportHeader | undefined;
  readonly payloadBytes: number;
}

/** A stand-in for a proxy's inbound port: mTLS required, reads the transport header, answers with the payload's length. */
function meshServer(credentials: WorkloadCredentials, anchorsPem: string, alpn: readonly string[], seen: SeenSession[]): Promise<Server> {
  const server = createServer(
    {
      cert: credentials.certificateChainPem,
      key: credentials.privateKeyPem,
      ca: anchorsPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
      ALPNProtocols: [...alpn],
      allowHalfOpen: true,
    },
    (socket: TLSSocket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (data: Buffer) => chunks.push(data));
      socket.on('error', () => socket.destroy());
      socket.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const decoded = decodeTransportHeader(bytes);
        const payloadBytes = decoded.ok ? bytes.length - decoded.value.frameLength : -1;
        seen.push({ clientSan: socket.getPeerCertificate().subjectaltname, header: decoded.ok ? decoded.value.header : undefined, payloadBytes });
        const count = Buffer.alloc(8);
        count.writeBigUInt64BE(BigInt(Math.max(0, payloadBytes)));
        socket.end(count);
      });
    },
  );
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('measureHandshakes', () => {
  let dir = '';
  let material: MeshIdentityMaterial;
  let serverCredentials: WorkloadCredentials;
  let clientCredentials: WorkloadCredentials;
  let server: Server | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-bench-handshakes-'));
    material = await createMeshIdentityMaterial(join(dir, 'identity'));
    serverCredentials = await material.issueLeaf(SERVER);
    clientCredentials = await material.issueLeaf(CLIENT);
  }, 30_000);
  // Stops listening; connections a failed handshake left half-done are not waited for.
  afterEach(() => {
    server?.close();
    server = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const settings = (port: number, overrides: Partial<HandshakeLoopSettings> = {}): HandshakeLoopSettings => ({
    port,
    serverName: identityName(SERVER),
    targetPort: 9000,
    credentials: clientCredentials,
    trustAnchorsPem: material.trustAnchorsPem,
    maxCount: 6,
    durationMs: 20_000,
    warmupCount: 2,
    concurrency: 2,
    ...overrides,
  });

  it('counts a session once the header and payload went through and the count came back', { timeout: 30_000 }, async () => {
    const seen: SeenSession[] = [];
    server = await meshServer(serverCredentials, material.trustAnchorsPem, [TRANSPORT_HEADER_ALPN], seen);
    const report = await measureHandshakes(settings((server.address() as AddressInfo).port));

    expect(report).toMatchObject({ sessions: 6, failed: 0, warmupSessions: 2, concurrency: 2 });
    expect(report.handshakeP50Ms).toBeGreaterThan(0);
    expect(seen).toHaveLength(8);
    expect(seen.every((session) => session.clientSan === `DNS:${identityName(CLIENT)}, URI:spiffe://cluster.local/ns/default/sa/bench-client`)).toBe(true);
    expect(seen[0]?.header).toEqual({ port: 9000, name: '', sessionProtocol: transport.SessionProtocol.SESSION_PROTOCOL_OPAQUE });
    expect(seen[0]?.payloadBytes).toBe(16);
    expect(parseHandshakeReport(JSON.stringify(report)).ok).toBe(true);
  });

  it('fails every session with a server that selects no ALPN protocol', { timeout: 30_000 }, async () => {
    server = await meshServer(serverCredentials, material.trustAnchorsPem, [], []);
    const report = await measureHandshakes(settings((server.address() as AddressInfo).port, { warmupCount: 0, maxCount: 3 }));
    expect(report).toMatchObject({ sessions: 0, failed: 3 });
    expect(report.firstError).toBe('the proxy selected no ALPN protocol, not transport.weft.io/v1');
  });

  it('fails every session with a server whose certificate names another identity', { timeout: 30_000 }, async () => {
    server = await meshServer(await material.issueLeaf(benchWorkload('impostor')), material.trustAnchorsPem, [TRANSPORT_HEADER_ALPN], []);
    const report = await measureHandshakes(settings((server.address() as AddressInfo).port, { warmupCount: 0, maxCount: 3 }));
    expect(report).toMatchObject({ sessions: 0, failed: 3 });
    expect(report.firstError).toMatch(/bench\.default\.serviceaccount/);
  });
});

describe('parseHandshakeReport', () => {
  const line = { sessions: 82, failed: 0, seconds: 1.2, warmupSessions: 50, concurrency: 8, handshakeP50Ms: 3.1, handshakeP99Ms: 9.8 };

  it('reads the helper line, with or without handshake times', () => {
    expect(parseHandshakeReport(JSON.stringify(line)).ok).toBe(true);
    const none = parseHandshakeReport(JSON.stringify({ ...line, sessions: 0, handshakeP50Ms: undefined, handshakeP99Ms: undefined, firstError: 'ECONNREFUSED' }));
    expect(none.ok && none.value.firstError).toBe('ECONNREFUSED');
  });

  it.each([
    ['not JSON', 'Segmentation fault', /is not JSON/],
    ['a missing count', JSON.stringify({ ...line, sessions: undefined }), /"sessions" is not a number/],
    ['a bad handshake time', JSON.stringify({ ...line, handshakeP99Ms: -3 }), /"handshakeP99Ms" is not a number/],
    ['null', 'null', /is not an object/],
  ])('refuses %s, quoting the line', (_case, text, reason) => {
    const parsed = parseHandshakeReport(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.input).toBe(text);
    expect(parsed.error.reason).toMatch(reason);
  });
});
