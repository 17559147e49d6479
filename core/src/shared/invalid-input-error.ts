// InvalidInputError: the base of every typed error raised for bad input; it names the value and what is wrong with it.
export abstract class InvalidInputError extends Error {
  /** What kind of value was expected, e.g. "authority", "CIDR", "identity". */
  abstract readonly kind: string;

  constructor(
    /** The bad value, exactly as it was given. */
    readonly input: string,
    /** What is wrong with it, in words a user can act on. */
    readonly reason: string,
  ) {
    super(`${JSON.stringify(input)}: ${reason}`);
  }

  override get name(): string {
    return this.constructor.name;
  }

  /** A message that starts with the kind, e.g. `invalid authority "a::b": ...`. */
  override toString(): string {
    return `invalid ${this.kind} ${this.message}`;
  }
}
