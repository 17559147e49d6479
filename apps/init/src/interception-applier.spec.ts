import { describe, expect, it } from 'vitest';
import { runCommand } from './command-runner.js';
import { FakeIptables } from './fake-nat-table.spec-helper.js';
import { InterceptionApplier, iptablesCommands, isWeftSaveLine } from './interception-applier.js';
import { DEFAULT_INTERCEPTION_SETTINGS, planInterception, planSaveLines } from './interception-plan.js';

const plan4 = planInterception(DEFAULT_INTERCEPTION_SETTINGS, 4);
const weftLines = (save: string) => save.split('\n').filter(isWeftSaveLine);

describe('iptablesCommands', () => {
  it('picks the program and its -save for each family and address family', () => {
    expect(iptablesCommands('iptables', 4)).toEqual({ iptables: 'iptables', save: 'iptables-save' });
    expect(iptablesCommands('iptables', 6)).toEqual({ iptables: 'ip6tables', save: 'ip6tables-save' });
    expect(iptablesCommands('iptables-legacy', 4)).toEqual({ iptables: 'iptables-legacy', save: 'iptables-legacy-save' });
    expect(iptablesCommands('iptables-legacy', 6)).toEqual({ iptables: 'ip6tables-legacy', save: 'ip6tables-legacy-save' });
    expect(iptablesCommands('iptables-nft', 6)).toEqual({ iptables: 'ip6tables-nft', save: 'ip6tables-nft-save' });
  });
});

describe('isWeftSaveLine', () => {
  it('keeps the WEFT chains, their rules and the jumps to them, and nothing else', () => {
    expect(isWeftSaveLine(':WEFT_INBOUND - [0:0]')).toBe(true);
    expect(isWeftSaveLine('-A WEFT_OUTPUT -o lo -j RETURN')).toBe(true);
    expect(isWeftSaveLine('-A OUTPUT -m comment --comment "weft/install-output" -j WEFT_OUTPUT')).toBe(true);
    expect(isWeftSaveLine(':OUTPUT ACCEPT [0:0]')).toBe(false);
    expect(isWeftSaveLine('-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT')).toBe(false);
    expect(isWeftSaveLine(':WEFT_OTHER - [0:0]')).toBe(false);
  });
});

describe('InterceptionApplier (against an in-memory nat table)', () => {
  it('writes the plan and reads back what it wrote', async () => {
    const fake = new FakeIptables();
    const applier = new InterceptionApplier('iptables', fake.run);
    expect(await applier.apply(plan4)).toEqual({ ok: true, value: undefined });
    expect(await applier.readWeftRules(4)).toEqual({ ok: true, value: planSaveLines(plan4) });
  });

  it('gives the same table when run twice, and replaces duplicate jumps by one', async () => {
    const fake = new FakeIptables();
    const applier = new InterceptionApplier('iptables', fake.run);
    await applier.apply(plan4);
    const once = fake.save(4);
    await applier.apply(plan4);
    expect(fake.save(4)).toBe(once);
    await fake.run('iptables', ['-t', 'nat', '-A', 'OUTPUT', '-j', 'WEFT_OUTPUT']);
    await fake.run('iptables', ['-t', 'nat', '-A', 'OUTPUT', '-m', 'comment', '--comment', 'weft/install-output', '-j', 'WEFT_OUTPUT']);
    await applier.apply(plan4);
    expect(fake.save(4)).toBe(once);
  });

  it('on a failing command, removes what it wrote and returns the command and its stderr', async () => {
    const fake = new FakeIptables();
    const applier = new InterceptionApplier('iptables-nft', fake.run);
    fake.failNext('-A WEFT_OUTPUT -o lo', "iptables v1.8.9 (nf_tables): Couldn't load match `lo'");
    const result = await applier.apply(plan4);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.command.slice(0, 7)).toEqual(['iptables-nft', '-w', '10', '-t', 'nat', '-A', 'WEFT_OUTPUT']);
    expect(result.error.exitCode).toBe(1);
    expect(result.error.message).toMatch(/^`iptables-nft -w 10 -t nat -A WEFT_OUTPUT -o lo .*` failed with exit code 1: iptables v1\.8\.9/);
    expect(weftLines(fake.save(4))).toEqual([]);
  });

  it('cleanup removes every jump and both chains, and is fine with nothing to remove', async () => {
    const fake = new FakeIptables();
    const applier = new InterceptionApplier('iptables', fake.run);
    expect(await applier.cleanup(4)).toEqual({ ok: true, value: undefined });
    await applier.apply(plan4);
    await fake.run('iptables', ['-t', 'nat', '-A', 'PREROUTING', '-j', 'WEFT_INBOUND']);
    expect(await applier.cleanup(4)).toEqual({ ok: true, value: undefined });
    expect(weftLines(fake.save(4))).toEqual([]);
  });

  it('reports a failing cleanup command', async () => {
    const fake = new FakeIptables();
    const applier = new InterceptionApplier('iptables', fake.run);
    await applier.apply(plan4);
    fake.failNext('-X WEFT_INBOUND', 'iptables: Too many links.');
    const result = await applier.cleanup(4);
    expect(!result.ok && result.error.message).toContain('-X WEFT_INBOUND` failed with exit code 1: iptables: Too many links.');
  });
});

describe('runCommand', () => {
  it('resolves with the exit code and output of a program run without a shell', async () => {
    const script = 'process.stdout.write(process.argv[1]); process.stderr.write("oops"); process.exit(3)';
    expect(await runCommand(process.execPath, ['-e', script, '$HOME; echo not a shell'])).toEqual({
      exitCode: 3,
      stdout: '$HOME; echo not a shell',
      stderr: 'oops',
    });
  });

  it('resolves with 127 and the reason when the program cannot be started', async () => {
    const outcome = await runCommand('/nonexistent/iptables', ['-L']);
    expect(outcome.exitCode).toBe(127);
    expect(outcome.stderr).toContain('ENOENT');
  });
});
