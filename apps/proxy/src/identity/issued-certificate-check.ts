// Checks a certificate the certifier issued before the proxy uses it: chain, SPIFFE rules, identity, and its own key.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { ProxyCredentials } from './proxy-credentials.js';
import { pemBlocks } from './trust-anchors.js';
import { loadedX509Rules } from './x509-rules.js';

/** Why `credentials` must not be used at epoch ms `now`, or undefined when they are good. */
export type IssuedCertificateCheck = (credentials: ProxyCredentials, now: number) => string | undefined;

/**
 * The checks peers will make (verifyWorkloadLeaf: chain to the configured anchors, X.509-SVID rules, our identity),
 * plus the one only this proxy can make: the leaf carries the public key of the private key it generated. A
 * certificate failing them would make every handshake fail; refused here, the failure is logged and retried instead.
 */
export const checkIssuedX509Certificate: IssuedCertificateCheck = (credentials, now) => {
  const verified = loadedX509Rules().verifyWorkloadLeaf(credentials.certificateChainPem, credentials.trustAnchorsPem, { identityName: credentials.identityName }, now);
  if (!verified.ok) return verified.error.toString();
  const leafPem = pemBlocks(credentials.certificateChainPem)[0]?.pem ?? '';
  if (!new X509Certificate(leafPem).checkPrivateKey(createPrivateKey(credentials.privateKeyPem))) {
    return "the leaf does not carry the public key of the proxy's private key";
  }
  return undefined;
};
