// Vitest settings for @weft/core.
import { definePackageTestConfig } from '../vitest.preset.js';

export default definePackageTestConfig('@weft/core');
