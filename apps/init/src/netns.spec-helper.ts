// Test helper: network namespaces joined by a veth pair, TCP listeners and clients inside them, and the built weft-init.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CommandOutcome, runCommand } from './command-runner.js';

/** This file is apps/init/src/: the repository is three folders up. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The built weft-init, as the package's bin runs it. */
export const INIT_MAIN = join(REPO_ROOT, 'apps/init/dist/main.js');
export const SETUP_COMMAND = 'bash scripts/setup-docker.sh';

const TOOLS = ['ip', 'iptables', 'iptables-save', 'ip6tables', 'ip6tables-save', 'iptables-legacy', 'iptables-legacy-save'];

/** What this machine lacks for the namespace tests (root, ip, the iptables commands), or undefined. */
export function missingNetnsSupport(): string | undefined {
  const missing = TOOLS.filter((tool) => !onPath(tool));
  if (process.getuid?.() !== 0) missing.push('root (to create network namespaces)');
  return missing.length === 0 ? undefined : `missing ${missing.join(', ')}; install with ${SETUP_COMMAND} and run as root`;
}

/** Builds weft-init (and @weft/core, which it references) with the repository's TypeScript. */
export function buildInit(): void {
  const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'apps/init/tsconfig.lib.json'], { cwd: REPO_ROOT, stdio: 'pipe' });
}

/** A unique `weft-test-...` prefix for the namespaces of one test file. */
export function uniqueNetnsPrefix(): string {
  return `weft-test-${randomBytes(4).toString('hex')}`;
}

/** A network namespace this test made; `delete` removes it (and the veth end inside it). */
export class TestNamespace {
  private constructor(readonly name: string) {}

  static create(name: string): TestNamespace {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
    const namespace = new TestNamespace(name);
    namespace.ip(['link', 'set', 'lo', 'up']);
    return namespace;
  }

  /** Runs `ip <args>` inside the namespace. */
  ip(args: readonly string[]): void {
    execFileSync('ip', ['-n', this.name, ...args], { stdio: 'pipe' });
  }

  /** Runs a program inside the namespace; resolves with its outcome whatever the exit code. */
  exec(file: string, args: readonly string[]): Promise<CommandOutcome> {
    return runCommand('ip', ['netns', 'exec', this.name, file, ...args]);
  }

  /** Runs the built weft-init inside the namespace. */
  weftInit(args: readonly string[]): Promise<CommandOutcome> {
    return this.exec(process.execPath, [INIT_MAIN, ...args]);
  }

  /** `iptables-save -t nat` (or another -save) inside the namespace, without its timestamped `#` lines. */
  async save(program = 'iptables-save'): Promise<string> {
    const outcome = await this.exec(program, ['-t', 'nat']);
    if (outcome.exitCode !== 0) throw new Error(`${program} failed: ${outcome.stderr}`);
    return outcome.stdout
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .join('\n');
  }

  delete(): void {
    execFileSync('ip', ['netns', 'delete', this.name], { stdio: 'pipe' });
  }
}

/** Joins two namespaces with a veth pair: `a` gets `${net}.1/24`, `b` gets `${net}.2/24`. */
export function joinWithVeth(a: TestNamespace, b: TestNamespace, net: string): void {
  a.ip(['link', 'add', 'weft0', 'type', 'veth', 'peer', 'name', 'weft0', 'netns', b.name]);
  for (const [namespace, host] of [[a, 1], [b, 2]] as const) {
    namespace.ip(['addr', 'add', `${net}.${host}/24`, 'dev', 'weft0']);
    namespace.ip(['link', 'set', 'weft0', 'up']);
  }
}

// Listens on each port given as "port:label" (all addresses) and answers every connection with its label.
const LISTENER = `
const net = require('node:net');
const specs = process.argv.slice(1);
let waiting = specs.length;
for (const spec of specs) {
  const [port, label] = spec.split(':');
  net.createServer((socket) => socket.end(label + '\\n'))
    .listen(Number(port), '0.0.0.0', () => { if (--waiting === 0) process.stdout.write('ready\\n'); });
}`;

// Connects to host:port, as the given uid/gid when one is given, and prints what the server said or why it failed.
const CLIENT = `
const net = require('node:net');
const [host, port, id] = process.argv.slice(1);
if (id) { process.setgroups([]); process.setgid(Number(id)); process.setuid(Number(id)); }
let answer = '';
const socket = net.connect({ host, port: Number(port), timeout: 3000 });
socket.setEncoding('utf8');
socket.on('data', (chunk) => (answer += chunk));
socket.on('end', () => process.stdout.write(answer.trim()));
socket.on('timeout', () => { process.stdout.write('timeout'); socket.destroy(); });
socket.on('error', (error) => process.stdout.write('error:' + error.code));`;

/** TCP listeners inside a namespace, each answering with its label; resolves once all listen. */
export function startListeners(namespace: TestNamespace, labels: Record<number, string>): Promise<ChildProcess> {
  const specs = Object.entries(labels).map(([port, label]) => `${port}:${label}`);
  const child = spawn('ip', ['netns', 'exec', namespace.name, process.execPath, '-e', LISTENER, ...specs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) resolve(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`listeners in ${namespace.name} exited with ${code}: ${output}`)));
  });
}

/** Connects from inside `namespace` (as `uid`, when given) and returns the label of the listener that answered. */
export async function connectFrom(namespace: TestNamespace, host: string, port: number, uid?: number): Promise<string> {
  const outcome = await namespace.exec(process.execPath, ['-e', CLIENT, host, `${port}`, ...(uid === undefined ? [] : [`${uid}`])]);
  if (outcome.exitCode !== 0) throw new Error(`the client failed: ${outcome.stderr}`);
  return outcome.stdout;
}

function onPath(tool: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
