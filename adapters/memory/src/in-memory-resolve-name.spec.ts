import { NameResolutionError, ResolveName } from '@weft/core';
import { describeResolveNameContract } from '@weft/fixtures';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { InMemoryResolveName } from './in-memory-resolve-name.js';
import { fixedTimeModule, memoryModule } from './memory.module.js';

describeResolveNameContract('InMemoryResolveName', () => {
  const names = new InMemoryResolveName();
  return {
    port: names,
    setName: (host, addresses, ttlMs) => names.set(host, addresses, ttlMs),
    removeName: (host) => names.remove(host),
    breakName: (host) => names.fail(host, 'unavailable'),
    close: async () => undefined,
  };
});

describe('InMemoryResolveName', () => {
  it('fails a name with the code a test chooses, until the name is set again', async () => {
    const names = new InMemoryResolveName();
    names.fail('books.weft.test', 'invalid');
    const failed = await names.resolve('books.weft.test');
    expect(failed.ok ? undefined : failed.error).toBeInstanceOf(NameResolutionError);
    expect(failed.ok ? undefined : failed.error.code).toBe('invalid');
    names.set('books.weft.test', ['127.0.0.2'], 5_000);
    expect(await names.resolve('books.weft.test')).toEqual({ ok: true, value: { addresses: ['127.0.0.2'], ttlMs: 5_000 } });
  });

  it('counts the lookups of each name, whatever its spelling', async () => {
    const names = new InMemoryResolveName();
    names.set('books.weft.test', ['127.0.0.2'], 5_000);
    await names.resolve('books.weft.test');
    await names.resolve('BOOKS.weft.test.');
    await names.resolve('127.0.0.1');
    expect(names.lookups('books.weft.test')).toBe(2);
    expect(names.lookups('authors.weft.test')).toBe(0);
  });

  it('puts IPv4 addresses first and drops duplicates', async () => {
    const names = new InMemoryResolveName();
    names.set('books.weft.test', ['::1', '127.0.0.2', '::1', '127.0.0.2'], 5_000);
    const result = await names.resolve('books.weft.test');
    expect(result.ok && result.value.addresses).toEqual(['127.0.0.2', '::1']);
  });

  it('refuses to set a name without addresses, with a bad address or a TTL that is not positive', () => {
    const names = new InMemoryResolveName();
    expect(() => names.set('books.weft.test', [], 5_000)).toThrow(/books\.weft\.test/);
    expect(() => names.set('books.weft.test', ['books'], 5_000)).toThrow(/"books" is not an IP address/);
    expect(() => names.set('books.weft.test', ['127.0.0.2'], 0)).toThrow(/TTL 0 ms/);
  });

  it('is the ResolveName of the fixed-time module, one instance for the app and the test', async () => {
    const container = new Container();
    container.load(fixedTimeModule(), memoryModule());
    const names = container.get(InMemoryResolveName);
    expect(container.get<ResolveName>(ResolveName)).toBe(names);
    names.set('books.weft.test', ['127.0.0.2'], 5_000);
    expect((await container.get<ResolveName>(ResolveName).resolve('books.weft.test')).ok).toBe(true);
  });
});
