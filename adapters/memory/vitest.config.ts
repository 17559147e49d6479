// Vitest settings for @weft/adapter-memory: sources of workspace packages are used directly, no build needed.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@weft/source'] },
  test: {
    name: '@weft/adapter-memory',
    environment: 'node',
    include: ['src/**/*.spec.ts'],
    passWithNoTests: false,
  },
});
