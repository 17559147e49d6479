import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STAGE_IMAGE_SCRIPT, WEFT_PROXY_ENTRY, weftProxyBuild } from './weft-proxy-build.js';

describe('weftProxyBuild', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'weft-proxy-build-'));
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const withDist = (): void => {
    mkdirSync(join(root, 'apps/proxy/dist'), { recursive: true });
    writeFileSync(join(root, WEFT_PROXY_ENTRY), '');
  };

  it('runs the tsc tree as it is with --weft-build dist', () => {
    withDist();
    const build = weftProxyBuild(root, 'dist', join(root, 'stage'));
    expect(build.main()).toBe(join(root, WEFT_PROXY_ENTRY));
    expect(build.description).toContain('--weft-build dist');
  });

  it('names the missing build and the command that makes it', () => {
    const build = weftProxyBuild(root, 'bundle', join(root, 'stage'));
    expect(() => build.main()).toThrow(`${WEFT_PROXY_ENTRY} is missing; build it with npx nx run @weft/proxy:build`);
  });

  it('reports a failed bundling with the staging script\'s own words and the way around it', () => {
    withDist();
    mkdirSync(join(root, 'scripts/docker'), { recursive: true });
    writeFileSync(join(root, STAGE_IMAGE_SCRIPT), "process.stderr.write('stage-image: esbuild is not installed\\n'); process.exit(1);\n");
    const build = weftProxyBuild(root, 'bundle', join(root, 'stage'));
    expect(() => build.main()).toThrow(/bundling the proxy with scripts\/docker\/stage-image\.mjs failed: stage-image: esbuild is not installed \(or run with --weft-build dist\)/);
  });

  it('stages the bundle once per run, where the staging script puts it', () => {
    withDist();
    mkdirSync(join(root, 'scripts/docker'), { recursive: true });
    // A stand-in for the staging script: it writes the bundle and counts its calls.
    writeFileSync(
      join(root, STAGE_IMAGE_SCRIPT),
      [
        "import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';",
        "const out = process.argv[process.argv.indexOf('--out') + 1];",
        "mkdirSync(out + '/proxy/dist', { recursive: true });",
        "writeFileSync(out + '/proxy/dist/main.js', '');",
        "appendFileSync(out + '/calls', process.argv.slice(2).join(' ') + '\\n');",
      ].join('\n'),
    );
    const stage = join(root, 'stage');
    const build = weftProxyBuild(root, 'bundle', stage);
    expect(build.main()).toBe(join(stage, 'proxy/dist/main.js'));
    expect(build.main()).toBe(join(stage, 'proxy/dist/main.js'));
    expect(readFileSync(join(stage, 'calls'), 'utf8').trim().split('\n')).toEqual([`--apps proxy --no-build --out ${stage}`]);
  });
});

