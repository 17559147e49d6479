// weft-init's program: parse the command line, then write, remove or just print the interception rules.
import { formatCidr } from '@weft/core';
import { type CommandRunner, runCommand } from './command-runner.js';
import { INIT_USAGE, type InitOptions, parseInitArgs } from './init-args.js';
import { InterceptionApplier, iptablesCommands } from './interception-applier.js';
import { type IpVersion, planInterception, planIpVersions, planSaveLines } from './interception-plan.js';

export interface InitIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export const INIT_EXIT = { ok: 0, iptablesFailed: 1, badArguments: 2 } as const;

/** Runs weft-init with the arguments after the program name; resolves with the exit code. */
export async function runInit(argv: readonly string[], io: InitIo, run: CommandRunner = runCommand): Promise<number> {
  const parsed = parseInitArgs(argv);
  if (!parsed.ok) {
    io.stderr(`weft-init: ${parsed.error.toString()}\nRun weft-init --help for the options.\n`);
    return INIT_EXIT.badArguments;
  }
  const options = parsed.value;
  if (options.help) {
    io.stdout(`${INIT_USAGE}\n`);
    return INIT_EXIT.ok;
  }
  noteUnusedSubnets(options, io);
  if (options.dryRun) return dryRun(options, io);
  const applier = new InterceptionApplier(options.iptables, run);
  return options.cleanup ? cleanup(options, applier, io) : apply(options, applier, io);
}

function dryRun(options: InitOptions, io: InitIo): number {
  for (const ipVersion of planIpVersions(options.settings)) {
    const { iptables } = iptablesCommands(options.iptables, ipVersion);
    if (options.cleanup) {
      io.stdout(`# weft-init --dry-run: would remove the WEFT chains and every jump to them with ${iptables} (nat table)\n`);
    } else {
      const lines = planSaveLines(planInterception(options.settings, ipVersion));
      io.stdout(`# weft-init --dry-run: would write with ${iptables} (nat table)\n${lines.join('\n')}\n`);
    }
  }
  return INIT_EXIT.ok;
}

async function apply(options: InitOptions, applier: InterceptionApplier, io: InitIo): Promise<number> {
  const versions = planIpVersions(options.settings);
  for (const [index, ipVersion] of versions.entries()) {
    const applied = await applier.apply(planInterception(options.settings, ipVersion));
    if (!applied.ok) {
      io.stderr(`weft-init: ${applied.error.message}\n`);
      io.stderr(`weft-init: ${await removeAgain(versions.slice(0, index + 1), applier)}\n`);
      return INIT_EXIT.iptablesFailed;
    }
  }
  return printWritten(options, versions, applier, io);
}

// After a failure: the failing family already removed its own rules; make sure no family is left half-written.
async function removeAgain(versions: readonly IpVersion[], applier: InterceptionApplier): Promise<string> {
  for (const ipVersion of versions) {
    const removed = await applier.cleanup(ipVersion);
    if (!removed.ok) return `removing the rules written so far failed too: ${removed.error.message}`;
  }
  return 'removed the WEFT chains and jumps written so far; nothing is left half-written';
}

async function printWritten(options: InitOptions, versions: readonly IpVersion[], applier: InterceptionApplier, io: InitIo): Promise<number> {
  for (const ipVersion of versions) {
    const lines = await applier.readWeftRules(ipVersion);
    if (!lines.ok) {
      io.stderr(`weft-init: the rules are written, but reading them back failed: ${lines.error.message}\n`);
      return INIT_EXIT.iptablesFailed;
    }
    const { save } = iptablesCommands(options.iptables, ipVersion);
    io.stdout(`# weft-init: the WEFT lines of \`${save} -t nat\`\n${lines.value.join('\n')}\n`);
  }
  return INIT_EXIT.ok;
}

async function cleanup(options: InitOptions, applier: InterceptionApplier, io: InitIo): Promise<number> {
  for (const ipVersion of planIpVersions(options.settings)) {
    const removed = await applier.cleanup(ipVersion);
    const { iptables } = iptablesCommands(options.iptables, ipVersion);
    if (!removed.ok) {
      io.stderr(`weft-init: ${removed.error.message}\n`);
      return INIT_EXIT.iptablesFailed;
    }
    io.stdout(`# weft-init: removed the WEFT chains and the jumps to them (${iptables}, nat table)\n`);
  }
  return INIT_EXIT.ok;
}

// IPv6 subnets only go into ip6tables; without --ipv6 say so rather than drop them silently.
function noteUnusedSubnets(options: InitOptions, io: InitIo): void {
  if (options.settings.ipv6) return;
  const unused = options.settings.skipSubnets.filter((subnet) => subnet.family === 6).map(formatCidr);
  if (unused.length > 0) io.stderr(`weft-init: note: --skip-subnets ${unused.join(',')} only apply with --ipv6; not written\n`);
}
