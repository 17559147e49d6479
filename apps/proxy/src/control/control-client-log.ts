// controlClientLog: the control-plane clients' events as the proxy's log lines, repeated stream failures thinned out.
import type { ControlClientEvent, ControlClientLog } from '@weft/adapter-grpc';
import { formatDuration } from '@weft/core';
import type { TransportEvent, TransportLog } from '../transport/transport-log.js';

/**
 * Writes each event as one flat line (`event`, `message`, `service`, `rpc`, `target`, ...). A stream that keeps failing
 * is logged on its first failure and every tenth after, so an outage of minutes stays a few lines per watch; the
 * restore line says how many attempts it took.
 */
export function controlClientLog(log: TransportLog): ControlClientLog {
  return (event) => {
    const line = controlLogLine(event);
    if (line !== undefined) log(line);
  };
}

/** The log line of `event`, or undefined for a repeated failure that is not logged. */
export function controlLogLine(event: ControlClientEvent): TransportEvent | undefined {
  const { service, rpc } = event.watch;
  const target = readableTarget(event.watch.target);
  const watch = { service, rpc, target };
  const what = `${service} ${rpc} ${target}`;
  switch (event.event) {
    case 'control-stream-failed':
      if (event.attempts !== 1 && event.attempts % 10 !== 0) return undefined;
      return {
        event: event.event,
        message: `control plane stream ${what} failed (${event.reason}: ${event.details}); ${
          event.stale ? 'keeping the last known state, ' : ''
        }retrying in ${formatDuration(Math.round(event.retryInMs))} (attempt ${event.attempts})`,
        ...watch,
        reason: event.reason,
        attempts: event.attempts,
        retryInMs: Math.round(event.retryInMs),
        stale: event.stale,
      };
    case 'control-stream-restored':
      return {
        event: event.event,
        message: `control plane stream ${what} restored after ${event.attempts} failed attempts, ${formatDuration(event.staleForMs)} without updates`,
        ...watch,
        attempts: event.attempts,
        staleForMs: event.staleForMs,
      };
    case 'control-message-refused':
      return { event: event.event, message: `refused a message on ${what}: ${event.error.message}`, ...watch, field: event.error.field };
    case 'control-state-expired':
      return {
        event: event.event,
        message: `the last known state of ${what} outlived its time to live (${formatDuration(event.ttlMs)}) with the control plane away; replaced by ${event.replacement}`,
        ...watch,
        ttlMs: event.ttlMs,
        listeners: event.listeners,
        replacement: event.replacement,
      };
    case 'control-listener-failed':
      return {
        event: event.event,
        message: `a listener of ${what} failed: ${event.error instanceof Error ? event.error.message : String(event.error)}`,
        ...watch,
      };
  }
}

/** A policy watch's key, `["shop","web-1",8080]`, as `shop/web-1:8080`; an authority stays as it is. */
function readableTarget(target: string): string {
  if (!target.startsWith('[')) return target;
  try {
    const parsed: unknown = JSON.parse(target);
    if (Array.isArray(parsed) && parsed.length === 3) return `${String(parsed[0])}/${String(parsed[1])}:${String(parsed[2])}`;
  } catch {
    // Not a policy key after all: shown as it is.
  }
  return target;
}
