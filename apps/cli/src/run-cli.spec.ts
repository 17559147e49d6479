import { describe, expect, it } from 'vitest';
import { CliCommands } from './cli-command.js';
import { createCliContainer } from './cli-container.js';
import { runCli } from './run-cli.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('weft CLI', () => {
  const commands = createCliContainer('1.2.3').get<CliCommands>(CliCommands);

  it('prints the command list with no arguments', async () => {
    const { io, out } = capture();
    expect(await runCli([], commands, io)).toBe(0);
    expect(out.join('\n')).toMatch(/Usage: weft <command>/);
    expect(out.join('\n')).toMatch(/version\s+print the Weft version/);
  });

  it('runs a verb', async () => {
    const { io, out } = capture();
    expect(await runCli(['version'], commands, io)).toBe(0);
    expect(out[0]).toMatch(/^weft 1\.2\.3 \(node \d+\.\d+\.\d+\)$/);
  });

  it('shows a verb usage with --help or weft help <verb>', async () => {
    for (const argv of [['version', '--help'], ['help', 'version']]) {
      const { io, out } = capture();
      expect(await runCli(argv, commands, io)).toBe(0);
      expect(out.join('\n')).toMatch(/^Usage: weft version/);
    }
  });

  it('names an unknown verb and exits 2', async () => {
    const { io, err } = capture();
    expect(await runCli(['frobnicate'], commands, io)).toBe(2);
    expect(err[0]).toBe('weft: no command "frobnicate"; run weft help for the list');
  });

  it('refuses stray arguments of a verb', async () => {
    const { io, err } = capture();
    expect(await runCli(['version', 'extra'], commands, io)).toBe(2);
    expect(err[0]).toContain('"extra"');
  });
});
