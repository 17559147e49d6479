// Helpers for checking configuration that arrives untyped (from files and the wire) without ever throwing on it.

/** A non-null object that is not an array, whose fields can be read. */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A whole number >= 0 (and no larger than `max`). */
export function isWholeNumber(value: unknown, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

/**
 * A short description of a value for an error message: strings quoted, numbers and booleans as written, objects by
 * their first keys. Never serialises a whole object, which could be huge or nested deep enough to exhaust the stack.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  const keys = Object.keys(value);
  if (keys.length === 0) return 'an empty object';
  return `an object with ${keys.slice(0, 5).map((key) => JSON.stringify(key)).join(', ')}${keys.length > 5 ? ', ...' : ''}`;
}
