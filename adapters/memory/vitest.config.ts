// Vitest settings for @weft/adapter-memory.
import { definePackageTestConfig } from '../../vitest.preset.js';

export default definePackageTestConfig('@weft/adapter-memory');
