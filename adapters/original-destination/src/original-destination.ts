// originalDestination: where a TCP connection was headed before iptables redirected it (SO_ORIGINAL_DST), via the native addon.
import { constants as osConstants } from 'node:os';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { err, ok, type Result, type SocketAddress } from '@weft/core';

/**
 * Why no original destination could be read:
 * - `not-redirected`: netfilter has no record of a redirect for the connection (ENOENT: conntrack does not track it;
 *   ENOPROTOOPT: conntrack is not loaded in the network namespace, so nothing there can be redirected either);
 * - `no-descriptor`: the socket has no file descriptor (closed, not a TCP socket, or not on Linux);
 * - `addon-unavailable`: the native addon is not built or does not load (the message names the file and the fix);
 * - `system`: any other failure of the lookup (its errno is in `code`).
 */
export type OriginalDestinationFailure = 'not-redirected' | 'no-descriptor' | 'addon-unavailable' | 'system';

export class OriginalDestinationError extends Error {
  override readonly name = 'OriginalDestinationError';

  constructor(
    readonly reason: OriginalDestinationFailure,
    /** The errno name of the failed lookup (`ENOENT`, `EBADF`...), `ENOFD` without a descriptor, `EADDON` without the addon. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The addon's answer: the destination, or the errno of the failed getsockopt. */
type AddonAnswer = { readonly address: string; readonly port: number; readonly family: 4 | 6 } | number;

interface OriginalDestinationAddon {
  originalDestination(fd: number): AddonAnswer;
}

/** The addon, relative to this module: src/ and dist/ both sit one level below the package root. */
export const ORIGINAL_DESTINATION_ADDON_PATH = fileURLToPath(new URL('../build/Release/original_destination.node', import.meta.url));

/** The package's install script (`node-gyp rebuild`), run with npm's own node-gyp, so it needs no download. */
const BUILD_COMMAND = 'cd adapters/original-destination && npm run install';

let loaded: Result<OriginalDestinationAddon, OriginalDestinationError> | undefined;

/**
 * Loads the addon on first use and remembers the outcome, so importing this module never fails and a missing build is
 * reported (by every call) as `addon-unavailable` instead of crashing the process.
 */
export function loadOriginalDestinationAddon(): Result<true, OriginalDestinationError> {
  const addon = addonOnce();
  return addon.ok ? ok(true) : addon;
}

function addonOnce(): Result<OriginalDestinationAddon, OriginalDestinationError> {
  loaded ??= loadAddon();
  return loaded;
}

function loadAddon(): Result<OriginalDestinationAddon, OriginalDestinationError> {
  try {
    const addon = createRequire(import.meta.url)(ORIGINAL_DESTINATION_ADDON_PATH) as Partial<OriginalDestinationAddon>;
    if (typeof addon.originalDestination !== 'function') {
      return err(unavailable(`${ORIGINAL_DESTINATION_ADDON_PATH} has no originalDestination function (a stale build?)`));
    }
    return ok(addon as OriginalDestinationAddon);
  } catch (error) {
    return err(unavailable(`${ORIGINAL_DESTINATION_ADDON_PATH} could not be loaded: ${error instanceof Error ? error.message : String(error)}`));
  }
}

function unavailable(detail: string): OriginalDestinationError {
  return new OriginalDestinationError(
    'addon-unavailable',
    'EADDON',
    `the original-destination addon is not available: ${detail}; build it with \`${BUILD_COMMAND}\` (node-gyp rebuild; needs make, a C compiler and the Node headers)`,
  );
}

/**
 * The destination `socket`'s connection had before NAT, as netfilter's conntrack recorded it. For a connection that
 * iptables redirected (REDIRECT, DNAT) it is the address the client meant to reach; for one that was not, the kernel
 * answers either `not-redirected` (no conntrack entry) or the socket's own local address (tracked, never rewritten),
 * so compare it with `socket.localAddress`/`localPort` to tell. IPv4 (and IPv4-mapped IPv6) sockets are asked with
 * SOL_IP/SO_ORIGINAL_DST, IPv6 ones with SOL_IPV6/IP6T_SO_ORIGINAL_DST. Linux only.
 */
export function originalDestination(socket: Socket): Result<SocketAddress, OriginalDestinationError> {
  const addon = addonOnce();
  if (!addon.ok) return addon;
  const fd = descriptorOf(socket);
  if (fd === undefined) {
    return err(new OriginalDestinationError('no-descriptor', 'ENOFD', 'the socket has no file descriptor (closed, or not a TCP socket on Linux)'));
  }
  const answer = addon.value.originalDestination(fd);
  if (typeof answer === 'number') return err(lookupFailed(answer));
  return ok({ ip: answer.address, port: answer.port });
}

/**
 * The socket's file descriptor. Node has no public API for it: on Unix a net.Socket's `_handle` (a TCPWrap) exposes
 * the descriptor as `fd`; elsewhere, or once the socket is closed (no handle), it is missing or -1. This is the only
 * place that reaches into Node's internals.
 */
function descriptorOf(socket: Socket): number | undefined {
  const fd = (socket as unknown as { readonly _handle?: { readonly fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

const NOT_REDIRECTED = new Set(['ENOENT', 'ENOPROTOOPT']);

function lookupFailed(errno: number): OriginalDestinationError {
  const code = errnoName(errno);
  if (NOT_REDIRECTED.has(code)) {
    return new OriginalDestinationError('not-redirected', code, `the connection was not redirected: netfilter has no original destination for it (${code})`);
  }
  return new OriginalDestinationError('system', code, `reading the original destination failed (${code})`);
}

let errnoNames: Map<number, string> | undefined;

/** `ENOENT` for 2, from Node's own table of the platform's errno values; `E<number>` for one it does not name. */
function errnoName(errno: number): string {
  errnoNames ??= new Map(Object.entries(osConstants.errno).map(([name, value]) => [value, name]));
  return errnoNames.get(errno) ?? `E${errno}`;
}
