// ProxyCredentials: this proxy's current key, certificate chain and trust anchors, and the source that publishes them.
import type { Subscription } from '@weft/core';

export interface ProxyCredentials {
  readonly identityName: string; // this proxy's DNS-like identity (its SNI on inbound)
  readonly privateKeyPem: string; // in memory only, never written to disk
  readonly certificateChainPem: string; // leaf first, then intermediates
  readonly trustAnchorsPem: string;
  readonly notAfter: number; // epoch ms
}

export interface CredentialSource {
  current(): ProxyCredentials | undefined; // undefined until the first certificate
  onChange(listener: (credentials: ProxyCredentials) => void): Subscription;
}
