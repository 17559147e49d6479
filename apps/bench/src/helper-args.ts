// Reads the `--name value` arguments the harness passes to its helper processes (generator, TCP sink and source, http-proxy).
import { err, ok, type Result } from '@weft/core';
import { InvalidBenchOptionError } from './bench-options.js';

/** Named numbers from argv: every wanted flag must be present and a finite number. */
export function readHelperNumbers<K extends string>(argv: readonly string[], names: readonly K[]): Result<Record<K, number>, InvalidBenchOptionError> {
  const values: Partial<Record<K, number>> = {};
  for (const name of names) {
    const at = argv.indexOf(`--${name}`);
    const raw = at < 0 ? undefined : argv[at + 1];
    const value = Number(raw);
    if (raw === undefined || raw.trim() === '' || !Number.isFinite(value)) {
      return err(new InvalidBenchOptionError(raw ?? '', `--${name} needs a number, e.g. --${name} 1000`));
    }
    values[name] = value;
  }
  return ok(values as Record<K, number>);
}

/** A named string from argv, or undefined. */
export function readHelperString(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(`--${name}`);
  return at < 0 ? undefined : argv[at + 1];
}

/** Prints the error to stderr and sets exit code 2, the way every helper reports bad arguments. */
export function failHelper(helper: string, error: Error): void {
  process.stderr.write(`${helper}: ${error.toString()}\n`);
  process.exitCode = 2;
}
