// Vitest settings for @weft/control: sources of workspace packages are used directly, no build needed.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@weft/source'] },
  test: {
    name: '@weft/control',
    environment: 'node',
    include: ['src/**/*.spec.ts'],
    passWithNoTests: false,
  },
});
