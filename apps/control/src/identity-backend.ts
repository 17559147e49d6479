// Chooses what backs the identity ports: the orchestrator's in-memory ones, or X.509 from --identity-dir with signed tokens.
import { loadOrCreateTokenSigningKey, tokenModule } from '@weft/adapter-token';
import { type IssuerEvent, IssuerFileWatcher, X509CertificateAuthority, x509Module } from '@weft/adapter-x509';
import { CertificateAuthority, Clock, TokenValidator } from '@weft/core';
import type { Container, ContainerModule } from 'inversify';
import { join } from 'node:path';
import type { ControlArgs } from './control-args.js';

export interface IdentityBackend {
  /** Modules binding TokenValidator and CertificateAuthority; empty when the orchestrator's modules bind them. */
  readonly modules: readonly ContainerModule[];
  /** The ports these modules bind, which the orchestrator's modules must then leave unbound. */
  readonly ports: readonly symbol[];
  /** What the log says about the backend at start. */
  readonly description: Readonly<Record<string, string | boolean>>;
  /** True while the authority has an issuer that is valid now. */
  issuerLoaded(container: Container): boolean;
  /** Stops background work (the issuer file poller). */
  close(container: Container): void;
}

export interface IdentityBackendOptions {
  /** Told about every issuer loaded from the files, and every one refused. */
  readonly onIssuerEvent?: (event: IssuerEvent) => void;
  /** How often the issuer files are read for changes; the x509 adapter's 5 s when absent. */
  readonly issuerPollIntervalMs?: number;
}

/** The file names `weft identity init` writes into an identity folder. */
export const IDENTITY_DIR_FILES = { trustAnchors: 'ca.crt', issuerCertificate: 'issuer.crt', issuerKey: 'issuer.key' } as const;

/** Where the token key lives when --token-key is not given. */
export const DEFAULT_TOKEN_KEY_FILE = 'token.key';

/**
 * With --identity-dir: CertificateAuthority is the X.509 authority over the folder's files (the issuer reloaded when
 * they change) and TokenValidator checks tokens signed with the --token-key key, created if missing. Without it, the
 * orchestrator's modules bind both (the memory orchestrator: its in-memory CA and token table).
 * @throws TokenKeyFileError naming the key file if it cannot be read or created.
 */
export async function identityBackend(args: ControlArgs & { readonly trustDomain: string }, options: IdentityBackendOptions = {}): Promise<IdentityBackend> {
  const dir = args.identityDir;
  if (dir === undefined) return orchestratorIdentity;
  const tokenKeyFile = args.tokenKeyFile ?? join(dir, DEFAULT_TOKEN_KEY_FILE);
  const { key, created } = await loadOrCreateTokenSigningKey(tokenKeyFile);
  const files = {
    trustAnchorsFile: join(dir, IDENTITY_DIR_FILES.trustAnchors),
    issuerCertificateFile: join(dir, IDENTITY_DIR_FILES.issuerCertificate),
    issuerKeyFile: join(dir, IDENTITY_DIR_FILES.issuerKey),
  };
  return {
    modules: [
      tokenModule({ key, trustDomain: args.trustDomain }),
      // ---- The CertificateAuthority binding: X.509 from the identity folder (adapters/x509). ----
      x509Module({
        files,
        ...(args.leafLifetimeMs !== undefined && { leafLifetimeMs: args.leafLifetimeMs }),
        ...(options.onIssuerEvent !== undefined && { onIssuerEvent: options.onIssuerEvent }),
        ...(options.issuerPollIntervalMs !== undefined && { pollIntervalMs: options.issuerPollIntervalMs }),
      }),
    ],
    ports: [TokenValidator, CertificateAuthority],
    description: { identity: 'x509', identityDir: dir, tokenKeyFile, tokenKeyId: key.keyId, tokenKeyCreated: created },
    issuerLoaded: (container) => {
      const issuer = container.get(X509CertificateAuthority).currentIssuer();
      return issuer !== undefined && container.get<Clock>(Clock).now() < issuer.notAfter;
    },
    close: (container) => container.get(IssuerFileWatcher).close(),
  };
}

// The in-memory authority always has an issuer unless a test unloads it, and cannot be asked; it counts as loaded.
const orchestratorIdentity: IdentityBackend = {
  modules: [],
  ports: [],
  description: { identity: 'orchestrator' },
  issuerLoaded: () => true,
  close: () => undefined,
};
