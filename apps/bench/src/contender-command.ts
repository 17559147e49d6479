// A contender given on the command line as `name[:modes]=command`, with {port}/{upstream}/... placeholders (how Weft plugs in).
import { err, InvalidInputError, ok, type Result } from '@weft/core';

/** What a proxy under test speaks on its listener: HTTP/1.1, HTTP/2 cleartext (prior knowledge), or opaque TCP. */
export type ProxyMode = 'http1' | 'h2c' | 'tcp';
export const PROXY_MODES: readonly ProxyMode[] = ['http1', 'h2c', 'tcp'];

export class InvalidContenderCommandError extends InvalidInputError {
  readonly kind = 'contender command';
}

export interface ContenderCommandSpec {
  readonly name: string;
  readonly modes: readonly ProxyMode[];
  /** A shell command; see COMMAND_PLACEHOLDERS. */
  readonly command: string;
}

/** The values a command template may use, each written `{name}`. */
export const COMMAND_PLACEHOLDERS = {
  port: 'the loopback port the proxy must listen on (127.0.0.1)',
  upstream: 'the upstream as host:port (the backend, or the TCP sink in tcp mode)',
  upstream_host: 'the upstream host (127.0.0.1)',
  upstream_port: 'the upstream port',
  mode: 'http1, h2c or tcp',
  dir: 'a private temporary directory for config files, removed afterwards',
} as const;

export type CommandVariables = Readonly<Record<keyof typeof COMMAND_PLACEHOLDERS, string>>;

const specPattern = /^([a-z][a-z0-9-]*)(?::([a-z0-9,]+))?=(.+)$/s;

/** Parses `weft=node apps/proxy/dist/main.js --listen {port} --upstream {upstream}` or `weft:http1,h2c=...`. */
export function parseContenderCommand(input: string): Result<ContenderCommandSpec, InvalidContenderCommandError> {
  const match = specPattern.exec(input.trim());
  if (!match) {
    return err(new InvalidContenderCommandError(input, 'expected name[:modes]=command, e.g. "weft=node apps/proxy/dist/main.js --listen {port} --upstream {upstream}"'));
  }
  const [, name, modeList, command] = match as unknown as [string, string, string | undefined, string];
  const modes = modeList === undefined ? PROXY_MODES : modeList.split(',');
  const unknownMode = modes.find((mode) => !(PROXY_MODES as readonly string[]).includes(mode));
  if (unknownMode !== undefined) {
    return err(new InvalidContenderCommandError(input, `mode "${unknownMode}" is not one of ${PROXY_MODES.join(', ')}`));
  }
  const unknownPlaceholder = [...command.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] as string).find((p) => !(p in COMMAND_PLACEHOLDERS));
  if (unknownPlaceholder !== undefined) {
    return err(
      new InvalidContenderCommandError(input, `placeholder {${unknownPlaceholder}} is unknown; use ${Object.keys(COMMAND_PLACEHOLDERS).map((p) => `{${p}}`).join(', ')}`),
    );
  }
  if (!command.includes('{port}')) {
    return err(new InvalidContenderCommandError(input, 'the command never uses {port}, so the harness cannot tell the proxy where to listen'));
  }
  return ok({ name, modes: modes as ProxyMode[], command });
}

/** The command with every placeholder replaced by its value. */
export function expandContenderCommand(command: string, variables: CommandVariables): string {
  return command.replace(/\{([a-z_]+)\}/g, (whole, name: string) => (name in variables ? variables[name as keyof CommandVariables] : whole));
}
