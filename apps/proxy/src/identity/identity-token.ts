// Reads the token that proves the proxy's identity: from its file before each certify request, or as given inline.
import { err, ok, type Result } from '@weft/core';
import { readFile } from 'node:fs/promises';
import { describeFileError, IdentityInputError } from './identity-input-error.js';
import type { IdentityTokenSetting } from './identity-settings.js';

/** Gives the token to send with the next certify request; a secret, never logged. */
export type ReadIdentityToken = () => Promise<Result<string, IdentityInputError>>;

const FILE_VARIABLE = 'WEFT_PROXY_IDENTITY_TOKEN_FILE';

/**
 * A reader for the configured token. A file is read again on each call: Kubernetes rewrites projected service-account
 * tokens before they expire, and a token read once at start would expire with the first one.
 */
export function identityTokenReader(setting: IdentityTokenSetting): ReadIdentityToken {
  if (setting.kind === 'inline') {
    const token = setting.value;
    return async () => ok(token);
  }
  const { path } = setting;
  return async () => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      return err(new IdentityInputError('token-unreadable', FILE_VARIABLE, `${FILE_VARIABLE}=${JSON.stringify(path)}: cannot read the token file (${describeFileError(error)})`));
    }
    // Files written by hand often end with a newline; a token never holds whitespace.
    const token = text.trim();
    if (token === '') {
      return err(new IdentityInputError('token-unreadable', FILE_VARIABLE, `${FILE_VARIABLE}=${JSON.stringify(path)}: the token file is empty; it should hold the workload's token`));
    }
    return ok(token);
  };
}
