// The state folder of `weft up`: the mesh's trust anchor, issuer and token key, made on first use and kept after.
import { type CaMaterial, createIssuer, createTrustAnchor, inspectCertificate } from '@weft/adapter-x509';
import { loadOrCreateTokenSigningKey, type TokenSigningKey } from '@weft/adapter-token';
import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface StateFolder {
  readonly dir: string;
  /** The trust anchor: what proxies check peers against. */
  readonly caFile: string;
  readonly tokenKeyFile: string;
  /** The key the control plane checks workload tokens with; weft up signs each instance's token with it. */
  readonly tokenKey: TokenSigningKey;
  /** What was made now rather than found, for the start-up lines. */
  readonly made: readonly string[];
}

/** The state folder cannot be used as it is; the message says what to do. */
export class StateFolderError extends Error {
  override readonly name = 'StateFolderError';
}

/**
 * Makes `dir` (mode 0700) and, unless they are there, a trust anchor and an issuer for `trustDomain` (ca.crt, ca.key,
 * issuer.crt, issuer.key, as `weft identity init` writes them) and the token key. Material found there is checked: the
 * anchor must be for `trustDomain`; an issuer that expired is replaced when ca.key is there to sign a new one.
 * @throws StateFolderError when the material found cannot serve (another trust domain, half of it missing).
 */
export async function prepareStateFolder(dir: string, trustDomain: string, now: number): Promise<StateFolder> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => join(dir, name);
  const present = await presentFiles(dir, ['ca.crt', 'ca.key', 'issuer.crt', 'issuer.key']);
  const made: string[] = [];
  if (present.size === 0) {
    const anchor = await createTrustAnchor({ trustDomain, now });
    await writeMaterial(dir, 'ca', anchor);
    await writeMaterial(dir, 'issuer', await createIssuer({ anchor, now }));
    made.push(file('ca.crt'), file('issuer.crt'));
  } else {
    made.push(...(await checkMaterial(dir, present, trustDomain, now)));
  }
  const tokenKeyFile = file('token.key');
  const loaded = await loadOrCreateTokenSigningKey(tokenKeyFile);
  if (loaded.created) made.push(tokenKeyFile);
  return { dir, caFile: file('ca.crt'), tokenKeyFile, tokenKey: loaded.key, made };
}

async function checkMaterial(dir: string, present: ReadonlySet<string>, trustDomain: string, now: number): Promise<string[]> {
  const missing = ['ca.crt', 'issuer.crt', 'issuer.key'].filter((name) => !present.has(name));
  if (missing.length > 0) {
    throw new StateFolderError(
      `the state folder ${dir} has ${[...present].join(', ')} but not ${missing.join(', ')}; ` +
        'remove the folder to start a new mesh identity, or write the missing files with weft identity init',
    );
  }
  const anchorPem = await readFile(join(dir, 'ca.crt'), 'utf8');
  const anchor = inspectCertificate(anchorPem, { now, source: join(dir, 'ca.crt') });
  if (!anchor.ok) throw new StateFolderError(anchor.error.message);
  const spiffe = `spiffe://${trustDomain}`;
  if (!anchor.value.some((certificate) => certificate.uris.includes(spiffe))) {
    const found = anchor.value.flatMap((certificate) => certificate.uris).join(', ') || 'no trust domain';
    throw new StateFolderError(
      `the trust anchor ${join(dir, 'ca.crt')} is for ${found}, not ${spiffe} as the mesh file says; ` +
        'pass another --state-dir, or remove the folder to make a new anchor',
    );
  }
  const issuer = inspectCertificate(await readFile(join(dir, 'issuer.crt'), 'utf8'), {
    now,
    trustAnchorsPem: anchorPem,
    source: join(dir, 'issuer.crt'),
  });
  if (!issuer.ok) throw new StateFolderError(issuer.error.message);
  const [first] = issuer.value;
  if (first !== undefined && first.validity === 'valid' && first.chain.status === 'trusted') return [];
  const why = first === undefined ? 'holds no certificate' : first.validity !== 'valid' ? `is ${first.validity}` : first.chain.detail;
  if (!present.has('ca.key')) {
    throw new StateFolderError(
      `the issuer ${join(dir, 'issuer.crt')} ${why}, and there is no ca.key to sign a new one; remove the folder to start anew`,
    );
  }
  const anchorMaterial: CaMaterial = { certificatePem: anchorPem, privateKeyPem: await readFile(join(dir, 'ca.key'), 'utf8') };
  await writeMaterial(dir, 'issuer', await createIssuer({ anchor: anchorMaterial, now }));
  return [join(dir, 'issuer.crt')];
}

async function presentFiles(dir: string, names: readonly string[]): Promise<Set<string>> {
  const found = await Promise.all(
    names.map(async (name) => {
      try {
        await access(join(dir, name));
        return name;
      } catch {
        return undefined;
      }
    }),
  );
  return new Set(found.filter((name) => name !== undefined));
}

async function writeMaterial(dir: string, stem: string, material: CaMaterial): Promise<void> {
  const keyPath = join(dir, `${stem}.key`);
  await writeFile(keyPath, material.privateKeyPem, { mode: 0o600 });
  await chmod(keyPath, 0o600);
  await writeFile(join(dir, `${stem}.crt`), material.certificatePem, { mode: 0o644 });
}
