// Vitest settings for @weft/demo.
import { definePackageTestConfig } from '../../vitest.preset.js';

export default definePackageTestConfig('@weft/demo');
