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
  /** The same path through two HAProxy processes with mTLS between them (when haproxy is among the contenders). */
  haproxyTwoHop: 'haproxy-two-hop',
} as const;

/** The rows each scenario can report, in table order. */
export const IDENTITY_SCENARIO_ROWS: Readonly<Record<IdentityScenarioId, readonly string[]>> = {
  'cert-issuance': [IDENTITY_ROWS.ca, IDENTITY_ROWS.grpc],
  'mtls-handshakes': [IDENTITY_ROWS.handshakes],
  'mtls-two-hop-latency': [IDENTITY_ROWS.direct, IDENTITY_ROWS.twoHop, IDENTITY_ROWS.haproxyTwoHop],
  'mtls-two-hop-tcp': [IDENTITY_ROWS.direct, IDENTITY_ROWS.twoHop, IDENTITY_ROWS.haproxyTwoHop],
};

/** The rows a scenario measures in a run with these contenders: the HAProxy pair only when haproxy is among them. */
export function identityScenarioRows(id: IdentityScenarioId, contenders: readonly string[]): readonly string[] {
  return IDENTITY_SCENARIO_ROWS[id].filter((row) => row !== IDENTITY_ROWS.haproxyTwoHop || contenders.includes('haproxy'));
}
