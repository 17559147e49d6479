// InvalidWireMessageError: a message or request from the wire that Weft refuses, naming the field that is wrong.
import { InvalidInputError } from '@weft/core';

/**
 * A wire message that cannot become a core value: a missing oneof, an address that is not an IP, a stream that
 * breaks its ordering rules... `field` is the path of the bad field inside the message, in proto field names
 * (e.g. "add.addrs[2].addr.ip"); the reason starts with it, so the message alone says where to look.
 */
export class InvalidWireMessageError extends InvalidInputError {
  readonly kind = 'wire message';

  constructor(
    /** Where in the message the problem is, e.g. "routes[0].condition". */
    readonly field: string,
    input: string,
    /** What is wrong with the field, without its name. */
    readonly problem: string,
  ) {
    super(input, `${field} ${problem}`);
  }

  /** The error as a gRPC status detail about a request, e.g. `invalid GetDestination.path "web": has no port...`. */
  describeRequestField(message: string): string {
    return `invalid ${message}.${this.field} ${JSON.stringify(this.input)}: ${this.problem}`;
  }
}

/** Builds the path of a nested field: wireField('routes[0]', 'condition') is "routes[0].condition". */
export function wireField(parent: string, child: string): string {
  if (parent === '') return child;
  return child.startsWith('[') ? `${parent}${child}` : `${parent}.${child}`;
}

/** The $case of a ts-proto oneof, for an error's input: "" when the oneof is unset. */
export function oneofCase(oneof: unknown): string {
  if (typeof oneof !== 'object' || oneof === null) return '';
  const name = (oneof as { $case?: unknown }).$case;
  return typeof name === 'string' ? name : '';
}
