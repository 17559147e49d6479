// Builds the service profiles of a mesh file with the core's profile compiler, locating each error at its field.
import {
  compileServiceProfile,
  DEFAULT_RETRY_BUDGET,
  defaultServiceProfile,
  parseDuration,
  type ProfileRoute,
  type RequestMatch,
  type ResponseClass,
  type ResponseMatch,
  type RetryBudgetConfig,
  type ServiceProfile,
  validateRetryBudget,
  type WeightedDst,
} from '@weft/core';
import { atPath, type BuildContext } from './build-context.js';
import { checkNamespace, resolveMeshAuthority } from './build-services.js';
import type { MeshNamespace, MeshService, MeshServicePortRef } from './mesh-config.js';
import type { MeshFile, MeshFileProfile, MeshFileRequestMatch, MeshFileResponseMatch, MeshFileRetryBudget, MeshFileRoute } from './mesh-file.js';
import { closest } from './schema-problems.js';
import type { FieldPath } from './yaml-locator.js';

/** How the profiles are checked against the rest of the file. */
export interface ProfileBuildOptions {
  /**
   * The services live elsewhere (e.g. Docker containers): a profile may be for a service the file does not declare,
   * and may split traffic to one (with a port written). Every other check stays.
   */
  readonly externalServices?: boolean;
}

/** The service a profile is for: declared in the file, or (with external services) only named. */
type ProfileService = Pick<MeshService, 'name' | 'namespace' | 'fqdn'>;

/** The profiles of the file by the FQDN of their service. */
export function buildProfiles(
  context: BuildContext,
  file: MeshFile,
  namespaces: ReadonlyMap<string, MeshNamespace>,
  services: readonly MeshService[],
  servicePorts: ReadonlyMap<string, MeshServicePortRef>,
  options: ProfileBuildOptions = {},
): Map<string, ServiceProfile> {
  const profiles = new Map<string, ServiceProfile>();
  const paths = new Map<string, FieldPath>();
  for (const [index, entry] of (file.profiles ?? []).entries()) {
    const path: FieldPath = ['profiles', index];
    const namespace = entry.namespace ?? 'default';
    if (entry.namespace !== undefined && !checkNamespace(context, namespaces, [...path, 'namespace'], namespace)) continue;
    const service = profileService(context, path, entry.service, namespace, services, options);
    if (!service) continue;
    const first = paths.get(service.fqdn);
    if (first) {
      context.fail([...path, 'service'], `service "${service.name}" already has a profile ${atPath(first)}; put all its routes in one profile`);
      continue;
    }
    paths.set(service.fqdn, path);
    const profile = buildProfile(context, path, entry, service, services, servicePorts, options);
    if (profile) profiles.set(service.fqdn, profile);
  }
  return profiles;
}

/**
 * The declared service a profile names. With external services, a service the file does not declare is named by the
 * FQDN the Docker adapter publishes its ports under ("<service>.<namespace>.svc.<cluster domain>"), so a proxy asking
 * for any of its ports gets the profile.
 */
function profileService(
  context: BuildContext,
  path: FieldPath,
  name: string,
  namespace: string,
  services: readonly MeshService[],
  options: ProfileBuildOptions,
): ProfileService | undefined {
  const service = services.find((candidate) => candidate.name === name && candidate.namespace === namespace);
  if (service) return service;
  if (options.externalServices) return { name, namespace, fqdn: `${name}.${namespace}.svc.${context.clusterDomain}` };
  const near = closest(name, services.filter((candidate) => candidate.namespace === namespace).map((candidate) => candidate.name));
  const hint = near ? ` (did you mean "${near}"?)` : '';
  const reason = `there is no service "${name}" in namespace "${namespace}"${hint}`;
  context.fail([...path, 'service'], `${reason}; a profile is for a service declared under services`);
  return undefined;
}

function buildProfile(
  context: BuildContext,
  path: FieldPath,
  entry: MeshFileProfile,
  service: ProfileService,
  services: readonly MeshService[],
  servicePorts: ReadonlyMap<string, MeshServicePortRef>,
  options: ProfileBuildOptions,
): ServiceProfile | undefined {
  const before = context.errors.length;
  const routes = (entry.routes ?? []).map((route, index) => buildRoute(context, [...path, 'routes', index], route));
  const retryBudget = buildRetryBudget(context, [...path, 'retryBudget'], entry.retryBudget);
  const dstOverrides: WeightedDst[] = [];
  for (const [index, dst] of (entry.dstOverrides ?? []).entries()) {
    const at: FieldPath = [...path, 'dstOverrides', index, 'authority'];
    const resolved = resolveMeshAuthority(context, at, dst.authority, service.namespace, services, servicePorts, options);
    if (resolved) dstOverrides.push({ authority: resolved.target, weight: dst.weight });
  }
  if (context.errors.length > before || retryBudget === undefined) return undefined;
  const profile: ServiceProfile = {
    fullyQualifiedName: service.fqdn,
    routes: routes as ProfileRoute[],
    retryBudget,
    dstOverrides,
    opaqueProtocol: false,
  };
  // Every field was checked on its own above; this catches what only shows in the whole (e.g. nesting depth).
  const compiled = compileServiceProfile(profile);
  if (!compiled.ok) {
    context.failWith(path, compiled.error);
    return undefined;
  }
  return profile;
}

function buildRoute(context: BuildContext, path: FieldPath, route: MeshFileRoute): ProfileRoute | undefined {
  const condition = requestMatch(context, [...path, 'condition'], route.condition, route.name);
  const responseClasses: ResponseClass[] = [];
  for (const [index, responseClass] of (route.responseClasses ?? []).entries()) {
    const matched = responseMatch(context, [...path, 'responseClasses', index, 'condition'], responseClass.condition, route.name);
    if (matched) responseClasses.push({ condition: matched, isFailure: responseClass.isFailure ?? false });
  }
  let timeoutMs: number | undefined;
  if (route.timeout !== undefined) {
    const parsed = parseDuration(route.timeout);
    if (parsed.ok) timeoutMs = parsed.value;
    else context.failWith([...path, 'timeout'], parsed.error);
  }
  if (condition === undefined) return undefined;
  return {
    name: route.name,
    condition,
    responseClasses,
    isRetryable: route.isRetryable ?? false,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}

/** The core condition: one field as itself, several as all of them. Each pathRegex and method is checked where written. */
function requestMatch(context: BuildContext, path: FieldPath, match: MeshFileRequestMatch, routeName: string): RequestMatch | undefined {
  const parts: (RequestMatch | undefined)[] = Object.keys(match).map((key) => {
    const at: FieldPath = [...path, key];
    if (key === 'all' || key === 'any') {
      const items = (match[key] ?? []).map((item, index) => requestMatch(context, [...at, index], item, routeName));
      if (!items.every((item) => item !== undefined)) return undefined;
      return key === 'all' ? { all: items } : { any: items };
    }
    if (key === 'not') {
      const inner = requestMatch(context, at, match.not as MeshFileRequestMatch, routeName);
      return inner && { not: inner };
    }
    const leaf = (key === 'method' ? { method: match.method } : { pathRegex: match.pathRegex }) as RequestMatch;
    return checkLeaf(context, at, routeName, { condition: leaf, responseClasses: [] }) ? leaf : undefined;
  });
  if (parts.some((part) => part === undefined)) return undefined;
  return parts.length === 1 ? parts[0] : { all: parts as RequestMatch[] };
}

function responseMatch(context: BuildContext, path: FieldPath, match: MeshFileResponseMatch, routeName: string): ResponseMatch | undefined {
  const parts: (ResponseMatch | undefined)[] = Object.keys(match).map((key) => {
    const at: FieldPath = [...path, key];
    if (key === 'all' || key === 'any') {
      const items = (match[key] ?? []).map((item, index) => responseMatch(context, [...at, index], item, routeName));
      if (!items.every((item) => item !== undefined)) return undefined;
      return key === 'all' ? { all: items } : { any: items };
    }
    if (key === 'not') {
      const inner = responseMatch(context, at, match.not as MeshFileResponseMatch, routeName);
      return inner && { not: inner };
    }
    const leaf: ResponseMatch = { status: { min: match.status?.min ?? 100, max: match.status?.max ?? 599 } };
    const condition: RequestMatch = { all: [] };
    return checkLeaf(context, at, routeName, { condition, responseClasses: [{ condition: leaf, isFailure: false }] }) ? leaf : undefined;
  });
  if (parts.some((part) => part === undefined)) return undefined;
  return parts.length === 1 ? parts[0] : { all: parts as ResponseMatch[] };
}

/** Compiles a route holding just one condition, so that an error points at that condition. */
function checkLeaf(
  context: BuildContext,
  path: FieldPath,
  routeName: string,
  route: Pick<ProfileRoute, 'condition' | 'responseClasses'>,
): boolean {
  const profile = { ...defaultServiceProfile('check'), routes: [{ name: routeName, isRetryable: false, ...route }] };
  const compiled = compileServiceProfile(profile);
  if (!compiled.ok) context.failWith(path, compiled.error);
  return compiled.ok;
}

function buildRetryBudget(context: BuildContext, path: FieldPath, budget: MeshFileRetryBudget | undefined): RetryBudgetConfig | undefined {
  if (budget === undefined) return DEFAULT_RETRY_BUDGET;
  let ttlMs = DEFAULT_RETRY_BUDGET.ttlMs;
  if (budget.ttl !== undefined) {
    const parsed = parseDuration(budget.ttl);
    if (!parsed.ok) {
      context.failWith([...path, 'ttl'], parsed.error);
      return undefined;
    }
    ttlMs = parsed.value;
  }
  const config: RetryBudgetConfig = {
    retryRatio: budget.retryRatio ?? DEFAULT_RETRY_BUDGET.retryRatio,
    minRetriesPerSecond: budget.minRetriesPerSecond ?? DEFAULT_RETRY_BUDGET.minRetriesPerSecond,
    ttlMs,
  };
  const checked = validateRetryBudget(config);
  if (checked.ok) return config;
  const field = (['retryRatio', 'minRetriesPerSecond', 'ttl'] as const).find((name) => checked.error.reason.startsWith(name));
  context.failWith(field ? [...path, field] : path, checked.error);
  return undefined;
}
