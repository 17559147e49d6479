// Where weft up finds the programs it starts and the built-in demo: in the repository it runs from, not the cwd.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface WeftPaths {
  readonly repoRoot: string;
  /** weft-control's entry point, run with node. */
  readonly controlMain: string;
  /** The proxy's launcher script (it runs dist/main.js with WEFT_NODE). */
  readonly proxyLauncher: string;
  readonly proxyMain: string;
  /** The mesh file `weft up` runs when given none. */
  readonly demoMesh: string;
}

/** This file is apps/cli/{src,dist}/up/weft-paths.{ts,js}: the repository is four folders up either way. */
const DEFAULT_REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export function weftPaths(repoRoot: string = DEFAULT_REPO_ROOT): WeftPaths {
  return {
    repoRoot,
    controlMain: join(repoRoot, 'apps/control/dist/main.js'),
    proxyLauncher: join(repoRoot, 'apps/proxy/bin/weft-proxy'),
    proxyMain: join(repoRoot, 'apps/proxy/dist/main.js'),
    demoMesh: join(repoRoot, 'apps/demo/mesh.yaml'),
  };
}

/** The command that builds what is missing, for the error message. */
export const BUILD_COMMAND = 'npx tsc -b apps/control/tsconfig.lib.json apps/proxy/tsconfig.lib.json';

/** The built programs that are missing, as "what (path)". */
export async function missingPrograms(paths: WeftPaths): Promise<string[]> {
  const wanted: [string, string][] = [
    ['the control plane', paths.controlMain],
    ['the proxy', paths.proxyMain],
    ['the proxy launcher', paths.proxyLauncher],
  ];
  const missing: string[] = [];
  for (const [what, path] of wanted) {
    try {
      await access(path);
    } catch {
      missing.push(`${what} (${path})`);
    }
  }
  return missing;
}
