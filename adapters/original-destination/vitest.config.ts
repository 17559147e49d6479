// Vitest settings for @weft/adapter-original-destination.
import { definePackageTestConfig } from '../../vitest.preset.js';

export default definePackageTestConfig('@weft/adapter-original-destination');
