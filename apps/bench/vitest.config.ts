// Vitest settings for @weft/bench: unit specs always; the smoke e2e (*.e2e.spec.ts) only with WEFT_E2E=1.
import { configDefaults, mergeConfig } from 'vitest/config';
import { definePackageTestConfig } from '../../vitest.preset.js';

const e2e = process.env['WEFT_E2E'] === '1';

export default mergeConfig(definePackageTestConfig('@weft/bench', { include: ['src/**/*.spec.ts'] }), {
  test: { exclude: e2e ? configDefaults.exclude : [...configDefaults.exclude, 'src/**/*.e2e.spec.ts'] },
});
