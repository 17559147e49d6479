// IdentityInputError: the proxy could not read its token or trust anchors; names the variable that points at them.
export type IdentityInputCode = 'token-unreadable' | 'trust-anchors-unreadable' | 'trust-anchors-invalid';

export class IdentityInputError extends Error {
  constructor(
    readonly code: IdentityInputCode,
    /** The WEFT_PROXY_IDENTITY_* variable to fix. */
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** The system error of a failed file read, without its stack: "ENOENT: no such file or directory, open '...'". */
export function describeFileError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
