import { describe, expect, it } from 'vitest';
import {
  InvalidProxyProtocolError,
  InvalidServerPortError,
  parseProxyProtocol,
  parseServerPort,
  serverSelectsPort,
  serverSelectsWorkload,
  type PolicyServer,
} from './server.js';
import { parseAuthority } from '../discovery/authority.js';

const server: PolicyServer = {
  name: 'web-http',
  namespace: 'shop',
  port: 'http',
  workloadSelector: { app: 'web' },
  proxyProtocol: 'HTTP/1',
};

describe('parseProxyProtocol', () => {
  it.each(['unknown', 'HTTP/1', 'HTTP/2', 'gRPC', 'opaque', 'TLS'])('reads %s', (text) => {
    expect(parseProxyProtocol(text)).toEqual({ ok: true, value: text });
  });

  it.each([
    ['http/1', 'write "HTTP/1"'],
    ['grpc', 'write "gRPC"'],
    ['HTTP/3', 'use one of unknown, HTTP/1, HTTP/2, gRPC, opaque, TLS'],
    ['', 'use one of'],
  ])('refuses %j naming it (%s)', (text, words) => {
    const result = parseProxyProtocol(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidProxyProtocolError);
    expect(result.error.input).toBe(text);
    expect(result.error.toString()).toContain(`invalid proxy protocol ${JSON.stringify(text)}`);
    expect(result.error.reason).toContain(words);
  });
});

describe('parseServerPort', () => {
  it.each([
    [8080, 8080],
    ['8080', 8080],
    ['1', 1],
    ['65535', 65535],
    ['http', 'http'],
    ['admin-http', 'admin-http'],
    ['h2c', 'h2c'],
  ])('reads %j', (input, value) => {
    expect(parseServerPort(input)).toEqual({ ok: true, value });
  });

  it.each([0, 65536, '080', '-1', '', 'HTTP', 'a--b', '-http', 'http-', '123-456', 'a-very-long-port-name', 8.5])(
    'refuses %j naming it',
    (input) => {
      const result = parseServerPort(input);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error).toBeInstanceOf(InvalidServerPortError);
      expect(result.error.input).toBe(String(input));
      expect(result.error.toString()).toContain(`invalid server port ${JSON.stringify(String(input))}`);
    },
  );
});

describe('parseServerPort and parseAuthority share one port rule', () => {
  it.each([
    ['080', 'port "080" has a leading zero; write 80'],
    ['00', 'port "00" has a leading zero; write a port from 1 to 65535'],
    ['0', 'port 0 is out of range; write a port from 1 to 65535'],
    ['65536', 'port 65536 is out of range; write a port from 1 to 65535'],
  ])('refuses %j saying why, with the words parseAuthority uses', (text, reason) => {
    const server = parseServerPort(text);
    expect(server.ok).toBe(false);
    if (!server.ok) expect(server.error.reason).toBe(reason);
    const authority = parseAuthority(`web:${text}`);
    expect(authority.ok).toBe(false);
    if (!authority.ok) expect(authority.error.reason).toBe(reason);
  });
});

describe('Server selection', () => {
  it('selects workloads of its namespace carrying every selector label', () => {
    expect(serverSelectsWorkload(server, 'shop', { app: 'web', tier: 'front' })).toBe(true);
    expect(serverSelectsWorkload(server, 'shop', { app: 'api' })).toBe(false);
    expect(serverSelectsWorkload(server, 'books', { app: 'web' })).toBe(false);
    expect(serverSelectsWorkload({ ...server, workloadSelector: {} }, 'shop', {})).toBe(true);
  });

  it('selects a port by number or through the named ports', () => {
    expect(serverSelectsPort(server, 8080, { http: 8080 })).toBe(true);
    expect(serverSelectsPort(server, 9090, { http: 8080 })).toBe(false);
    expect(serverSelectsPort(server, 8080, {})).toBe(false);
    expect(serverSelectsPort({ ...server, port: 'toString' }, 8080, {})).toBe(false);
    expect(serverSelectsPort({ ...server, port: 9090 }, 9090)).toBe(true);
  });
});
