import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { identityName } from '@weft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort, LOOPBACK } from '../loopback-port.js';
import { ProcessSupervisor } from '../process-supervisor.js';
import { missingTools, SETUP_COMMAND } from '../required-tools.js';
import { haproxyTwoHopConfigs, type RunningHaproxyTwoHop, startHaproxyTwoHop } from './haproxy-two-hop.js';
import { createMeshIdentityMaterial, type MeshIdentityMaterial } from './mesh-identity-material.js';
import { CLIENT_WORKLOAD, SERVER_WORKLOAD } from './identity-scenarios.js';

const files = { trustAnchorsFile: '/m/ca.crt', clientPemFile: '/m/client.pem', serverPemFile: '/m/server.pem' };
const ports = { clientListen: 20001, serverListen: 20002, target: 20003 };

describe('haproxyTwoHopConfigs', () => {
  it('sets up both sides as the mesh does: TLS 1.3 only, chains verified both ways, the server named by SNI and checked', () => {
    const { client, server } = haproxyTwoHopConfigs('http', ports, files, 'bench.default.serviceaccount.identity.weft.cluster.local');
    expect(client).toContain('bind 127.0.0.1:20001\n');
    expect(client).toContain(
      'server peer 127.0.0.1:20002 ssl ssl-min-ver TLSv1.3 ca-file /m/ca.crt verify required crt /m/client.pem sni str(bench.default.serviceaccount.identity.weft.cluster.local) verifyhost bench.default.serviceaccount.identity.weft.cluster.local',
    );
    expect(server).toContain('bind 127.0.0.1:20002 ssl ssl-min-ver TLSv1.3 ca-file /m/ca.crt verify required crt /m/server.pem');
    expect(server).toContain('server target 127.0.0.1:20003');
    for (const text of [client, server]) expect(text).toMatch(/mode http\n\s+timeout[\s\S]*option http-keep-alive\n\s+http-reuse always/);
  });

  it('relays raw bytes in tcp mode, with no HTTP options', () => {
    const { client, server } = haproxyTwoHopConfigs('tcp', ports, files, 'bench');
    for (const text of [client, server]) {
      expect(text).toContain('mode tcp');
      expect(text).not.toContain('http-');
    }
  });
});

describe('startHaproxyTwoHop', () => {
  const supervisor = new ProcessSupervisor();
  let dir: string;
  let backend: Server;
  let material: MeshIdentityMaterial;
  let pair: RunningHaproxyTwoHop | undefined;
  let skipped: string | undefined;
  let serverListen = 0;

  beforeAll(async () => {
    const missing = missingTools(['haproxy']);
    if (missing.length > 0) {
      skipped = `missing haproxy; install it with ${SETUP_COMMAND}`;
      if (process.env['CI'] === 'true') throw new Error(skipped);
      return;
    }
    dir = mkdtempSync(join(tmpdir(), 'weft-haproxy-two-hop-'));
    material = await createMeshIdentityMaterial(join(dir, 'identity'));
    backend = createServer((_request, response) => response.end('hello from backend\n'));
    await new Promise<void>((resolve) => backend.listen(0, LOOPBACK, resolve));
    const clientListen = await freeLoopbackPort();
    serverListen = await freeLoopbackPort();
    pair = await startHaproxyTwoHop({
      supervisor,
      cpu: undefined,
      workDir: dir,
      mode: 'http',
      ports: { clientListen, serverListen, target: (backend.address() as AddressInfo).port },
      trustAnchorsFile: material.trustAnchorsFile,
      client: await material.issueLeaf(CLIENT_WORKLOAD),
      server: await material.issueLeaf(SERVER_WORKLOAD),
      serverName: identityName(SERVER_WORKLOAD),
      recordConfig: () => undefined,
    });
  }, 30_000);

  afterAll(async () => {
    await pair?.stop();
    backend?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('carries a request from the client side over mTLS to the backend', async (context) => {
    if (skipped !== undefined) return context.skip(skipped);
    const body = await new Promise<string>((resolve, reject) => {
      get({ host: LOOPBACK, port: (pair as RunningHaproxyTwoHop).client.port, path: '/' }, (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(`${response.statusCode} ${text}`));
      }).on('error', reject);
    });
    expect(body).toBe('200 hello from backend\n');
  });

  it('refuses, on its server side, a TLS client without a certificate', async (context) => {
    if (skipped !== undefined) return context.skip(skipped);
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: LOOPBACK, port: serverListen, servername: identityName(SERVER_WORKLOAD), ca: material.trustAnchorsPem, minVersion: 'TLSv1.3' });
      socket.on('secureConnect', () => socket.write('GET / HTTP/1.1\r\nhost: bench\r\n\r\n'));
      socket.on('data', () => resolve('answered'));
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      socket.on('close', () => resolve('closed'));
    });
    expect(outcome).not.toBe('answered');
  });
});
