import { createIssuer, createTrustAnchor, createWorkloadCsr, X509CertificateAuthority } from '@weft/adapter-x509';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliCommands } from '../cli-command.js';
import { createCliContainer } from '../cli-container.js';
import { runCli } from '../run-cli.js';
import { identityCommand } from './identity.js';

const NOW = Date.UTC(2030, 0, 15, 12, 0, 0);
const HOUR = 3_600_000;
const web = { trustDomain: 'cluster.local', namespace: 'emojivoto', serviceAccount: 'web' };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-cli-identity-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function weft(argv: string[], commands: CliCommands = createCliContainer('1.2.3').get<CliCommands>(CliCommands)) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, commands, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const atNow = [identityCommand({ now: () => NOW })];

async function openssl(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('openssl', args, { encoding: 'utf8' });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: (failed.stdout ?? '') + (failed.stderr ?? '') };
  }
}

const path = (name: string) => join(dir, name);

describe('weft identity init', () => {
  it('writes an anchor and an issuer that openssl verifies, with the keys readable by the owner only', async () => {
    const result = await weft(['identity', 'init', '--dir', dir, '--trust-domain', 'example.org']);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toContain(`wrote ${path('issuer.key')}`);
    const verified = await openssl(['verify', '-x509_strict', '-CAfile', path('ca.crt'), path('issuer.crt')]);
    expect(verified.output).toContain(`${path('issuer.crt')}: OK`);
    expect(verified.code).toBe(0);
    const text = await openssl(['x509', '-in', path('issuer.crt'), '-noout', '-subject', '-issuer', '-ext', 'basicConstraints']);
    expect(text.output).toContain('subject=CN = issuer.identity.weft.example.org');
    expect(text.output).toContain('issuer=CN = root.identity.weft.example.org');
    expect(text.output).toContain('CA:TRUE, pathlen:0');
    for (const key of ['ca.key', 'issuer.key']) expect((await stat(path(key))).mode & 0o777).toBe(0o600);
    expect(await openssl(['pkey', '-in', path('issuer.key'), '-noout'])).toMatchObject({ code: 0 });
  });

  it('uses the lifetimes it is given', async () => {
    expect((await weft(['identity', 'init', '--dir', dir, '--anchor-lifetime', '48h', '--issuer-lifetime=24h'], atNow)).code).toBe(0);
    const { out } = await weft(['identity', 'inspect', path('issuer.crt'), '--anchors', path('ca.crt')], atNow);
    expect(out).toContain('not after:  2030-01-16T12:00:00.000Z (24h 0m left)');
    expect(out).toContain('chain:      trusted: chains to the trust anchors');
  });

  it('refuses to overwrite existing files unless --force, naming them', async () => {
    expect((await weft(['identity', 'init', '--dir', dir])).code).toBe(0);
    const before = await readFile(path('issuer.crt'), 'utf8');
    const again = await weft(['identity', 'init', '--dir', dir]);
    expect(again.code).toBe(1);
    expect(again.err).toContain(path('ca.crt'));
    expect(again.err).toContain('--force');
    expect(await readFile(path('issuer.crt'), 'utf8')).toBe(before);
    expect((await weft(['identity', 'init', '--dir', dir, '--force'])).code).toBe(0);
    expect(await readFile(path('issuer.crt'), 'utf8')).not.toBe(before);
  });

  it('writes a new issuer from the existing anchor with --issuer-only', async () => {
    expect((await weft(['identity', 'init', '--dir', dir])).code).toBe(0);
    const anchor = await readFile(path('ca.crt'), 'utf8');
    const issuer = await readFile(path('issuer.crt'), 'utf8');
    expect((await weft(['identity', 'init', '--dir', dir, '--issuer-only'])).code).toBe(1);
    const rotated = await weft(['identity', 'init', '--dir', dir, '--issuer-only', '--force']);
    expect(rotated.code).toBe(0);
    expect(await readFile(path('ca.crt'), 'utf8')).toBe(anchor);
    expect(await readFile(path('issuer.crt'), 'utf8')).not.toBe(issuer);
    expect((await openssl(['verify', '-CAfile', path('ca.crt'), path('issuer.crt')])).code).toBe(0);
  });

  it('says what is missing when --issuer-only has no anchor to sign with', async () => {
    const result = await weft(['identity', 'init', '--dir', dir, '--issuer-only']);
    expect(result.code).toBe(1);
    expect(result.err).toContain(path('ca.crt'));
  });

  it.each([
    [['--bogus'], 'unknown option "--bogus"'],
    [['--dir'], 'option --dir needs a value'],
    [['--anchor-lifetime', '10y'], 'invalid duration "10y"'],
    [['--issuer-lifetime', '30s'], 'too short'],
    [['--anchor-lifetime', '24h', '--issuer-lifetime', '48h'], 'cannot outlive its anchor'],
    [['--issuer-only', '--trust-domain', 'x.org'], 'does not go with --issuer-only'],
    [['extra'], 'takes no arguments; got "extra"'],
  ])('exits 2 on the usage error %j', async (args, message) => {
    const result = await weft(['identity', 'init', '--dir', dir, ...args]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
    expect(result.err).toContain('weft identity --help');
  });

  it('refuses a trust domain that is not a DNS name', async () => {
    const result = await weft(['identity', 'init', '--dir', dir, '--trust-domain', 'Not A Domain']);
    expect(result.code).toBe(1);
    expect(result.err).toContain('"Not A Domain"');
  });
});

describe('weft identity inspect', () => {
  async function writeLeaf(): Promise<void> {
    const anchor = await createTrustAnchor({ trustDomain: 'cluster.local', now: NOW - HOUR });
    const issuer = await createIssuer({ anchor, now: NOW - HOUR });
    const authority = new X509CertificateAuthority({ now: () => NOW }, { trustAnchorsPem: anchor.certificatePem });
    await authority.loadIssuer(issuer);
    const issued = await authority.certify({ csr: (await createWorkloadCsr(web)).csrDer, identity: web });
    if (!issued.ok) throw issued.error;
    await writeFile(path('leaf.crt'), issued.value.leafPem + issued.value.chainPem.join(''));
    await writeFile(path('ca.crt'), anchor.certificatePem);
  }

  it('prints the subject, SANs, validity with time left, and chain status of a workload certificate', async () => {
    await writeLeaf();
    const result = await weft(['identity', 'inspect', path('leaf.crt'), '--anchors', path('ca.crt')], atNow);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toContain(`${path('leaf.crt')}: certificate 1 of 2`);
    expect(result.out).toContain('subject:    (empty: the names are in the SANs)');
    expect(result.out).toContain('DNS SANs:   web.emojivoto.serviceaccount.identity.weft.cluster.local');
    expect(result.out).toContain('URI SANs:   spiffe://cluster.local/ns/emojivoto/sa/web');
    expect(result.out).toContain('key:        ECDSA P-256');
    expect(result.out).toContain('CA:         no');
    expect(result.out).toContain('not before: 2030-01-15T11:59:40.000Z');
    expect(result.out).toContain('not after:  2030-01-16T12:00:00.000Z (24h 0m left)');
    expect(result.out).toContain('chain:      trusted: chains to the trust anchors');
    expect(result.out).toContain('CA:         yes (path length 0)');
  });

  it('exits 1 for an expired certificate, saying since when', async () => {
    await writeLeaf();
    const later = [identityCommand({ now: () => NOW + 26 * HOUR })];
    const result = await weft(['identity', 'inspect', path('leaf.crt')], later);
    expect(result.code).toBe(1);
    expect(result.out).toContain('(EXPIRED 2h 0m ago)');
    expect(result.out).toContain('chain:      not checked (pass --anchors FILE)');
  });

  it('exits 1 for a certificate that does not chain to the anchors given, with the reason', async () => {
    await writeLeaf();
    expect((await weft(['identity', 'init', '--dir', join(dir, 'other')])).code).toBe(0);
    const result = await weft(['identity', 'inspect', path('leaf.crt'), '--anchors', join(dir, 'other', 'ca.crt')], atNow);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/chain: +untrusted: .*another CA/);
  });

  it('names a file it cannot read or that holds no certificate', async () => {
    const missing = await weft(['identity', 'inspect', path('nope.crt')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`cannot read "${path('nope.crt')}" (ENOENT)`);
    await writeFile(path('junk.crt'), 'hello');
    const junk = await weft(['identity', 'inspect', path('junk.crt')]);
    expect(junk.code).toBe(1);
    expect(junk.err).toContain(`invalid CA material "${path('junk.crt')}"`);
  });

  it('exits 2 without a FILE', async () => {
    const result = await weft(['identity', 'inspect']);
    expect(result.code).toBe(2);
    expect(result.err).toContain('needs the FILE');
  });
});

describe('weft identity', () => {
  it('is listed, has a usage, and exits 2 on a missing or unknown subcommand', async () => {
    expect((await weft([])).out).toMatch(/identity\s+create the trust anchor and issuer, and inspect certificates/);
    const help = await weft(['help', 'identity']);
    expect(help.out).toMatch(/^Usage: weft identity <init\|inspect>/);
    expect(help.out).toContain('Usage: weft identity init');
    expect(help.out).toContain('Usage: weft identity inspect FILE');
    expect((await weft(['identity'])).code).toBe(2);
    const unknown = await weft(['identity', 'rotate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no subcommand "rotate"');
  });
});
