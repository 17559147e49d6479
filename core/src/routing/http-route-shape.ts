// Type checks of an HTTPRoute that arrived untyped, so compiling it never throws on a missing or mistyped field.
import { describeValue, isRecord } from './untyped-value.js';

type Problem = string | undefined;

/**
 * What is structurally wrong with `route` (a field of the wrong type), naming the field, or undefined. Values are
 * checked afterwards by compileHttpRoute; here only their types.
 */
export function httpRouteShapeProblem(route: Readonly<Record<string, unknown>>): Problem {
  for (const field of ['name', 'namespace'] as const) {
    if (typeof route[field] !== 'string') return `${field} is ${describeValue(route[field])}, not text`;
  }
  return (
    listProblem(route['hostnames'], 'hostnames', (hostname, at) => textProblem(hostname, at)) ??
    listProblem(route['rules'], 'rules', ruleShapeProblem)
  );
}

function ruleShapeProblem(rule: unknown, at: string): Problem {
  if (!isRecord(rule)) return notAnObject(rule, at, '{ matches, backends }');
  return (
    listProblem(rule['matches'], `${at}.matches`, matchShapeProblem) ??
    listProblem(rule['backends'], `${at}.backends`, (backend, where) =>
      isRecord(backend) ? textProblem(backend['authority'], `${where}.authority`) : notAnObject(backend, where, '{ authority, weight }'),
    ) ??
    optionalRecordProblem(rule['timeouts'], `${at}.timeouts`) ??
    optionalRecordProblem(rule['retry'], `${at}.retry`) ??
    (isRecord(rule['retry']) ? listProblem(rule['retry']['conditions'], `${at}.retry.conditions`, textProblem) : undefined)
  );
}

function matchShapeProblem(match: unknown, at: string): Problem {
  if (!isRecord(match)) return notAnObject(match, at, '{ path, headers, method, queryParams }');
  const { path, method, headers, queryParams } = match;
  if (path !== undefined) {
    if (!isRecord(path)) return notAnObject(path, `${at}.path`, '{ type, value }');
    const problem = textProblem(path['type'], `${at}.path.type`) ?? textProblem(path['value'], `${at}.path.value`);
    if (problem) return problem;
  }
  if (method !== undefined && typeof method !== 'string') return textProblem(method, `${at}.method`);
  if (headers !== undefined) {
    const problem = listProblem(headers, `${at}.headers`, valueMatchShapeProblem);
    if (problem) return problem;
  }
  return queryParams === undefined ? undefined : listProblem(queryParams, `${at}.queryParams`, valueMatchShapeProblem);
}

function valueMatchShapeProblem(entry: unknown, at: string): Problem {
  if (!isRecord(entry)) return notAnObject(entry, at, '{ type, name, value }');
  return textProblem(entry['type'], `${at}.type`) ?? textProblem(entry['name'], `${at}.name`) ?? textProblem(entry['value'], `${at}.value`);
}

function listProblem(value: unknown, at: string, itemProblem: (item: unknown, at: string) => Problem): Problem {
  if (!Array.isArray(value)) return `${at} is ${describeValue(value)}, not a list`;
  for (const [index, item] of (value as readonly unknown[]).entries()) {
    const problem = itemProblem(item, `${at}[${index}]`);
    if (problem) return problem;
  }
  return undefined;
}

function textProblem(value: unknown, at: string): Problem {
  return typeof value === 'string' ? undefined : `${at} is ${describeValue(value)}, not text`;
}

function optionalRecordProblem(value: unknown, at: string): Problem {
  return value === undefined || isRecord(value) ? undefined : `${at} is ${describeValue(value)}, not an object`;
}

function notAnObject(value: unknown, at: string, shape: string): string {
  return `${at} is ${describeValue(value)}, not an object ${shape}`;
}
