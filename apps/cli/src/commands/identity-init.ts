// `weft identity init`: writes a new trust anchor and issuer (certificates and keys) to a folder.
import { createIssuer, createTrustAnchor, type CaMaterial, CaMaterialError } from '@weft/adapter-x509';
import { DEFAULT_TRUST_DOMAIN, parseDuration } from '@weft/core';
import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliIo } from '../cli-command.js';
import { humanDuration, parseArgs, UsageError } from './identity-args.js';

export const IDENTITY_INIT_USAGE = `Usage: weft identity init [--dir DIR] [--trust-domain TD] [--anchor-lifetime D]
                          [--issuer-lifetime D] [--force]
       weft identity init --issuer-only [--dir DIR] [--issuer-lifetime D] [--force]

Creates the mesh's certificate authority in DIR (default: the current folder):
  ca.crt        the trust anchor (root) certificate: give it to every proxy and to the control plane
  ca.key        the trust anchor's private key (mode 0600): it only signs issuers; keep it offline
  issuer.crt    the issuer (intermediate) certificate, signed by the anchor
  issuer.key    the issuer's private key (mode 0600): the control plane signs workload certificates with it

Options:
  --dir DIR              the folder to write to; created if missing
  --trust-domain TD      the trust domain, a DNS name (default: ${DEFAULT_TRUST_DOMAIN})
  --anchor-lifetime D    how long the trust anchor lasts, e.g. 87600h (default: 87600h, 10 years)
  --issuer-lifetime D    how long the issuer lasts, e.g. 8760h (default: 8760h, 1 year; never past the anchor)
  --issuer-only          keep DIR/ca.crt and DIR/ca.key and write a new issuer signed by them (issuer rotation)
  --force                replace files that already exist

Durations are written like 90m, 24h or 8760h.`;

const DEFAULT_ANCHOR_LIFETIME = '87600h';
const DEFAULT_ISSUER_LIFETIME = '8760h';

interface InitPlan {
  readonly dir: string;
  readonly trustDomain: string;
  readonly anchorLifetimeMs: number;
  readonly issuerLifetimeMs: number;
  readonly issuerOnly: boolean;
  readonly force: boolean;
}

export async function runIdentityInit(args: readonly string[], io: CliIo, now: () => number): Promise<number> {
  const plan = initPlan(args);
  const files = plan.issuerOnly ? ['issuer.crt', 'issuer.key'] : ['ca.crt', 'ca.key', 'issuer.crt', 'issuer.key'];
  const paths = files.map((file) => join(plan.dir, file));
  const existing = plan.force ? [] : await existingFiles(paths);
  if (existing.length > 0) {
    const [are, them] = existing.length === 1 ? ['exists', 'it'] : ['exist', 'them'];
    const advice = `remove ${them}, pick another --dir, or pass --force`;
    io.err(`weft identity init: ${existing.join(', ')} already ${are}; ${advice}`);
    return 1;
  }
  const anchor = plan.issuerOnly
    ? await readAnchor(plan.dir)
    : await createTrustAnchor({ trustDomain: plan.trustDomain, lifetimeMs: plan.anchorLifetimeMs, now: now() });
  const issuer = await createIssuer({ anchor, lifetimeMs: plan.issuerLifetimeMs, now: now() });
  await mkdir(plan.dir, { recursive: true });
  if (!plan.issuerOnly) await writeMaterial(plan.dir, 'ca', anchor, plan.force);
  await writeMaterial(plan.dir, 'issuer', issuer, plan.force);
  for (const path of paths) io.out(`wrote ${path}`);
  if (!plan.issuerOnly) {
    const [anchorLife, issuerLife] = [humanDuration(plan.anchorLifetimeMs), humanDuration(plan.issuerLifetimeMs)];
    io.out(`trust domain ${plan.trustDomain}; anchor valid ${anchorLife}, issuer ${issuerLife}`);
    io.out(`keep ${join(plan.dir, 'ca.key')} offline: it is needed only to sign the next issuer`);
  }
  return 0;
}

async function existingFiles(paths: readonly string[]): Promise<string[]> {
  const found = await Promise.all(paths.map(async (path) => ((await exists(path)) ? path : undefined)));
  return found.filter((path) => path !== undefined);
}

function initPlan(args: readonly string[]): InitPlan {
  const parsed = parseArgs(args, {
    valued: ['dir', 'trust-domain', 'anchor-lifetime', 'issuer-lifetime'],
    switches: ['force', 'issuer-only'],
  });
  const [stray] = parsed.positionals;
  if (stray !== undefined) throw new UsageError(`weft identity init takes no arguments; got ${JSON.stringify(stray)}`);
  const issuerOnly = parsed.switches.has('issuer-only');
  for (const flag of ['trust-domain', 'anchor-lifetime']) {
    if (issuerOnly && parsed.values.has(flag)) {
      throw new UsageError(`--${flag} does not go with --issuer-only, which keeps the anchor`);
    }
  }
  const anchorLifetimeMs = lifetime('anchor-lifetime', parsed.values.get('anchor-lifetime') ?? DEFAULT_ANCHOR_LIFETIME);
  const issuerLifetimeMs = lifetime('issuer-lifetime', parsed.values.get('issuer-lifetime') ?? DEFAULT_ISSUER_LIFETIME);
  if (!issuerOnly && issuerLifetimeMs > anchorLifetimeMs) {
    const [issuer, anchor] = [humanDuration(issuerLifetimeMs), humanDuration(anchorLifetimeMs)];
    const lifetimes = `--issuer-lifetime (${issuer}) is longer than --anchor-lifetime (${anchor})`;
    throw new UsageError(`${lifetimes}; an issuer cannot outlive its anchor`);
  }
  return {
    dir: parsed.values.get('dir') ?? '.',
    trustDomain: parsed.values.get('trust-domain') ?? DEFAULT_TRUST_DOMAIN,
    anchorLifetimeMs,
    issuerLifetimeMs,
    issuerOnly,
    force: parsed.switches.has('force'),
  };
}

function lifetime(flag: string, text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new UsageError(`--${flag} ${parsed.error.toString()}`);
  if (parsed.value < 60_000) {
    throw new UsageError(`--${flag} ${JSON.stringify(text)} is too short; give at least 1m, e.g. 8760h`);
  }
  return parsed.value;
}

async function readAnchor(dir: string): Promise<CaMaterial> {
  const read = async (file: string) => {
    try {
      return await readFile(join(dir, file), 'utf8');
    } catch {
      const reason = 'cannot be read; --issuer-only signs with the anchor that weft identity init wrote to --dir';
      throw new CaMaterialError('unreadable', join(dir, file), reason);
    }
  };
  return { certificatePem: await read('ca.crt'), privateKeyPem: await read('ca.key') };
}

async function writeMaterial(dir: string, stem: string, material: CaMaterial, force: boolean): Promise<void> {
  const flag = force ? 'w' : 'wx';
  const keyPath = join(dir, `${stem}.key`);
  await writeFile(keyPath, material.privateKeyPem, { mode: 0o600, flag });
  await chmod(keyPath, 0o600); // a replaced file keeps its old mode otherwise
  await writeFile(join(dir, `${stem}.crt`), material.certificatePem, { mode: 0o644, flag });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
