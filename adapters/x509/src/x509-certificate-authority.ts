// X509CertificateAuthority: the CertificateAuthority port with real X.509: checks CSRs, signs ECDSA P-256 leaves.
import {
  admitCsr,
  type CertificateAuthority,
  type CertificationRequest,
  CertifyRefusal,
  Clock,
  DEFAULT_LEAF_LIFETIME_MS,
  err,
  type IssuedCertificate,
  leafValidity,
  ok,
  type Result,
} from '@weft/core';
import { inject, injectable } from 'inversify';
import { type CaMaterial, loadIssuer, type LoadedSigner, type MaterialSources } from './ca-material.js';
import { CaMaterialError } from './ca-material-error.js';
import { chainProblem, type TrustAnchorSet } from './certificate-chain.js';
import { readCsr } from './csr-reader.js';
import { iso, messageOf, parseCertificates } from './parsed-certificate.js';
import { toPem } from './pem.js';
import { signWorkloadLeaf } from './workload-leaf-template.js';

export const X509CertificateAuthorityOptions = Symbol('X509CertificateAuthorityOptions');

export interface X509CertificateAuthorityOptions {
  /** The PEM bundle of trust anchors; during an anchor rotation it holds the old and the new anchor. */
  readonly trustAnchorsPem: string;
  /** How long leaves last; 24 h by default. A leaf never outlives its issuer. */
  readonly leafLifetimeMs?: number;
}

/** The issuer the authority signs with, as people see it. */
export interface IssuerSummary {
  readonly subject: string;
  readonly serial: string;
  /** Epoch milliseconds. */
  readonly notBefore: number;
  readonly notAfter: number;
}

interface IssuerCheck {
  readonly issuer: LoadedSigner;
  readonly now: number;
  readonly problem: string | undefined;
}

@injectable()
export class X509CertificateAuthority implements CertificateAuthority {
  private readonly anchors: TrustAnchorSet;
  private readonly leafLifetimeMs: number;
  private issuer: LoadedSigner | undefined;
  // Loads run one after the other; certify() waits for the one in flight, so a CA built and loaded together
  // never refuses the first request for want of an issuer.
  private loading: Promise<unknown> = Promise.resolve();
  private ready: Promise<unknown> = Promise.resolve();
  // The issuer's chain checked at most once per second: `now` is in whole seconds, and so is X.509 validity.
  private lastCheck: IssuerCheck | undefined;

  /** @throws CaMaterialError if the trust anchors are not a readable PEM bundle of certificates. */
  constructor(
    @inject(Clock) private readonly clock: Clock,
    @inject(X509CertificateAuthorityOptions) options: X509CertificateAuthorityOptions,
  ) {
    try {
      const certificates = parseCertificates(options.trustAnchorsPem);
      this.anchors = { pem: certificates.map((certificate) => certificate.pem).join(''), certificates };
    } catch (error) {
      const reason = `${messageOf(error)}; expected a PEM bundle of CA certificates`;
      throw new CaMaterialError('malformed', 'trust anchors', reason);
    }
    this.leafLifetimeMs = options.leafLifetimeMs ?? DEFAULT_LEAF_LIFETIME_MS;
    leafValidity(0, this.leafLifetimeMs); // throws RangeError now rather than on every certify()
  }

  /**
   * Checks an issuer (CA certificate PEM, optionally followed by intermediates up to the anchor, and its key) and, if
   * it is an ECDSA P-256 CA valid now that chains to the trust anchors, signs with it from now on. A refused issuer
   * leaves the current one in place. `sources` names the files in error messages.
   */
  async loadIssuer(material: CaMaterial, sources?: MaterialSources): Promise<Result<IssuerSummary, CaMaterialError>> {
    const load = this.loading.then(async () => {
      const loaded = await loadIssuer(material, this.anchors, this.clock.now(), sources);
      if (loaded.ok) this.issuer = loaded.value;
      return loaded.ok ? ok(summary(loaded.value)) : loaded;
    });
    this.loading = load;
    return load;
  }

  /** Makes certify() wait for `work` (say, the first read of the issuer files) before it looks for an issuer. */
  waitBeforeSigning(work: Promise<unknown>): void {
    this.ready = Promise.all([this.ready, work.catch(() => undefined)]);
  }

  /** Stops signing until an issuer is loaded again. */
  unloadIssuer(): void {
    this.issuer = undefined;
  }

  /** The issuer in use, if any. */
  currentIssuer(): IssuerSummary | undefined {
    return this.issuer === undefined ? undefined : summary(this.issuer);
  }

  trustAnchorsPem(): string {
    return this.anchors.pem;
  }

  async certify(request: CertificationRequest): Promise<Result<IssuedCertificate, CertifyRefusal>> {
    const csr = await readCsr(request.csr);
    if (!csr.ok) return csr;
    const admitted = admitCsr(csr.value.facts, request.identity, request.identity);
    if (!admitted.ok) return err(CertifyRefusal.fromCsrRefusal(admitted.error));
    const [other] = csr.value.otherNames;
    if (other !== undefined) {
      const reason = `invalid CSR: it carries ${other}; a workload CSR names only its identity`;
      return err(new CertifyRefusal('forbidden-san', reason));
    }
    await this.ready;
    await this.loading;
    // X.509 validity has a resolution of one second; start from a whole second so the lifetime stays exact.
    const now = Math.floor(this.clock.now() / 1_000) * 1_000;
    const issuer = this.issuer;
    const unavailable = this.issuerProblem(issuer, now);
    if (issuer === undefined || unavailable !== undefined) {
      return err(new CertifyRefusal('issuer-unavailable', unavailable ?? 'no issuer is loaded'));
    }
    const validity = leafValidity(now, this.leafLifetimeMs);
    const notAfter = Math.min(validity.notAfter, issuer.certificate.notAfter);
    const leaf = signWorkloadLeaf(csr.value.spki, request.identity, { ...validity, notAfter }, issuer);
    return ok({
      leafPem: toPem(leaf.der, 'CERTIFICATE'),
      chainPem: [issuer.certificate, ...issuer.chain].map((certificate) => certificate.pem),
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
      serial: leaf.serial,
    });
  }

  private issuerProblem(issuer: LoadedSigner | undefined, now: number): string | undefined {
    const last = this.lastCheck;
    if (issuer !== undefined && last?.issuer === issuer && last.now === now) return last.problem;
    const problem = issuerUnavailable(issuer, this.anchors, now);
    if (issuer !== undefined) this.lastCheck = { issuer, now, problem };
    return problem;
  }
}

function issuerUnavailable(issuer: LoadedSigner | undefined, anchors: TrustAnchorSet, now: number): string | undefined {
  if (issuer === undefined) return 'no issuer is loaded; install an issuer certificate and key';
  const { notBefore, notAfter } = issuer.certificate;
  if (now > notAfter) return `the issuer expired at ${iso(notAfter)}; install a new issuer`;
  if (now < notBefore) return `the issuer is not valid before ${iso(notBefore)}; check the clock or the issuer`;
  const problem = chainProblem(issuer.certificate, issuer.chain, anchors.certificates, now);
  return problem === undefined ? undefined : `the issuer is not usable now: ${problem}`;
}

function summary(issuer: LoadedSigner): IssuerSummary {
  const { x509, notBefore, notAfter } = issuer.certificate;
  return { subject: x509.subject, serial: x509.serialNumber, notBefore, notAfter };
}
