import { describe, expect, it } from 'vitest';
import type { CommandRunner } from './command-runner.js';
import { FakeIptables } from './fake-nat-table.spec-helper.js';
import { isWeftSaveLine } from './interception-applier.js';
import { DEFAULT_INTERCEPTION_SETTINGS, planInterception, planSaveLines } from './interception-plan.js';
import { runInit } from './run-init.js';

async function init(argv: string[], run: CommandRunner) {
  let stdout = '';
  let stderr = '';
  const code = await runInit(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) }, run);
  return { code, stdout, stderr };
}

const noCommands: CommandRunner = (file) => Promise.reject(new Error(`ran ${file}`));

describe('runInit', () => {
  it('exits 2 on bad arguments, naming the flag and value, without running anything', async () => {
    const result = await init(['--skip-subnets', '10.0.0.0/40'], noCommands);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('weft-init: invalid CIDR --skip-subnets "10.0.0.0/40"');
    expect(result.stdout).toBe('');
  });

  it('prints the usage with --help', async () => {
    const result = await init(['--help'], noCommands);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: weft-init \[options\]/);
  });

  it('--dry-run prints the rules of each address family without running iptables', async () => {
    const result = await init(['--dry-run', '--ipv6', '--iptables', 'iptables-nft'], noCommands);
    expect(result.code).toBe(0);
    const v4 = planSaveLines(planInterception(DEFAULT_INTERCEPTION_SETTINGS, 4)).join('\n');
    expect(result.stdout).toBe(
      `# weft-init --dry-run: would write with iptables-nft (nat table)\n${v4}\n` +
        `# weft-init --dry-run: would write with ip6tables-nft (nat table)\n${v4}\n`,
    );
  });

  it('--dry-run --cleanup says what it would remove without running iptables', async () => {
    const result = await init(['--dry-run', '--cleanup'], noCommands);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('would remove the WEFT chains and every jump to them with iptables');
  });

  it('writes the rules and prints what iptables-save then shows', async () => {
    const fake = new FakeIptables();
    const result = await init([], fake.run);
    expect(result.code).toBe(0);
    const held = fake.save(4).split('\n').filter(isWeftSaveLine);
    expect(result.stdout).toBe(`# weft-init: the WEFT lines of \`iptables-save -t nat\`\n${held.join('\n')}\n`);
    expect(held).toEqual(planSaveLines(planInterception(DEFAULT_INTERCEPTION_SETTINGS, 4)));
  });

  it('exits 1 naming the command and stderr when ip6tables fails, and leaves neither family half-written', async () => {
    const fake = new FakeIptables();
    fake.failNext('ip6tables -w 10 -t nat -A WEFT_INBOUND', "ip6tables v1.8.9: can't initialize ip6tables table `nat'");
    const result = await init(['--ipv6'], fake.run);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('`ip6tables -w 10 -t nat -A WEFT_INBOUND');
    expect(result.stderr).toContain("failed with exit code 1: ip6tables v1.8.9: can't initialize ip6tables table `nat'");
    expect(fake.save(4).split('\n').filter(isWeftSaveLine)).toEqual([]);
    expect(fake.save(6).split('\n').filter(isWeftSaveLine)).toEqual([]);
    expect(result.stderr).toContain('nothing is left half-written');
  });

  it('says so when removing the rules after a failure fails too', async () => {
    const fake = new FakeIptables();
    fake.failNext('-A WEFT_OUTPUT -o lo', 'iptables: No chain/target/match by that name.');
    fake.failNext('-X WEFT_INBOUND', 'iptables: Device or resource busy.', Infinity);
    const result = await init([], fake.run);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('-A WEFT_OUTPUT -o lo');
    expect(result.stderr).toContain('removing the rules written so far failed too: `iptables -w 10 -t nat -X WEFT_INBOUND` failed');
    expect(result.stderr).not.toContain('nothing is left half-written');
  });

  it('--cleanup removes the rules of both families with --ipv6', async () => {
    const fake = new FakeIptables();
    await init(['--ipv6'], fake.run);
    const result = await init(['--ipv6', '--cleanup'], fake.run);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('removed the WEFT chains and the jumps to them (ip6tables, nat table)');
    expect(fake.save(4).split('\n').filter(isWeftSaveLine)).toEqual([]);
    expect(fake.save(6).split('\n').filter(isWeftSaveLine)).toEqual([]);
  });

  it('exits 1 when iptables is missing, saying so', async () => {
    const missing: CommandRunner = (file) => Promise.resolve({ exitCode: 127, stdout: '', stderr: `spawn ${file} ENOENT` });
    const result = await init([], missing);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('failed with exit code 127: spawn iptables ENOENT');
  });

  it('says that IPv6 subnets are not written without --ipv6', async () => {
    const result = await init(['--dry-run', '--skip-subnets', '10.0.0.0/8,fd00::/8'], noCommands);
    expect(result.stderr).toContain('--skip-subnets fd00::/8 only apply with --ipv6');
    expect(result.stdout).not.toContain('fd00');
  });
});
