// Vitest settings for @weft/control.
import { definePackageTestConfig } from '../../vitest.preset.js';

export default definePackageTestConfig('@weft/control');
