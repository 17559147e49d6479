// What the numbers were measured on: cores, CPU model, kernel, Node and every tool's version.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';

export type MachineFacts = readonly (readonly [fact: string, value: string])[];

function firstLine(command: string, args: readonly string[]): string {
  // Several tools print their version on stderr (nginx -v) or exit non-zero (wrk -v), so read both, whatever the status.
  const run = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5_000 });
  if (run.error) return 'not installed';
  const text = `${run.stdout}\n${run.stderr}`.trim();
  return text.split('\n')[0]?.trim() || 'unknown';
}

function debianVersion(pkg: string): string {
  const version = firstLine('dpkg-query', ['-W', '-f=${Version}', pkg]);
  return version.startsWith('dpkg-query') || version === 'unknown' ? 'not installed' : `${pkg} ${version} (Debian package)`;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function osName(): string {
  const text = readText('/etc/os-release');
  return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? 'unknown';
}

function httpProxyVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const manifest = JSON.parse(readFileSync(require.resolve('http-proxy/package.json'), 'utf8')) as { version?: string };
    return `http-proxy ${manifest.version ?? 'unknown'} (npm)`;
  } catch {
    return 'not installed';
  }
}

/** The HTTP/1 parser the proxy reads both sides of a hop with: Node's own llhttp, so the Node release moves Weft's figures. */
function proxyHttp1Parser(): string {
  return `llhttp ${process.versions.llhttp ?? 'unknown'} (in Node ${process.version}; the proxy's own upstream pools on raw sockets)`;
}

/** The load average and CPU pressure now: on a shared machine they say how much else was running. */
export function loadFacts(when: string): MachineFacts {
  const pressure = /^some avg10=([\d.]+) avg60=([\d.]+) avg300=([\d.]+)/m.exec(readText('/proc/pressure/cpu'));
  return [
    [`load average at ${when} (1/5/15 min)`, loadavg().map((load) => load.toFixed(2)).join(' / ')],
    [`CPU pressure at ${when} (PSI some, % of time waiting, 10 s/60 s/300 s)`, pressure ? pressure.slice(1).join(' / ') : 'unavailable'],
  ];
}

/** Reads the facts; tools that are missing say "not installed". */
export function collectMachineFacts(): MachineFacts {
  return [
    ['cores (nproc)', String(availableParallelism())],
    ['CPU', cpus()[0]?.model.trim() ?? 'unknown'],
    ['memory', `${Math.round(totalmem() / 1024 ** 3)} GiB`],
    ['OS', osName()],
    ['kernel', release()],
    ...loadFacts('start'),
    ['node', process.version],
    ['haproxy', firstLine('haproxy', ['-v'])],
    ['nginx', firstLine('nginx', ['-v'])],
    ['wrk', firstLine('wrk', ['-v'])],
    ['h2load', firstLine('h2load', ['--version'])],
    ['hey', debianVersion('hey')],
    ['http-proxy', httpProxyVersion()],
    ['Weft HTTP/1 parser', proxyHttp1Parser()],
  ];
}
