// The X.509 rules the proxy applies (its CSR, the workload-leaf checks), loaded the first time the proxy gets an identity.
import type { createWorkloadCsr, verifyWorkloadLeaf } from '@weft/adapter-x509';

/**
 * What the proxy uses of @weft/adapter-x509. The adapter and its ASN.1 libraries cost a proxy ~6 MB of memory at idle
 * (docs/benchmarks.md, Memory), so a proxy without an identity, which never checks a certificate, never loads them.
 */
export interface X509Rules {
  readonly createWorkloadCsr: typeof createWorkloadCsr;
  readonly verifyWorkloadLeaf: typeof verifyWorkloadLeaf;
}

let loading: Promise<X509Rules> | undefined;
let loaded: X509Rules | undefined;

/** Loads the rules once; every later call gets the same module. */
export function loadX509Rules(): Promise<X509Rules> {
  loading ??= import('@weft/adapter-x509').then((module) => (loaded = module));
  return loading;
}

/**
 * The rules, for the synchronous checks made during TLS handshakes. Only credentials can lead there, and the proxy
 * has credentials only after `prepareProxyIdentity`, which loads the rules first.
 * @throws Error when called before `loadX509Rules` has finished (a wiring mistake, not bad input).
 */
export function loadedX509Rules(): X509Rules {
  if (loaded === undefined) throw new Error('the X.509 rules are not loaded: await loadX509Rules() before using mesh credentials');
  return loaded;
}
