// Writes and removes the WEFT nat-table chains with the iptables commands, idempotently, and reads them back.
import { err, ok, type Result } from '@weft/core';
import { type CommandOutcome, type CommandRunner, runCommand } from './command-runner.js';
import type { IptablesFamily } from './init-args.js';
import {
  type InterceptionPlan,
  type IpVersion,
  type NatRule,
  WEFT_CHAINS,
  WEFT_INBOUND_CHAIN,
  WEFT_OUTPUT_CHAIN,
  type WeftChain,
} from './interception-plan.js';

/** The program that edits one address family's tables and the one that prints them. */
export interface IptablesCommands {
  readonly iptables: string;
  readonly save: string;
}

/** An iptables command that failed: what was run, its exit code and what it printed on stderr. */
export class IptablesCommandError extends Error {
  override readonly name = 'IptablesCommandError';

  constructor(
    readonly command: readonly string[],
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(`\`${command.join(' ')}\` failed with exit code ${exitCode}: ${stderr.trim() || '(nothing on stderr)'}`);
  }
}

/** iptables / ip6tables (-legacy, -nft) and the matching -save for an address family. */
export function iptablesCommands(family: IptablesFamily, ipVersion: IpVersion): IptablesCommands {
  const iptables = ipVersion === 6 ? family.replace(/^iptables/, 'ip6tables') : family;
  return { iptables, save: `${iptables}-save` };
}

/** True for the lines of `iptables-save` output that belong to weft-init: its chains, their rules, the jumps to them. */
export function isWeftSaveLine(line: string): boolean {
  return WEFT_CHAINS.some(
    (chain) => line.startsWith(`:${chain} `) || line.startsWith(`-A ${chain} `) || line.includes(` -j ${chain}`),
  );
}

// Which built-in chain jumps into which WEFT chain.
const JUMPS: readonly (readonly ['PREROUTING' | 'OUTPUT', WeftChain])[] = [
  ['PREROUTING', WEFT_INBOUND_CHAIN],
  ['OUTPUT', WEFT_OUTPUT_CHAIN],
];

/**
 * Runs one iptables family's commands. Every method leaves the nat table as it found it or fully written:
 * `apply` removes what it wrote when a command fails.
 */
export class InterceptionApplier {
  constructor(
    private readonly family: IptablesFamily = 'iptables',
    private readonly run: CommandRunner = runCommand,
  ) {}

  /**
   * Writes a plan: creates the WEFT chains if missing, flushes them, appends the rules, and leaves exactly one jump
   * from PREROUTING and from OUTPUT. Running it twice gives the same table. On failure it removes the WEFT chains
   * and jumps of this address family again (best effort) and returns the failing command.
   */
  async apply(plan: InterceptionPlan): Promise<Result<void, IptablesCommandError>> {
    const nat = this.nat(plan.ipVersion);
    try {
      for (const chain of plan.chains) {
        if (!(await this.chainExists(nat, chain))) await nat(['-N', chain]);
        await nat(['-F', chain]);
      }
      for (const rule of plan.rules) await nat(['-A', rule.chain, ...rule.spec]);
      for (const jump of plan.jumps) await this.ensureOneJump(nat, jump);
      return ok(undefined);
    } catch (error) {
      await this.cleanup(plan.ipVersion);
      return err(asCommandError(error));
    }
  }

  /** Deletes every jump into the WEFT chains (all copies) and the chains themselves; nothing to remove is fine. */
  async cleanup(ipVersion: IpVersion): Promise<Result<void, IptablesCommandError>> {
    const nat = this.nat(ipVersion);
    try {
      for (const [from, to] of JUMPS) await this.deleteJumps(nat, from, to);
      for (const chain of WEFT_CHAINS) {
        if (!(await this.chainExists(nat, chain))) continue;
        await nat(['-F', chain]);
        await nat(['-X', chain]);
      }
      return ok(undefined);
    } catch (error) {
      return err(asCommandError(error));
    }
  }

  /** The WEFT lines of `iptables-save -t nat`: what the kernel holds, in iptables-save form. */
  async readWeftRules(ipVersion: IpVersion): Promise<Result<string[], IptablesCommandError>> {
    const { save } = iptablesCommands(this.family, ipVersion);
    const command = [save, '-t', 'nat'];
    const outcome = await this.run(save, command.slice(1));
    if (outcome.exitCode !== 0) return err(new IptablesCommandError(command, outcome.exitCode, outcome.stderr));
    return ok(outcome.stdout.split('\n').filter(isWeftSaveLine));
  }

  // Runs `iptables -w 10 -t nat <args>`, throwing IptablesCommandError unless the exit code is in `accepted`.
  private nat(ipVersion: IpVersion): Nat {
    const { iptables } = iptablesCommands(this.family, ipVersion);
    return async (args, accepted = [0]) => {
      // -w: wait (up to 10 s) for the xtables lock that another iptables run may hold, instead of failing.
      const fullArgs = ['-w', '10', '-t', 'nat', ...args];
      const outcome = await this.run(iptables, fullArgs);
      if (!accepted.includes(outcome.exitCode)) throw new IptablesCommandError([iptables, ...fullArgs], outcome.exitCode, outcome.stderr);
      return outcome;
    };
  }

  // `-S chain` exits 1 when the chain does not exist; other failures (permissions...) are errors.
  private async chainExists(nat: Nat, chain: WeftChain): Promise<boolean> {
    return (await nat(['-S', chain], [0, 1])).exitCode === 0;
  }

  private async ensureOneJump(nat: Nat, jump: NatRule): Promise<void> {
    const target = jump.spec.at(-1) as WeftChain;
    const exact = (await nat(['-C', jump.chain, ...jump.spec], [0, 1])).exitCode === 0;
    const positions = await this.jumpPositions(nat, jump.chain, target);
    if (exact && positions.length === 1) return;
    // Duplicates, or a jump that differs from ours (an older comment): replace them all by one.
    await this.deleteJumps(nat, jump.chain, target);
    await nat(['-A', jump.chain, ...jump.spec]);
  }

  private async deleteJumps(nat: Nat, from: string, to: WeftChain): Promise<void> {
    const positions = await this.jumpPositions(nat, from, to);
    // From the last to the first, so deleting one does not move the others.
    for (const position of positions.reverse()) await nat(['-D', from, `${position}`]);
  }

  // The 1-based positions of the rules in `from` whose target is `to`, from `-L --line-numbers`.
  private async jumpPositions(nat: Nat, from: string, to: WeftChain): Promise<number[]> {
    const listing = await nat(['-L', from, '-n', '--line-numbers']);
    return listing.stdout
      .split('\n')
      .map((line) => /^(\d+)\s+(\S+)/.exec(line))
      .filter((match) => match !== null && match[2] === to)
      .map((match) => Number((match as RegExpExecArray)[1]));
  }
}

type Nat = (args: readonly string[], accepted?: readonly number[]) => Promise<CommandOutcome>;

function asCommandError(error: unknown): IptablesCommandError {
  if (error instanceof IptablesCommandError) return error;
  throw error;
}
