// Test helper: a small in-memory nat table that answers the iptables commands weft-init runs, for tests without root.
import type { CommandOutcome, CommandRunner } from './command-runner.js';

const BUILT_IN = ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'];

/** One address family's nat table: chains in creation order, each with its rules as `-A chain ...` specs. */
class NatTable {
  readonly chains = new Map<string, string[][]>(BUILT_IN.map((chain) => [chain, []]));

  save(): string {
    const declarations = [...this.chains.keys()].map((chain) => `:${chain} ${BUILT_IN.includes(chain) ? 'ACCEPT' : '-'} [0:0]`);
    const rules = [...this.chains].flatMap(([chain, specs]) => specs.map((spec) => ['-A', chain, ...quoteComment(spec)].join(' ')));
    return ['*nat', ...declarations, ...rules, 'COMMIT', ''].join('\n');
  }
}

/**
 * A CommandRunner standing in for iptables/ip6tables and their -save: it keeps one NatTable per program family and
 * can be told to fail the commands whose text contains a given string.
 */
export class FakeIptables {
  readonly commands: string[] = [];
  private readonly tables = new Map<string, NatTable>();
  private readonly failures: { text: string; stderr: string; times: number }[] = [];

  /** Makes the next `times` commands containing `text` exit 1 with `stderr`. */
  failNext(text: string, stderr: string, times = 1): void {
    this.failures.push({ text, stderr, times });
  }

  /** The table of `iptables` (4) or `ip6tables` (6) as iptables-save prints it. */
  save(ipVersion: 4 | 6): string {
    return this.table(ipVersion === 6 ? 'ip6tables' : 'iptables').save();
  }

  readonly run: CommandRunner = async (file, args) => {
    const text = [file, ...args].join(' ');
    this.commands.push(text);
    const failure = this.failures.find((candidate) => candidate.times > 0 && text.includes(candidate.text));
    if (failure !== undefined) {
      failure.times--;
      return { exitCode: 1, stdout: '', stderr: failure.stderr };
    }
    const program = file.replace(/-save$/, '');
    if (file.endsWith('-save')) return done(this.table(program).save());
    return this.edit(this.table(program), withoutPrefix(args));
  };

  private table(program: string): NatTable {
    const family = program.startsWith('ip6tables') ? 'ip6tables' : 'iptables';
    let table = this.tables.get(family);
    if (table === undefined) this.tables.set(family, (table = new NatTable()));
    return table;
  }

  private edit(table: NatTable, [operation, chain = '', ...rest]: string[]): CommandOutcome {
    const rules = table.chains.get(chain);
    if (operation === '-N') return rules === undefined ? (table.chains.set(chain, []), done()) : fail('Chain already exists.');
    if (rules === undefined) return fail('No chain/target/match by that name.');
    switch (operation) {
      case '-S':
        return done();
      case '-F':
        rules.length = 0;
        return done();
      case '-X':
        table.chains.delete(chain);
        return done();
      case '-A':
        rules.push(rest);
        return done();
      case '-C':
        return rules.some((rule) => rule.join(' ') === rest.join(' ')) ? done() : fail('Bad rule');
      case '-D':
        rules.splice(Number(rest[0]) - 1, 1);
        return done();
      case '-L':
        return done(rules.map((rule, index) => `${index + 1}    ${rule[rule.indexOf('-j') + 1]}  all  --  0.0.0.0/0  0.0.0.0/0`).join('\n'));
      default:
        return fail(`unknown operation ${operation}`);
    }
  }
}

// Drops "-w 10 -t nat" so the operation comes first.
function withoutPrefix(args: readonly string[]): string[] {
  const rest = [...args];
  while (rest[0] === '-w' || rest[0] === '-t') rest.splice(0, 2);
  return rest;
}

function quoteComment(spec: readonly string[]): string[] {
  return spec.map((word, index) => (spec[index - 1] === '--comment' ? `"${word}"` : word));
}

function done(stdout = ''): CommandOutcome {
  return { exitCode: 0, stdout, stderr: '' };
}

function fail(stderr: string): CommandOutcome {
  return { exitCode: 1, stdout: '', stderr: `iptables: ${stderr}` };
}
