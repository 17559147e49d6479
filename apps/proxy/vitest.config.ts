// Vitest settings for @weft/proxy: sources of workspace packages are used directly, no build needed.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@weft/source'] },
  test: {
    name: '@weft/proxy',
    environment: 'node',
    include: ['src/**/*.spec.ts'],
    passWithNoTests: false,
  },
});
