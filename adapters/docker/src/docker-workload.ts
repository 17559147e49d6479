// DockerWorkload: a container read as an instance of a mesh service, from its weft.io/* (or Compose) labels.
import {
  DEFAULT_ENDPOINT_WEIGHT,
  dnsLabelProblem,
  err,
  identityName,
  InvalidInputError,
  MAX_ENDPOINT_WEIGHT,
  makeWorkloadIdentity,
  ok,
  type Result,
} from '@weft/core';
import type { DockerContainer } from './docker-engine.js';

/** The labels discovery reads. */
export const DOCKER_LABELS = {
  service: 'weft.io/service',
  port: 'weft.io/port',
  namespace: 'weft.io/namespace',
  serviceAccount: 'weft.io/service-account',
  inject: 'weft.io/inject',
  weight: 'weft.io/weight',
  sidecarFor: 'weft.io/sidecar-for',
  composeService: 'com.docker.compose.service',
  composeProject: 'com.docker.compose.project',
} as const;

/** The port a meshed container's proxy takes inbound mTLS connections on. */
export const DOCKER_PROXY_INBOUND_PORT = 4243;

/** A label of a container that cannot be read; the input is the label's value. */
export class InvalidDockerLabelError extends InvalidInputError {
  readonly kind = 'Docker label';

  constructor(
    /** The container's name. */
    readonly container: string,
    /** The label, e.g. "weft.io/port". */
    readonly label: string,
    input: string,
    reason: string,
  ) {
    super(input, `label ${label} of container "${container}" ${reason}; the container is left out of the mesh until it is fixed`);
  }
}

export interface DockerWorkload {
  readonly containerId: string;
  /** The container's name: the workload's name in its namespace. */
  readonly name: string;
  readonly namespace: string;
  readonly service: string;
  readonly serviceAccount: string;
  /** The app's ports, each a port of the service. */
  readonly ports: readonly number[];
  /** Whether a Weft proxy runs beside it (weft.io/inject=enabled). */
  readonly meshed: boolean;
  /** `<sa>.<ns>.serviceaccount.identity.weft.<trust domain>`, when meshed. */
  readonly identityName?: string;
  readonly weight: number;
  readonly running: boolean;
  /** Running, and healthy or without a healthcheck. */
  readonly ready: boolean;
  /** Its IP on each of its networks. */
  readonly ips: readonly string[];
  /** The container's own labels. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The workload a container is, undefined when it is not a service (no weft.io/service or Compose service label, no
 * weft.io/port on a Compose container, or a sidecar), or the first label that cannot be read. Defaults: namespace
 * from the Compose project, else "default"; service account from the service name.
 */
export function readDockerWorkload(
  container: DockerContainer,
  trustDomain: string,
): Result<DockerWorkload | undefined, InvalidDockerLabelError> {
  const { labels } = container;
  const fail = (label: string, reason: string) => err(new InvalidDockerLabelError(container.name, label, labels[label] ?? '', reason));
  if (labels[DOCKER_LABELS.sidecarFor] !== undefined) return ok(undefined);
  const serviceLabel = labels[DOCKER_LABELS.service] !== undefined ? DOCKER_LABELS.service : DOCKER_LABELS.composeService;
  const service = labels[serviceLabel];
  if (service === undefined) return ok(undefined);
  const portText = labels[DOCKER_LABELS.port];
  if (portText === undefined) {
    // A Compose container without the label is simply not part of the mesh; one labelled as a service needs ports.
    if (serviceLabel === DOCKER_LABELS.composeService) return ok(undefined);
    return fail(DOCKER_LABELS.port, 'is missing; add the port the app listens on, e.g. weft.io/port=8080');
  }
  const nameProblem = dnsLabelProblem(service);
  if (nameProblem !== undefined) return fail(serviceLabel, `${nameProblem}; a service name is a DNS label such as "web" (set weft.io/service)`);
  const namespaceLabel = labels[DOCKER_LABELS.namespace] !== undefined ? DOCKER_LABELS.namespace : DOCKER_LABELS.composeProject;
  const namespace = labels[namespaceLabel] ?? 'default';
  const namespaceProblem = dnsLabelProblem(namespace);
  if (namespaceProblem !== undefined) {
    return fail(namespaceLabel, `${namespaceProblem}; a namespace is a DNS label such as "shop" (set weft.io/namespace)`);
  }
  const ports = readPorts(portText);
  if (typeof ports === 'string') return fail(DOCKER_LABELS.port, ports);
  const meshed = readInject(labels[DOCKER_LABELS.inject]);
  if (meshed === undefined) return fail(DOCKER_LABELS.inject, 'is not "enabled" or "disabled"');
  const weight = readWeight(labels[DOCKER_LABELS.weight]);
  if (weight === undefined) return fail(DOCKER_LABELS.weight, `is not a whole number from 0 to ${MAX_ENDPOINT_WEIGHT}`);
  const serviceAccount = labels[DOCKER_LABELS.serviceAccount] ?? service;
  const identity = makeWorkloadIdentity({ trustDomain, namespace, serviceAccount });
  if (!identity.ok) {
    const label = labels[DOCKER_LABELS.serviceAccount] !== undefined ? DOCKER_LABELS.serviceAccount : serviceLabel;
    return fail(label, `does not make a workload identity: ${identity.error.reason}`);
  }
  const ready = container.running && (container.health === 'none' || container.health === 'healthy');
  return ok({
    containerId: container.id,
    name: container.name,
    namespace,
    service,
    serviceAccount,
    ports,
    meshed,
    ...(meshed ? { identityName: identityName(identity.value) } : {}),
    weight,
    running: container.running,
    ready,
    ips: container.networks.flatMap((network) => [network.ipv4, network.ipv6].filter((ip): ip is string => ip !== undefined && ip !== '')),
    labels: container.labels,
  });
}

/** "8080" or "8080,9090"; the reason when a port is not one. */
function readPorts(text: string): number[] | string {
  const ports: number[] = [];
  for (const part of text.split(',').map((piece) => piece.trim())) {
    const port = /^[1-9][0-9]{0,4}$/.test(part) ? Number(part) : 0;
    if (port < 1 || port > 65_535) return `has "${part}", which is not a port from 1 to 65535; write e.g. "8080" or "8080,9090"`;
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}

function readInject(value: string | undefined): boolean | undefined {
  if (value === undefined || value === 'disabled') return false;
  return value === 'enabled' ? true : undefined;
}

function readWeight(value: string | undefined): number | undefined {
  if (value === undefined) return DEFAULT_ENDPOINT_WEIGHT;
  if (!/^(0|[1-9][0-9]*)$/.test(value)) return undefined;
  const weight = Number(value);
  return weight <= MAX_ENDPOINT_WEIGHT ? weight : undefined;
}
