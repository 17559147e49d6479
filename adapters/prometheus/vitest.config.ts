// Vitest settings for @weft/adapter-prometheus.
import { definePackageTestConfig } from '../../vitest.preset.js';

export default definePackageTestConfig('@weft/adapter-prometheus');
