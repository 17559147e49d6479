// redirectedDestinationReader: the original destination of a connection iptables redirected to a listener, else nothing.
import type { Socket } from 'node:net';
import { originalDestination, type OriginalDestinationError } from '@weft/adapter-original-destination';
import type { Result, SocketAddress } from '@weft/core';
import { silentTransportLog, type TransportLog } from '../transport/transport-log.js';

/** Reads one accepted socket's original destination; the adapter's `originalDestination` by default. */
export type OriginalDestinationLookup = (socket: Socket) => Result<SocketAddress, OriginalDestinationError>;

/** The original destination of a redirected connection, or undefined for one made to the listener itself. */
export type RedirectedDestinationReader = (socket: Socket) => SocketAddress | undefined;

/**
 * A connection counts as redirected when the kernel's original destination differs from the address the socket was
 * accepted on. Not redirected (no conntrack entry, or the socket's own address) costs one getsockopt and nothing else.
 * A missing addon is logged once and every connection is then treated as not redirected, so the proxy keeps serving
 * what it served before transparent mode; any other failure is logged per connection.
 */
export function redirectedDestinationReader(log: TransportLog = silentTransportLog, lookup: OriginalDestinationLookup = originalDestination): RedirectedDestinationReader {
  let unavailable = false;
  return (socket) => {
    if (unavailable) return undefined;
    const found = lookup(socket);
    if (found.ok) return isOwnAddress(socket, found.value) ? undefined : found.value;
    const { reason, code, message } = found.error;
    if (reason === 'addon-unavailable') {
      unavailable = true;
      log({ event: 'original_destination_unavailable', message: `${message}; connections redirected by iptables cannot be routed`, errno: code });
    } else if (reason === 'system') {
      log({ event: 'original_destination_failed', message, errno: code });
    }
    return undefined;
  };
}

/** Whether `destination` is the socket's own local address (IPv4-mapped IPv6 compared as IPv4). */
function isOwnAddress(socket: Socket, destination: SocketAddress): boolean {
  if (socket.localPort !== destination.port) return false;
  const local = socket.localAddress ?? '';
  const ip = local.startsWith('::ffff:') && local.includes('.') ? local.slice(7) : local;
  return ip === destination.ip;
}
