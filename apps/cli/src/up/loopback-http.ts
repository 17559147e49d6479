// Small HTTP GETs to the admin servers weft up started on 127.0.0.1: readiness and metrics.
import { request } from 'node:http';

export interface LoopbackResponse {
  readonly status: number;
  readonly body: string;
}

/** GET http://127.0.0.1:<port><path>; undefined when nothing answers within `timeoutMs`. */
export function loopbackGet(port: number, path: string, timeoutMs = 2_000): Promise<LoopbackResponse | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

export interface WaitReadyOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Asked between tries; returning a reason gives up at once (e.g. the whole run is stopping). */
  readonly giveUp?: () => string | undefined;
}

/** Polls `/ready` until it answers 200: undefined then, else why it gave up. */
export async function waitReady(port: number, options: WaitReadyOptions): Promise<string | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const reason = options.giveUp?.();
    if (reason !== undefined) return reason;
    const response = await loopbackGet(port, '/ready', 1_000);
    if (response?.status === 200) return undefined;
    if (Date.now() >= deadline) {
      const said = response === undefined ? 'nothing answered' : `it answered ${response.status} ${response.body.trim().slice(0, 200)}`;
      return `not ready after ${Math.round(options.timeoutMs / 1_000)}s (${said})`;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}
