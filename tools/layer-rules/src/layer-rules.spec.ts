import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const workspaceRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Lints `code` as if it were the file at `path` (relative to the workspace root) and returns the messages. */
async function lintAs(path: string, code: string): Promise<string[]> {
  const results = await eslint.lintText(code, { filePath: `${workspaceRoot}${path}` });
  return results.flatMap((result) => result.messages.map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`));
}

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: workspaceRoot });
});

describe('the layer rules of the hexagon', () => {
  const header = '// A module that probes the lint rules.\n';

  it.each([
    ['node:net', "import { connect } from 'node:net';\nexport const c = connect;\n"],
    ['fs', "import { readFileSync } from 'fs';\nexport const r = readFileSync;\n"],
    ['inversify', "import { Container } from 'inversify';\nexport const c = Container;\n"],
    ['reflect-metadata', "import 'reflect-metadata';\nexport const x = 1;\n"],
    ['an adapter', "import { FixedClock } from '@weft/adapter-memory';\nexport const c = FixedClock;\n"],
    ['generated wire code', "import { destination } from '@weft/contracts';\nexport const d = destination;\n"],
  ])('refuse %s in core', async (_what, code) => {
    const messages = await lintAs('core/src/discovery/probe.ts', header + code);
    expect(messages.some((m) => /core\/ (does no I\/O|is bound|may not import)|layer:core/.test(m))).toBe(true);
  });

  it('refuse the wall clock and global randomness in core', async () => {
    const messages = await lintAs(
      'core/src/balance/probe.ts',
      `${header}export const a = Date.now();\nexport const b = Math.random();\nexport const c = new Date();\n`,
    );
    expect(messages.filter((m) => m.startsWith('no-restricted-syntax'))).toHaveLength(3);
  });

  it('accept a pure core module', async () => {
    const messages = await lintAs(
      'core/src/discovery/probe.ts',
      `${header}import { ok } from '../shared/result.js';\nexport const answer = ok(42);\n`,
    );
    expect(messages).toEqual([]);
  });

  it('let adapters use Node and inversify, but not reflect-metadata', async () => {
    expect(
      await lintAs('adapters/system/src/probe.ts', `${header}import { injectable } from 'inversify';\nimport { cpus } from 'node:os';\nexport const x = [injectable, cpus];\n`),
    ).toEqual([]);
    const messages = await lintAs('adapters/system/src/probe.ts', `${header}import 'reflect-metadata';\nexport const x = 1;\n`);
    expect(messages.join('\n')).toMatch(/Only apps\/\*\/src\/main\.ts imports reflect-metadata/);
  });

  it('refuse default exports and thrown strings anywhere', async () => {
    const messages = await lintAs(
      'apps/cli/src/probe.ts',
      `${header}export default function f(): void {\n  throw 'bad';\n}\n`,
    );
    expect(messages.join('\n')).toMatch(/Use named exports only/);
    expect(messages.join('\n')).toMatch(/never a bare string/);
  });
});
