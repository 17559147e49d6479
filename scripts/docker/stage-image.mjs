#!/usr/bin/env node
// Stages the self-contained files of Weft's images: builds the apps, bundles each entry with esbuild, adds what the bundles read at run time.
//
// Usage: node scripts/docker/stage-image.mjs [--out DIR] [--no-build]
//   --out DIR    where to stage (default: dist/docker-stage); the folder is replaced
//   --no-build   bundle the dist/ folders as they are (skip `tsc -b`)
//   --apps LIST  only these of proxy,control,init (a partial stage, for trying one bundle)
// Layout of DIR (the Docker build context of apps/proxy/Dockerfile and apps/control/Dockerfile):
//   proxy/dist/main.js, proxy/package.json                  weft-proxy (reads ../package.json for its version)
//   <app>/dist/chunks/*.js                                  code an app imports only when it needs it (proxy: X.509)
//   proxy/dist/original_destination.node, proxy/build/Release/original_destination.node   the SO_ORIGINAL_DST addon
//   init/dist/main.js, init/package.json, bin/weft-init      weft-init and its /usr/local/bin wrapper
//   control/dist/main.js, control/package.json              weft-control
//   control/node_modules/@weft/contracts/                   the mesh file schema (adapters/file requires it by name)
//   content-hash                                            a hash of everything above, for image tags
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = resolve(outIndex >= 0 && args[outIndex + 1] !== undefined ? args[outIndex + 1] : join(repo, 'dist/docker-stage'));
const skipBuild = args.includes('--no-build');

const appsIndex = args.indexOf('--apps');
const APPS = appsIndex >= 0 ? (args[appsIndex + 1] ?? '').split(',').filter(Boolean) : ['proxy', 'control', 'init'];
const ADDON = join(repo, 'adapters/original-destination/build/Release/original_destination.node');

// ESM bundles of CommonJS dependencies need require, __filename and __dirname; the aliases keep clear of bundled names.
const BANNER = [
  "import { createRequire as __weftCreateRequire } from 'node:module';",
  "import { fileURLToPath as __weftFileURLToPath } from 'node:url';",
  "import { dirname as __weftDirname } from 'node:path';",
  'const require = __weftCreateRequire(import.meta.url);',
  'const __filename = __weftFileURLToPath(import.meta.url);',
  'const __dirname = __weftDirname(__filename);',
].join('\n');

/**
 * Node builtins the bundled code imports with `import` are loaded with the banner's `require` instead. Node builds
 * a builtin's ESM namespace by reading every export, which runs the lazy ones: `import 'node:http'` alone loads the
 * fetch implementation (undici) and worker_threads, which none of the apps use (12 MB of resident memory in a bare
 * Node; 2 MB in the proxy, which loads much of the rest anyway).
 */
const requireBuiltins = {
  name: 'require-builtins',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'import-statement' ? { path: args.path, namespace: 'weft-builtin' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'weft-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

function log(message) {
  process.stderr.write(`stage-image: ${message}\n`);
}

function buildApps() {
  const projects = APPS.map((app) => `apps/${app}/tsconfig.lib.json`);
  log(`tsc -b ${projects.join(' ')}`);
  try {
    execFileSync(join(repo, 'node_modules/.bin/tsc'), ['-b', ...projects], { cwd: repo, stdio: ['ignore', 2, 2] });
  } catch {
    throw new Error('the apps did not build (tsc -b failed, see above); fix the errors or stage with --no-build');
  }
}

async function bundle(app) {
  const entry = join(repo, `apps/${app}/dist/main.js`);
  if (!existsSync(entry)) throw new Error(`${relative(repo, entry)} does not exist; build apps/${app} first`);
  const outfile = join(out, app, 'dist/main.js');
  await build({
    entryPoints: { main: entry },
    outdir: dirname(outfile),
    // What an app loads with import() goes to chunks of its own, so the app does not even parse it until then (the
    // proxy's X.509 rules, which it needs only once it has an identity: 3.5 MB of idle memory).
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    banner: { js: BANNER },
    plugins: [requireBuiltins],
    // docker-modem loads ssh2 at start, so it is bundled; its native helpers (cpu-features, *.node) are optional and
    // loaded in try/catch, so they stay out.
    external: ['cpu-features', '*.node'],
    logLevel: 'warning',
    legalComments: 'none',
    sourcemap: false,
  });
  const { name, version } = JSON.parse(readFileSync(join(repo, `apps/${app}/package.json`), 'utf8'));
  writeFileSync(join(out, app, 'package.json'), `${JSON.stringify({ name, version, type: 'module', private: true }, null, 2)}\n`);
  log(`bundled apps/${app} -> ${relative(repo, outfile)} (${Math.round(statSync(outfile).size / 1024)} KiB)`);
}

function copy(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

function stageExtras() {
  if (APPS.includes('proxy')) stageProxyExtras();
  if (APPS.includes('control')) stageControlExtras();
}

function stageProxyExtras() {
  if (!existsSync(ADDON)) throw new Error(`${relative(repo, ADDON)} is missing; build it with: (cd adapters/original-destination && npx node-gyp rebuild)`);
  // Beside the bundle, and where the adapter's own dist/ finds it (../build/Release from dist/).
  copy(ADDON, join(out, 'proxy/dist/original_destination.node'));
  copy(ADDON, join(out, 'proxy/build/Release/original_destination.node'));
  const wrapper = join(out, 'bin/weft-init');
  mkdirSync(dirname(wrapper), { recursive: true });
  writeFileSync(wrapper, '#!/bin/sh\n# weft-init: sets up the iptables rules that send a network namespace\'s traffic through its proxy.\nexec node /opt/weft/init/dist/main.js "$@"\n');
  chmodSync(wrapper, 0o755);
}

function stageControlExtras() {
  const contracts = join(out, 'control/node_modules/@weft/contracts');
  const { name, version, exports } = JSON.parse(readFileSync(join(repo, 'contracts/package.json'), 'utf8'));
  mkdirSync(contracts, { recursive: true });
  writeFileSync(join(contracts, 'package.json'), `${JSON.stringify({ name, version, type: 'module', exports: { './schemas/*': exports['./schemas/*'] } }, null, 2)}\n`);
  copy(join(repo, 'contracts/schemas/mesh.schema.json'), join(contracts, 'schemas/mesh.schema.json'));
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function writeContentHash() {
  const hash = createHash('sha256');
  for (const file of filesUnder(out)) {
    if (file === join(out, 'content-hash')) continue;
    hash.update(`${relative(out, file)}\0${statSync(file).mode & 0o111 ? 'x' : '-'}\0`);
    hash.update(readFileSync(file));
  }
  const digest = hash.digest('hex').slice(0, 16);
  writeFileSync(join(out, 'content-hash'), `${digest}\n`);
  return digest;
}

try {
  if (!skipBuild) buildApps();
  rmSync(out, { recursive: true, force: true });
  for (const app of APPS) await bundle(app);
  stageExtras();
  const digest = writeContentHash();
  log(`staged in ${relative(repo, out) || '.'} (content hash ${digest})`);
  process.stdout.write(`${out}\n`);
} catch (error) {
  log(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
