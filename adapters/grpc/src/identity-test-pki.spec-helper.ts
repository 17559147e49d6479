// Small but real stand-ins behind the Identity service in tests: an openssl-backed CA, a token table, a settable clock.
import { execFile } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  admitCsr,
  type CertificateAuthority,
  type CertificationRequest,
  CertifyRefusal,
  type Clock,
  type CsrFacts,
  err,
  identityName,
  type IssuedCertificate,
  MAX_CSR_BYTES,
  ok,
  type Result,
  spiffeUri,
  TokenRefusal,
  type TokenValidator,
  type WorkloadIdentity,
} from '@weft/core';

const run = promisify(execFile);

async function openssl(cwd: string, ...args: string[]): Promise<string> {
  const { stdout, stderr } = await run('openssl', args, { cwd });
  return `${stdout}\n${stderr}`;
}

export class TestClock implements Clock {
  constructor(private time: number) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

/** Tokens handed out by the test, each proving one identity; 'unavailable' when switched off. */
export class TableTokenValidator implements TokenValidator {
  private readonly tokens = new Map<string, { identity: WorkloadIdentity; expired: boolean }>();
  available = true;

  issue(identity: WorkloadIdentity): string {
    const token = `table.${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { identity, expired: false });
    return token;
  }

  expire(token: string): void {
    const entry = this.tokens.get(token);
    if (entry !== undefined) entry.expired = true;
  }

  async validate(token: string): Promise<Result<WorkloadIdentity, TokenRefusal>> {
    if (!this.available) return err(new TokenRefusal('unavailable', 'the token table is away; retry later'));
    const entry = this.tokens.get(token);
    if (entry === undefined) return err(new TokenRefusal('invalid', 'no such token was issued'));
    if (entry.expired) return err(new TokenRefusal('expired', 'the token expired'));
    return ok(entry.identity);
  }
}

/** A temporary folder for openssl's files; remove() deletes it. */
export class Workdir {
  private constructor(readonly path: string) {}

  static async create(): Promise<Workdir> {
    return new Workdir(await mkdtemp(join(tmpdir(), 'weft-grpc-identity-')));
  }

  file(name: string): string {
    return join(this.path, name);
  }

  async remove(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }
}

export interface CsrSpec {
  readonly key?: 'p256' | 'p384' | 'rsa';
  /** subjectAltName entries, e.g. ["DNS:web...", "IP:10.0.0.1"]. */
  readonly sans?: readonly string[];
}

/** A DER PKCS#10 CSR made by `openssl req` with a fresh key. */
export async function opensslCsr(dir: Workdir, spec: CsrSpec = {}): Promise<Uint8Array> {
  const name = randomBytes(6).toString('hex');
  const key = { p256: ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], p384: ['ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], rsa: ['rsa:2048'] }[
    spec.key ?? 'p256'
  ];
  const sans = spec.sans === undefined || spec.sans.length === 0 ? [] : ['-addext', `subjectAltName=${spec.sans.join(',')}`];
  await openssl(dir.path, 'req', '-new', '-newkey', ...key, '-nodes', '-keyout', `${name}.key`, '-subj', '/', ...sans, '-outform', 'DER', '-out', `${name}.csr`);
  return new Uint8Array(await readFile(dir.file(`${name}.csr`)));
}

/** The CSR a well-behaved workload sends: P-256, one DNS SAN naming its identity. */
export function goodCsr(dir: Workdir, identity: WorkloadIdentity): Promise<Uint8Array> {
  return opensslCsr(dir, { sans: [`DNS:${identityName(identity)}`] });
}

/**
 * A CA driven through openssl: a root and an issuer made at create(), CSR facts read with `openssl req -text -verify`,
 * the core's admitCsr rules, leaves signed by `openssl x509 -req` from a fixed template (nothing copied from the CSR).
 */
export class OpenSslCertificateAuthority implements CertificateAuthority {
  issuerAvailable = true;

  private constructor(
    private readonly dir: Workdir,
    private readonly rootPem: string,
    private readonly issuerPem: string,
  ) {}

  static async create(dir: Workdir): Promise<OpenSslCertificateAuthority> {
    const p256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    await openssl(dir.path, 'req', '-x509', ...p256, '-keyout', 'root.key', '-out', 'root.crt', '-subj', '/CN=test root', '-days', '2',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    await openssl(dir.path, 'req', '-new', ...p256, '-keyout', 'issuer.key', '-out', 'issuer.csr', '-subj', '/CN=test issuer');
    await writeFile(dir.file('issuer.ext'), 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n');
    await openssl(dir.path, 'x509', '-req', '-in', 'issuer.csr', '-CA', 'root.crt', '-CAkey', 'root.key', '-set_serial', '0x01',
      '-days', '2', '-extfile', 'issuer.ext', '-out', 'issuer.crt');
    return new OpenSslCertificateAuthority(dir, await readFile(dir.file('root.crt'), 'utf8'), await readFile(dir.file('issuer.crt'), 'utf8'));
  }

  trustAnchorsPem(): string {
    return this.rootPem;
  }

  async certify(request: CertificationRequest): Promise<Result<IssuedCertificate, CertifyRefusal>> {
    if (request.csr.byteLength > MAX_CSR_BYTES) return err(new CertifyRefusal('malformed-csr', 'the CSR is too large'));
    const name = randomBytes(6).toString('hex');
    await writeFile(this.dir.file(`${name}.csr`), request.csr);
    const facts = await this.readFacts(`${name}.csr`);
    if (facts === undefined) return err(new CertifyRefusal('malformed-csr', 'the CSR is not DER PKCS#10'));
    const admitted = admitCsr(facts, request.identity, request.identity);
    if (!admitted.ok) return err(CertifyRefusal.fromCsrRefusal(admitted.error));
    if (!this.issuerAvailable) return err(new CertifyRefusal('issuer-unavailable', 'no issuer is loaded; load one'));
    const sans = `DNS:${identityName(request.identity)},URI:${spiffeUri(request.identity)}`;
    await writeFile(
      this.dir.file(`${name}.ext`),
      `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${sans}\n`,
    );
    const serial = randomBytes(16).toString('hex');
    await openssl(this.dir.path, 'x509', '-req', '-inform', 'DER', '-in', `${name}.csr`, '-CA', 'issuer.crt', '-CAkey', 'issuer.key',
      '-set_serial', `0x${serial}`, '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
    const leafPem = await readFile(this.dir.file(`${name}.crt`), 'utf8');
    const leaf = new X509Certificate(leafPem);
    return ok({
      leafPem,
      chainPem: [this.issuerPem],
      notBefore: leaf.validFromDate.getTime(),
      notAfter: leaf.validToDate.getTime(),
      serial: leaf.serialNumber.toLowerCase(),
    });
  }

  private async readFacts(file: string): Promise<CsrFacts | undefined> {
    let text: string;
    try {
      text = await openssl(this.dir.path, 'req', '-inform', 'DER', '-in', file, '-noout', '-text', '-verify');
    } catch {
      return undefined;
    }
    const sanLine = /X509v3 Subject Alternative Name:.*\n\s*(.*)/.exec(text)?.[1] ?? '';
    const sans = sanLine === '' ? [] : sanLine.split(', ');
    const valuesOf = (prefix: string): string[] => sans.filter((san) => san.startsWith(prefix)).map((san) => san.slice(prefix.length));
    const curve = /NIST CURVE: (\S+)/.exec(text)?.[1];
    return {
      signatureValid: text.includes('verify OK'),
      keyAlgorithm: text.includes('id-ecPublicKey') ? 'ECDSA' : text.includes('rsaEncryption') ? 'RSA' : 'other',
      ...(curve !== undefined && { namedCurve: curve }),
      dnsNames: valuesOf('DNS:'),
      uris: valuesOf('URI:'),
      ipAddresses: valuesOf('IP Address:'),
      emailAddresses: valuesOf('email:'),
    };
  }
}
