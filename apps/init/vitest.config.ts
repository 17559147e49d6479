// Vitest settings for @weft/init.
import { definePackageTestConfig } from '../../vitest.preset.js';

export default definePackageTestConfig('@weft/init');
