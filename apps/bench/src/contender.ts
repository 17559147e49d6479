// Contender: a proxy under test (or the direct path) that the harness starts on a loopback port in front of an upstream.
import type { ProxyMode } from './contender-command.js';
import type { ProcessSupervisor } from './process-supervisor.js';

export interface ContenderStartContext {
  readonly mode: ProxyMode;
  /** Where the proxy must listen (127.0.0.1). */
  readonly listenPort: number;
  /** The upstream on 127.0.0.1: the backend's HTTP/1.1 or h2c port, or the TCP sink. */
  readonly upstreamPort: number;
  /** The backend's HTTP/1.1 port, for proxies that speak HTTP/1.1 upstream even in h2c mode (nginx). */
  readonly backendHttp1Port: number;
  /** A fresh private directory for config files; the harness removes it. */
  readonly workDir: string;
  /** CPU to pin the proxy to, or undefined. */
  readonly cpu: number | undefined;
  readonly supervisor: ProcessSupervisor;
  /** Keeps a generated config file for the report. */
  recordConfig(title: string, text: string): void;
}

export interface RunningContender {
  /** Where clients connect. */
  readonly port: number;
  /** The proxy process (its tree is measured), or undefined for the direct path. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export interface Contender {
  /** Key used on the command line, e.g. "haproxy". */
  readonly name: string;
  /** Name in the report, e.g. "HAProxy". */
  readonly label: string;
  readonly modes: readonly ProxyMode[];
  /** One sentence on how it is set up, for the report. */
  readonly setup: string;
  start(context: ContenderStartContext): Promise<RunningContender>;
}
