// The config files of the loopback backend (nginx) and of the reference proxies (HAProxy, nginx), as text.
import type { ProxyMode } from './contender-command.js';

/** The backend's answer: 19 bytes, the calibration body of docs/QUALITY.md. */
export const BACKEND_BODY = 'hello from backend\n';

export interface BackendPorts {
  /** HTTP/1.1. */
  readonly http1: number;
  /** HTTP/2 cleartext with prior knowledge (h2c). */
  readonly h2c: number;
}

/** Directives every nginx here shares: foreground, one worker, files in `dir`, no access log, long keep-alive. */
function nginxPreamble(dir: string): string {
  return `worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
`;
}

/** nginx answering every request itself with BACKEND_BODY, on an HTTP/1.1 and an h2c port. */
export function nginxBackendConfig(dir: string, ports: BackendPorts): string {
  return `${nginxPreamble(dir)}  server {
    listen 127.0.0.1:${ports.http1};
    listen 127.0.0.1:${ports.h2c} http2;
    location / { return 200 ${JSON.stringify(BACKEND_BODY)}; }
  }
}
`;
}

/** nginx as a reverse proxy with upstream keep-alive; in h2c mode it speaks h2c to clients and HTTP/1.1 upstream. */
export function nginxProxyConfig(dir: string, listenPort: number, mode: 'http1' | 'h2c', upstreamPort: number): string {
  return `${nginxPreamble(dir)}  upstream backend {
    server 127.0.0.1:${upstreamPort};
    keepalive 128;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${listenPort}${mode === 'h2c' ? ' http2' : ''};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/** HAProxy with one thread: http mode with keep-alive and connection reuse, h2 end to end, or plain tcp. */
export function haproxyConfig(listenPort: number, mode: ProxyMode, upstreamPort: number): string {
  const h2 = mode === 'h2c' ? ' proto h2' : '';
  return `global
  nbthread 1
  maxconn 4096

defaults
  mode ${mode === 'tcp' ? 'tcp' : 'http'}
  timeout connect 5s
  timeout client 60s
  timeout server 60s
${mode === 'tcp' ? '' : '  option http-keep-alive\n  http-reuse always\n'}
frontend bench_in
  bind 127.0.0.1:${listenPort}${h2}
  default_backend bench_upstream

backend bench_upstream
  server upstream 127.0.0.1:${upstreamPort}${h2}
`;
}
