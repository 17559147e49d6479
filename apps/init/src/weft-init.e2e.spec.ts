import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isWeftSaveLine } from './interception-applier.js';
import { DEFAULT_INTERCEPTION_SETTINGS, planInterception, planSaveLines } from './interception-plan.js';
import {
  buildInit,
  connectFrom,
  joinWithVeth,
  missingNetnsSupport,
  startListeners,
  TestNamespace,
  uniqueNetnsPrefix,
} from './netns.spec-helper.js';

const missing = missingNetnsSupport();
const skip = missing !== undefined && process.env['CI'] !== 'true';
if (skip) process.stderr.write(`@weft/init e2e skipped: ${missing}\n`);

const APP = '10.251.0.1'; // the meshed namespace's address on the veth
const PEER = '10.251.0.2'; // the other end: a host outside the mesh
const APP_USER = 2200; // any user but the proxy's
const PROXY_USER = DEFAULT_INTERCEPTION_SETTINGS.proxyUid;

const weftLines = (save: string) => save.split('\n').filter(isWeftSaveLine);
const ruleLines = (stdout: string) => stdout.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

describe.skipIf(skip)('weft-init in a network namespace', { timeout: 30_000 }, () => {
  let app: TestNamespace | undefined;
  let peer: TestNamespace | undefined;
  const listeners: ChildProcess[] = [];

  beforeAll(async () => {
    if (missing !== undefined) throw new Error(`${missing} (CI=true: the namespace tests may not be skipped)`);
    buildInit();
    const prefix = uniqueNetnsPrefix();
    app = TestNamespace.create(`${prefix}-app`);
    peer = TestNamespace.create(`${prefix}-peer`);
    joinWithVeth(app, peer, '10.251.0');
    // In the app's namespace: the proxy's outbound and inbound ports, and its admin port (skipped by default).
    listeners.push(await startListeners(app, { 4240: 'outbound-port', 4243: 'inbound-port', 4291: 'admin-port' }));
    listeners.push(await startListeners(peer, { 80: 'peer-directly' }));
  }, 180_000);

  afterAll(() => {
    for (const child of listeners) child.kill('SIGKILL');
    for (const namespace of [app, peer]) namespace?.delete();
  });

  // Each test starts from a nat table without weft rules, in both iptables families.
  beforeEach(async () => {
    for (const family of ['iptables', 'iptables-legacy']) {
      const cleaned = await ns().weftInit(['--cleanup', '--ipv6', '--iptables', family]);
      expect(cleaned.exitCode, cleaned.stderr).toBe(0);
    }
  });

  function ns(): TestNamespace {
    if (app === undefined) throw new Error('the namespaces were not created');
    return app;
  }

  it('writes the planned rules, prints what iptables-save shows, and a second run changes nothing', async () => {
    const first = await ns().weftInit([]);
    expect(first.exitCode, first.stderr).toBe(0);
    const written = await ns().save();
    expect(weftLines(written)).toEqual(planSaveLines(planInterception(DEFAULT_INTERCEPTION_SETTINGS, 4)));
    expect(ruleLines(first.stdout)).toEqual(weftLines(written));

    const second = await ns().weftInit([]);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(await ns().save()).toBe(written);
    expect(written.match(/^-A PREROUTING .*-j WEFT_INBOUND$/gm)).toHaveLength(1);
    expect(written.match(/^-A OUTPUT .*-j WEFT_OUTPUT$/gm)).toHaveLength(1);
  });

  it('leaves exactly one jump when copies were added by hand', async () => {
    await ns().weftInit([]);
    await ns().exec('iptables', ['-t', 'nat', '-A', 'OUTPUT', '-j', 'WEFT_OUTPUT']);
    await ns().exec('iptables', ['-t', 'nat', '-I', 'PREROUTING', '-j', 'WEFT_INBOUND']);
    const again = await ns().weftInit([]);
    expect(again.exitCode, again.stderr).toBe(0);
    const written = await ns().save();
    expect(written.match(/-j WEFT_INBOUND$/gm)).toHaveLength(1);
    expect(written.match(/-j WEFT_OUTPUT$/gm)).toHaveLength(1);
  });

  it('--dry-run prints the same rules a real run writes, and writes nothing', async () => {
    const before = await ns().save();
    const dry = await ns().weftInit(['--dry-run', '--skip-subnets', '10.9.0.0/16', '--skip-outbound-ports', '443,8000-8100']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(await ns().save()).toBe(before);
    const real = await ns().weftInit(['--skip-subnets', '10.9.0.0/16', '--skip-outbound-ports', '443,8000-8100']);
    expect(ruleLines(dry.stdout)).toEqual(ruleLines(real.stdout));
  });

  it('--cleanup leaves no WEFT chain or jump in either address family', async () => {
    const before = await ns().save();
    expect((await ns().weftInit(['--ipv6'])).exitCode).toBe(0);
    await ns().exec('iptables', ['-t', 'nat', '-A', 'PREROUTING', '-j', 'WEFT_INBOUND']);
    const cleaned = await ns().weftInit(['--cleanup', '--ipv6']);
    expect(cleaned.exitCode, cleaned.stderr).toBe(0);
    expect(weftLines(await ns().save())).toEqual([]);
    expect(weftLines(await ns().save('ip6tables-save'))).toEqual([]);
    expect(await ns().save()).toBe(before);
  });

  it('--ipv6 writes IPv6 subnets to ip6tables only, IPv4 ones to iptables only', async () => {
    const result = await ns().weftInit(['--ipv6', '--skip-subnets', '10.9.0.0/16,fd00:9::/32']);
    expect(result.exitCode, result.stderr).toBe(0);
    const v4 = weftLines(await ns().save()).join('\n');
    const v6 = weftLines(await ns().save('ip6tables-save')).join('\n');
    expect(v4).toContain('-A WEFT_OUTPUT -d 10.9.0.0/16 -m comment --comment "weft/skip-outbound-subnet-10.9.0.0/16" -j RETURN');
    expect(v4).not.toContain('fd00');
    expect(v6).toContain('-A WEFT_INBOUND -s fd00:9::/32 -m comment --comment "weft/skip-inbound-subnet-fd00:9::/32" -j RETURN');
    expect(v6).not.toContain('10.9.0.0');
    expect(result.stdout).toContain('# weft-init: the WEFT lines of `ip6tables-save -t nat`');
  });

  it('--iptables iptables-legacy writes the legacy tables and prints what iptables-legacy-save shows', async () => {
    const result = await ns().weftInit(['--iptables', 'iptables-legacy']);
    expect(result.exitCode, result.stderr).toBe(0);
    const legacy = weftLines(await ns().save('iptables-legacy-save'));
    expect(legacy).toContain('-A WEFT_OUTPUT -p tcp -m comment --comment "weft/redirect-outbound-to-4240" -j REDIRECT --to-ports 4240');
    expect(ruleLines(result.stdout)).toEqual(legacy);
  });

  it('exits 2 on bad arguments, naming the flag and value, and writes nothing', async () => {
    const before = await ns().save();
    for (const [args, named] of [
      [['--skip-inbound-ports', '90-80'], '--skip-inbound-ports "90-80"'],
      [['--outbound-port', '4243'], '--outbound-port "4243"'],
      [['--skip-subnets', '10.0.0.0/33'], '--skip-subnets "10.0.0.0/33"'],
      [['--redirect-all'], '"--redirect-all"'],
    ] as const) {
      const result = await ns().weftInit(args);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(named);
    }
    expect(await ns().save()).toBe(before);
  });

  it('sends outbound TCP to the outbound port, but not the proxy user’s, not loopback, and not after --cleanup', async () => {
    expect(await connectFrom(ns(), PEER, 80, APP_USER)).toBe('peer-directly');
    expect((await ns().weftInit([])).exitCode).toBe(0);
    expect(await connectFrom(ns(), PEER, 80, APP_USER)).toBe('outbound-port');
    expect(await connectFrom(ns(), PEER, 80)).toBe('outbound-port');
    expect(await connectFrom(ns(), PEER, 80, PROXY_USER)).toBe('peer-directly');
    expect(await connectFrom(ns(), '127.0.0.1', 4291, APP_USER)).toBe('admin-port');
    expect((await ns().weftInit(['--cleanup'])).exitCode).toBe(0);
    expect(await connectFrom(ns(), PEER, 80, APP_USER)).toBe('peer-directly');
  });

  it('sends inbound TCP from another namespace to the inbound port, except the skipped ports', async () => {
    const from = peer as TestNamespace;
    expect(await connectFrom(from, APP, 8080)).toBe('error:ECONNREFUSED');
    expect((await ns().weftInit([])).exitCode).toBe(0);
    expect(await connectFrom(from, APP, 8080)).toBe('inbound-port');
    expect(await connectFrom(from, APP, 4291)).toBe('admin-port');
  });

  it('lets skipped subnets and outbound ports bypass the proxy', async () => {
    const from = peer as TestNamespace;
    expect((await ns().weftInit(['--skip-subnets', '10.251.0.0/24'])).exitCode).toBe(0);
    expect(await connectFrom(ns(), PEER, 80, APP_USER)).toBe('peer-directly');
    expect(await connectFrom(from, APP, 8080)).toBe('error:ECONNREFUSED');
    expect((await ns().weftInit(['--skip-outbound-ports', '79-80'])).exitCode).toBe(0);
    expect(await connectFrom(ns(), PEER, 80, APP_USER)).toBe('peer-directly');
    expect(await connectFrom(from, APP, 8080)).toBe('inbound-port');
    expect((await ns().weftInit(['--skip-outbound-ports', '81', '--proxy-uid', '3000', '--proxy-gid', `${PROXY_USER}`])).exitCode).toBe(0);
    expect(await connectFrom(ns(), PEER, 80, APP_USER)).toBe('outbound-port');
    expect(await connectFrom(ns(), PEER, 80, PROXY_USER)).toBe('peer-directly');
  });
});
