import { NameResolutionError, type NameResolutionErrorCode, ResolveName } from '@weft/core';
import { describeResolveNameContract } from '@weft/fixtures';
import { Container } from 'inversify';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DnsAddressLookup, DnsResolveName, type DnsResolveNameOptions } from './dns-resolve-name.js';
import { systemModule } from './system.module.js';

const TYPE_A = 1;
const TYPE_AAAA = 28;
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;

interface ZoneRecord {
  readonly address: string;
  readonly ttlS: number;
}

/**
 * A minimal DNS responder on 127.0.0.1 for these tests, so no query ever leaves the machine: it answers A and AAAA
 * questions for the names it was given (which map to loopback addresses only), NXDOMAIN for any other name,
 * SERVFAIL for broken names, and nothing at all for muted ones.
 */
class LoopbackDnsServer {
  readonly queries: { readonly name: string; readonly type: number }[] = [];
  private readonly zone = new Map<string, readonly ZoneRecord[]>();
  private readonly broken = new Set<string>();
  private readonly muted = new Set<string>();

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
  ) {
    socket.on('message', (message, peer) => this.answer(message, peer));
  }

  static async start(): Promise<LoopbackDnsServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new LoopbackDnsServer(socket, `127.0.0.1:${socket.address().port}`);
  }

  set(name: string, records: readonly ZoneRecord[]): void {
    this.broken.delete(name);
    this.muted.delete(name);
    this.zone.set(name, records);
  }

  remove(name: string): void {
    this.broken.delete(name);
    this.muted.delete(name);
    this.zone.delete(name);
  }

  break(name: string): void {
    this.broken.add(name);
  }

  mute(name: string): void {
    this.muted.add(name);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private answer(query: Buffer, peer: RemoteInfo): void {
    const question = readQuestion(query);
    if (!question) return;
    this.queries.push({ name: question.name, type: question.type });
    if (this.muted.has(question.name)) return;
    const records = this.zone.get(question.name);
    const rcode = this.broken.has(question.name) ? RCODE_SERVFAIL : records ? 0 : RCODE_NXDOMAIN;
    const answers = rcode === 0 ? (records ?? []).filter((r) => isIPv4(r.address) === (question.type === TYPE_A)) : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0);
    // QR, the query's opcode and RD, RA, and the response code.
    header.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x7900) | 0x0080 | rcode, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const reply = Buffer.concat([header, query.subarray(12, question.end), ...answers.map((r) => addressRecord(question.type, r))]);
    this.socket.send(reply, peer.port, peer.address);
  }
}

/** The first question of a query: its lowercase name, its type and where it ends. */
function readQuestion(query: Buffer): { name: string; type: number; end: number } | undefined {
  const labels: string[] = [];
  let offset = 12;
  while (offset < query.length) {
    const length = query.readUInt8(offset);
    offset += 1;
    if (length === 0) break;
    labels.push(query.toString('latin1', offset, offset + length));
    offset += length;
  }
  if (offset + 4 > query.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: query.readUInt16BE(offset), end: offset + 4 };
}

/** An answer record that points back at the question's name. */
function addressRecord(type: number, record: ZoneRecord): Buffer {
  const data = type === TYPE_A ? Buffer.from(record.address.split('.').map(Number)) : ipv6Bytes(record.address);
  const fixed = Buffer.alloc(12);
  fixed.writeUInt16BE(0xc00c, 0);
  fixed.writeUInt16BE(type, 2);
  fixed.writeUInt16BE(1, 4);
  fixed.writeUInt32BE(record.ttlS, 6);
  fixed.writeUInt16BE(data.length, 10);
  return Buffer.concat([fixed, data]);
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(Number.parseInt(group, 16), i * 2));
  return bytes;
}

let server: LoopbackDnsServer;

beforeEach(async () => {
  server = await LoopbackDnsServer.start();
});

afterEach(async () => {
  await server.close();
});

const resolverOn = (options: DnsResolveNameOptions = {}) =>
  new DnsResolveName({ servers: [server.address], timeoutMs: 300, tries: 1, ...options });

describeResolveNameContract('DnsResolveName against a loopback DNS responder', () => {
  const port = resolverOn();
  return {
    port,
    setName: (host, addresses, ttlMs) => server.set(host, addresses.map((address) => ({ address, ttlS: ttlMs / 1_000 }))),
    removeName: (host) => server.remove(host),
    breakName: (host) => server.break(host),
    close: async () => undefined,
  };
});

describe('DnsResolveName', () => {
  async function failure(resolver: DnsResolveName, host: string, code: NameResolutionErrorCode): Promise<NameResolutionError> {
    const result = await resolver.resolve(host);
    if (result.ok) throw new Error(`expected ${code}, got ${JSON.stringify(result.value)}`);
    expect(result.error).toBeInstanceOf(NameResolutionError);
    expect(result.error.code).toBe(code);
    expect(result.error.message).toContain(`"${host}"`);
    return result.error;
  }

  it('asks for both the A and the AAAA records of a name', async () => {
    server.set('books.weft.test', [{ address: '127.0.0.2', ttlS: 30 }]);
    await resolverOn().resolve('Books.weft.test.');
    expect(server.queries.map((q) => q.type).toSorted()).toEqual([TYPE_A, TYPE_AAAA]);
    expect(new Set(server.queries.map((q) => q.name))).toEqual(new Set(['books.weft.test']));
  });

  it('gives the lowest TTL of the records, raised to 5 s and cut to 60 s by default', async () => {
    server.set('mixed.weft.test', [
      { address: '127.0.0.2', ttlS: 40 },
      { address: '::1', ttlS: 25 },
    ]);
    server.set('short.weft.test', [{ address: '127.0.0.2', ttlS: 0 }]);
    server.set('long.weft.test', [{ address: '127.0.0.2', ttlS: 86_400 }]);
    const resolver = resolverOn();
    expect(await resolver.resolve('mixed.weft.test')).toEqual({ ok: true, value: { addresses: ['127.0.0.2', '::1'], ttlMs: 25_000 } });
    expect(await resolver.resolve('short.weft.test')).toMatchObject({ ok: true, value: { ttlMs: 5_000 } });
    expect(await resolver.resolve('long.weft.test')).toMatchObject({ ok: true, value: { ttlMs: 60_000 } });
  });

  it('keeps TTLs within the bounds it is given', async () => {
    server.set('short.weft.test', [{ address: '127.0.0.2', ttlS: 1 }]);
    server.set('long.weft.test', [{ address: '127.0.0.2', ttlS: 3_600 }]);
    const resolver = resolverOn({ minTtlMs: 2_000, maxTtlMs: 10_000 });
    expect(await resolver.resolve('short.weft.test')).toMatchObject({ ok: true, value: { ttlMs: 2_000 } });
    expect(await resolver.resolve('long.weft.test')).toMatchObject({ ok: true, value: { ttlMs: 10_000 } });
  });

  it("says 'unavailable' when no server answers in time, and why", async () => {
    server.mute('silent.weft.test');
    const error = await failure(resolverOn({ timeoutMs: 100 }), 'silent.weft.test', 'unavailable');
    expect(error.reason).toMatch(/ETIMEOUT/);
  });

  it('tells a name that does not exist from one without addresses', async () => {
    server.set('empty.weft.test', []);
    const resolver = resolverOn();
    expect((await failure(resolver, 'nowhere.weft.test', 'not-found')).reason).toMatch(/does not exist \(NXDOMAIN\)/);
    expect((await failure(resolver, 'empty.weft.test', 'not-found')).reason).toMatch(/no A or AAAA records/);
  });

  it('answers IP addresses, localhost and invalid hosts without sending a query', async () => {
    const resolver = resolverOn();
    expect(await resolver.resolve('127.0.0.1')).toEqual({ ok: true, value: { addresses: ['127.0.0.1'], ttlMs: 60_000 } });
    expect(await resolver.resolve('::1')).toEqual({ ok: true, value: { addresses: ['::1'], ttlMs: 60_000 } });
    expect(await resolver.resolve('localhost')).toEqual({ ok: true, value: { addresses: ['127.0.0.1', '::1'], ttlMs: 60_000 } });
    await failure(resolver, 'bad..weft.test', 'invalid');
    expect(server.queries).toEqual([]);
  });

  it('resolves localhost with the default settings, without asking any server', async () => {
    expect(await new DnsResolveName().resolve('localhost')).toMatchObject({ ok: true, value: { addresses: ['127.0.0.1', '::1'] } });
  });

  describe('with an injected lookup', () => {
    const failing = (code4: string, code6: string): DnsAddressLookup => ({
      resolve4: () => Promise.reject(Object.assign(new Error(`query failed ${code4}`), { code: code4 })),
      resolve6: () => Promise.reject(Object.assign(new Error(`query failed ${code6}`), { code: code6 })),
    });

    it.each([
      ['ECONNREFUSED', 'ECONNREFUSED', 'unavailable', /ECONNREFUSED/],
      ['EREFUSED', 'ENODATA', 'unavailable', /REFUSED/],
      ['ENODATA', 'ESERVFAIL', 'unavailable', /SERVFAIL/],
      ['ECANCELLED', 'ECANCELLED', 'unavailable', /ECANCELLED/],
      ['EBADNAME', 'EBADNAME', 'invalid', /malformed/],
      ['ENOTFOUND', 'ENOTFOUND', 'not-found', /NXDOMAIN/],
      ['ENODATA', 'ENODATA', 'not-found', /no A or AAAA/],
    ] as const)('maps %s and %s to %s', async (code4, code6, code, reason) => {
      const error = await failure(new DnsResolveName({ lookup: failing(code4, code6) }), 'books.weft.test', code);
      expect(error.reason).toMatch(reason);
    });

    it('answers with the addresses of one family when the other query fails', async () => {
      const lookup: DnsAddressLookup = {
        resolve4: () => Promise.resolve([{ address: '127.0.0.2', ttl: 30 }]),
        resolve6: () => Promise.reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' })),
      };
      expect(await new DnsResolveName({ lookup }).resolve('books.weft.test')).toEqual({
        ok: true,
        value: { addresses: ['127.0.0.2'], ttlMs: 30_000 },
      });
    });

    it('never rejects, even when the lookup throws something odd', async () => {
      const lookup: DnsAddressLookup = {
        resolve4: () => {
          throw { odd: 'not an error, and no code' };
        },
        resolve6: () => Promise.resolve([]),
      };
      await failure(new DnsResolveName({ lookup }), 'books.weft.test', 'unavailable');
    });
  });

  it.each([
    [{ minTtlMs: 0 }, /minTtlMs 0/],
    [{ maxTtlMs: Number.NaN }, /maxTtlMs NaN/],
    [{ minTtlMs: 20_000, maxTtlMs: 10_000 }, /maxTtlMs 10000 is below minTtlMs 20000/],
    [{ timeoutMs: -1 }, /timeoutMs -1/],
    [{ tries: 0 }, /tries 0/],
    [{ servers: [] }, /servers is empty/],
    [{ servers: ['dns.example'] }, /servers \["dns.example"\]/],
  ] as const)('refuses the options %j, naming the option', (options, message) => {
    expect(() => new DnsResolveName(options)).toThrow(message);
  });
});

describe('systemModule', () => {
  it('binds ResolveName to DNS when asked, with the options given', async () => {
    server.set('books.weft.test', [{ address: '127.0.0.2', ttlS: 30 }]);
    const container = new Container();
    container.load(systemModule({ resolveNames: { servers: [server.address], timeoutMs: 300, tries: 1 } }));
    const names = container.get<ResolveName>(ResolveName);
    expect(names).toBeInstanceOf(DnsResolveName);
    expect(container.get<ResolveName>(ResolveName)).toBe(names);
    expect(await names.resolve('books.weft.test')).toEqual({ ok: true, value: { addresses: ['127.0.0.2'], ttlMs: 30_000 } });
  });

  it('binds no ResolveName unless asked, so nothing is looked up', () => {
    const container = new Container();
    container.load(systemModule());
    expect(container.isBound(ResolveName)).toBe(false);
  });
});
