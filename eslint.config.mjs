// Lint rules for the whole workspace, including the layer boundaries of the hexagon.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert', 'async_hooks', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'diagnostics_channel',
  'dns', 'events', 'fs', 'fs/promises', 'http', 'http2', 'https', 'inspector', 'module', 'net', 'os', 'path',
  'perf_hooks', 'process', 'querystring', 'readline', 'stream', 'string_decoder', 'timers', 'tls', 'tty',
  'url', 'util', 'v8', 'vm', 'worker_threads', 'zlib',
];

const namingAndErrorRules = [
  { selector: 'ExportDefaultDeclaration', message: 'Use named exports only.' },
  { selector: 'ThrowStatement > Literal', message: 'Throw an Error subclass that names the bad value, never a bare string.' },
];

// Time and randomness reach the core through ports (Clock, a random source), never from globals.
const coreNondeterminismRules = [
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Read time from the Clock port.' },
  { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'Read time from the Clock port.' },
  { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'Take a random source as a parameter.' },
];

// The hexagon's layers: who may import whom.
const moduleBoundaries = {
  enforceBuildableLibDependency: false,
  allow: [],
  depConstraints: [
    // The domain core depends on nothing but itself; tests may use the test runner and fast-check.
    {
      sourceTag: 'layer:core',
      onlyDependOnLibsWithTags: ['layer:core'],
      allowedExternalImports: ['vitest', 'vitest/*', 'fast-check'],
    },
    { sourceTag: 'layer:contracts', onlyDependOnLibsWithTags: [] },
    { sourceTag: 'layer:adapter', onlyDependOnLibsWithTags: ['layer:core', 'layer:contracts', 'layer:testing'] },
    { sourceTag: 'layer:testing', onlyDependOnLibsWithTags: ['layer:core', 'layer:adapter'] },
    {
      sourceTag: 'layer:app',
      onlyDependOnLibsWithTags: ['layer:core', 'layer:adapter', 'layer:contracts', 'layer:testing'],
    },
  ],
};

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/dist', '**/out-tsc', '**/node_modules', '**/vitest.config.*.timestamp*', 'contracts/src/gen/**'],
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', moduleBoundaries],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', ...namingAndErrorRules],
    },
  },
  {
    // Core is pure: no I/O, no DI container, no adapter, no generated wire code.
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'core/ does no I/O: move this to an adapter.' },
            { group: nodeBuiltins, message: 'core/ does no I/O: move this to an adapter.' },
            { group: ['inversify', 'reflect-metadata'], message: 'core/ is bound in the composition root, not decorated.' },
            { group: ['@weft/adapter-*', '@weft/contracts', '**/gen/**'], message: 'core/ may not import adapters or generated code.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'Buffer', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask'],
      'no-restricted-syntax': ['error', ...namingAndErrorRules, ...coreNondeterminismRules],
    },
  },
  {
    // reflect-metadata is loaded once, by each app's main.ts.
    files: ['adapters/**/*.ts', 'fixtures/**/*.ts', 'contracts/src/**/*.ts', 'apps/**/*.ts'],
    ignores: ['apps/*/src/main.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'reflect-metadata', message: 'Only apps/*/src/main.ts imports reflect-metadata.' }] },
      ],
    },
  },
  ...tseslint.configs.strict.map((config) => ({ ...config, files: ['**/*.ts'] })),
  {
    // The proxy loads the X.509 adapter only once it has an identity (import() in identity/x509-rules.ts); its tests
    // make certificates with the adapter, so they may import it directly. Its sources may not: that would load it at start.
    files: ['apps/proxy/src/**/*.spec.ts', 'apps/proxy/src/**/*.spec-helper.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', { ...moduleBoundaries, checkDynamicDependenciesExceptions: ['@weft/adapter-x509'] }] },
  },
  {
    // Tool configs are loaded through their default export.
    files: ['**/vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off', '@nx/enforce-module-boundaries': 'off' },
  },
];
