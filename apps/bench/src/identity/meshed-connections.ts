// Reads a proxy's /metrics to confirm a run really was mTLS: inbound connections opened with tls="true" from a given client.
import { get } from 'node:http';
import { LOOPBACK } from '../loopback-port.js';

/**
 * The sum of `tcp_open_total` over the series with direction="inbound", tls="true" and client_id=`clientId`, in
 * Prometheus text; 0 when there is none.
 */
export function meshedInboundConnections(metricsText: string, clientId: string): number {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    const match = /^tcp_open_total\{([^}]*)\}\s+(\S+)/.exec(line);
    if (match === null) continue;
    const labels = match[1] as string;
    const wanted = ['direction="inbound"', 'tls="true"', `client_id="${clientId}"`];
    if (wanted.every((label) => labels.split(/,(?=[a-z_]+=")/).includes(label))) total += Number(match[2]);
  }
  return total;
}

/** GET /metrics from a proxy's admin port on loopback. */
export function fetchProxyMetrics(adminPort: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get({ host: LOOPBACK, port: adminPort, path: '/metrics', agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body));
    });
    request.setTimeout(5_000, () => request.destroy(new Error('GET /metrics timed out')));
    request.once('error', reject);
  });
}
