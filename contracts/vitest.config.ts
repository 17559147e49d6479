// Vitest settings for @weft/contracts.
import { definePackageTestConfig } from '../vitest.preset.js';

export default definePackageTestConfig('@weft/contracts');
