// meshSecureContext: the TLS settings both ends of a mesh connection use: TLS 1.3 only, this proxy's leaf, the mesh anchors alone.
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { ProxyCredentials } from '../identity/proxy-credentials.js';

/** Mesh connections speak TLS 1.3 and nothing else; a peer offering 1.2 is refused in the handshake. */
export const MESH_TLS_VERSION = 'TLSv1.3';

/**
 * A context presenting the proxy's chain and key and trusting only the mesh trust anchors: passing `ca` replaces
 * Node's built-in public CA list, so no certificate from the system store is ever accepted. Throws if the
 * credentials do not load (key and certificate not matching, bad PEM).
 */
export function meshSecureContext(credentials: ProxyCredentials): SecureContext {
  return createSecureContext(meshTlsOptions(credentials));
}

/** The options meshSecureContext builds from, for a tls.Server's setSecureContext. */
export function meshTlsOptions(credentials: ProxyCredentials): SecureContextOptions {
  return {
    minVersion: MESH_TLS_VERSION,
    maxVersion: MESH_TLS_VERSION,
    cert: credentials.certificateChainPem,
    key: credentials.privateKeyPem,
    ca: credentials.trustAnchorsPem,
  };
}

/** Rebuilds the context only when the credentials object changes, so rotation takes effect for the next connection. */
export class MeshSecureContextCache {
  private cached: { readonly credentials: ProxyCredentials; readonly context: SecureContext } | undefined;

  contextFor(credentials: ProxyCredentials): SecureContext {
    if (this.cached?.credentials !== credentials) this.cached = { credentials, context: meshSecureContext(credentials) };
    return this.cached.context;
  }
}
