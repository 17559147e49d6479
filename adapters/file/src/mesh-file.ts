// MeshFile: the typed shape of a mesh.yaml document, as contracts/schemas/mesh.schema.json describes it.

/** The version of the format this adapter reads. */
export const MESH_FILE_API_VERSION = 'weft.io/v1';

/** One of the six default inbound policies, as written in the file. */
export type MeshFileDefaultPolicy =
  | 'all-unauthenticated'
  | 'all-authenticated'
  | 'cluster-unauthenticated'
  | 'cluster-authenticated'
  | 'deny'
  | 'audit';

/** A whole mesh.yaml document; only apiVersion is required. */
export interface MeshFile {
  readonly apiVersion: typeof MESH_FILE_API_VERSION;
  readonly kind?: 'Mesh';
  readonly trustDomain?: string;
  readonly clusterDomain?: string;
  readonly namespaces?: readonly (string | MeshFileNamespace)[];
  readonly services?: readonly MeshFileService[];
  readonly profiles?: readonly MeshFileProfile[];
  readonly policies?: MeshFilePolicies;
}

export interface MeshFileNamespace {
  readonly name: string;
  readonly defaultInboundPolicy?: MeshFileDefaultPolicy;
}

export interface MeshFileService {
  readonly name: string;
  readonly namespace?: string;
  /** A bare number is a port whose protocol is detected. */
  readonly ports: readonly (number | MeshFileServicePort)[];
  readonly serviceAccount?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly instances?: readonly MeshFileInstance[];
}

/** What a service port speaks; `detect` leaves it to the proxy's protocol detection. */
export type MeshFilePortProtocol = 'detect' | 'http1' | 'http2' | 'grpc' | 'websocket' | 'opaque';

export interface MeshFileServicePort {
  readonly port: number;
  readonly name?: string;
  readonly protocol?: MeshFilePortProtocol;
}

/** An instance has exactly one of `address` and `command`; `port` comes with `command`. */
export interface MeshFileInstance {
  readonly name?: string;
  readonly address?: string;
  readonly command?: string | readonly string[];
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | number | boolean>>;
  readonly port?: number;
  readonly ports?: Readonly<Record<string, number>>;
  readonly serviceAccount?: string;
  readonly meshed?: boolean;
  readonly proxy?: { readonly inboundPort: number };
  readonly upstreams?: readonly MeshFileUpstream[];
  readonly weight?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly metricLabels?: Readonly<Record<string, string>>;
}

export interface MeshFileUpstream {
  readonly service: string;
  readonly env: string;
  readonly localPort?: number;
}

export interface MeshFileProfile {
  readonly service: string;
  readonly namespace?: string;
  readonly routes?: readonly MeshFileRoute[];
  readonly retryBudget?: MeshFileRetryBudget;
  readonly dstOverrides?: readonly MeshFileDstOverride[];
}

export interface MeshFileRoute {
  readonly name: string;
  readonly condition: MeshFileRequestMatch;
  readonly isRetryable?: boolean;
  readonly timeout?: string;
  readonly responseClasses?: readonly MeshFileResponseClass[];
}

/** Several fields in one condition must all hold. */
export interface MeshFileRequestMatch {
  readonly all?: readonly MeshFileRequestMatch[];
  readonly any?: readonly MeshFileRequestMatch[];
  readonly not?: MeshFileRequestMatch;
  readonly pathRegex?: string;
  readonly method?: string;
}

export interface MeshFileResponseClass {
  readonly condition: MeshFileResponseMatch;
  readonly isFailure?: boolean;
}

export interface MeshFileResponseMatch {
  readonly all?: readonly MeshFileResponseMatch[];
  readonly any?: readonly MeshFileResponseMatch[];
  readonly not?: MeshFileResponseMatch;
  readonly status?: { readonly min?: number; readonly max?: number };
}

export interface MeshFileRetryBudget {
  readonly retryRatio?: number;
  readonly minRetriesPerSecond?: number;
  readonly ttl?: string;
}

export interface MeshFileDstOverride {
  readonly authority: string;
  readonly weight: number;
}

export interface MeshFilePolicies {
  readonly defaultInboundPolicy?: MeshFileDefaultPolicy;
  readonly clusterNetworks?: readonly string[];
  readonly servers?: readonly MeshFileServer[];
  readonly authorizationPolicies?: readonly MeshFileAuthorizationPolicy[];
  readonly meshTLSAuthentications?: readonly MeshFileMeshTlsAuthentication[];
  readonly networkAuthentications?: readonly MeshFileNetworkAuthentication[];
  readonly httpRoutes?: readonly MeshFileHttpRoute[];
}

export interface MeshFileServer {
  readonly name: string;
  readonly namespace?: string;
  readonly port: number | string;
  readonly service?: string;
  readonly selector?: Readonly<Record<string, string>>;
  readonly proxyProtocol?: 'unknown' | 'HTTP/1' | 'HTTP/2' | 'gRPC' | 'opaque' | 'TLS';
  readonly accessPolicy?: MeshFileDefaultPolicy;
}

/** The target has exactly one of its fields. */
export interface MeshFileAuthorizationPolicy {
  readonly name: string;
  readonly namespace?: string;
  readonly target: {
    readonly server?: string | readonly string[];
    readonly httpRoute?: string;
    readonly namespace?: string;
  };
  readonly requiredAuthentications?: readonly MeshFileAuthenticationRef[];
}

/** Exactly one of meshTLS, network and serviceAccount. */
export interface MeshFileAuthenticationRef {
  readonly meshTLS?: string;
  readonly network?: string;
  readonly serviceAccount?: string;
  readonly namespace?: string;
}

export interface MeshFileMeshTlsAuthentication {
  readonly name: string;
  readonly namespace?: string;
  readonly identities?: readonly string[];
  /** "name" (in the authentication's namespace) or "namespace/name". */
  readonly serviceAccounts?: readonly string[];
  readonly namespaces?: readonly string[];
}

export interface MeshFileNetworkAuthentication {
  readonly name: string;
  readonly namespace?: string;
  readonly networks: readonly (string | MeshFileNetwork)[];
}

export interface MeshFileNetwork {
  readonly cidr: string;
  readonly except?: readonly string[];
}

export interface MeshFileHttpRoute {
  readonly name: string;
  readonly namespace?: string;
  readonly server: string | readonly string[];
  readonly matches?: readonly MeshFileHttpRouteMatch[];
}

export interface MeshFileHttpRouteMatch {
  readonly path?: { readonly type?: 'Exact' | 'PathPrefix' | 'RegularExpression'; readonly value: string };
  readonly method?: string;
  readonly headers?: readonly MeshFileValueMatch[];
  readonly queryParams?: readonly MeshFileValueMatch[];
}

export interface MeshFileValueMatch {
  readonly name: string;
  readonly value: string;
  readonly type?: 'Exact' | 'RegularExpression';
}
