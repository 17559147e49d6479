// Reads a mesh file: YAML with positions, the JSON schema, then the core's own parsers, every error located.
import { readFile } from 'node:fs/promises';
import { err, formatPolicyResource, ok, type Result } from '@weft/core';
import { type Document, LineCounter, parseDocument, type YAMLError } from 'yaml';
import { BuildContext } from './build-context.js';
import { buildPolicies } from './build-policies.js';
import { buildProfiles } from './build-profiles.js';
import { buildNamespaces, buildServices } from './build-services.js';
import { type MeshConfig, meshInboundPolicyOf, meshWorkloadInboundPolicy, type MeshWorkloadSelection } from './mesh-config.js';
import type { MeshFile } from './mesh-file.js';
import { MeshFileError } from './mesh-file-error.js';
import { meshSchemaErrors } from './mesh-schema.js';
import { schemaProblems } from './schema-problems.js';
import { type FieldPath, formatFieldPath, YamlLocator } from './yaml-locator.js';

/** Aliases may expand a document this many times at most, so a small file cannot blow up into a huge one. */
const MAX_ALIAS_COUNT = 100;

/** How a mesh file is read. */
export interface MeshFileParseOptions {
  /**
   * The file holds profiles and policies over services that live elsewhere (e.g. Docker containers): a Server may
   * select a `service`, or a `port` by name, that the file does not declare; a profile may be for such a service
   * (served under "<service>.<namespace>.svc.<clusterDomain>", any port) and split traffic to one written with its
   * port. Every other check stays, and each service a Server names is checked for Servers that would all select its
   * workloads' same port. Default false.
   */
  readonly externalServices?: boolean;
}

/**
 * Reads the text of a mesh file. `file` names it in errors and is the base of relative `cwd`s. The result is every
 * problem found, in file order: YAML syntax first; if the syntax is good, the schema; if the schema is met, what the
 * core's parsers and the cross-references (unknown services, servers, authentications...) refuse.
 */
export function parseMeshFile(text: string, file = 'mesh.yaml', options: MeshFileParseOptions = {}): Result<MeshConfig, MeshFileError[]> {
  if (text.trim() === '') {
    return err([new MeshFileError(file, 1, 1, '', '', 'the file is empty; a mesh file starts with "apiVersion: weft.io/v1"')]);
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, merge: true, uniqueKeys: true });
  // After the first syntax error the parser is lost and the rest of its errors are echoes: report the first.
  const [syntax] = document.errors;
  if (syntax) return err([syntaxError(file, syntax)]);
  const locator = new YamlLocator(document, lineCounter, text);
  const value = toValue(document, file);
  if (!value.ok) return value;
  const problems = schemaProblems(meshSchemaErrors(value.value), value.value);
  if (problems.length > 0) {
    const errors = problems.map((problem) => {
      const spot = problem.at === 'key' ? locator.keyAt(problem.path) : locator.valueAt(problem.path);
      return new MeshFileError(file, spot.line, spot.column, formatFieldPath(problem.path), spot.source, problem.reason);
    });
    return err(inFileOrder(errors));
  }
  return buildMeshConfig(value.value as MeshFile, file, locator, options);
}

/** Reads and parses the mesh file at `path`; a file that cannot be read is one error naming the path. */
export async function loadMeshFile(path: string, options: MeshFileParseOptions = {}): Promise<Result<MeshConfig, MeshFileError[]>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = `cannot be read: ${(error as Error).message}`;
    return err([new MeshFileError(path, 1, 1, '', '', reason)]);
  }
  return parseMeshFile(text, path, options);
}

function buildMeshConfig(file: MeshFile, fileName: string, locator: YamlLocator, options: MeshFileParseOptions): Result<MeshConfig, MeshFileError[]> {
  const trustDomain = file.trustDomain ?? 'cluster.local';
  const clusterDomain = file.clusterDomain ?? 'cluster.local';
  const context = new BuildContext(fileName, locator, trustDomain, clusterDomain);
  const namespaces = buildNamespaces(context, file, file.policies?.defaultInboundPolicy ?? 'all-unauthenticated');
  const services = buildServices(context, file, namespaces);
  const profiles = buildProfiles(context, file, namespaces, services.services, services.servicePorts, options);
  const { policy, resourcePaths } = buildPolicies(context, file, namespaces, services.services, options);
  const config: MeshConfig = { file: fileName, trustDomain, clusterDomain, namespaces, ...services, profiles, policy };
  if (context.errors.length === 0) checkInboundPolicies(context, config, resourcePaths, options.externalServices ?? false);
  return context.errors.length > 0 ? err(inFileOrder(context.errors)) : ok(config);
}

/**
 * Compiles the policy of every port a proxy may ask about (each instance's ports, and the ports Servers name, also for
 * workloads the file does not list), so that conflicts such as two Servers on one port are found when the file loads.
 * With external services, every workload of a service a Server names is checked too, knowing only its service label.
 */
function checkInboundPolicies(context: BuildContext, config: MeshConfig, resourcePaths: ReadonlyMap<string, FieldPath>, externalServices: boolean): void {
  const reported = new Set<string>();
  const serverPorts = (namespace: string) =>
    config.policy.servers.flatMap((server) => (server.namespace === namespace && typeof server.port === 'number' ? [server.port] : []));
  const report = (compiled: ReturnType<typeof meshInboundPolicyOf>, who: string) => {
    if (compiled.ok || reported.has(compiled.error.message)) return;
    reported.add(compiled.error.message);
    const path = resourcePaths.get(formatPolicyResource(compiled.error.resource)) ?? ['policies'];
    context.fail(path, `${compiled.error.toString()} (found for ${who})`);
  };
  for (const instance of config.instances) {
    for (const port of new Set([...instance.ports.map((entry) => entry.port), ...serverPorts(instance.namespace)])) {
      report(meshInboundPolicyOf(config, instance, port), `instance "${instance.name}" of namespace "${instance.namespace}", port ${port}`);
    }
  }
  for (const namespace of config.namespaces.keys()) {
    for (const port of new Set(serverPorts(namespace))) {
      const who = `workloads of namespace "${namespace}" the file does not list, port ${port}`;
      report(meshInboundPolicyOf(config, { namespace, name: '' }, port), who);
    }
  }
  if (!externalServices) return;
  for (const { namespace, service } of selectedServices(config)) {
    const workload: MeshWorkloadSelection = { namespace, labels: { 'weft.io/service': service }, portNames: {} };
    for (const port of new Set(serverPorts(namespace))) {
      report(meshWorkloadInboundPolicy(config, workload, port), `every workload of service "${service}" in namespace "${namespace}", port ${port}`);
    }
  }
}

/** The services that Servers select by name, once each. */
function selectedServices(config: MeshConfig): { readonly namespace: string; readonly service: string }[] {
  const keys = new Set<string>();
  for (const server of config.policy.servers) {
    const service = server.workloadSelector['weft.io/service'];
    if (service !== undefined) keys.add(JSON.stringify([server.namespace, service]));
  }
  return [...keys].map((key) => {
    const [namespace, service] = JSON.parse(key) as [string, string];
    return { namespace, service };
  });
}

function toValue(document: Document, file: string): Result<unknown, MeshFileError[]> {
  try {
    return ok(document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
  } catch (error) {
    return err([new MeshFileError(file, 1, 1, '', '', `cannot be read as data: ${(error as Error).message}`)]);
  }
}

function syntaxError(file: string, error: YAMLError): MeshFileError {
  const position = error.linePos?.[0] ?? { line: 1, col: 1 };
  // The library's message repeats the position and quotes the line; the first sentence is the news.
  const reason = (error.message.split(/ at line \d+, column \d+/)[0] ?? error.message).trim();
  return new MeshFileError(file, position.line, position.col, '', '', `YAML syntax: ${reason}`);
}

function inFileOrder(errors: readonly MeshFileError[]): MeshFileError[] {
  return [...errors].sort((a, b) => a.line - b.line || a.column - b.column);
}
