// The identity scenarios' ids and result rows: a module without dependencies, read by the options parser and every helper.

export type IdentityScenarioId = 'cert-issuance' | 'mtls-handshakes' | 'mtls-two-hop-latency' | 'mtls-two-hop-tcp';
export const IDENTITY_SCENARIO_IDS: readonly IdentityScenarioId[] = ['cert-issuance', 'mtls-handshakes', 'mtls-two-hop-latency', 'mtls-two-hop-tcp'];

/** The result rows of the identity scenarios (the keys under which their outcomes are stored in BenchResults). */
export const IDENTITY_ROWS = {
  /** X509CertificateAuthority.certify in a process of its own. */
  ca: 'x509-ca',
  /** The control plane's Certify over loopback gRPC. */
  grpc: 'control-grpc',
  /** A Weft proxy's inbound port, terminating mesh mTLS. */
  handshakes: 'weft-inbound',
  /** The load straight to the backend (the open-loop generator) or the TCP sink (the TCP source). */
  direct: 'direct',
  /** The same load through client proxy -> mTLS -> server proxy -> backend or sink. */
  twoHop: 'weft-two-hop',
} as const;

/** The rows each scenario reports, in table order. */
export const IDENTITY_SCENARIO_ROWS: Readonly<Record<IdentityScenarioId, readonly string[]>> = {
  'cert-issuance': [IDENTITY_ROWS.ca, IDENTITY_ROWS.grpc],
  'mtls-handshakes': [IDENTITY_ROWS.handshakes],
  'mtls-two-hop-latency': [IDENTITY_ROWS.direct, IDENTITY_ROWS.twoHop],
  'mtls-two-hop-tcp': [IDENTITY_ROWS.direct, IDENTITY_ROWS.twoHop],
};
