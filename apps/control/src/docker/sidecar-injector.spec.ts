import type { WorkloadIdentity } from '@weft/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeSidecarEngine } from './fake-sidecar-engine.spec-helper.js';
import type { SidecarCredentials } from './sidecar-credentials.js';
import { SidecarInjector, type SidecarInjectorOptions } from './sidecar-injector.js';
import type { SidecarChange, SidecarFailureStage } from './sidecar-metrics.js';

const WEB = { 'weft.io/inject': 'enabled', 'weft.io/service': 'web', 'weft.io/port': '8080', 'weft.io/namespace': 'shop' };

class CountingCredentials implements SidecarCredentials {
  issued: WorkloadIdentity[] = [];
  async filesFor(identity: WorkloadIdentity) {
    this.issued.push(identity);
    const owned = { uid: 2102, gid: 2102 };
    return [
      { name: 'token', content: `token-${this.issued.length}`, mode: 0o400, ...owned },
      { name: 'trust-anchors.pem', content: 'ANCHORS', mode: 0o444, ...owned },
    ];
  }
}

interface Harness {
  readonly engine: FakeSidecarEngine;
  readonly credentials: CountingCredentials;
  readonly logs: { event: string; fields: Record<string, unknown> }[];
  readonly changes: SidecarChange[];
  readonly failures: SidecarFailureStage[];
  injector(overrides?: Partial<SidecarInjectorOptions>): SidecarInjector;
}

const started: SidecarInjector[] = [];

function harness(engine = new FakeSidecarEngine()): Harness {
  const credentials = new CountingCredentials();
  const logs: Harness['logs'] = [];
  const changes: SidecarChange[] = [];
  const failures: SidecarFailureStage[] = [];
  return {
    engine,
    credentials,
    logs,
    changes,
    failures,
    injector: (overrides = {}) => {
      const injector = new SidecarInjector({
        engine,
        credentials,
        settings: async () => ({ image: 'weft/proxy:test', controlAddr: '10.1.0.2:8086' }),
        trustDomain: 'cluster.local',
        log: (event, fields = {}) => logs.push({ event, fields }),
        metrics: { changed: (change) => changes.push(change), failed: (stage) => failures.push(stage) },
        resyncIntervalMs: 60_000,
        retryBaseMs: 10,
        maxRetryMs: 40,
        resubscribeMs: 10,
        ...overrides,
      });
      started.push(injector);
      return injector;
    },
  };
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((injector) => injector.close()));
});

describe('SidecarInjector', () => {
  it('runs weft-init in the app namespace, then starts a transparent sidecar with its identity files written first', async () => {
    const h = harness();
    const app = h.engine.addApp('web-1', { ...WEB, 'weft.io/skip-outbound-ports': '5432' });
    await h.injector().start();

    const [init] = h.engine.initRuns;
    expect(init).toMatchObject({ name: 'web-1-weft-init', user: 'root', networkOf: app.id, capAdd: ['NET_ADMIN', 'NET_RAW'] });
    expect(init?.cmd.join(' ')).toContain('--proxy-uid 2102');
    expect(init?.cmd.join(' ')).toContain('--skip-inbound-ports 4290,4291');
    expect(init?.cmd.join(' ')).toContain('--skip-outbound-ports 5432');
    const [sidecar] = h.engine.sidecarsOf(app.id);
    expect(sidecar).toMatchObject({ name: 'web-1-weft-proxy', running: true });
    expect(sidecar?.spec).toMatchObject({ user: '2102', networkOf: app.id });
    expect(sidecar?.labels).toMatchObject({ 'weft.io/sidecar-for': app.id, 'weft.io/managed-by': 'weft-control' });
    expect(sidecar?.spec?.env).toMatchObject({
      WEFT_PROXY_TRANSPARENT: 'true',
      WEFT_PROXY_CONTROL_ADDR: '10.1.0.2:8086',
      WEFT_PROXY_IDENTITY_ADDR: '10.1.0.2:8086',
      WEFT_PROXY_IDENTITY_NAMESPACE: 'shop',
      WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: 'web',
      WEFT_PROXY_IDENTITY_TRUST_DOMAIN: 'cluster.local',
      WEFT_PROXY_POLICY_WORKLOAD: 'shop/web-1',
      WEFT_PROXY_INBOUND_ADDR: '0.0.0.0:4243',
      WEFT_PROXY_OUTBOUND_ADDR: '127.0.0.1:4240',
      WEFT_PROXY_ADMIN_ADDR: '0.0.0.0:4291',
      WEFT_PROXY_INBOUND_APP_ADDR: '127.0.0.1:8080',
    });
    const tokenFile = sidecar?.spec?.env.WEFT_PROXY_IDENTITY_TOKEN_FILE ?? '';
    expect(sidecar?.files.get(tokenFile)).toMatchObject({ content: 'token-1', mode: 0o400, uid: 2102 });
    expect(sidecar?.files.get(sidecar.spec?.env.WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE ?? '')?.content).toBe('ANCHORS');
    expect(h.changes).toEqual(['created']);
  });

  it('leaves alone containers that are not labelled or not running, and sidecars themselves', async () => {
    const h = harness();
    h.engine.addApp('plain', { 'weft.io/service': 'plain', 'weft.io/port': '80' });
    h.engine.addApp('stopped', WEB, false);
    await h.injector().start();
    expect(h.engine.initRuns).toEqual([]);
    expect([...h.engine.containers.values()].filter((c) => c.labels['weft.io/role'] !== undefined)).toEqual([]);
  });

  it('gives a client without a service label the identity of its service-account label', async () => {
    const h = harness();
    const app = h.engine.addApp('caller', { 'weft.io/inject': 'enabled', 'weft.io/service-account': 'caller-sa' });
    await h.injector().start();
    expect(h.engine.sidecarsOf(app.id)[0]?.spec?.env).toMatchObject({ WEFT_PROXY_IDENTITY_NAMESPACE: 'default', WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: 'caller-sa' });
  });

  it('follows the app: a new app gets a sidecar, a stopped one loses it, a restarted one gets a fresh one', async () => {
    const h = harness();
    await h.injector().start();
    const app = h.engine.addApp('web-1', WEB);
    await vi.waitFor(() => expect(h.engine.sidecarsOf(app.id)).toHaveLength(1));
    const first = h.engine.sidecarsOf(app.id)[0]?.id;

    h.engine.setRunning(app.id, false);
    await vi.waitFor(() => expect(h.engine.sidecarsOf(app.id)).toEqual([]));
    expect(h.logs.find((l) => l.event === 'sidecar-removed')?.fields).toMatchObject({ container: 'web-1', reason: 'app not running' });

    h.engine.setRunning(app.id, true);
    await vi.waitFor(() => expect(h.engine.sidecarsOf(app.id)).toHaveLength(1));
    expect(h.engine.sidecarsOf(app.id)[0]?.id).not.toBe(first);
    expect(h.engine.initRuns).toHaveLength(2);

    h.engine.destroy(app.id);
    await vi.waitFor(() => expect(h.engine.sidecarsOf(app.id)).toEqual([]));
    expect(h.changes).toEqual(['created', 'removed', 'created', 'removed']);
  });

  it('replaces a sidecar left from an earlier run of the app (its network namespace is gone)', async () => {
    const h = harness();
    const app = h.engine.addApp('web-1', WEB);
    await h.injector().start();
    const before = h.engine.sidecarsOf(app.id)[0]?.id;
    // A restart the events stream missed: only StartedAt tells.
    h.engine.containers.set(app.id, { ...app, startedAt: 'later' });
    await started[0]?.reconcileAll();
    const after = h.engine.sidecarsOf(app.id);
    expect(after).toHaveLength(1);
    expect(after[0]?.id).not.toBe(before);
    expect(after[0]?.labels['weft.io/app-started-at']).toBe('later');
  });

  it('after its own restart adopts running sidecars, removes orphans and creates the missing ones', async () => {
    const h = harness();
    const kept = h.engine.addApp('web-1', WEB);
    const gone = h.engine.addApp('web-2', WEB);
    const first = h.injector();
    await first.start();
    await first.close();
    const keptSidecar = h.engine.sidecarsOf(kept.id)[0]?.id;
    const firstToken = h.engine.containers.get(keptSidecar ?? '')?.files.get('/var/run/weft/identity/token')?.content;
    // While no control plane runs: web-2 goes (its sidecar stays behind), web-3 comes.
    h.engine.containers.delete(gone.id);
    const added = h.engine.addApp('web-3', WEB);
    h.changes.length = 0;

    await h.injector().start();
    expect(h.engine.sidecarsOf(kept.id).map((c) => c.id)).toEqual([keptSidecar]);
    expect(h.engine.sidecarsOf(gone.id)).toEqual([]);
    expect(h.engine.sidecarsOf(added.id)).toHaveLength(1);
    expect([...h.changes].sort()).toEqual(['adopted', 'created', 'removed']);
    // The adopted sidecar got a fresh token: this control plane cannot know how old the first one is.
    expect(h.engine.containers.get(keptSidecar ?? '')?.files.get('/var/run/weft/identity/token')?.content).toMatch(/^token-[34]$/);
    expect(firstToken).toMatch(/^token-[12]$/);
  });

  it('never makes two sidecars for one app, however many events arrive at once', async () => {
    const h = harness();
    const app = h.engine.addApp('web-1', WEB);
    const injector = h.injector();
    await Promise.all([injector.start(), ...Array.from({ length: 10 }, () => injector.reconcile(app.id)), injector.reconcileAll()]);
    expect(h.engine.sidecarsOf(app.id)).toHaveLength(1);
    expect(h.engine.initRuns).toHaveLength(1);
  });

  it('keeps one of two sidecars found for one app and removes the other', async () => {
    const h = harness();
    const app = h.engine.addApp('web-1', WEB);
    await h.injector().start();
    const [sidecar] = h.engine.sidecarsOf(app.id);
    h.engine.containers.set('extra', { ...(sidecar as NonNullable<typeof sidecar>), id: 'extra', name: 'web-1-weft-proxy-copy' });
    await started[0]?.reconcileAll();
    expect(h.engine.sidecarsOf(app.id)).toHaveLength(1);
  });

  it('logs a failed weft-init with its output, counts it, and retries with backoff until it works', async () => {
    const h = harness();
    h.engine.initExits.push({ exitCode: 1, output: 'iptables: Permission denied' }, { exitCode: 1, output: 'iptables: Permission denied' });
    const app = h.engine.addApp('web-1', WEB);
    await h.injector().start();
    expect(h.engine.sidecarsOf(app.id)).toEqual([]);
    const failed = h.logs.find((l) => l.event === 'sidecar-failed')?.fields;
    expect(failed).toMatchObject({ container: 'web-1', stage: 'init', output: 'iptables: Permission denied', attempt: 1, retryInMs: 10 });

    await vi.waitFor(() => expect(h.engine.sidecarsOf(app.id)).toHaveLength(1));
    expect(h.failures).toEqual(['init', 'init']);
    expect(h.logs.filter((l) => l.event === 'sidecar-failed').map((l) => l.fields.retryInMs)).toEqual([10, 20]);
    expect(h.engine.initRuns).toHaveLength(3);
  });

  it('retries a sidecar the engine would not create, removing nothing of the app', async () => {
    const h = harness();
    h.engine.failCreates = 1;
    const app = h.engine.addApp('web-1', WEB);
    await h.injector().start();
    expect(h.failures).toEqual(['create']);
    await vi.waitFor(() => expect(h.engine.sidecarsOf(app.id)).toHaveLength(1));
    expect(h.engine.containers.has(app.id)).toBe(true);
  });

  it('skips a container with a bad label, naming the container, the label and the value once', async () => {
    const h = harness();
    h.engine.addApp('web-bad', { ...WEB, 'weft.io/port': 'http' });
    h.engine.addApp('web-skip', { ...WEB, 'weft.io/skip-inbound-ports': '99999' });
    const good = h.engine.addApp('web-good', WEB);
    const injector = h.injector();
    await injector.start();
    await injector.reconcileAll();
    const skipped = h.logs.filter((l) => l.event === 'sidecar-skipped').map((l) => l.fields);
    expect(skipped).toHaveLength(2);
    expect(skipped).toContainEqual(expect.objectContaining({ container: 'web-bad', label: 'weft.io/port', value: 'http' }));
    expect(skipped).toContainEqual(expect.objectContaining({ container: 'web-skip', label: 'weft.io/skip-inbound-ports', value: '99999' }));
    expect(h.engine.initRuns.map((r) => r.name)).toEqual(['web-good-weft-init']);
    expect(h.engine.sidecarsOf(good.id)).toHaveLength(1);
  });

  it('frees a sidecar name held by a leftover of ours, and refuses one held by someone else', async () => {
    const h = harness();
    h.engine.containers.set('old', { id: 'old', name: 'web-1-weft-proxy', labels: { 'weft.io/managed-by': 'weft-control' }, running: false, startedAt: '', files: new Map() });
    const app = h.engine.addApp('web-1', WEB);
    h.engine.containers.set('theirs', { id: 'theirs', name: 'web-2-weft-proxy', labels: {}, running: true, startedAt: 'x', files: new Map() });
    const other = h.engine.addApp('web-2', WEB);
    await h.injector().start();
    expect(h.engine.sidecarsOf(app.id)).toHaveLength(1);
    expect(h.engine.containers.has('old')).toBe(false);
    expect(h.engine.sidecarsOf(other.id)).toEqual([]);
    expect(h.logs.find((l) => l.event === 'sidecar-failed' && l.fields.container === 'web-2')?.fields.error).toMatch(/web-2-weft-proxy is taken/);
  });

  it('opens the events stream again when it breaks and catches up with what it missed', async () => {
    const h = harness();
    await h.injector().start();
    h.engine.endStream(new Error('engine restarted'));
    const app = h.engine.addApp('web-1', WEB);
    await vi.waitFor(() => expect(h.engine.sidecarsOf(app.id)).toHaveLength(1));
    expect(h.engine.subscribed).toBe(true);
    expect(h.logs.find((l) => l.event === 'sidecar-events-ended')?.fields).toMatchObject({ error: 'engine restarted' });
  });
});
