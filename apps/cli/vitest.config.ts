// Vitest settings for @weft/cli.
import { definePackageTestConfig } from '../../vitest.preset.js';

export default definePackageTestConfig('@weft/cli');
