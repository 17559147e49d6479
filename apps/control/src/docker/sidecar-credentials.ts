// SidecarCredentials: the files that prove a sidecar's identity, a workload token signed with the control plane's key and the trust anchors.
import { loadTokenSigningKey, SignedTokenIssuer, type TokenSigningKey } from '@weft/adapter-token';
import { identityName, type WorkloadIdentity } from '@weft/core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ControlArgs } from '../control-args.js';
import { DEFAULT_TOKEN_KEY_FILE, IDENTITY_DIR_FILES } from '../identity-backend.js';
import type { ContainerFile } from './sidecar-engine.js';
import { PROXY_UID, SIDECAR_TOKEN_FILE, SIDECAR_TRUST_ANCHORS_FILE } from './sidecar-plan.js';

export interface SidecarCredentials {
  /** The token and trust anchor files for a sidecar of `identity`, readable by the proxy's user only. */
  filesFor(identity: WorkloadIdentity): Promise<ContainerFile[]>;
}

/** Sidecars outlive control-plane restarts; their tokens are rewritten well before this (see SidecarInjector). */
export const SIDECAR_TOKEN_LIFETIME_MS = 7 * 24 * 3_600_000;

/** Injection needs the identity folder; the message says what to pass instead. */
export class SidecarCredentialsError extends Error {
  override readonly name = 'SidecarCredentialsError';
}

export class SignedSidecarCredentials implements SidecarCredentials {
  private readonly issuer: SignedTokenIssuer;

  constructor(
    key: TokenSigningKey,
    private readonly trustAnchorsFile: string,
    lifetimeMs = SIDECAR_TOKEN_LIFETIME_MS,
  ) {
    this.issuer = new SignedTokenIssuer(key, { now: () => Date.now() }, { lifetimeMs });
  }

  async filesFor(identity: WorkloadIdentity): Promise<ContainerFile[]> {
    const issued = this.issuer.issue(identity);
    if (!issued.ok) throw new SidecarCredentialsError(`no token for ${identityName(identity)}: ${issued.error.message}`);
    // Read each time: the trust anchors may be rotated while the control plane runs.
    const anchors = await readFile(this.trustAnchorsFile, 'utf8');
    const owned = { uid: PROXY_UID, gid: PROXY_UID };
    return [
      { name: SIDECAR_TOKEN_FILE, content: issued.value.token, mode: 0o400, ...owned },
      { name: SIDECAR_TRUST_ANCHORS_FILE, content: anchors, mode: 0o444, ...owned },
    ];
  }
}

/**
 * The credentials of the identity folder the control plane serves from (its token key was created, if missing, when
 * the control plane started).
 * @throws SidecarCredentialsError without --identity-dir; TokenKeyFileError when the key cannot be read.
 */
export async function loadSidecarCredentials(args: ControlArgs): Promise<SignedSidecarCredentials> {
  const dir = args.identityDir;
  if (dir === undefined) {
    throw new SidecarCredentialsError(
      'sidecar injection (--docker-inject, on by default) needs --identity-dir: the sidecars get tokens signed with its token key ' +
        'and its trust anchors; give --identity-dir (see `weft identity init`) or pass --docker-inject false',
    );
  }
  const key = await loadTokenSigningKey(args.tokenKeyFile ?? join(dir, DEFAULT_TOKEN_KEY_FILE));
  return new SignedSidecarCredentials(key, join(dir, IDENTITY_DIR_FILES.trustAnchors));
}
