// BuildContext: what the builders of a MeshConfig share: the file's settings and the located errors found so far.
import type { InvalidInputError } from '@weft/core';
import { MeshFileError } from './mesh-file-error.js';
import { type FieldPath, formatFieldPath, type YamlLocator } from './yaml-locator.js';

export class BuildContext {
  readonly errors: MeshFileError[] = [];

  constructor(
    readonly file: string,
    private readonly locator: YamlLocator,
    readonly trustDomain: string,
    readonly clusterDomain: string,
  ) {}

  /** Records a problem with the value at `path`. */
  fail(path: FieldPath, reason: string): void {
    this.errors.push(this.errorAt(path, reason, 'value'));
  }

  /** Records a problem with the key (the field's name) at `path`. */
  failKey(path: FieldPath, reason: string): void {
    this.errors.push(this.errorAt(path, reason, 'key'));
  }

  /** Records an error from one of the core's parsers, worded as the core words it. */
  failWith(path: FieldPath, error: InvalidInputError): void {
    this.fail(path, error.toString());
  }

  errorAt(path: FieldPath, reason: string, at: 'value' | 'key'): MeshFileError {
    const spot = at === 'key' ? this.locator.keyAt(path) : this.locator.valueAt(path);
    return new MeshFileError(this.file, spot.line, spot.column, formatFieldPath(path), spot.source, reason);
  }
}

/** A resource's place in the file and its namespaced name, for duplicate and reference checks. */
export interface Placed<T> {
  readonly path: FieldPath;
  readonly value: T;
}

/** Groups items by a key, reporting each later item whose key was already taken. */
export function uniqueBy<T>(
  context: BuildContext,
  items: readonly Placed<T>[],
  keyOf: (item: T) => string,
  describe: (item: T, first: FieldPath) => string,
): Map<string, Placed<T>> {
  const seen = new Map<string, Placed<T>>();
  for (const item of items) {
    const key = keyOf(item.value);
    const first = seen.get(key);
    if (first) context.fail([...item.path, 'name'], describe(item.value, first.path));
    else seen.set(key, item);
  }
  return seen;
}

/** "at services[2]" for messages that point back at an earlier field. */
export function atPath(path: FieldPath): string {
  return `at ${formatFieldPath(path)}`;
}
