// Which build of the proxy the harness starts: the esbuild bundle Weft's images ship (default), or tsc's dist/ tree.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const WEFT_BUILDS = ['bundle', 'dist'] as const;
export type WeftBuild = (typeof WEFT_BUILDS)[number];

/** tsc's output, which the bundle is made from and which `--weft-build dist` runs as it is. */
export const WEFT_PROXY_ENTRY = 'apps/proxy/dist/main.js';
export const WEFT_BUILD_COMMAND = 'npx nx run @weft/proxy:build';
/** The image staging script: the bundle the harness runs is the one the proxy image is built from. */
export const STAGE_IMAGE_SCRIPT = 'scripts/docker/stage-image.mjs';

export interface WeftProxyBuild {
  readonly build: WeftBuild;
  /** The file Node runs (the launcher's WEFT_PROXY_MAIN), made on the first call and kept for the whole run. */
  main(): string;
  /** One line for the report's setup notes. */
  readonly description: string;
}

/**
 * The proxy build a run starts. The bundle is staged into `stageDir` with `stage-image.mjs --apps proxy --no-build`
 * (esbuild, as for the image: one ESM file, its addon beside it) the first time a proxy starts; `dist/` must be built.
 */
export function weftProxyBuild(repoRoot: string, build: WeftBuild, stageDir: string): WeftProxyBuild {
  let main: string | undefined;
  const distEntry = join(repoRoot, WEFT_PROXY_ENTRY);
  return {
    build,
    description:
      build === 'bundle'
        ? `the proxy as its image ships it: \`${WEFT_PROXY_ENTRY}\` bundled by \`${STAGE_IMAGE_SCRIPT} --apps proxy\` (esbuild)`
        : `tsc's \`${WEFT_PROXY_ENTRY}\` and the package tree it imports (--weft-build dist)`,
    main: () => {
      if (main !== undefined) return main;
      if (!existsSync(distEntry)) throw new Error(`${WEFT_PROXY_ENTRY} is missing; build it with ${WEFT_BUILD_COMMAND} (npm run bench builds it)`);
      if (build === 'dist') return (main = distEntry);
      try {
        execFileSync(process.execPath, [join(repoRoot, STAGE_IMAGE_SCRIPT), '--apps', 'proxy', '--no-build', '--out', stageDir], {
          cwd: repoRoot,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
      } catch (error) {
        const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
        throw new Error(`bundling the proxy with ${STAGE_IMAGE_SCRIPT} failed: ${stderr || String(error)} (or run with --weft-build dist)`);
      }
      return (main = join(stageDir, 'proxy/dist/main.js'));
    },
  };
}
