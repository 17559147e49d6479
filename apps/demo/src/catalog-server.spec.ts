import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { CatalogClient } from './catalog-client.js';
import { CATALOG_ITEMS } from './catalog-items.js';
import { type CatalogServer, type CatalogSettings, startCatalogServer } from './catalog-server.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function catalog(settings: Partial<CatalogSettings> = {}, random?: () => number): Promise<{ server: CatalogServer; client: CatalogClient }> {
  const server = await startCatalogServer({ host: '127.0.0.1', port: 0, instance: '', delayMs: 0, failRate: 0, ...settings }, random);
  cleanups.push(() => server.close());
  const client = new CatalogClient(server.address);
  cleanups.push(() => client.close());
  return { server, client };
}

/** The gRPC status code a call failed with, or "ok". */
async function outcome(call: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    return (error as { code: number }).code;
  }
}

describe('the demo catalog (gRPC)', () => {
  it('answers GetItem with the item and the instance that served it', async () => {
    const { client, server } = await catalog({ instance: 'catalog-a' });
    expect(await client.getItem('3', 2000)).toEqual({ ...CATALOG_ITEMS[2], servedBy: 'catalog-a' });
    expect(server.instance).toBe('catalog-a');
  });

  it('refuses an unknown id with NOT_FOUND', async () => {
    const { client } = await catalog();
    await expect(client.getItem('99', 2000)).rejects.toMatchObject({ code: status.NOT_FOUND, details: expect.stringContaining('"99"') });
  });

  it('streams every item in id order from ListItems, naming itself by address when it has no name', async () => {
    const { client, server } = await catalog();
    const items = await client.listItems(2000);
    expect(items.map((item) => item.id)).toEqual(CATALOG_ITEMS.map((item) => item.id));
    expect(new Set(items.map((item) => item.servedBy))).toEqual(new Set([`catalog@127.0.0.1:${server.address.port}`]));
  });

  it('takes at least DELAY_MS to answer when it is the slow instance', async () => {
    const { client } = await catalog({ delayMs: 150 });
    let started = performance.now();
    await client.getItem('1', 5000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    started = performance.now();
    expect(await client.listItems(5000)).toHaveLength(CATALOG_ITEMS.length);
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('fails every call with UNAVAILABLE when FAIL_RATE is 1', async () => {
    const { client } = await catalog({ failRate: 1 });
    const outcomes = await Promise.all([
      ...Array.from({ length: 10 }, (_, index) => outcome(client.getItem(String(1 + (index % 8)), 2000))),
      ...Array.from({ length: 5 }, () => outcome(client.listItems(2000))),
    ]);
    expect(new Set(outcomes)).toEqual(new Set([status.UNAVAILABLE]));
  });

  it('fails exactly the calls whose draw falls under FAIL_RATE', async () => {
    const draws = [0.1, 0.5, 0.95, 0.19, 0.2];
    const { client } = await catalog({ failRate: 0.2 }, () => draws.shift() ?? 0.99);
    const outcomes: (number | 'ok')[] = [];
    for (let call = 0; call < 5; call += 1) outcomes.push(await outcome(client.getItem('1', 2000)));
    expect(outcomes).toEqual([status.UNAVAILABLE, 'ok', 'ok', status.UNAVAILABLE, 'ok']);
  });

  it('stops promptly, ending a delayed call with UNAVAILABLE', async () => {
    const { client, server } = await catalog({ delayMs: 30_000 });
    const pending = outcome(client.getItem('1', 40_000));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await server.close();
    expect(await pending).toBe(status.UNAVAILABLE);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
