import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addVethPair, describeWithNetworkNamespaces, NetworkNamespace } from '@weft/fixtures';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { type CommandOutcome, runCommand } from './command-runner.js';
import { isWeftSaveLine } from './interception-applier.js';
import { DEFAULT_INTERCEPTION_SETTINGS, planInterception, planSaveLines } from './interception-plan.js';

/** This file is apps/init/src/: the repository is three folders up. */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The built weft-init, as the package's bin runs it. */
const INIT_MAIN = join(REPO_ROOT, 'apps/init/dist/main.js');
const TOOLS = ['iptables', 'iptables-save', 'ip6tables', 'ip6tables-save', 'iptables-legacy', 'iptables-legacy-save'];

const APP = '10.251.0.1'; // the meshed namespace's address on the veth
const PEER = '10.251.0.2'; // the other end: a host outside the mesh
const APP_USER = 2200; // any user but the proxy's
const PROXY_USER = DEFAULT_INTERCEPTION_SETTINGS.proxyUid;

const weftLines = (save: string) => save.split('\n').filter(isWeftSaveLine);
const ruleLines = (stdout: string) => stdout.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

// Listens on each port given as "port:label" (all addresses) and answers every connection with its label.
const LISTENER = `
const net = require('node:net');
const specs = process.argv.slice(1);
let waiting = specs.length;
for (const spec of specs) {
  const [port, label] = spec.split(':');
  net.createServer((socket) => socket.end(label + '\\n'))
    .listen(Number(port), '0.0.0.0', () => { if (--waiting === 0) process.stdout.write('ready\\n'); });
}`;

// Connects to host:port, as the given uid/gid when one is given, and prints what the server said or why it failed.
const CLIENT = `
const net = require('node:net');
const [host, port, id] = process.argv.slice(1);
if (id) { process.setgroups([]); process.setgid(Number(id)); process.setuid(Number(id)); }
let answer = '';
const socket = net.connect({ host, port: Number(port), timeout: 3000 });
socket.setEncoding('utf8');
socket.on('data', (chunk) => (answer += chunk));
socket.on('end', () => process.stdout.write(answer.trim()));
socket.on('timeout', () => { process.stdout.write('timeout'); socket.destroy(); });
socket.on('error', (error) => process.stdout.write('error:' + error.code));`;

/** Builds weft-init (and @weft/core, which it references) with the repository's TypeScript. */
function buildInit(): void {
  const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'apps/init/tsconfig.lib.json'], { cwd: REPO_ROOT, stdio: 'pipe' });
}

/** Runs the built weft-init inside the namespace; resolves with its outcome whatever the exit code. */
function weftInit(namespace: NetworkNamespace, args: readonly string[]): Promise<CommandOutcome> {
  return runCommand(...namespace.argv(process.execPath, [INIT_MAIN, ...args]));
}

/** `iptables-save -t nat` (or another -save) inside the namespace, without its timestamped `#` lines. */
async function save(namespace: NetworkNamespace, program = 'iptables-save'): Promise<string> {
  const stdout = await namespace.exec(program, ['-t', 'nat']);
  return stdout
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n');
}

/** TCP listeners inside a namespace, each answering with its label; resolves once all listen (remove() stops them). */
async function startListeners(namespace: NetworkNamespace, labels: Record<number, string>): Promise<void> {
  const specs = Object.entries(labels).map(([port, label]) => `${port}:${label}`);
  await namespace.start(process.execPath, ['-e', LISTENER, ...specs]).waitFor('ready');
}

/** Connects from inside `namespace` (as `uid`, when given) and returns the label of the listener that answered. */
function connectFrom(namespace: NetworkNamespace, host: string, port: number, uid?: number): Promise<string> {
  return namespace.exec(process.execPath, ['-e', CLIENT, host, `${port}`, ...(uid === undefined ? [] : [`${uid}`])]);
}

describeWithNetworkNamespaces('weft-init in a network namespace', { tools: TOOLS, timeout: 30_000 }, () => {
  let app: NetworkNamespace | undefined;
  let peer: NetworkNamespace | undefined;

  beforeAll(async () => {
    buildInit();
    app = NetworkNamespace.create('init-app');
    peer = NetworkNamespace.create('init-peer');
    addVethPair({ namespace: app, link: 'weft0', addresses: [`${APP}/24`] }, { namespace: peer, link: 'weft0', addresses: [`${PEER}/24`] });
    // In the app's namespace: the proxy's outbound and inbound ports, and its admin port (skipped by default).
    await startListeners(app, { 4240: 'outbound-port', 4243: 'inbound-port', 4291: 'admin-port' });
    await startListeners(peer, { 80: 'peer-directly' });
  }, 180_000);

  afterAll(async () => {
    // Stops the listeners too.
    await Promise.all([app?.remove(), peer?.remove()]);
  });

  // Each test starts from a nat table without weft rules, in both iptables families.
  beforeEach(async () => {
    for (const family of ['iptables', 'iptables-legacy']) {
      const cleaned = await weftInit(ns(), ['--cleanup', '--ipv6', '--iptables', family]);
      expect(cleaned.exitCode, cleaned.stderr).toBe(0);
    }
  });

  function ns(): NetworkNamespace {
    if (app === undefined) throw new Error('the namespaces were not created');
    return app;
  }

  it('writes the planned rules, prints what iptables-save shows, and a second run changes nothing', async () => {
    const first = await weftInit(ns(), []);
    expect(first.exitCode, first.stderr).toBe(0);
    const written = await save(ns());
    expect(weftLines(written)).toEqual(planSaveLines(planInterception(DEFAULT_INTERCEPTION_SETTINGS, 4)));
    expect(ruleLines(first.stdout)).toEqual(weftLines(written));

    const second = await weftInit(ns(), []);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(await save(ns())).toBe(written);
    expect(written.match(/^-A PREROUTING .*-j WEFT_INBOUND$/gm)).toHaveLength(1);
    expect(written.match(/^-A OUTPUT .*-j WEFT_OUTPUT$/gm)).toHaveLength(1);
  });

  it('leaves exactly one jump when copies were added by hand', async () => {
    await weftInit(ns(), []);
    await ns().exec('iptables', ['-t', 'nat', '-A', 'OUTPUT', '-j', 'WEFT_OUTPUT']);
    await ns().exec('iptables', ['-t', 'nat', '-I', 'PREROUTING', '-j', 'WEFT_INBOUND']);
    const again = await weftInit(ns(), []);
    expect(again.exitCode, again.stderr).toBe(0);
    const written = await save(ns());
    expect(written.match(/-j WEFT_INBOUND$/gm)).toHaveLength(1);
    expect(written.match(/-j WEFT_OUTPUT$/gm)).toHaveLength(1);
  });

  it('--dry-run prints the same rules a real run writes, and writes nothing', async () => {
    const before = await save(ns());
    const dry = await weftInit(ns(), ['--dry-run', '--skip-subnets', '10.9.0.0/16', '--skip-outbound-ports', '443,8000-8100']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(await save(ns())).toBe(before);
    const real = await weftInit(ns(), ['--skip-subnets', '10.9.0.0/16', '--skip-outbound-ports', '443,8000-8100']);
    expect(ruleLines(dry.stdout)).toEqual(ruleLines(real.stdout));
  });

  it('--cleanup leaves no WEFT chain or jump in either address family', async () => {
    const before = await save(ns());
    expect((await weftInit(ns(), ['--ipv6'])).exitCode).toBe(0);
    await ns().exec('iptables', ['-t', 'nat', '-A', 'PREROUTING', '-j', 'WEFT_INBOUND']);
    const cleaned = await weftInit(ns(), ['--cleanup', '--ipv6']);
    expect(cleaned.exitCode, cleaned.stderr).toBe(0);
    expect(weftLines(await save(ns()))).toEqual([]);
    expect(weftLines(await save(ns(), 'ip6tables-save'))).toEqual([]);
    expect(await save(ns())).toBe(before);
  });

  it('--ipv6 writes IPv6 subnets to ip6tables only, IPv4 ones to iptables only', async () => {
    const result = await weftInit(ns(), ['--ipv6', '--skip-subnets', '10.9.0.0/16,fd00:9::/32']);
    expect(result.exitCode, result.stderr).toBe(0);
    const v4 = weftLines(await save(ns())).join('\n');
    const v6 = weftLines(await save(ns(), 'ip6tables-save')).join('\n');
    expect(v4).toContain('-A WEFT_OUTPUT -d 10.9.0.0/16 -m comment --comment "weft/skip-outbound-subnet-10.9.0.0/16" -j RETURN');
    expect(v4).not.toContain('fd00');
    expect(v6).toContain('-A WEFT_INBOUND -s fd00:9::/32 -m comment --comment "weft/skip-inbound-subnet-fd00:9::/32" -j RETURN');
    expect(v6).not.toContain('10.9.0.0');
    expect(result.stdout).toContain('# weft-init: the WEFT lines of `ip6tables-save -t nat`');
  });

  it('--iptables iptables-legacy writes the legacy tables and prints what iptables-legacy-save shows', async () => {
    const result = await weftInit(ns(), ['--iptables', 'iptables-legacy']);
    expect(result.exitCode, result.stderr).toBe(0);
    const legacy = weftLines(await save(ns(), 'iptables-legacy-save'));
    expect(legacy).toContain('-A WEFT_OUTPUT -p tcp -m comment --comment "weft/redirect-outbound-to-4240" -j REDIRECT --to-ports 4240');
    expect(ruleLines(result.stdout)).toEqual(legacy);
  });

  it('exits 2 on bad arguments, naming the flag and value, and writes nothing', async () => {
    const before = await save(ns());
    for (const [args, named] of [
      [['--skip-inbound-ports', '90-80'], '--skip-inbound-ports "90-80"'],
      [['--outbound-port', '4243'], '--outbound-port "4243"'],
      [['--skip-subnets', '10.0.0.0/33'], '--skip-subnets "10.0.0.0/33"'],
      [['--redirect-all'], '"--redirect-all"'],
    ] as const) {
      const result = await weftInit(ns(), args);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(named);
    }
    expect(await save(ns())).toBe(before);
  });

  it('sends outbound TCP to the outbound port, but not the proxy user’s, not loopback, and not after --cleanup', async () => {
    expect(await connectFrom(ns(), PEER, 80, APP_USER)).toBe('peer-directly');
    expect((await weftInit(ns(), [])).exitCode).toBe(0);
    expect(await connectFrom(ns(), PEER, 80, APP_USER)).toBe('outbound-port');
    expect(await connectFrom(ns(), PEER, 80)).toBe('outbound-port');
    expect(await connectFrom(ns(), PEER, 80, PROXY_USER)).toBe('peer-directly');
    expect(await connectFrom(ns(), '127.0.0.1', 4291, APP_USER)).toBe('admin-port');
    expect((await weftInit(ns(), ['--cleanup'])).exitCode).toBe(0);
    expect(await connectFrom(ns(), PEER, 80, APP_USER)).toBe('peer-directly');
  });

  it('sends inbound TCP from another namespace to the inbound port, except the skipped ports', async () => {
    const from = peer as NetworkNamespace;
    expect(await connectFrom(from, APP, 8080)).toBe('error:ECONNREFUSED');
    expect((await weftInit(ns(), [])).exitCode).toBe(0);
    expect(await connectFrom(from, APP, 8080)).toBe('inbound-port');
    expect(await connectFrom(from, APP, 4291)).toBe('admin-port');
  });

  it('lets skipped subnets and outbound ports bypass the proxy', async () => {
    const from = peer as NetworkNamespace;
    expect((await weftInit(ns(), ['--skip-subnets', '10.251.0.0/24'])).exitCode).toBe(0);
    expect(await connectFrom(ns(), PEER, 80, APP_USER)).toBe('peer-directly');
    expect(await connectFrom(from, APP, 8080)).toBe('error:ECONNREFUSED');
    expect((await weftInit(ns(), ['--skip-outbound-ports', '79-80'])).exitCode).toBe(0);
    expect(await connectFrom(ns(), PEER, 80, APP_USER)).toBe('peer-directly');
    expect(await connectFrom(from, APP, 8080)).toBe('inbound-port');
    expect((await weftInit(ns(), ['--skip-outbound-ports', '81', '--proxy-uid', '3000', '--proxy-gid', `${PROXY_USER}`])).exitCode).toBe(0);
    expect(await connectFrom(ns(), PEER, 80, APP_USER)).toBe('outbound-port');
    expect(await connectFrom(ns(), PEER, 80, PROXY_USER)).toBe('peer-directly');
  });
});
