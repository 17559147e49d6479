// MeshCertificates: a trust anchor, an issuer and workload leaves (good and bad) minted with the openssl CLI for mTLS specs.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ProxyCredentials } from '../identity/proxy-credentials.js';
import { loadX509Rules } from '../identity/x509-rules.js';

const run = promisify(execFile);

export const TRUST_DOMAIN = 'cluster.local';

/** The workloads of the specs: `web` serves, `client` calls it. */
export type MeshWorkload = 'web' | 'client' | 'other';

/**
 * What can be wrong with a leaf: `good` has nothing wrong; `rotated` is a second good leaf with a fresh key.
 * The others break one rule each, and still name the workload's identity.
 */
export type LeafFault =
  | 'good'
  | 'rotated'
  | 'expired'
  | 'not-yet-valid'
  | 'foreign-ca'
  | 'ca-as-leaf'
  | 'two-uri-sans'
  | 'rsa-key'
  /** Good, but signed by a second issuer under the same anchor (as during an issuer rotation). */
  | 'second-issuer';

export const BAD_LEAF_FAULTS: readonly LeafFault[] = ['expired', 'not-yet-valid', 'foreign-ca', 'ca-as-leaf', 'two-uri-sans', 'rsa-key'];

/** `<sa>.<ns>.serviceaccount.identity.weft.<td>`, as core's identityName() spells it. */
export function meshIdentityName(workload: MeshWorkload): string {
  return `${workload}.shop.serviceaccount.identity.weft.${TRUST_DOMAIN}`;
}

export interface MintedLeaf {
  readonly identityName: string;
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
  /** Files for openssl s_client: the leaf with its chain (`-cert` reads only the leaf; add `-cert_chain`), and the key. */
  readonly chainFile: string;
  readonly keyFile: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export class MeshCertificates {
  private readonly leaves = new Map<string, Promise<MintedLeaf>>();

  private constructor(
    readonly dir: string,
    /** The mesh trust anchor (root), PEM. */
    readonly trustAnchorsPem: string,
    readonly anchorFile: string,
  ) {}

  /** The issuer (intermediate) certificate, for openssl's `-cert_chain`. */
  get issuerFile(): string {
    return join(this.dir, 'issuer.pem');
  }

  /** Mints the anchor, the issuer and a foreign anchor in a fresh temporary folder. */
  static async mint(): Promise<MeshCertificates> {
    const dir = await mkdtemp(join(tmpdir(), 'weft-mtls-'));
    await writeFile(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n');
    await selfSignedCa(dir, 'anchor', 'Weft test trust anchor');
    await selfSignedCa(dir, 'foreign', 'Somebody else');
    await intermediate(dir, 'issuer', 'Weft test issuer', 2);
    await intermediate(dir, 'issuer2', 'Weft test issuer 2', 3);
    for (const ca of ['issuer', 'issuer2', 'foreign']) await prepareCaDatabase(dir, ca);
    const anchorFile = join(dir, 'anchor.pem');
    return new MeshCertificates(dir, await readFile(anchorFile, 'utf8'), anchorFile);
  }

  /** A leaf for `workload` with `fault`, minted on first use. */
  leaf(workload: MeshWorkload, fault: LeafFault = 'good'): Promise<MintedLeaf> {
    const key = `${workload}-${fault}`;
    let leaf = this.leaves.get(key);
    if (leaf === undefined) {
      leaf = this.mintLeaf(key, workload, fault);
      this.leaves.set(key, leaf);
    }
    return leaf;
  }

  /**
   * ProxyCredentials for a workload's leaf, trusting the mesh anchor. Like the proxy preparing its identity, this loads
   * the X.509 rules the mesh TLS checks use.
   */
  async credentials(workload: MeshWorkload, fault: LeafFault = 'good'): Promise<ProxyCredentials> {
    await loadX509Rules();
    const leaf = await this.leaf(workload, fault);
    return {
      identityName: leaf.identityName,
      privateKeyPem: leaf.privateKeyPem,
      certificateChainPem: leaf.certificateChainPem,
      trustAnchorsPem: this.trustAnchorsPem,
      notAfter: Date.now() + DAY_MS,
    };
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  private async mintLeaf(name: string, workload: MeshWorkload, fault: LeafFault): Promise<MintedLeaf> {
    const { dir } = this;
    const identityName = meshIdentityName(workload);
    const keyFile = join(dir, `${name}.key`);
    if (fault === 'rsa-key') await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile], dir);
    else await ecKey(keyFile);
    await openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${identityName}`, '-out', `${name}.csr`], dir);
    await writeFile(join(dir, `${name}.ext`), leafExtensions(workload, fault));
    const ca = fault === 'foreign-ca' ? 'foreign' : fault === 'second-issuer' ? 'issuer2' : 'issuer';
    const now = Date.now();
    const [from, to] =
      fault === 'expired' ? [now - 3 * DAY_MS, now - DAY_MS] : fault === 'not-yet-valid' ? [now + DAY_MS, now + 3 * DAY_MS] : [now - 60_000, now + DAY_MS];
    await openssl(
      [
        'ca', '-batch', '-config', `${ca}-ca.cnf`, '-notext', '-in', `${name}.csr`, '-out', `${name}.pem`,
        '-extfile', `${name}.ext`, '-startdate', asn1Time(from), '-enddate', asn1Time(to),
      ],
      dir,
    );
    const leafPem = await readFile(join(dir, `${name}.pem`), 'utf8');
    const certificateChainPem = leafPem + (ca === 'foreign' ? '' : await readFile(join(dir, `${ca}.pem`), 'utf8'));
    const chainFile = join(dir, `${name}-chain.pem`);
    await writeFile(chainFile, certificateChainPem);
    return { identityName, certificateChainPem, privateKeyPem: await readFile(keyFile, 'utf8'), chainFile, keyFile };
  }
}

function leafExtensions(workload: MeshWorkload, fault: LeafFault): string {
  const uri = `URI:spiffe://${TRUST_DOMAIN}/ns/shop/sa/${workload}`;
  const uris = fault === 'two-uri-sans' ? `${uri},URI:spiffe://${TRUST_DOMAIN}/ns/shop/sa/admin` : uri;
  const constraints = fault === 'ca-as-leaf' ? 'critical,CA:true' : 'critical,CA:false';
  const usage = fault === 'ca-as-leaf' ? 'critical,digitalSignature,keyCertSign' : 'critical,digitalSignature';
  return [
    `basicConstraints=${constraints}`,
    `keyUsage=${usage}`,
    'extendedKeyUsage=serverAuth,clientAuth',
    `subjectAltName=${uris},DNS:${meshIdentityName(workload)}`,
    '',
  ].join('\n');
}

async function intermediate(dir: string, name: string, subject: string, serial: number): Promise<void> {
  await ecKey(join(dir, `${name}.key`));
  await openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${subject}`, '-out', `${name}.csr`], dir);
  await openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'anchor.pem', '-CAkey', 'anchor.key', '-set_serial', String(serial), '-days', '365', '-extfile', 'ca.ext', '-out', `${name}.pem`],
    dir,
  );
}

async function selfSignedCa(dir: string, name: string, subject: string): Promise<void> {
  await ecKey(join(dir, `${name}.key`));
  await openssl(
    ['req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${subject}`, '-days', '3650', '-out', `${name}.pem`,
      '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
}

/** `openssl ca` needs a database; it is what lets a leaf get any validity window (x509 -req cannot back-date). */
async function prepareCaDatabase(dir: string, ca: string): Promise<void> {
  const db = join(dir, `${ca}-db`);
  await mkdir(join(db, 'new'), { recursive: true });
  await writeFile(join(db, 'index.txt'), '');
  await writeFile(join(db, 'index.txt.attr'), 'unique_subject = no\n');
  await writeFile(join(db, 'serial'), '1000\n');
  await writeFile(
    join(dir, `${ca}-ca.cnf`),
    [
      '[ ca ]', 'default_ca = leafca', '[ leafca ]', `dir = ${db}`, 'database = $dir/index.txt', 'new_certs_dir = $dir/new',
      'serial = $dir/serial', `certificate = ${join(dir, `${ca}.pem`)}`, `private_key = ${join(dir, `${ca}.key`)}`,
      'default_md = sha256', 'policy = anything', 'unique_subject = no', 'copy_extensions = none', 'email_in_dn = no',
      '[ anything ]', 'commonName = optional', '',
    ].join('\n'),
  );
}

function ecKey(file: string): Promise<unknown> {
  return run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file]);
}

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  await run('openssl', [...args], { cwd });
}

/** YYYYMMDDHHMMSSZ, the time format of `openssl ca -startdate/-enddate`. */
function asn1Time(ms: number): string {
  return `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}
