// Vitest settings for @weft/cli.
import { mergeConfig } from 'vitest/config';
import { definePackageTestConfig } from '../../vitest.preset.js';

// One test file at a time: the `weft up` end-to-end files each build the control plane, proxy and demo with
// `tsc -b` into the same dist folders, and two builds at once would overwrite each other's output.
export default mergeConfig(definePackageTestConfig('@weft/cli'), { test: { fileParallelism: false } });
