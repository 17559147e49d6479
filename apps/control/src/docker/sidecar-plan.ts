// The sidecar plan of an app container: who its proxy is (from its labels), and the weft-init and proxy containers it gets.
import { DOCKER_LABELS, InvalidDockerLabelError, readDockerWorkload } from '@weft/adapter-docker';
import { err, makeWorkloadIdentity, ok, parseCidr, type Result, type WorkloadIdentity } from '@weft/core';
import type { ContainerSpec, EngineContainer } from './sidecar-engine.js';

/** The labels injection reads and writes, beside the discovery labels of @weft/adapter-docker. */
export const INJECTION_LABELS = {
  inject: DOCKER_LABELS.inject,
  /** On a sidecar (and a weft-init run): the id of its app container. */
  sidecarFor: DOCKER_LABELS.sidecarFor,
  /** On everything the control plane creates. */
  managedBy: 'weft.io/managed-by',
  /** On a sidecar: the app's State.StartedAt it was made for; a restarted app has a new namespace and needs a new one. */
  appStartedAt: 'weft.io/app-started-at',
  /** On a weft-init run: its role, so leftovers can be told from sidecars. */
  role: 'weft.io/role',
  /** On an app: more inbound ports that bypass the proxy (the proxy's tap and admin ports always do). */
  skipInboundPorts: 'weft.io/skip-inbound-ports',
  /** On an app: outbound ports that bypass the proxy, e.g. a database's. */
  skipOutboundPorts: 'weft.io/skip-outbound-ports',
  /** On an app: destination networks (CIDRs) that bypass the proxy. */
  skipSubnets: 'weft.io/skip-subnets',
} as const;

export const MANAGED_BY = 'weft-control';
/** The proxy's uid in weft/proxy and in weft-init's rules. */
export const PROXY_UID = 2102;
export const SIDECAR_PORTS = { inbound: 4243, outbound: 4240, tap: 4290, admin: 4291 } as const;
/** Where the sidecar's token and trust anchors are written before it starts. */
export const SIDECAR_IDENTITY_FOLDER = '/var/run/weft/identity';
export const SIDECAR_TOKEN_FILE = 'token';
export const SIDECAR_TRUST_ANCHORS_FILE = 'trust-anchors.pem';

/** An app container that gets a sidecar, as read from its labels. */
export interface InjectionTarget {
  readonly appId: string;
  readonly appName: string;
  /** The app's State.StartedAt: which run of the container the sidecar belongs to. */
  readonly startedAt: string;
  readonly identity: WorkloadIdentity;
  /** `<namespace>/<container name>`: the workload whose inbound policy the proxy watches. */
  readonly workload: string;
  /** The app's ports (weft.io/port); empty for a client that serves nothing. */
  readonly appPorts: readonly number[];
  readonly skipInboundPorts: string;
  readonly skipOutboundPorts?: string;
  readonly skipSubnets?: string;
}

/** What the sidecars of every app share. */
export interface SidecarSettings {
  readonly image: string;
  /** ip:port of the control plane, as the sidecars dial it. */
  readonly controlAddr: string;
}

/**
 * The injection target of `container`: undefined when it does not ask for a sidecar (weft.io/inject is not
 * "enabled", or it is itself a sidecar), or the first label that cannot be read. A container that is a service takes
 * its identity as discovery derives it; one that only calls others (no service label) takes its namespace from
 * weft.io/namespace or the Compose project, and its service account from weft.io/service-account, the Compose
 * service, or its name.
 */
export function readInjectionTarget(container: EngineContainer, trustDomain: string): Result<InjectionTarget | undefined, InvalidDockerLabelError> {
  const { labels } = container;
  if (labels[INJECTION_LABELS.inject] !== 'enabled' || labels[INJECTION_LABELS.sidecarFor] !== undefined) return ok(undefined);
  const workload = readDockerWorkload({ ...container, health: 'none', networks: [] }, trustDomain);
  if (!workload.ok) return workload;
  const parts: IdentityParts = workload.value ?? clientParts(container);
  const identity = makeWorkloadIdentity({ trustDomain, namespace: parts.namespace, serviceAccount: parts.serviceAccount });
  if (!identity.ok) {
    const label = parts.serviceAccountLabel ?? DOCKER_LABELS.namespace;
    return fail(container, label, `does not make a workload identity: ${identity.error.reason}`);
  }
  const skips = readSkips(container);
  if (!skips.ok) return skips;
  return ok({
    appId: container.id,
    appName: container.name,
    startedAt: container.startedAt,
    identity: identity.value,
    workload: `${parts.namespace}/${container.name}`,
    appPorts: workload.value?.ports ?? [],
    ...skips.value,
  });
}

/** The short-lived container that runs weft-init in the app's network namespace. */
export function initContainerSpec(target: InjectionTarget, settings: SidecarSettings): ContainerSpec {
  const cmd = ['--proxy-uid', String(PROXY_UID), '--inbound-port', String(SIDECAR_PORTS.inbound), '--outbound-port', String(SIDECAR_PORTS.outbound)];
  cmd.push('--skip-inbound-ports', target.skipInboundPorts);
  if (target.skipOutboundPorts !== undefined) cmd.push('--skip-outbound-ports', target.skipOutboundPorts);
  if (target.skipSubnets !== undefined) cmd.push('--skip-subnets', target.skipSubnets);
  return {
    name: containerName(target.appName, 'weft-init'),
    image: settings.image,
    entrypoint: ['/usr/local/bin/weft-init'],
    cmd,
    user: 'root',
    env: {},
    labels: { [INJECTION_LABELS.sidecarFor]: target.appId, [INJECTION_LABELS.managedBy]: MANAGED_BY, [INJECTION_LABELS.role]: 'init' },
    networkOf: target.appId,
    capAdd: ['NET_ADMIN', 'NET_RAW'],
  };
}

/** The sidecar proxy container: transparent mode, identity from the files written into it before it starts. */
export function sidecarContainerSpec(target: InjectionTarget, settings: SidecarSettings): ContainerSpec {
  const { identity } = target;
  const env: Record<string, string> = {
    // Behind weft-init: inbound connections go to the app port they were for, outbound by their original destination.
    WEFT_PROXY_TRANSPARENT: 'true',
    WEFT_PROXY_CONTROL_ADDR: settings.controlAddr,
    WEFT_PROXY_IDENTITY_ADDR: settings.controlAddr,
    WEFT_PROXY_IDENTITY_NAMESPACE: identity.namespace,
    WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: identity.serviceAccount,
    WEFT_PROXY_IDENTITY_TRUST_DOMAIN: identity.trustDomain,
    WEFT_PROXY_IDENTITY_TOKEN_FILE: `${SIDECAR_IDENTITY_FOLDER}/${SIDECAR_TOKEN_FILE}`,
    WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE: `${SIDECAR_IDENTITY_FOLDER}/${SIDECAR_TRUST_ANCHORS_FILE}`,
    WEFT_PROXY_POLICY_WORKLOAD: target.workload,
    WEFT_PROXY_INBOUND_ADDR: `0.0.0.0:${SIDECAR_PORTS.inbound}`,
    WEFT_PROXY_OUTBOUND_ADDR: `127.0.0.1:${SIDECAR_PORTS.outbound}`,
    WEFT_PROXY_TAP_ADDR: `0.0.0.0:${SIDECAR_PORTS.tap}`,
    // On all interfaces, so /metrics can be read at the container's IP; weft-init lets this port bypass the proxy.
    WEFT_PROXY_ADMIN_ADDR: `0.0.0.0:${SIDECAR_PORTS.admin}`,
  };
  const firstPort = target.appPorts[0];
  if (firstPort !== undefined) env.WEFT_PROXY_INBOUND_APP_ADDR = `127.0.0.1:${firstPort}`;
  return {
    name: containerName(target.appName, 'weft-proxy'),
    image: settings.image,
    cmd: [],
    user: String(PROXY_UID),
    env,
    labels: {
      [INJECTION_LABELS.sidecarFor]: target.appId,
      [INJECTION_LABELS.managedBy]: MANAGED_BY,
      [INJECTION_LABELS.appStartedAt]: target.startedAt,
      [INJECTION_LABELS.role]: 'proxy',
    },
    networkOf: target.appId,
    capAdd: [],
  };
}

/** `<app name>-<suffix>`; Docker names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*, which an app's name already is. */
function containerName(appName: string, suffix: string): string {
  return `${appName}-${suffix}`;
}

interface IdentityParts {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The label the service account came from, for messages. */
  readonly serviceAccountLabel?: string;
}

function clientParts(container: EngineContainer): IdentityParts {
  const { labels } = container;
  const namespace = labels[DOCKER_LABELS.namespace] ?? labels[DOCKER_LABELS.composeProject] ?? 'default';
  for (const label of [DOCKER_LABELS.serviceAccount, DOCKER_LABELS.composeService]) {
    const serviceAccount = labels[label];
    if (serviceAccount !== undefined) return { namespace, serviceAccount, serviceAccountLabel: label };
  }
  return { namespace, serviceAccount: container.name.toLowerCase() };
}

type Skips = Pick<InjectionTarget, 'skipInboundPorts' | 'skipOutboundPorts' | 'skipSubnets'>;

function readSkips(container: EngineContainer): Result<Skips, InvalidDockerLabelError> {
  const { labels } = container;
  const always = `${SIDECAR_PORTS.tap},${SIDECAR_PORTS.admin}`;
  const inbound = labels[INJECTION_LABELS.skipInboundPorts];
  const outbound = labels[INJECTION_LABELS.skipOutboundPorts];
  const subnets = labels[INJECTION_LABELS.skipSubnets];
  for (const [label, value] of [
    [INJECTION_LABELS.skipInboundPorts, inbound],
    [INJECTION_LABELS.skipOutboundPorts, outbound],
  ] as const) {
    const problem = value === undefined ? undefined : portListProblem(value);
    if (problem !== undefined) return fail(container, label, problem);
  }
  if (subnets !== undefined) {
    for (const cidr of subnets.split(',')) {
      const parsed = parseCidr(cidr.trim());
      if (!parsed.ok) return fail(container, INJECTION_LABELS.skipSubnets, `has ${JSON.stringify(cidr)}: ${parsed.error.reason}`);
    }
  }
  return ok({
    skipInboundPorts: inbound === undefined ? always : `${always},${inbound.replaceAll(' ', '')}`,
    ...(outbound !== undefined && { skipOutboundPorts: outbound.replaceAll(' ', '') }),
    ...(subnets !== undefined && { skipSubnets: subnets.replaceAll(' ', '') }),
  });
}

/** "5432" or "8000-8100,9000": the problem, or undefined when it reads. */
function portListProblem(text: string): string | undefined {
  for (const part of text.split(',').map((piece) => piece.trim())) {
    const match = /^([1-9][0-9]{0,4})(?:-([1-9][0-9]{0,4}))?$/.exec(part);
    const from = Number(match?.[1] ?? 0);
    const to = match?.[2] === undefined ? from : Number(match[2]);
    if (match === null || from > 65_535 || to > 65_535 || to < from) {
      return `has ${JSON.stringify(part)}, which is not a port or a range of ports; write e.g. "5432" or "8000-8100,9000"`;
    }
  }
  return undefined;
}

function fail(container: EngineContainer, label: string, reason: string): Result<never, InvalidDockerLabelError> {
  return err(new InvalidDockerLabelError(container.name, label, container.labels[label] ?? '', reason));
}
