// Issuer files: load the CA's trust anchors and issuer from PEM files, and reload the issuer when its files change.
import { type Clock, err, ok, type Result } from '@weft/core';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { CaMaterialError } from './ca-material-error.js';
import { messageOf } from './parsed-certificate.js';
import { type IssuerSummary, X509CertificateAuthority } from './x509-certificate-authority.js';

/** Where the CA's material lives. */
export interface X509AuthorityFiles {
  /** PEM bundle of trust anchors (old and new during an anchor rotation). */
  readonly trustAnchorsFile: string;
  /** PEM issuer certificate, optionally followed by intermediates up to the anchor. */
  readonly issuerCertificateFile: string;
  /** PEM private key of the issuer (PKCS#8 or SEC1). */
  readonly issuerKeyFile: string;
}

/** What happened when the issuer files were (re)read. */
export type IssuerEvent =
  | { readonly type: 'loaded'; readonly issuer: IssuerSummary; readonly certificateFile: string }
  | { readonly type: 'refused'; readonly error: CaMaterialError; readonly keptIssuer: IssuerSummary | undefined };

export interface IssuerFileWatcherOptions {
  /** How often the files are read to look for a change; 5 s by default. */
  readonly pollIntervalMs?: number;
  /** Told about every issuer loaded and every one refused (each distinct refusal once). */
  readonly onEvent?: (event: IssuerEvent) => void;
}

export const DEFAULT_ISSUER_POLL_INTERVAL_MS = 5_000;

/**
 * Keeps an authority's issuer in step with its files. The files are polled rather than watched: secret mounts swap
 * files through symlinks, which file watchers miss. A change that does not load (a half-written pair, an expired or
 * foreign issuer) leaves the last good issuer in place and is reported once.
 */
export class IssuerFileWatcher {
  private lastSeen: string | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private readonly pollIntervalMs: number;

  constructor(
    readonly authority: X509CertificateAuthority,
    readonly files: Pick<X509AuthorityFiles, 'issuerCertificateFile' | 'issuerKeyFile'>,
    private readonly options: IssuerFileWatcherOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_ISSUER_POLL_INTERVAL_MS;
  }

  /**
   * Reads the files and, if they changed since the last read, loads them: the issuer now in use, or why the new
   * content was refused. Undefined when nothing changed.
   */
  async check(): Promise<Result<IssuerSummary, CaMaterialError> | undefined> {
    const next = this.running.then(() => this.checkOnce());
    this.running = next.catch(() => undefined);
    return next;
  }

  /** Polls the files every pollIntervalMs until close(); the timer does not keep the process alive. */
  start(): this {
    if (this.timer === undefined) {
      this.timer = setInterval(() => void this.check(), this.pollIntervalMs);
      this.timer.unref();
    }
    return this;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async checkOnce(): Promise<Result<IssuerSummary, CaMaterialError> | undefined> {
    const { issuerCertificateFile, issuerKeyFile } = this.files;
    const read = await readBoth(issuerCertificateFile, issuerKeyFile);
    const seen = read.ok ? `${read.value.certificatePem}\0${read.value.privateKeyPem}` : `error\0${read.error.message}`;
    if (seen === this.lastSeen) return undefined;
    this.lastSeen = seen;
    const loaded = read.ok
      ? await this.authority.loadIssuer(read.value, { certificate: issuerCertificateFile, key: issuerKeyFile })
      : read;
    this.options.onEvent?.(
      loaded.ok
        ? { type: 'loaded', issuer: loaded.value, certificateFile: issuerCertificateFile }
        : { type: 'refused', error: loaded.error, keptIssuer: this.authority.currentIssuer() },
    );
    return loaded;
  }
}

async function readBoth(certificateFile: string, keyFile: string) {
  const certificatePem = await readText(certificateFile);
  if (!certificatePem.ok) return certificatePem;
  const privateKeyPem = await readText(keyFile);
  if (!privateKeyPem.ok) return privateKeyPem;
  return ok({ certificatePem: certificatePem.value, privateKeyPem: privateKeyPem.value });
}

async function readText(file: string): Promise<Result<string, CaMaterialError>> {
  try {
    return ok(await readFile(file, 'utf8'));
  } catch (error) {
    return err(unreadable(file, error));
  }
}

function unreadable(file: string, error: unknown): CaMaterialError {
  const code = (error as { code?: unknown }).code;
  const detail = typeof code === 'string' ? code : messageOf(error);
  const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${detail})`;
  return new CaMaterialError('unreadable', file, `${why}; check the path and its permissions`);
}

/**
 * Reads the trust anchors file. @throws CaMaterialError naming the file if it cannot be read or holds no
 * certificate (a CA without anchors cannot start).
 */
export function readTrustAnchorsFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw unreadable(file, error);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new CaMaterialError('malformed', file, 'holds no PEM certificate; expected the bundle of trust anchors');
  }
  return text;
}

export interface X509AuthorityFromFiles {
  readonly authority: X509CertificateAuthority;
  readonly watcher: IssuerFileWatcher;
}

export interface LoadAuthorityOptions extends IssuerFileWatcherOptions {
  readonly clock: Clock;
  readonly leafLifetimeMs?: number;
}

/**
 * A CA over the given files, for a control plane that must not start without a usable issuer: the issuer must load
 * (valid now, chaining to the anchors) or this fails with the error naming the file and the reason. On success the
 * files are polled for changes until `watcher.close()`.
 */
export async function loadCertificateAuthorityFiles(
  files: X509AuthorityFiles,
  options: LoadAuthorityOptions,
): Promise<Result<X509AuthorityFromFiles, CaMaterialError>> {
  let authority: X509CertificateAuthority;
  try {
    const trustAnchorsPem = readTrustAnchorsFile(files.trustAnchorsFile);
    const lifetime = options.leafLifetimeMs === undefined ? {} : { leafLifetimeMs: options.leafLifetimeMs };
    authority = new X509CertificateAuthority(options.clock, { trustAnchorsPem, ...lifetime });
  } catch (error) {
    if (error instanceof CaMaterialError) return err(renamed(error, files.trustAnchorsFile));
    throw error;
  }
  const watcher = new IssuerFileWatcher(authority, files, options);
  const loaded = await watcher.check();
  if (loaded !== undefined && !loaded.ok) return loaded;
  return ok({ authority, watcher: watcher.start() });
}

// The CA names its anchors "trust anchors"; from files, name the file.
function renamed(error: CaMaterialError, file: string): CaMaterialError {
  return error.input === file ? error : new CaMaterialError(error.code, file, error.reason);
}
