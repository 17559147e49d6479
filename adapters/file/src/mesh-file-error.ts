// MeshFileError: one problem in a mesh file, located by file, line, column and field path.
import { InvalidInputError } from '@weft/core';

/**
 * `input` is the bad value as written in the file (shortened when long); `reason` says what is wrong and what to write
 * instead. The message reads `mesh.yaml:12:7 services[0].ports[0].port: <reason>`, as compilers print errors.
 */
export class MeshFileError extends InvalidInputError {
  readonly kind = 'mesh file';

  constructor(
    /** The file's path, as it was given to the loader. */
    readonly file: string,
    /** 1-based line of the bad value (or of the closest enclosing field that exists). */
    readonly line: number,
    /** 1-based column. */
    readonly column: number,
    /** The field path, e.g. `services[0].ports[0].port`; empty for the file as a whole. */
    readonly field: string,
    input: string,
    reason: string,
  ) {
    super(input, reason);
    this.message = `${file}:${line}:${column}${field === '' ? '' : ` ${field}`}: ${reason}`;
  }

  override toString(): string {
    return this.message;
  }
}
