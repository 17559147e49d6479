// Adds up the vitest JSON reports of every package and prints one closing line: "Tests: N passed, N failed".
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const packageDirs = ['core', 'contracts', 'fixtures', 'adapters', 'apps'].flatMap((top) => {
  const dir = join(root, top);
  if (!existsSync(dir)) return [];
  if (existsSync(join(dir, 'package.json'))) return [dir];
  return readdirSync(dir).map((name) => join(dir, name)).filter((d) => statSync(d).isDirectory());
});

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const dir of packageDirs) {
  if (!existsSync(join(dir, 'vitest.config.ts'))) continue;
  const report = join(dir, '.reports', 'vitest.json');
  if (!existsSync(report)) {
    missing.push(dir.slice(root.length));
    continue;
  }
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed += result.numPassedTests;
  failed += result.numFailedTests;
  skipped += result.numPendingTests + result.numTodoTests;
}
if (missing.length > 0) {
  console.error(`test-summary: no vitest report for ${missing.join(', ')}; did their tests run?`);
  failed += missing.length;
}
console.log(`Tests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
