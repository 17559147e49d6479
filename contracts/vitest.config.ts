// Vitest settings for @weft/contracts: sources of workspace packages are used directly, no build needed.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@weft/source'] },
  test: {
    name: '@weft/contracts',
    environment: 'node',
    include: ['src/**/*.spec.ts'],
    passWithNoTests: false,
  },
});
