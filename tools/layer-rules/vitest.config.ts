// Vitest settings for @weft/layer-rules.
import { definePackageTestConfig } from '../../vitest.preset.js';

export default definePackageTestConfig('@weft/layer-rules', { testTimeout: 60_000 });
