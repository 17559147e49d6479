// Turns ajv's schema errors into one plain sentence per problem, at the field it concerns.
import { dnsLabelProblem, dnsNameProblem } from '@weft/core';
import type { ErrorObject } from 'ajv/dist/2020.js';
import type { FieldPath } from './yaml-locator.js';

/** A problem found by the schema: where (the field's value, or its key for unknown fields) and what is wrong. */
export interface SchemaProblem {
  readonly path: FieldPath;
  readonly at: 'value' | 'key';
  readonly reason: string;
}

type Described = { readonly description?: string; readonly pattern?: string; readonly properties?: Record<string, Described> };

const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const DNS_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

const TYPE_WORDS: Readonly<Record<string, string>> = {
  integer: 'a whole number',
  number: 'a number',
  string: 'text',
  boolean: 'true or false',
  object: 'a map of fields',
  array: 'a list',
  null: 'empty',
};

/**
 * One problem per mistake. Unions (a port number or a port object...) make ajv report every branch that failed;
 * only the branches whose type fits the value are kept, and a value that fits no branch gets one "is X, not A or B".
 */
export function schemaProblems(errors: readonly ErrorObject[], document: unknown): SchemaProblem[] {
  const skipped = new Set<ErrorObject>();
  const problems: SchemaProblem[] = [];
  for (const union of errors.filter((error) => error.keyword === 'anyOf' || error.keyword === 'oneOf')) {
    const problem = resolveUnion(union, errors, skipped, document);
    if (problem) problems.push(problem);
  }
  for (const error of errors) {
    if (skipped.has(error) || ['anyOf', 'oneOf', 'if', 'propertyNames'].includes(error.keyword)) continue;
    problems.push(describeError(error, document));
  }
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = JSON.stringify([problem.path, problem.reason]);
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

function resolveUnion(union: ErrorObject, errors: readonly ErrorObject[], skipped: Set<ErrorObject>, document: unknown): SchemaProblem | undefined {
  const at = union.instancePath;
  const path = pointerPath(at, document);
  const branches = (Array.isArray(union.schema) ? union.schema : []) as readonly { required?: readonly string[] }[];
  const requiredNames = branches.flatMap((branch) => branch.required ?? []);
  const passing = (union.params as { passingSchemas?: readonly number[] | null }).passingSchemas;
  if (union.keyword === 'oneOf' && Array.isArray(passing)) {
    const both = passing.flatMap((index) => branches[index]?.required ?? []);
    return { path, at: 'value', reason: `has ${both.map(quote).join(' and ')}; give only one of ${requiredNames.map(quote).join(', ')}` };
  }
  const inside = errors.filter((error) => error !== union && (error.instancePath === at || error.instancePath.startsWith(`${at}/`)));
  const missingChoice = inside.filter(
    (error) => error.keyword === 'required' && error.instancePath === at && requiredNames.includes(missingProperty(error)),
  );
  if (missingChoice.length > 0 && missingChoice.length === requiredNames.length) {
    missingChoice.forEach((error) => skipped.add(error));
    return { path, at: 'value', reason: `needs one of ${requiredNames.map(quote).join(', ')}` };
  }
  const wrongTypes = inside.filter((error) => error.keyword === 'type' && error.instancePath === at);
  wrongTypes.forEach((error) => skipped.add(error));
  if (wrongTypes.length === 0 || wrongTypes.length < inside.length) return undefined;
  const expected = wrongTypes.flatMap((error) => typesOf(error)).map((type) => TYPE_WORDS[type] ?? type);
  return { path, at: 'value', reason: `is ${describeData(union.data)}, not ${orList(expected)}` };
}

function describeError(error: ErrorObject, document: unknown): SchemaProblem {
  const path = pointerPath(error.instancePath, document);
  const propertyName = (error as { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    // An error inside propertyNames: the bad value is a key.
    return { path: [...path, propertyName], at: 'key', reason: `key ${valueReason(error, propertyName)}` };
  }
  const params = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as Described;
  switch (error.keyword) {
    case 'required': {
      const name = missingProperty(error);
      const description = parent.properties?.[name]?.description;
      return { path, at: 'value', reason: `missing required field ${quote(name)}${description ? `: ${description}` : ''}` };
    }
    case 'additionalProperties': {
      const name = String(params['additionalProperty']);
      const known = Object.keys(parent.properties ?? {});
      const near = closest(name, known);
      const hint = near ? `did you mean ${quote(near)}?` : `the fields here are ${known.join(', ')}`;
      return { path: [...path, name], at: 'key', reason: `unknown field ${quote(name)}; ${hint}` };
    }
    default:
      return { path, at: 'value', reason: valueReason(error, error.data) };
  }
}

/** What is wrong with a value (or a key, for propertyNames) for the keywords that check values. */
function valueReason(error: ErrorObject, data: unknown): string {
  const params = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as Described;
  switch (error.keyword) {
    case 'type':
      return `is ${describeData(data)}, not ${orList(typesOf(error).map((type) => TYPE_WORDS[type] ?? type))}`;
    case 'enum': {
      const allowed = (params['allowedValues'] as readonly unknown[]).map(String);
      const near = typeof data === 'string' ? closest(data, allowed) : undefined;
      return `is ${describeData(data)}; write one of ${allowed.join(', ')}${near ? ` (did you mean ${quote(near)}?)` : ''}`;
    }
    case 'const':
      return `is ${describeData(data)}; write ${JSON.stringify(params['allowedValue'])}`;
    case 'pattern':
    case 'maxLength':
      return textReason(data, parent, Number(params['limit']));
    case 'minimum':
      return `is ${describeData(data)}; the smallest allowed is ${String(params['limit'])}`;
    case 'maximum':
      return `is ${describeData(data)}; the largest allowed is ${String(params['limit'])}`;
    case 'minItems':
      return Array.isArray(data) && data.length === 0
        ? `is an empty list; give at least ${String(params['limit'])}`
        : `has too few items; give at least ${String(params['limit'])}`;
    case 'minLength':
      return `is empty; ${parent.description ?? 'write a value'}`;
    case 'minProperties':
      return `is empty; give at least one of ${Object.keys(parent.properties ?? {}).join(', ')}`;
    default:
      return error.message ?? `fails the schema's ${error.keyword} rule`;
  }
}

// Names and other patterned text: DNS names get the core's explanation, others the field's description.
function textReason(data: unknown, schema: Described, limit: number): string {
  const text = String(data);
  if (schema.pattern === DNS_LABEL_PATTERN) return `${quote(text)} ${dnsLabelProblem(text) ?? 'is not a DNS label'}`;
  if (schema.pattern === DNS_NAME_PATTERN) return `${quote(text)} ${dnsNameProblem(text) ?? 'is not a DNS name'}`;
  if (!schema.pattern) return `${quote(text)} is ${text.length} characters long; at most ${limit} are allowed`;
  return `${quote(text)} is not valid here; expected ${lowerFirst(schema.description ?? `text matching ${schema.pattern}`)}`;
}

function missingProperty(error: ErrorObject): string {
  return String((error.params as { missingProperty?: unknown }).missingProperty);
}

function typesOf(error: ErrorObject): string[] {
  const type = (error.params as { type?: unknown }).type;
  return Array.isArray(type) ? type.map(String) : String(type).split(',');
}

/** The path of a JSON pointer, with list indexes as numbers (checked against the document, so a key "0" stays text). */
export function pointerPath(pointer: string, document: unknown): (string | number)[] {
  if (pointer === '') return [];
  const path: (string | number)[] = [];
  let value: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(value) && /^\d+$/.test(segment)) {
      path.push(Number(segment));
      value = value[Number(segment)];
    } else {
      path.push(segment);
      value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

/** A value as a message shows it: text quoted (shortened), numbers and booleans as written, the rest by kind. */
export function describeData(data: unknown): string {
  if (data === null || data === undefined) return 'empty';
  if (typeof data === 'string') return quote(data.length > 60 ? `${data.slice(0, 60)}...` : data);
  if (typeof data === 'number' || typeof data === 'boolean') return String(data);
  return Array.isArray(data) ? 'a list' : 'a map of fields';
}

function quote(text: string): string {
  return JSON.stringify(text);
}

function orList(words: readonly string[]): string {
  const unique = [...new Set(words)];
  return unique.length <= 1 ? (unique[0] ?? 'valid') : `${unique.slice(0, -1).join(', ')} or ${unique[unique.length - 1]}`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** The candidate closest to `word` (same letters in another case, or at most a third of it mistyped), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const sameCase = candidates.find((candidate) => candidate.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= Math.max(1, Math.floor(candidate.length / 3)) && (!best || distance < best.distance)) {
      best = { candidate, distance };
    }
  }
  return best?.candidate;
}

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours cost 1 each.
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => rows[i]?.[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}
