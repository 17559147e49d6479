import { afterEach, describe, expect, it } from 'vitest';
import { type AdminServer, startAdminServer } from './admin-server.js';

describe('admin server', () => {
  let admin: AdminServer | undefined;

  afterEach(async () => {
    await admin?.close();
  });

  it('is live at once and ready only once told so', async () => {
    admin = await startAdminServer('127.0.0.1', 0);
    const base = `http://127.0.0.1:${admin.address.port}`;
    expect((await fetch(`${base}/live`)).status).toBe(200);
    const notReady = await fetch(`${base}/ready`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toBe('not ready\n');
    admin.setReady(true);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe('ready\n');
  });

  it('is ready only while every readiness check is met, naming what is missing', async () => {
    admin = await startAdminServer('127.0.0.1', 0);
    const base = `http://127.0.0.1:${admin.address.port}`;
    let issuer = false;
    admin.addReadinessCheck(() => (issuer ? undefined : 'no issuer loaded'));
    admin.addReadinessCheck(() => undefined);
    admin.setReady(true);
    const missing = await fetch(`${base}/ready`);
    expect(missing.status).toBe(503);
    expect(await missing.text()).toBe('not ready: no issuer loaded\n');
    issuer = true;
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    admin.setReady(false);
    expect(await (await fetch(`${base}/ready`)).text()).toBe('not ready\n');
  });

  it('serves the metrics text on /metrics with its content type, and 500 naming the failure when it cannot', async () => {
    let fail = false;
    const metrics = {
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      metricsText: async () => {
        if (fail) throw new Error('registry broken');
        return 'control_certificates_issued_total 3\n';
      },
    };
    admin = await startAdminServer('127.0.0.1', 0, { metrics });
    const base = `http://127.0.0.1:${admin.address.port}`;
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await response.text()).toBe('control_certificates_issued_total 3\n');
    fail = true;
    const failed = await fetch(`${base}/metrics`);
    expect(failed.status).toBe(500);
    expect(await failed.text()).toContain('registry broken');
  });

  it('answers 404 for /metrics when it has no metrics to serve', async () => {
    admin = await startAdminServer('127.0.0.1', 0);
    expect((await fetch(`http://127.0.0.1:${admin.address.port}/metrics`)).status).toBe(404);
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    admin = await startAdminServer('127.0.0.1', 0);
    const base = `http://127.0.0.1:${admin.address.port}`;
    expect((await fetch(`${base}/metrics-nope`)).status).toBe(404);
    const post = await fetch(`${base}/ready`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('fails to start with the address in use, naming it', async () => {
    admin = await startAdminServer('127.0.0.1', 0);
    await expect(startAdminServer('127.0.0.1', admin.address.port)).rejects.toThrow(/EADDRINUSE/);
  });
});
