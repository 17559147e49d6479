// Reads the proxy's identity settings (WEFT_PROXY_IDENTITY_*): who it is, its token, its trust anchors, its certifier.
import {
  DEFAULT_TRUST_DOMAIN,
  formatSocketAddress,
  type InvalidIdentityError,
  identityName,
  makeWorkloadIdentity,
  parseIdentityName,
  parseSocketAddress,
  type SocketAddress,
  type WorkloadIdentity,
} from '@weft/core';

/** Where the token that proves the proxy's identity comes from. */
export type IdentityTokenSetting =
  /** A file read again before each certify request, as Kubernetes rotates projected service-account tokens. */
  | { readonly kind: 'file'; readonly path: string }
  /** A token given in the environment, as local mode does; never logged. */
  | { readonly kind: 'inline'; readonly value: string };

/** The identity settings; absent from ProxyConfig when the proxy runs without identity (no mTLS). */
export interface IdentitySettings {
  readonly identity: WorkloadIdentity;
  readonly token: IdentityTokenSetting;
  /** The PEM file of the trust anchors that peers' certificates must chain to. */
  readonly trustAnchorsFile: string;
  /** The control plane's Identity service. */
  readonly certifierAddr: SocketAddress;
}

/** Each identity variable and its default; all but the trust domain and the address are unset by default. */
export const IDENTITY_ENV_DEFAULTS = {
  /** The DNS-like identity, `<sa>.<ns>.serviceaccount.identity.weft.<trust-domain>`; or give the next two. */
  WEFT_PROXY_IDENTITY_NAME: '',
  WEFT_PROXY_IDENTITY_NAMESPACE: '',
  WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: '',
  WEFT_PROXY_IDENTITY_TRUST_DOMAIN: DEFAULT_TRUST_DOMAIN,
  WEFT_PROXY_IDENTITY_TOKEN_FILE: '',
  WEFT_PROXY_IDENTITY_TOKEN: '',
  WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE: '',
  WEFT_PROXY_IDENTITY_ADDR: '127.0.0.1:8086',
} as const;

type IdentityEnvVariable = keyof typeof IDENTITY_ENV_DEFAULTS;
type Env = Readonly<Record<string, string | undefined>>;

const ENABLE_HINT =
  'set WEFT_PROXY_IDENTITY_NAME (or WEFT_PROXY_IDENTITY_NAMESPACE and WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT) to give the proxy an identity';

/**
 * The identity settings in `env`, or undefined when no identity is asked for (none of WEFT_PROXY_IDENTITY_NAME,
 * _NAMESPACE, _SERVICE_ACCOUNT is set). Each problem is pushed onto `problems`, naming its variable; the inline token
 * is never repeated in a problem.
 */
export function readIdentitySettings(env: Env, problems: string[]): IdentitySettings | undefined {
  const given = (variable: IdentityEnvVariable): string | undefined => {
    const raw = env[variable];
    return raw === undefined || raw === '' ? undefined : raw;
  };
  const enabled = ['WEFT_PROXY_IDENTITY_NAME', 'WEFT_PROXY_IDENTITY_NAMESPACE', 'WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT'] as const;
  if (!enabled.some((variable) => given(variable) !== undefined)) {
    for (const variable of Object.keys(IDENTITY_ENV_DEFAULTS) as IdentityEnvVariable[]) {
      if (given(variable) !== undefined) problems.push(`${variable} is set but the proxy has no identity; ${ENABLE_HINT}, or unset ${variable}`);
    }
    return undefined;
  }
  const before = problems.length;
  const identity = readIdentity(given, problems);
  const token = readToken(given, problems);
  const trustAnchorsFile = given('WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE');
  if (trustAnchorsFile === undefined) {
    problems.push(
      'WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE is not set; with an identity the proxy needs the PEM file of the trust anchors that peers chain to, e.g. /var/run/weft/identity/trust-anchors.pem',
    );
  }
  const certifierAddr = readCertifierAddr(given('WEFT_PROXY_IDENTITY_ADDR') ?? IDENTITY_ENV_DEFAULTS.WEFT_PROXY_IDENTITY_ADDR, problems);
  if (problems.length > before || identity === undefined || token === undefined || trustAnchorsFile === undefined || certifierAddr === undefined) {
    return undefined;
  }
  return { identity, token, trustAnchorsFile, certifierAddr };
}

/** The identity settings as `name: value` pairs for the start-up log; the inline token shows as "inline". */
export function describeIdentitySettings(settings: IdentitySettings): Record<string, string> {
  return {
    identity: identityName(settings.identity),
    identityToken: settings.token.kind === 'file' ? `file ${settings.token.path}` : 'inline',
    identityTrustAnchors: settings.trustAnchorsFile,
    identityCertifier: formatSocketAddress(settings.certifierAddr),
  };
}

type Given = (variable: IdentityEnvVariable) => string | undefined;

function readIdentity(given: Given, problems: string[]): WorkloadIdentity | undefined {
  const name = given('WEFT_PROXY_IDENTITY_NAME');
  const namespace = given('WEFT_PROXY_IDENTITY_NAMESPACE');
  const serviceAccount = given('WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT');
  const trustDomain = given('WEFT_PROXY_IDENTITY_TRUST_DOMAIN');
  if (name !== undefined) {
    if (namespace !== undefined || serviceAccount !== undefined) {
      problems.push(
        'WEFT_PROXY_IDENTITY_NAME: set either the identity name or WEFT_PROXY_IDENTITY_NAMESPACE and WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT, not both',
      );
      return undefined;
    }
    const parsed = parseIdentityName(name, trustDomain === undefined ? {} : { trustDomain });
    if (parsed.ok) return parsed.value;
    const hint = parsed.error.part === 'trust-domain' && trustDomain !== undefined ? ' (set by WEFT_PROXY_IDENTITY_TRUST_DOMAIN)' : '';
    problems.push(`WEFT_PROXY_IDENTITY_NAME=${JSON.stringify(name)}: ${parsed.error.reason}${hint}`);
    return undefined;
  }
  const missing = [
    ['WEFT_PROXY_IDENTITY_NAMESPACE', namespace, 'namespace'],
    ['WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT', serviceAccount, 'service account'],
  ].filter(([, value]) => value === undefined);
  for (const [variable, , what] of missing) {
    problems.push(`${variable} is not set; give the ${what} of the proxy's workload, or set WEFT_PROXY_IDENTITY_NAME instead`);
  }
  if (namespace === undefined || serviceAccount === undefined) return undefined;
  const made = makeWorkloadIdentity({ trustDomain: trustDomain ?? DEFAULT_TRUST_DOMAIN, namespace, serviceAccount });
  if (made.ok) return made.value;
  problems.push(identityPartProblem(made.error));
  return undefined;
}

// Points a bad part of an identity at the variable that set it.
function identityPartProblem(error: InvalidIdentityError): string {
  const variables: Partial<Record<InvalidIdentityError['part'], IdentityEnvVariable>> = {
    namespace: 'WEFT_PROXY_IDENTITY_NAMESPACE',
    'service-account': 'WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT',
    'trust-domain': 'WEFT_PROXY_IDENTITY_TRUST_DOMAIN',
  };
  const variable = variables[error.part];
  if (variable !== undefined) return `${variable}=${JSON.stringify(error.input)}: ${error.reason}`;
  return `WEFT_PROXY_IDENTITY_NAMESPACE, WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT, WEFT_PROXY_IDENTITY_TRUST_DOMAIN: the identity ${JSON.stringify(error.input)} ${error.reason}`;
}

function readToken(given: Given, problems: string[]): IdentityTokenSetting | undefined {
  const path = given('WEFT_PROXY_IDENTITY_TOKEN_FILE');
  const value = given('WEFT_PROXY_IDENTITY_TOKEN');
  if (path !== undefined && value !== undefined) {
    problems.push('WEFT_PROXY_IDENTITY_TOKEN_FILE and WEFT_PROXY_IDENTITY_TOKEN are both set; set only one (the file in Kubernetes, the inline token in local mode)');
    return undefined;
  }
  if (path !== undefined) return { kind: 'file', path };
  if (value !== undefined) {
    if (value.trim() === '') {
      problems.push('WEFT_PROXY_IDENTITY_TOKEN is blank (value hidden); give the token the control plane issued to this proxy');
      return undefined;
    }
    return { kind: 'inline', value };
  }
  problems.push(
    'WEFT_PROXY_IDENTITY_TOKEN_FILE is not set; with an identity the proxy needs a token proving it: set WEFT_PROXY_IDENTITY_TOKEN_FILE (e.g. a projected service-account token) or WEFT_PROXY_IDENTITY_TOKEN',
  );
  return undefined;
}

function readCertifierAddr(raw: string, problems: string[]): SocketAddress | undefined {
  const parsed = parseSocketAddress(raw);
  if (parsed.ok) return parsed.value;
  problems.push(`WEFT_PROXY_IDENTITY_ADDR=${JSON.stringify(raw)}: ${parsed.error.reason} (expected ip:port, e.g. ${IDENTITY_ENV_DEFAULTS.WEFT_PROXY_IDENTITY_ADDR})`);
  return undefined;
}
