// Reads weft-control's command line: which orchestrator to mesh, where to serve, and where its identity material lives.
import {
  DEFAULT_TRUST_DOMAIN,
  dnsNameProblem,
  formatDuration,
  type Milliseconds,
  parseDuration,
  parseSocketAddress,
  type SocketAddress,
} from '@weft/core';

export const ORCHESTRATORS = ['memory', 'file', 'docker', 'kubernetes'] as const;
export type Orchestrator = (typeof ORCHESTRATORS)[number];

export const DEFAULT_ADMIN_ADDRESS: SocketAddress = { ip: '127.0.0.1', port: 9990 };
export const DEFAULT_GRPC_ADDRESS: SocketAddress = { ip: '127.0.0.1', port: 8086 };
export const DEFAULT_DOCKER_SOCKET_PATH = '/var/run/docker.sock';
export const DEFAULT_SIDECAR_IMAGE = 'weft/proxy:latest';
export const DEFAULT_SIDECAR_CONTROL_ADDR = 'weft-control:8086';

/** The shortest and longest --leaf-lifetime: renewal at 70 % needs room, and a leaf is short-lived by design. */
export const MIN_LEAF_LIFETIME_MS = 60_000;
export const MAX_LEAF_LIFETIME_MS = 365 * 24 * 3_600_000;

export interface ControlArgs {
  readonly orchestrator: Orchestrator;
  /** ip:port of the admin server (/metrics, /live, /ready). */
  readonly adminAddr: SocketAddress;
  /** ip:port of the gRPC server (the Destination, Policy and Identity services). */
  readonly grpcAddr: SocketAddress;
  /**
   * The trust domain of every identity this control plane certifies, when --trust-domain is given. Absent: the mesh
   * file's with the file orchestrator, else DEFAULT_TRUST_DOMAIN (see resolveTrustDomain).
   */
  readonly trustDomain?: string;
  /**
   * The mesh.yaml the file orchestrator serves (required with --orchestrator file); with --orchestrator docker, an
   * optional file of profiles and policies; refused with the others.
   */
  readonly meshFile?: string;
  /** The Docker engine's unix socket (--orchestrator docker). */
  readonly dockerSocket: string;
  /** Whether the docker orchestrator starts proxy sidecars beside containers labelled weft.io/inject=enabled. */
  readonly dockerInject: boolean;
  /** The image of the proxy sidecars the docker orchestrator starts. */
  readonly sidecarImage: string;
  /** host:port of the control plane as sidecars dial it, e.g. the control plane container's name on their network. */
  readonly sidecarControlAddr: string;
  /**
   * A folder holding ca.crt, issuer.crt and issuer.key (as `weft identity init` writes them). When set, leaves are
   * real X.509 certificates and workload tokens are signed ones; without it the orchestrator's adapters are used.
   */
  readonly identityDir?: string;
  /** The Ed25519 key workload tokens are signed with; <identity-dir>/token.key when --identity-dir is set. */
  readonly tokenKeyFile?: string;
  /** How long issued leaves last; 24 h when absent. */
  readonly leafLifetimeMs?: Milliseconds;
  readonly help: boolean;
}

export const CONTROL_USAGE = `Usage: weft-control [options]

Options:
  --orchestrator <name>       where workloads come from: ${ORCHESTRATORS.join(' | ')} (default: memory)
  --mesh-file <file>          the mesh.yaml to serve, watched for edits (required with --orchestrator file;
                              with --orchestrator docker, optional profiles and policies)
  --docker-socket <path>      the Docker engine's unix socket (default: ${DEFAULT_DOCKER_SOCKET_PATH}; docker only)
  --docker-inject <bool>      start proxy sidecars for containers labelled weft.io/inject=enabled: true | false
                              (default: true; docker only)
  --sidecar-image <image>     image of the proxy sidecars (default: ${DEFAULT_SIDECAR_IMAGE}; docker only)
  --sidecar-control-addr <host:port>
                              the control plane's address as sidecars dial it (default: ${DEFAULT_SIDECAR_CONTROL_ADDR};
                              docker only)
  --admin-addr <ip:port>      admin server for /metrics, /live and /ready (default: 127.0.0.1:9990)
  --grpc-addr <ip:port>       gRPC server for the Destination, Policy and Identity services (default: 127.0.0.1:8086)
  --trust-domain <name>       trust domain of every workload identity (default: the mesh file's trustDomain with
                              --orchestrator file, else ${DEFAULT_TRUST_DOMAIN})
  --identity-dir <dir>        ca.crt, issuer.crt and issuer.key from \`weft identity init\`: issue X.509 leaves
                              and check signed workload tokens (default: the orchestrator's in-memory identity)
  --token-key <file>          Ed25519 key for workload tokens, created (mode 0600) if missing
                              (default: <identity-dir>/token.key; needs --identity-dir)
  --leaf-lifetime <duration>  how long leaf certificates last, e.g. 24h, 90m (default: 24h; needs --identity-dir)
  -h, --help                  show this help`;

export class ControlArgsError extends Error {
  override readonly name = 'ControlArgsError';
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function parseControlArgs(argv: readonly string[]): ControlArgs {
  const args: Mutable<ControlArgs> = {
    orchestrator: 'memory',
    adminAddr: DEFAULT_ADMIN_ADDRESS,
    grpcAddr: DEFAULT_GRPC_ADDRESS,
    dockerSocket: DEFAULT_DOCKER_SOCKET_PATH,
    dockerInject: true,
    sidecarImage: DEFAULT_SIDECAR_IMAGE,
    sidecarControlAddr: DEFAULT_SIDECAR_CONTROL_ADDR,
    help: false,
  };
  const dockerFlags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = splitFlag(argv[i] as string);
    const value = (): string => {
      const next = inline ?? argv[++i];
      if (next === undefined || next.startsWith('--')) throw new ControlArgsError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--orchestrator':
        args.orchestrator = orchestratorArg(value());
        break;
      case '--admin-addr':
      case '--grpc-addr':
        args[flag === '--admin-addr' ? 'adminAddr' : 'grpcAddr'] = addressArg(flag, value());
        break;
      case '--trust-domain':
        args.trustDomain = trustDomainArg(value());
        break;
      case '--mesh-file':
        args.meshFile = pathArg(flag, value());
        break;
      case '--identity-dir':
        args.identityDir = pathArg(flag, value());
        break;
      case '--token-key':
        args.tokenKeyFile = pathArg(flag, value());
        break;
      case '--leaf-lifetime':
        args.leafLifetimeMs = leafLifetimeArg(value());
        break;
      case '--docker-socket':
        args.dockerSocket = socketPathArg(value());
        dockerFlags.push(flag);
        break;
      case '--docker-inject':
        args.dockerInject = booleanArg(flag, value());
        dockerFlags.push(flag);
        break;
      case '--sidecar-image':
        args.sidecarImage = imageArg(value());
        dockerFlags.push(flag);
        break;
      case '--sidecar-control-addr':
        args.sidecarControlAddr = hostPortArg(flag, value());
        dockerFlags.push(flag);
        break;
      case '-h':
      case '--help':
        args.help = true;
        break;
      default:
        throw new ControlArgsError(`unknown option ${JSON.stringify(flag)}; see weft-control --help`);
    }
  }
  requireIdentityDir(args, '--token-key', args.tokenKeyFile);
  requireIdentityDir(args, '--leaf-lifetime', args.leafLifetimeMs);
  if (!args.help) checkMeshFile(args);
  if (!args.help && args.orchestrator !== 'docker' && dockerFlags.length > 0) {
    throw new ControlArgsError(`${dockerFlags[0]} is read by --orchestrator docker only, not by ${args.orchestrator}; add --orchestrator docker`);
  }
  return args;
}

/**
 * The trust domain to certify: --trust-domain when given, else the one the orchestrator's source of truth names (the
 * mesh file's), else DEFAULT_TRUST_DOMAIN. A flag that disagrees with the source is refused: the identities the
 * proxies expect of each other would then never match the certificates they get.
 */
export function resolveTrustDomain(args: ControlArgs, source?: { readonly trustDomain: string; readonly name: string }): string {
  if (source === undefined) return args.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  if (args.trustDomain === undefined || args.trustDomain === source.trustDomain) return source.trustDomain;
  throw new ControlArgsError(
    `--trust-domain ${JSON.stringify(args.trustDomain)} does not match the trust domain ${JSON.stringify(source.trustDomain)} of ` +
      `${source.name}; leave --trust-domain out, or write "trustDomain: ${args.trustDomain}" in the file`,
  );
}

function checkMeshFile(args: ControlArgs): void {
  if (args.orchestrator === 'file' && args.meshFile === undefined) {
    throw new ControlArgsError('--orchestrator file needs --mesh-file <file>, the mesh.yaml to serve');
  }
  if (args.orchestrator !== 'file' && args.orchestrator !== 'docker' && args.meshFile !== undefined) {
    throw new ControlArgsError(`--mesh-file is read by --orchestrator file or docker only, not by ${args.orchestrator}; add --orchestrator file`);
  }
}

function orchestratorArg(name: string): Orchestrator {
  if (!(ORCHESTRATORS as readonly string[]).includes(name)) {
    throw new ControlArgsError(`--orchestrator ${JSON.stringify(name)} is not one of ${ORCHESTRATORS.join(', ')}`);
  }
  return name as Orchestrator;
}

function addressArg(flag: string, raw: string): SocketAddress {
  const parsed = parseSocketAddress(raw);
  if (!parsed.ok) throw new ControlArgsError(`${flag} ${JSON.stringify(raw)}: ${parsed.error.reason}`);
  return parsed.value;
}

function trustDomainArg(raw: string): string {
  const problem = dnsNameProblem(raw);
  if (problem !== undefined) {
    throw new ControlArgsError(`--trust-domain ${JSON.stringify(raw)}: ${problem}; write a DNS name such as "cluster.local"`);
  }
  return raw;
}

function pathArg(flag: string, raw: string): string {
  if (raw.trim() === '') throw new ControlArgsError(`${flag} needs a path, not an empty value`);
  return raw;
}

function socketPathArg(given: string): string {
  const raw = given.replace(/^unix:\/\//, '');
  if (!raw.startsWith('/')) {
    throw new ControlArgsError(`--docker-socket ${JSON.stringify(raw)} is not an absolute path; write the engine's unix socket, e.g. ${DEFAULT_DOCKER_SOCKET_PATH}`);
  }
  return raw;
}

function booleanArg(flag: string, raw: string): boolean {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new ControlArgsError(`${flag} ${JSON.stringify(raw)} is not true or false`);
}

// An image reference such as "weft/proxy:latest" or "registry:5000/weft/proxy@sha256:...": the engine checks the rest.
function imageArg(raw: string): string {
  const repository = raw.split(/[:@]/)[0] ?? '';
  if (!/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/.test(raw) || repository !== repository.toLowerCase()) {
    throw new ControlArgsError(`--sidecar-image ${JSON.stringify(raw)} is not an image reference; write e.g. "${DEFAULT_SIDECAR_IMAGE}"`);
  }
  return raw;
}

// host:port, the host a DNS name or an IP ("[::1]:8086" for IPv6).
function hostPortArg(flag: string, raw: string): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]+)$/.exec(raw);
  const port = Number(match?.[2]);
  const host = match?.[1] ?? '';
  if (match === null || !/^[1-9][0-9]*$/.test(match[2] as string) || port > 65_535 || (!host.startsWith('[') && dnsNameProblem(host.toLowerCase()) !== undefined)) {
    throw new ControlArgsError(`${flag} ${JSON.stringify(raw)} is not host:port; write e.g. "${DEFAULT_SIDECAR_CONTROL_ADDR}" or "172.18.0.2:8086"`);
  }
  return raw;
}

function leafLifetimeArg(raw: string): Milliseconds {
  const parsed = parseDuration(raw);
  if (!parsed.ok) throw new ControlArgsError(`--leaf-lifetime ${JSON.stringify(raw)}: ${parsed.error.reason}`);
  if (parsed.value < MIN_LEAF_LIFETIME_MS || parsed.value > MAX_LEAF_LIFETIME_MS) {
    throw new ControlArgsError(
      `--leaf-lifetime ${JSON.stringify(raw)} is not between ${formatDuration(MIN_LEAF_LIFETIME_MS)} and ` +
        `${formatDuration(MAX_LEAF_LIFETIME_MS)}; leaves are short-lived, e.g. "24h"`,
    );
  }
  return parsed.value;
}

// Without --identity-dir the orchestrator's in-memory identity is used, which has no token key and fixed lifetimes.
function requireIdentityDir(args: ControlArgs, flag: string, value: unknown): void {
  if (value !== undefined && args.identityDir === undefined) {
    throw new ControlArgsError(`${flag} needs --identity-dir: without it the in-memory identity of the orchestrator is used`);
  }
}

function splitFlag(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=');
  return arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
}
