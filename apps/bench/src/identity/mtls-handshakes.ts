// A mesh mTLS client loop: new TLS 1.3 connections to a proxy's inbound port, each a full handshake, a transport header and a close.
import { encodeTransportHeader, TRANSPORT_HEADER_ALPN, transport } from '@weft/contracts';
import { err, ok, type Result } from '@weft/core';
import { connect as connectTcp } from 'node:net';
import { connect, createSecureContext, type SecureContext } from 'node:tls';
import { LatencyHistogram } from '../latency-histogram.js';
import { LOOPBACK } from '../loopback-port.js';
import { InvalidToolOutputError } from '../tool-output-error.js';
import { runBoundedLoop } from './bounded-loop.js';
import type { WorkloadCredentials } from './mesh-identity-material.js';

export interface HandshakeLoopSettings {
  /** The proxy's inbound port on 127.0.0.1. */
  readonly port: number;
  /** SNI and the name the server's certificate must carry: the proxy's identity. */
  readonly serverName: string;
  /** The port the transport header names; the proxy forwards the opaque session there (a TCP sink). */
  readonly targetPort: number;
  readonly credentials: WorkloadCredentials;
  readonly trustAnchorsPem: string;
  readonly maxCount: number;
  readonly durationMs: number;
  readonly warmupCount: number;
  readonly concurrency: number;
}

/** What mtls-handshake-main.js prints, one JSON line. */
export interface HandshakeReport {
  /** Sessions that completed: handshake verified both ways, header and payload delivered, the sink's count read back. */
  readonly sessions: number;
  readonly failed: number;
  readonly seconds: number;
  readonly warmupSessions: number;
  readonly concurrency: number;
  /** From TCP connect to the client's 'secureConnect', in ms; absent when no handshake completed. */
  readonly handshakeP50Ms?: number;
  readonly handshakeP99Ms?: number;
  readonly firstError?: string;
}

/** Bytes sent after the header; the TCP sink answers with their count, which proves the session reached it. */
const PAYLOAD = Buffer.from('weft-bench-mtls\n');
const SESSION_TIMEOUT_MS = 5_000;

/** One session: connect, full handshake (no resumption: no session is ever passed in), header + payload, close. */
function oneSession(settings: HandshakeLoopSettings, context: SecureContext, frame: Buffer, handshakes: LatencyHistogram): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // A half-open TCP socket under the TLS one, as the proxy's own client has: after our end() the sink's answer still arrives.
    const tcp = connectTcp({ host: LOOPBACK, port: settings.port, allowHalfOpen: true, noDelay: true });
    tcp.on('error', () => undefined); // the TLS socket reports the same error
    const socket = connect({ socket: tcp, servername: settings.serverName, secureContext: context, ALPNProtocols: [TRANSPORT_HEADER_ALPN] });
    const replies: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no session within ${SESSION_TIMEOUT_MS} ms`)), SESSION_TIMEOUT_MS);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      tcp.destroy();
      reject(error);
    };
    socket.once('secureConnect', () => {
      handshakes.record((performance.now() - started) * 1_000);
      const alpn = socket.alpnProtocol;
      if (alpn !== TRANSPORT_HEADER_ALPN) return fail(new Error(`the proxy selected ${alpn ? `ALPN ${alpn}` : 'no ALPN protocol'}, not ${TRANSPORT_HEADER_ALPN}`));
      socket.end(Buffer.concat([frame, PAYLOAD]));
    });
    socket.on('data', (data: Buffer) => replies.push(data));
    socket.once('error', fail);
    socket.once('end', () => {
      clearTimeout(timer);
      const reply = Buffer.concat(replies);
      socket.destroy();
      tcp.destroy();
      const count = reply.length === 8 ? Number(reply.readBigUInt64BE()) : -1;
      if (count === PAYLOAD.length) resolve();
      else reject(new Error(`the session ended without the sink's count (got ${reply.length} bytes back)`));
    });
  });
}

/** Warm-up sessions, then the measured loop; bounded by count and time, each session by SESSION_TIMEOUT_MS. */
export async function measureHandshakes(settings: HandshakeLoopSettings): Promise<HandshakeReport> {
  const context = createSecureContext({
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    cert: settings.credentials.certificateChainPem,
    key: settings.credentials.privateKeyPem,
    ca: settings.trustAnchorsPem,
  });
  const frame = Buffer.from(encodeTransportHeader({ port: settings.targetPort, name: '', sessionProtocol: transport.SessionProtocol.SESSION_PROTOCOL_OPAQUE }));
  const bounds = { durationMs: settings.durationMs, concurrency: settings.concurrency };
  const warmup = await runBoundedLoop({ ...bounds, maxCount: settings.warmupCount }, () => oneSession(settings, context, frame, new LatencyHistogram()));
  const handshakes = new LatencyHistogram();
  const loop = await runBoundedLoop({ ...bounds, maxCount: settings.maxCount }, () => oneSession(settings, context, frame, handshakes));
  const firstError = loop.firstError ?? warmup.firstError;
  return {
    sessions: loop.completed,
    failed: loop.failed,
    seconds: loop.seconds,
    warmupSessions: warmup.completed,
    concurrency: settings.concurrency,
    ...(handshakes.count === 0 ? {} : { handshakeP50Ms: handshakes.percentileUs(50) / 1_000, handshakeP99Ms: handshakes.percentileUs(99) / 1_000 }),
    ...(firstError === undefined ? {} : { firstError }),
  };
}

/** Reads the JSON line of mtls-handshake-main.js, checking its shape. */
export function parseHandshakeReport(text: string): Result<HandshakeReport, InvalidToolOutputError> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return err(new InvalidToolOutputError(text, 'is not JSON; expected the one-line report of mtls-handshake-main.js'));
  }
  if (data === null || typeof data !== 'object') return err(new InvalidToolOutputError(text, 'is not an object; expected the report of mtls-handshake-main.js'));
  const report = data as Partial<Record<keyof HandshakeReport, unknown>>;
  const counts = ['sessions', 'failed', 'seconds', 'warmupSessions', 'concurrency'] as const;
  const optional = ['handshakeP50Ms', 'handshakeP99Ms'] as const;
  const notCount = (key: keyof HandshakeReport): boolean => typeof report[key] !== 'number' || !Number.isFinite(report[key]) || (report[key] as number) < 0;
  const bad = counts.find(notCount) ?? optional.find((key) => report[key] !== undefined && notCount(key));
  if (bad !== undefined) return err(new InvalidToolOutputError(text, `"${bad}" is not a number of 0 or more; expected the report of mtls-handshake-main.js`));
  return ok(report as unknown as HandshakeReport);
}
