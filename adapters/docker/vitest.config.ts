// Vitest settings for @weft/adapter-docker.
import { definePackageTestConfig } from '../../vitest.preset.js';

export default definePackageTestConfig('@weft/adapter-docker');
