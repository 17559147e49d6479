// Network namespaces, veth pairs and processes for the transparent-mode acceptance spec, all removed by cleanUp().
import { type ChildProcess, execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Runs a command to completion; throws with its stderr when it fails. */
export function run(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr.trim()}`);
  return result.stdout;
}

/**
 * Why this host cannot run the namespace specs (not Linux, not root, a tool missing), or undefined when it can.
 * Under CI=true the caller must fail on it; elsewhere it may skip, naming the script that installs what is missing.
 */
export function networkNamespaceProblem(tools: readonly string[]): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'making network namespaces and iptables rules needs root';
  for (const tool of tools) {
    try {
      execFileSync(tool, ['-V'], { stdio: 'ignore' });
    } catch {
      return `\`${tool}\` is not installed; run \`bash scripts/setup-docker.sh\` (it installs iproute2 and iptables)`;
    }
  }
  return undefined;
}

/** A process running in a namespace, with what it printed so far. */
export interface NamespaceProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the first stdout line containing `text`; rejects when the process exits first or after `ms`. */
  waitFor(text: string, ms?: number): Promise<string>;
}

/** Namespaces named `weft-test-<what>-<random>` and the processes started in them; `cleanUp()` removes them all. */
export class NetworkNamespaces {
  private readonly namespaces: string[] = [];
  private readonly processes: ChildProcess[] = [];
  readonly suffix = randomBytes(3).toString('hex');

  create(what: string): string {
    const name = `weft-test-${what}-${this.suffix}`;
    run('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** Runs a command in `namespace` to completion (without blocking the test's event loop). */
  exec(namespace: string, command: string, args: readonly string[], timeoutMs = 20_000): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('ip', ['netns', 'exec', namespace, command, ...args], { encoding: 'utf8', timeout: timeoutMs }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${command} ${args.join(' ')} in ${namespace} failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
  }

  /** Starts a long-running command in `namespace`; it is killed by cleanUp(). */
  start(namespace: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): NamespaceProcess {
    const child = spawn('ip', ['netns', 'exec', namespace, command, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.processes.push(child);
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const waitFor = (text: string, ms = 20_000) =>
      new Promise<string>((resolve, reject) => {
        const check = () => {
          const line = output.split('\n').find((candidate) => candidate.includes(text));
          if (line === undefined) return;
          done();
          resolve(line);
        };
        const onExit = (code: number | null) => {
          done();
          reject(new Error(`${command} exited (${code}) before printing ${text}:\n${output}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${command} did not print ${text} within ${ms} ms:\n${output}`));
        }, ms);
        const done = () => {
          clearTimeout(timer);
          child.stdout?.off('data', check);
          child.off('exit', onExit);
        };
        child.stdout?.on('data', check);
        child.once('exit', onExit);
        check();
      });
    return { child, output: () => output, waitFor };
  }

  /** Kills every process started here, then deletes the namespaces (and with them their veths and rules). */
  async cleanUp(): Promise<void> {
    await Promise.all(this.processes.splice(0).map((child) => stop(child)));
    for (const name of this.namespaces.splice(0)) spawnSync('ip', ['netns', 'del', name]);
  }
}

/** SIGTERM, then SIGKILL after 3 s; resolves once the process is gone. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
