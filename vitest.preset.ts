// The vitest settings every Weft package shares: workspace packages are loaded from their TypeScript sources.
import { defaultServerConditions } from 'vite';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/** `@weft/source` points a workspace package's export at src/index.ts, so tests need no build first. */
const conditions = ['@weft/source', ...defaultServerConditions];

export function definePackageTestConfig(name: string, overrides: { include?: string[]; testTimeout?: number } = {}): ViteUserConfig {
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@weft/source'] } },
    test: {
      name,
      environment: 'node',
      include: overrides.include ?? ['src/**/*.spec.ts'],
      testTimeout: overrides.testTimeout ?? 10_000,
      passWithNoTests: false,
      // The JSON report feeds scripts/test-summary.mjs, which prints the workspace-wide totals.
      reporters: ['default', ['json', { outputFile: '.reports/vitest.json' }]],
    },
  });
}
