// Vitest settings for @weft/proxy.
import { definePackageTestConfig } from '../../vitest.preset.js';

export default definePackageTestConfig('@weft/proxy');
