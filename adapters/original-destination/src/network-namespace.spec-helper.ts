// NetworkNamespace: a throw-away `ip netns` namespace for the e2e specs, and the check that the host can make one.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Runs a command to completion; throws with its stderr when it fails. */
export function run(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr.trim()}`);
  return result.stdout;
}

/**
 * Why this host cannot run the namespace specs (no `ip`, no `iptables`, not root), or undefined when it can. Under
 * CI=true the caller must fail on it; elsewhere it may skip, naming the script that installs what is missing.
 */
export function networkNamespaceProblem(tools: readonly string[] = ['ip', 'iptables']): string | undefined {
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

/** A namespace named `weft-test-<what>-<random>`; `remove()` deletes it (and so its links and rules) even after failures. */
export class NetworkNamespace {
  private removed = false;

  private constructor(readonly name: string) {}

  static create(what: string): NetworkNamespace {
    const namespace = new NetworkNamespace(`weft-test-${what}-${randomBytes(3).toString('hex')}`);
    run('ip', ['netns', 'add', namespace.name]);
    namespace.exec('ip', ['link', 'set', 'lo', 'up']);
    return namespace;
  }

  /** Runs a command inside the namespace. */
  exec(command: string, args: readonly string[]): string {
    return run('ip', ['netns', 'exec', this.name, command, ...args]);
  }

  /** The argv that runs `command` inside the namespace (for spawn). */
  argv(command: string, args: readonly string[]): [string, string[]] {
    return ['ip', ['netns', 'exec', this.name, command, ...args]];
  }

  remove(): void {
    if (this.removed) return;
    this.removed = true;
    spawnSync('ip', ['netns', 'del', this.name]);
  }
}
