// Vitest settings for @weft/adapter-file.
import { mergeConfig } from 'vitest/config';
import { definePackageTestConfig } from '../../vitest.preset.js';

// Benchmarks (`vitest bench`) come from the sources only: tsc also emits the bench file into dist/.
export default mergeConfig(definePackageTestConfig('@weft/adapter-file'), {
  test: { benchmark: { include: ['src/**/*.bench.ts'] } },
});
