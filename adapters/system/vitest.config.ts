// Vitest settings for @weft/adapter-system.
import { definePackageTestConfig } from '../../vitest.preset.js';

export default definePackageTestConfig('@weft/adapter-system');
