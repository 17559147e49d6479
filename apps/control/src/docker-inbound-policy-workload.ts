// What the mesh file's Servers select a Docker workload by: its container labels, service, instance name and named ports.
import type { DockerWorkload } from '@weft/adapter-docker';
import type { MeshWorkloadSelection } from '@weft/adapter-file';
import { err, InvalidInputError, ok, type Result } from '@weft/core';

/** The label that names a container's ports for Servers that select a port by name: "http=8080,admin=9090". */
export const DOCKER_PORT_NAMES_LABEL = 'weft.io/port-names';

// A port name as the mesh file writes one (an IANA service name).
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*$/;
const MAX_PORT_NAME_LENGTH = 15;

/** A port names label that cannot be read; the input is the label's value. */
export class InvalidDockerPortNamesError extends InvalidInputError {
  readonly kind = 'Docker label';

  constructor(
    /** The container's name. */
    readonly container: string,
    input: string,
    reason: string,
  ) {
    super(input, `label ${DOCKER_PORT_NAMES_LABEL} of container "${container}" ${reason}; Servers select none of its ports by name until it is fixed`);
  }
}

/** A Docker workload as Servers see it, and the problem with its port names label, if it has one. */
export interface DockerPolicyWorkload {
  readonly selection: MeshWorkloadSelection;
  readonly problem?: InvalidDockerPortNamesError;
}

/**
 * The workload's labels are its container's, with `weft.io/service` (its service, also when it comes from Compose)
 * and `weft.io/instance` (its container name) as the file's instances have them. A port names label that cannot be
 * read gives no port names (a Server that names a port then does not select it) and is returned as the problem.
 */
export function dockerPolicyWorkload(workload: DockerWorkload): DockerPolicyWorkload {
  const labels = { ...workload.labels, 'weft.io/service': workload.service, 'weft.io/instance': workload.name };
  const portNames = readDockerPortNames(workload.name, workload.labels[DOCKER_PORT_NAMES_LABEL]);
  const selection = { namespace: workload.namespace, labels, portNames: portNames.ok ? portNames.value : {} };
  return portNames.ok ? { selection } : { selection, problem: portNames.error };
}

/** Reads the port names label of container `container`; absent, there are none. */
export function readDockerPortNames(container: string, text: string | undefined): Result<Record<string, number>, InvalidDockerPortNamesError> {
  const names: Record<string, number> = {};
  if (text === undefined || text.trim() === '') return ok(names);
  const fail = (reason: string) => err(new InvalidDockerPortNamesError(container, text, `${reason}; write e.g. "http=8080,admin=9090"`));
  for (const entry of text.split(',').map((part) => part.trim())) {
    const [name = '', portText = '', ...rest] = entry.split('=').map((part) => part.trim());
    if (rest.length > 0 || !entry.includes('=')) return fail(`has "${entry}", which is not <name>=<port>`);
    if (!PORT_NAME.test(name) || name.length > MAX_PORT_NAME_LENGTH) {
      return fail(`has the port name "${name}"; a port name is 1-15 lowercase letters, digits and single "-", with a letter`);
    }
    const port = /^[1-9][0-9]{0,4}$/.test(portText) ? Number(portText) : 0;
    if (port < 1 || port > 65_535) return fail(`has "${portText}" for port "${name}", which is not a port from 1 to 65535`);
    if (names[name] !== undefined) return fail(`names port "${name}" twice`);
    names[name] = port;
  }
  return ok(names);
}
