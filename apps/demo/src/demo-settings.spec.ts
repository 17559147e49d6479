import { describe, expect, it } from 'vitest';
import { readCatalogSettings } from './catalog-server.js';
import { readFeedSettings } from './feed-server.js';
import { formatHostPort, isLoopbackHost, parseHostPort } from './host-port.js';
import { MAX_TRAFFIC_RATE, readTrafficSettings } from './traffic-generator.js';
import { readWebSettings } from './web-server.js';

describe('host:port addresses', () => {
  it('reads IPv4, bracketed IPv6 and names, and writes them back', () => {
    expect(parseHostPort('127.0.0.1:7011')).toEqual({ host: '127.0.0.1', port: 7011 });
    expect(parseHostPort('[::1]:7011')).toEqual({ host: '::1', port: 7011 });
    expect(parseHostPort('localhost:80')).toEqual({ host: 'localhost', port: 80 });
    expect(formatHostPort({ host: '::1', port: 7011 })).toBe('[::1]:7011');
    expect(formatHostPort({ host: '127.0.0.1', port: 7011 })).toBe('127.0.0.1:7011');
  });

  it('refuses what is not one address with a port from 1 to 65535', () => {
    for (const text of ['127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '::1:80', '[nope]:80', 'http://a:80', ':80', 'a b:80']) {
      expect(parseHostPort(text), text).toBeUndefined();
    }
  });

  it('knows loopback hosts', () => {
    expect(['127.0.0.1', '127.3.2.1', '::1', 'localhost'].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(['10.0.0.1', '0.0.0.0', '::', 'example.com', '127.example.com'].map(isLoopbackHost)).toEqual([false, false, false, false, false]);
  });
});

describe('service settings from the environment', () => {
  it('gives the catalog its defaults: port 9090, no delay, no failures', () => {
    expect(readCatalogSettings({})).toEqual({
      ok: true,
      value: { host: '127.0.0.1', port: 9090, instance: '', delayMs: 0, failRate: 0 },
    });
    expect(readCatalogSettings({ PORT: '0', DELAY_MS: '250', FAIL_RATE: '0.2', INSTANCE_NAME: 'slow' })).toMatchObject({
      ok: true,
      value: { port: 0, delayMs: 250, failRate: 0.2, instance: 'slow' },
    });
  });

  it('names every bad variable, its value and what to write instead', () => {
    const read = readCatalogSettings({ PORT: 'http', DELAY_MS: '-5', FAIL_RATE: '1.5' });
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.problems).toEqual([
      'PORT is "http"; write a port from 1 to 65535, or 0 for any free port',
      'DELAY_MS is "-5"; write a whole number of milliseconds from 0 to 60000',
      'FAIL_RATE is "1.5"; write a share from 0 (never) to 1 (always), such as 0.2',
    ]);
  });

  it('requires the web front end to be told where the catalog and the feed are', () => {
    const read = readWebSettings({ PORT: '7001' });
    expect(read).toEqual({
      ok: false,
      problems: ['CATALOG_ADDR is not set; write host:port, such as 127.0.0.1:7011', 'FEED_ADDR is not set; write host:port, such as 127.0.0.1:7011'],
    });
    expect(readWebSettings({ CATALOG_ADDR: '127.0.0.1:4000', FEED_ADDR: '[::1]:4001' })).toMatchObject({
      ok: true,
      value: { port: 8080, catalog: { host: '127.0.0.1', port: 4000 }, feed: { host: '::1', port: 4001 }, upstreamTimeoutMs: 5000 },
    });
    expect(readWebSettings({ CATALOG_ADDR: 'catalog', FEED_ADDR: '127.0.0.1:1' })).toEqual({
      ok: false,
      problems: ['CATALOG_ADDR is "catalog"; write host:port, such as 127.0.0.1:7011'],
    });
  });

  it('sends traffic only to a loopback address, at a positive rate no higher than the cap', () => {
    expect(readTrafficSettings({ WEB_ADDR: '127.0.0.1:7001' })).toMatchObject({ ok: true, value: { rate: 10, port: 8090 } });
    expect(readTrafficSettings({ WEB_ADDR: '10.1.2.3:80' })).toEqual({
      ok: false,
      problems: ['WEB_ADDR is "10.1.2.3:80"; the demo sends traffic only to this machine: write 127.0.0.1:<port>, [::1]:<port> or localhost:<port>'],
    });
    for (const rate of ['0', '-1', 'fast', String(MAX_TRAFFIC_RATE + 1)]) {
      const read = readTrafficSettings({ WEB_ADDR: '127.0.0.1:7001', RATE: rate });
      expect(read.ok, rate).toBe(false);
      if (!read.ok) expect(read.problems[0]).toContain(`RATE is "${rate}"`);
    }
    expect(readTrafficSettings({ WEB_ADDR: 'localhost:7001', RATE: '0.5' })).toMatchObject({ ok: true, value: { rate: 0.5 } });
  });

  it('ticks the feed every 100 ms unless told otherwise', () => {
    expect(readFeedSettings({})).toEqual({ ok: true, value: { host: '127.0.0.1', port: 8081, intervalMs: 100 } });
    expect(readFeedSettings({ INTERVAL_MS: '20', PORT: '0' })).toMatchObject({ ok: true, value: { intervalMs: 20, port: 0 } });
  });
});
