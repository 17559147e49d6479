// The X.509 CA as one inversify ContainerModule: CertificateAuthority bound to an X509CertificateAuthority.
import { CertificateAuthority, Clock } from '@weft/core';
import { ContainerModule } from 'inversify';
import type { CaMaterial } from './ca-material.js';
import {
  type IssuerEvent,
  IssuerFileWatcher,
  readTrustAnchorsFile,
  type X509AuthorityFiles,
} from './issuer-files.js';
import { X509CertificateAuthority } from './x509-certificate-authority.js';

interface CommonOptions {
  /** How long leaves last; 24 h by default. */
  readonly leafLifetimeMs?: number;
  /** Told about every issuer loaded and every one refused. */
  readonly onIssuerEvent?: (event: IssuerEvent) => void;
}

/** The CA's material from files; the issuer files are polled and reloaded when they change. */
export interface X509FilesModuleOptions extends CommonOptions {
  readonly files: X509AuthorityFiles;
  /** 5 s by default. */
  readonly pollIntervalMs?: number;
}

/** The CA's material given as PEM text (e.g. generated at start for a local mesh). */
export interface X509MaterialModuleOptions extends CommonOptions {
  readonly trustAnchorsPem: string;
  readonly issuer: CaMaterial;
}

export type X509ModuleOptions = X509FilesModuleOptions | X509MaterialModuleOptions;

/**
 * Binds CertificateAuthority and X509CertificateAuthority to one instance (needs Clock bound), and, with files,
 * IssuerFileWatcher (close it on shutdown). The issuer loads in the background; certify() waits for that first load.
 * A bad anchors file throws a CaMaterialError naming it when the CA is first resolved; a bad issuer is reported
 * through onIssuerEvent and refused requests ('issuer-unavailable') until good files appear.
 */
export function x509Module(options: X509ModuleOptions): ContainerModule {
  return new ContainerModule(({ bind }) => {
    const lifetime = options.leafLifetimeMs === undefined ? {} : { leafLifetimeMs: options.leafLifetimeMs };
    if ('files' in options) {
      const { files, onIssuerEvent, pollIntervalMs } = options;
      bind(IssuerFileWatcher)
        .toResolvedValue(
          (clock: Clock) => {
            const trustAnchorsPem = readTrustAnchorsFile(files.trustAnchorsFile);
            const authority = new X509CertificateAuthority(clock, { trustAnchorsPem, ...lifetime });
            const watcher = new IssuerFileWatcher(authority, files, {
              ...(onIssuerEvent === undefined ? {} : { onEvent: onIssuerEvent }),
              ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
            });
            authority.waitBeforeSigning(watcher.check());
            return watcher.start();
          },
          [Clock],
        )
        .inSingletonScope();
      bind(X509CertificateAuthority)
        .toResolvedValue((watcher: IssuerFileWatcher) => watcher.authority, [IssuerFileWatcher])
        .inSingletonScope();
    } else {
      bind(X509CertificateAuthority)
        .toResolvedValue(
          (clock: Clock) => {
            const { trustAnchorsPem } = options;
            const authority = new X509CertificateAuthority(clock, { trustAnchorsPem, ...lifetime });
            void authority.loadIssuer(options.issuer).then((loaded) =>
              options.onIssuerEvent?.(
                loaded.ok
                  ? { type: 'loaded', issuer: loaded.value, certificateFile: 'issuer certificate' }
                  : { type: 'refused', error: loaded.error, keptIssuer: undefined },
              ),
            );
            return authority;
          },
          [Clock],
        )
        .inSingletonScope();
    }
    bind<CertificateAuthority>(CertificateAuthority).toService(X509CertificateAuthority);
  });
}
